//! Bare `cargo xtask` and `cargo xtask list`: where the learner is. Each
//! chapter with its state, then the next chapter and the steps to take, and
//! the one command to run next.

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::progress::{self, Progress, State};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn list_command(ws: &Workspace) -> Result<bool> {
    let chapters = Chapter::all(ws)?;
    let progress = progress::load(ws);
    ui::heading("Scaling Rust: where you are");
    ui::blank();
    show_chapters(&chapters, &progress);
    ui::blank();
    let Some(c) = progress::next_chapter(ws, &chapters) else {
        if chapters.is_empty() {
            ui::line("There are no chapters yet.");
        } else {
            ui::paragraph(ALL_PASSED, 0);
        }
        return Ok(true);
    };
    let state = progress.get(c.id()).copied().unwrap_or_default().state;
    if state == State::InProgress {
        show_next_in_progress(c);
    } else {
        show_next_to_start(c);
    }
    ui::line(format!("\nRun next:  cargo xtask check {}", c.card.number));
    let passed = |c: &Chapter| {
        progress
            .get(c.id())
            .is_some_and(|e| e.state == State::Passed)
    };
    if chapters.iter().any(passed) {
        ui::paragraph(SOLUTION_AFTER_PASS, 0);
    }
    Ok(true)
}

/// One line per chapter with its state, then the chapters not written yet.
fn show_chapters(chapters: &[Chapter], progress: &Progress) {
    for c in chapters {
        let e = progress.get(c.id()).copied().unwrap_or_default();
        let state = match e.state {
            State::Passed if e.last_check == Some(false) => {
                ui::yellow("passed earlier, failing now")
            }
            State::Passed => ui::green("passed"),
            State::InProgress => ui::yellow("in progress"),
            State::NotStarted => "not started".to_string(),
        };
        ui::line(format!(
            "  {:>2}  {:<44} {state}",
            c.card.number, c.card.title
        ));
    }
    let missing: Vec<String> = (1..=COURSE_CHAPTERS)
        .filter(|n| !chapters.iter().any(|c| c.card.number == *n))
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() && !chapters.is_empty() {
        let list = missing.join(", ");
        ui::line(ui::dim(&format!(
            "      (chapters {list} are still being written)"
        )));
    }
}

/// The files a learner edits in chapter `c`, as paths from the root.
fn edit_list(c: &Chapter) -> String {
    if c.card.edit.is_empty() {
        return format!("exercises/{}/src/", c.id());
    }
    let files: Vec<String> = c
        .card
        .edit
        .iter()
        .map(|f| format!("exercises/{}/{f}", c.id()))
        .collect();
    files.join(" and ")
}

fn show_next_in_progress(c: &Chapter) {
    let n = c.card.number;
    ui::line(format!(
        "Next: chapter {n}, {} (in progress).",
        c.card.title
    ));
    ui::paragraph(
        &format!(
            "Edit {}, then check your work; `cargo xtask watch {n}` checks again \
             every time you save. Stuck? `cargo xtask hint {n}` gives one hint at a \
             time, and `cargo xtask book --open` shows the chapter in your browser.",
            edit_list(c)
        ),
        2,
    );
}

fn show_next_to_start(c: &Chapter) {
    let n = c.card.number;
    ui::line(format!("Next: chapter {n}, {}.", c.card.title));
    ui::paragraph(
        &format!(
            "1. Read it in your browser: `cargo xtask book --open` builds the book and \
             serves it on 127.0.0.1 (the first build takes {BOOK_FIRST_BUILD} on a \
             2-core machine; after that, seconds). The chapter's page is \
             {} in the book.",
            c.card.page.replace(".md", ".html")
        ),
        2,
    );
    ui::paragraph(&format!("2. Edit {}.", edit_list(c)), 2);
    ui::paragraph(
        &format!(
            "3. Check your work until every line shows ✓; `cargo xtask watch {n}` \
             checks again every time you save."
        ),
        2,
    );
    ui::paragraph(
        &format!("Stuck? `cargo xtask hint {n}` gives one hint at a time."),
        2,
    );
}

/// How long the book's first build takes on a 2-core machine (mdBook's library
/// compiles once): 2 min 26 s measured on 2 cores kept busy by other builds
/// (load about 7), after the runner and the chapters had been built into an
/// empty target directory; 4 min 16 s at load 9–19 in a learner trial
/// (2026-12-01).
const BOOK_FIRST_BUILD: &str = "two to five minutes";

/// The course has eight chapters, one per section of the article it follows;
/// the ones not yet written are named in the status so nobody wonders.
const COURSE_CHAPTERS: u32 = 8;

const ALL_PASSED: &str = "Every chapter passes. Well done. `cargo xtask solution N` \
    shows a chapter's reference solution beside your code.";

const SOLUTION_AFTER_PASS: &str = "For a chapter you passed, `cargo xtask solution N` \
    shows the reference solution beside your code.";
