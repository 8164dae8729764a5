//! Building the book: the `book-builder` crate (mdBook as a library) run
//! through cargo, so the first `cargo xtask book` compiles it once and later
//! ones start at once, and `check` never waits for mdBook to compile.
//!
//! The book quotes the starters (`{{#include ../../../exercises/…}}`) to show
//! the code the learner starts from. Built straight from the repository, it
//! would show the learner's edits as "the starter" (or an empty block once an
//! anchor is gone). So the book is built from a staged copy: `book/` and
//! `exercises/` copied under the scratch folder, with every recorded starter
//! and check file (xtask/pristine.txt) replaced by its original. The HTML is
//! then moved to `book/book/`, where it has always been.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::engine::network;
use crate::engine::pristine;
use crate::ground::files;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// Builds the book; `Ok(false)` when mdBook reported a problem. `strict`
/// (for verify) also fails on a code include that no longer resolves.
pub fn build(ws: &Workspace, echo: bool, strict: bool) -> Result<bool> {
    let stage = stage(ws).context("copying the book and the original starters")?;
    let mut cmd = Cmd::cargo(ws)
        .args(["run", "--quiet", "--package", "book-builder", "--"])
        .arg(stage.join("book"));
    if strict {
        cmd = cmd.arg("--strict");
    }
    let ok = if echo {
        cmd.echo().run_attached()?
    } else {
        let out = cmd.output(None)?;
        if !out.success() {
            ui::passed_on(&out.stderr_text());
        }
        out.success()
    };
    if ok {
        publish(
            &stage.join("book").join("book"),
            &ws.book_dir().join("book"),
        )?;
    }
    Ok(ok)
}

/// How a build went, for a caller that explains it (`doctor`, `book`).
pub enum Outcome {
    Built,
    /// cargo had to download the builder's dependencies and could not.
    NeedsNetwork,
    /// Anything else, with the last lines printed (mdBook names the page).
    Failed(String),
}

/// Builds the book printing nothing; what went wrong comes back in words.
pub fn build_quietly(ws: &Workspace) -> Result<Outcome> {
    let stage = stage(ws).context("copying the book and the original starters")?;
    let out = Cmd::cargo(ws)
        .args(["run", "--quiet", "--package", "book-builder", "--"])
        .arg(stage.join("book"))
        .output(None)?;
    if out.success() {
        publish(
            &stage.join("book").join("book"),
            &ws.book_dir().join("book"),
        )?;
        return Ok(Outcome::Built);
    }
    let stderr = out.stderr_text();
    if network::needs_network(&stderr) {
        return Ok(Outcome::NeedsNetwork);
    }
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    Ok(Outcome::Failed(
        said[said.len().saturating_sub(6)..].join("\n"),
    ))
}

/// After a build failed with cargo's output on the terminal: whether the
/// cause was a download. Building the builder again with cargo's offline
/// mode stops at once, naming a missing crate, exactly when something was
/// never downloaded; when everything is there it finds the builder already
/// built (the failure came later, from a page).
pub fn failed_for_a_download(ws: &Workspace) -> bool {
    Cmd::cargo(ws)
        .args(["build", "--quiet", "--package", "book-builder"])
        .env("CARGO_NET_OFFLINE", "true")
        .output(Some(std::time::Duration::from_secs(120)))
        .is_ok_and(|out| !out.success() && network::needs_network(&out.stderr_text()))
}

/// Writes the staged copy and returns its root (holding `book/`, `exercises/`).
pub fn stage(ws: &Workspace) -> Result<PathBuf> {
    let stage = ws.scratch_dir().join("book-stage");
    let _ = std::fs::remove_dir_all(&stage);
    copy_tree(&ws.book_dir(), &stage.join("book"), &[Path::new("book")])?;
    copy_tree(&ws.exercises_dir(), &stage.join("exercises"), &[])?;
    let manifest = pristine::load(ws)?;
    for (id, entries) in &manifest {
        for entry in entries {
            let Some(bytes) = pristine::original(ws, entry) else {
                // No original to be had (no kept copy, no git): the learner's
                // file stands in, as before staging existed.
                continue;
            };
            let path = stage.join("exercises").join(id).join(&entry.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(stage)
}

/// Copies `from` to `to`, leaving out build output (`target/`) and the
/// folders named in `skip` (relative to `from`).
fn copy_tree(from: &Path, to: &Path, skip: &[&Path]) -> Result<()> {
    for file in files::files_under(from)
        .with_context(|| format!("reading {}", from.display()))?
    {
        let rel = file.strip_prefix(from).unwrap_or(&file);
        if rel.components().any(|c| c.as_os_str() == "target")
            || skip.iter().any(|s| rel.starts_with(s))
        {
            continue;
        }
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(&file, &dest)
            .with_context(|| format!("copying {}", file.display()))?;
    }
    Ok(())
}

/// Replaces the published HTML with the staged build's.
fn publish(built: &Path, out: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(out);
    copy_tree(built, out, &[])
        .with_context(|| format!("publishing to {}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chapter::Chapter;
    use crate::fixture::Course;

    /// After a learner has solved a chapter, the book still quotes the starter
    /// as the course gave it, and the learner's file is left as it is.
    #[test]
    fn the_staged_book_quotes_the_original_starter_not_the_learners_edit() {
        let course = Course::new("book-stage");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "book").unwrap();
        let mut manifest = pristine::load(ws).unwrap();
        manifest.insert(chapter.id().into(), pristine::current(&chapter).unwrap());
        pristine::save(ws, &manifest).unwrap();
        pristine::remember(ws);
        let original = std::fs::read_to_string(course.path(REPORT)).unwrap();
        course.write(REPORT, "pub fn statements(_: u32) -> u32 {\n    2\n}\n");
        course.write("book/src/SUMMARY.md", "# Summary\n");
        course.write("book/book/old.html", "stale output is not staged");

        let stage = stage(ws).unwrap();
        let staged = std::fs::read_to_string(stage.join(REPORT)).unwrap();
        assert_eq!(staged, original, "the book must quote the starter as given");
        assert!(
            std::fs::read_to_string(course.path(REPORT))
                .unwrap()
                .contains("    2\n"),
            "the learner's own file is untouched"
        );
        assert!(stage.join("book/src/SUMMARY.md").is_file());
        assert!(!stage.join("book/book").exists());
    }

    const REPORT: &str = "exercises/ch02-measure/src/report.rs";
}
