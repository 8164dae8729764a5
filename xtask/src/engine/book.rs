//! Building the book: the `book-builder` crate (mdBook as a library) run
//! through cargo, so the first `cargo xtask book` compiles it once and later
//! ones start at once, and `check` never waits for mdBook to compile.

use anyhow::Result;

use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// Builds the book; `Ok(false)` when mdBook reported a problem. `strict`
/// (for verify) also fails on a code include that no longer resolves.
pub fn build(ws: &Workspace, echo: bool, strict: bool) -> Result<bool> {
    let mut cmd = Cmd::cargo(ws)
        .args(["run", "--quiet", "--package", "book-builder", "--"])
        .arg(ws.book_dir());
    if strict {
        cmd = cmd.arg("--strict");
    }
    if echo {
        cmd = cmd.echo();
        return cmd.run_attached();
    }
    let out = cmd.output(None)?;
    if !out.success() {
        ui::passed_on(&out.stderr_text());
    }
    Ok(out.success())
}
