//! `cargo xtask solution N`: the reference solution beside the learner's code.
//!
//! Shown only once the chapter passes (or with `--force`): reading it earlier
//! would skip the part of the chapter that teaches. It writes nothing: for each
//! file the solution changes (`solutions/<id>/src/` holds only those), a
//! unified diff from the learner's file to the reference's, then where the
//! reference's files are, so they can be opened whole.

use anyhow::{Context, Result, bail};

use crate::chapter::Chapter;
use crate::progress::{self, State};
use crate::workspace::Workspace;
use crate::{diff, pristine, ui};

pub fn solution_command(
    ws: &Workspace,
    chapter: &Chapter,
    force: bool,
) -> Result<bool> {
    ui::heading(&format!("{} · the reference solution", chapter.heading()));
    let n = chapter.card.number;
    if !force && progress::state_of(ws, chapter) != State::Passed {
        let text = format!(
            "Chapter {n} has not passed yet, so its solution stays out of sight: reading \
             it first would skip what the chapter teaches. Run `cargo xtask check {n}` \
             until it passes (`cargo xtask hint {n}` helps), or see it now with \
             `cargo xtask solution {n} --force`."
        );
        for line in ui::wrap(&text, 0, ui::WIDTH) {
            println!("{line}");
        }
        return Ok(false);
    }
    let src = chapter.solution_dir.join("src");
    let files = pristine::files_under(&src)?;
    if files.is_empty() {
        bail!("chapter {n} has no reference solution in {}", ws.show(&src));
    }
    let mut shown = Vec::new();
    let mut any_difference = false;
    for reference in &files {
        let rel = reference
            .strip_prefix(&chapter.solution_dir)
            .expect("under the solution");
        let yours = chapter.dir.join(rel);
        let theirs = std::fs::read_to_string(reference)
            .with_context(|| format!("reading {}", reference.display()))?;
        let mine = std::fs::read_to_string(&yours).unwrap_or_default();
        println!();
        let hunks = diff::unified(&mine, &theirs, 3);
        if hunks.is_empty() {
            println!(
                "  {} {}: yours is the same as the reference.",
                ui::green("✓"),
                ws.show(&yours)
            );
        } else {
            any_difference = true;
            println!("{}", ui::bold(&format!("--- {}  (yours)", ws.show(&yours))));
            println!(
                "{}",
                ui::bold(&format!("+++ {}  (reference)", ws.show(reference)))
            );
            if !yours.is_file() {
                println!("{}", ui::dim("(you have no such file)"));
            }
            for hunk in &hunks {
                println!("{}", ui::dim(&hunk.header()));
                for (op, line) in &hunk.lines {
                    println!("{}", ui::diff_line(*op, line));
                }
            }
        }
        shown.push(ws.show(reference));
    }
    let legend = if any_difference {
        "Lines with - are yours, lines with + are the reference's. "
    } else {
        ""
    };
    let text = format!(
        "{legend}The reference's files: {}; every other file of the crate is the \
         starter's. Their comments explain each decision. Nothing of yours was changed.",
        shown.join(", ")
    );
    println!();
    for line in ui::wrap(&text, 0, ui::WIDTH) {
        println!("{line}");
    }
    Ok(true)
}
