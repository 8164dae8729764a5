//! `cargo xtask soak N [--runs K] [--busy]`: a chapter's verdicts repeated on
//! the solution and the starter, on busy cores if asked; fails on any flip
//! (see engine/soak.rs).

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::soak;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn soak_command(
    ws: &Workspace,
    chapter: &Chapter,
    runs: usize,
    busy: bool,
) -> Result<bool> {
    ui::heading(&format!("{} · soak", chapter.heading()));
    let found = soak::soak(ws, chapter, runs, busy)?;
    ui::lines(found.lines());
    Ok(found.flips() == 0)
}
