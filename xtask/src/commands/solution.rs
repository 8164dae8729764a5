//! `cargo xtask solution N`: the reference solution beside the learner's code.
//!
//! Shown only once the chapter passes (or with `--force`): reading it earlier
//! would skip the part of the chapter that teaches. It writes nothing: for each
//! file the solution changes (`solutions/<id>/src/` holds only those), a
//! unified diff from the learner's file to the reference's (computed by the
//! `similar` crate, three lines of context), then where the reference's files
//! are, so they can be opened whole.

use std::path::Path;

use anyhow::{Context, Result, bail};
use similar::{ChangeTag, TextDiff};

use crate::engine::chapter::Chapter;
use crate::engine::progress::{self, State};
use crate::ground::files;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn solution_command(
    ws: &Workspace,
    chapter: &Chapter,
    force: bool,
) -> Result<bool> {
    ui::heading(&format!("{} · the reference solution", chapter.heading()));
    let n = chapter.card.number;
    if !force && progress::state_of(ws, chapter) != State::Passed {
        ui::paragraph(&NOT_YET.replace("{n}", &n.to_string()), 0);
        return Ok(false);
    }
    let src = chapter.solution_dir.join("src");
    let references = files::files_under(&src)?;
    if references.is_empty() {
        bail!("chapter {n} has no reference solution in {}", ws.show(&src));
    }
    let mut any_difference = false;
    for reference in &references {
        let rel = reference
            .strip_prefix(&chapter.solution_dir)
            .expect("under the solution");
        any_difference |= show_file(ws, &chapter.dir.join(rel), reference)?;
    }
    let legend = if any_difference {
        "Lines with - are yours, lines with + are the reference's. "
    } else {
        ""
    };
    let shown: Vec<String> = references.iter().map(|r| ws.show(r)).collect();
    let text = format!(
        "{legend}The reference's files: {}; every other file of the crate is the \
         starter's. Their comments explain each decision. Nothing of yours was changed.",
        shown.join(", ")
    );
    ui::blank();
    ui::paragraph(&text, 0);
    Ok(true)
}

/// The diff from the learner's file to the reference's; true when they differ.
fn show_file(ws: &Workspace, yours: &Path, reference: &Path) -> Result<bool> {
    let theirs = std::fs::read_to_string(reference)
        .with_context(|| format!("reading {}", reference.display()))?;
    let mine = std::fs::read_to_string(yours).unwrap_or_default();
    ui::blank();
    let diff = TextDiff::from_lines(&mine, &theirs);
    if diff
        .ops()
        .iter()
        .all(|op| op.tag() == similar::DiffTag::Equal)
    {
        ui::line(format!(
            "  {} {}: yours is the same as the reference.",
            ui::green("✓"),
            ws.show(yours)
        ));
        return Ok(false);
    }
    ui::line(ui::bold(&format!("--- {}  (yours)", ws.show(yours))));
    ui::line(ui::bold(&format!(
        "+++ {}  (reference)",
        ws.show(reference)
    )));
    if !yours.is_file() {
        ui::line(ui::dim("(you have no such file)"));
    }
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        ui::line(ui::dim(&hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches(['\n', '\r']);
            ui::line(match change.tag() {
                ChangeTag::Equal => format!(" {text}"),
                ChangeTag::Delete => ui::red(&format!("-{text}")),
                ChangeTag::Insert => ui::green(&format!("+{text}")),
            });
        }
    }
    Ok(true)
}

const NOT_YET: &str = "Chapter {n} has not passed yet, so its solution stays out of \
    sight: reading it first would skip what the chapter teaches. Run `cargo xtask \
    check {n}` until it passes (`cargo xtask hint {n}` helps), or see it now with \
    `cargo xtask solution {n} --force`.";
