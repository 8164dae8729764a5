//! `cargo xtask hint N`: the chapter's next hint, one more each time. The
//! hints live in `solutions/<id>/hints.toml`; how many were seen is kept in
//! the progress file. Once all were seen, asking again recaps them all.

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::progress;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn hint_command(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    let hints = chapter.hints()?;
    ui::heading(&chapter.heading());
    if hints.is_empty() {
        ui::line("This chapter has no hints. The book's page explains the task.");
        return Ok(true);
    }
    let (entry, already_all) = progress::record_hint(ws, chapter, hints.len())?;
    let shown = entry.hints_seen;
    // One new hint at a time; once all were seen, asking again recaps them all.
    let first = if already_all { 0 } else { shown - 1 };
    if first > 0 {
        let earlier = if first == 1 {
            "Hint 1 was".to_string()
        } else {
            format!("Hints 1–{first} were")
        };
        ui::line(ui::dim(&format!(
            "{earlier} shown before; after the last one, this command shows them all."
        )));
    }
    let n = chapter.card.number;
    for (i, hint) in hints.iter().enumerate().take(shown).skip(first) {
        let label = format!("Hint {} of {} for chapter {n}:", i + 1, hints.len());
        let label = if i + 1 == shown && !already_all {
            ui::bold(&label)
        } else {
            ui::dim(&label)
        };
        ui::blank();
        ui::line(label);
        ui::paragraph(hint, 2);
    }
    ui::blank();
    ui::paragraph(&what_next(n, shown, hints.len(), already_all), 0);
    Ok(true)
}

fn what_next(n: u32, shown: usize, total: usize, already_all: bool) -> String {
    if already_all {
        format!(
            "There are no more hints: those are all {total} of chapter {n}'s. Once \
             `cargo xtask check {n}` passes, `cargo xtask solution {n}` shows the \
             reference solution beside your code."
        )
    } else if shown == total {
        format!(
            "That was the last hint. Once `cargo xtask check {n}` passes, `cargo xtask \
             solution {n}` shows the reference solution beside your code."
        )
    } else {
        format!(
            "For hint {} of {total}, run the same command again: `cargo xtask hint {n}` \
             (the number names the chapter; the runner counts the hints).",
            shown + 1
        )
    }
}
