//! The learner's progress: which chapters passed, how many hints were seen.
//!
//! Kept in a small text file at the repository root (`.course-progress.txt`,
//! ignored by git), one line per chapter, keyed by the chapter's id, never its
//! path, so renaming a folder or moving the clone loses nothing:
//!
//! ```text
//! ch02-measure passed 2
//! ```

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::chapter::Chapter;
use crate::ui;
use crate::workspace::Workspace;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    #[default]
    NotStarted,
    InProgress,
    Passed,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::NotStarted => "not-started",
            State::InProgress => "in-progress",
            State::Passed => "passed",
        }
    }

    fn parse(word: &str) -> Self {
        match word {
            "passed" => State::Passed,
            "in-progress" => State::InProgress,
            _ => State::NotStarted,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub state: State,
    pub hints_seen: usize,
}

pub type Progress = BTreeMap<String, Entry>;

pub fn load(ws: &Workspace) -> Progress {
    std::fs::read_to_string(ws.progress_file())
        .map(|t| parse(&t))
        .unwrap_or_default()
}

fn parse(text: &str) -> Progress {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let id = words.next()?.to_string();
            let state = State::parse(words.next().unwrap_or(""));
            let hints_seen = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
            Some((id, Entry { state, hints_seen }))
        })
        .collect()
}

fn render(progress: &Progress) -> String {
    let mut text =
        String::from("# cargo xtask progress: chapter id, state, hints seen\n");
    for (id, e) in progress {
        text.push_str(&format!("{id} {} {}\n", e.state.word(), e.hints_seen));
    }
    text
}

fn save(ws: &Workspace, progress: &Progress) -> Result<()> {
    let path = ws.progress_file();
    std::fs::write(&path, render(progress))
        .with_context(|| format!("saving progress to {}", path.display()))
}

/// After a check: a pass marks the chapter passed; a failure never un-passes it.
pub fn record_attempt(ws: &Workspace, chapter: &Chapter, passed: bool) -> Result<()> {
    let mut progress = load(ws);
    let entry = progress.entry(chapter.id().to_string()).or_default();
    entry.state = match (passed, entry.state) {
        (true, _) | (false, State::Passed) => State::Passed,
        (false, _) => State::InProgress,
    };
    save(ws, &progress)
}

/// Bare `cargo xtask` and `cargo xtask list`.
pub fn show_status(ws: &Workspace) -> Result<bool> {
    let chapters = Chapter::all(ws)?;
    let progress = load(ws);
    ui::heading("Scaling Rust: where you are");
    println!();
    for c in &chapters {
        let e = progress.get(c.id()).copied().unwrap_or_default();
        let state = match e.state {
            State::Passed => ui::green("passed"),
            State::InProgress => ui::yellow("in progress"),
            State::NotStarted => "not started".to_string(),
        };
        println!("  {:>2}  {:<36} {state}", c.card.number, c.card.title);
    }
    let next = chapters.iter().find(|c| {
        progress.get(c.id()).copied().unwrap_or_default().state != State::Passed
    });
    println!();
    match next {
        Some(c) => {
            let n = c.card.number;
            println!("Next: chapter {n}, {}.", c.card.title);
            for line in ui::wrap(
                &format!(
                    "1. Read it in the book: `cargo xtask book --open` (or open book/src/{} \
                     in an editor).",
                    c.card.page
                ),
                2,
                ui::WIDTH,
            ) {
                println!("{line}");
            }
            println!("  2. Edit the code in exercises/{}/src/.", c.id());
            println!("  3. Run `cargo xtask check {n}` until every line shows ✓.");
            println!("  Stuck? `cargo xtask hint {n}` gives one hint at a time.");
        }
        None if chapters.is_empty() => println!("There are no chapters yet."),
        None => println!("Every chapter passes. Well done."),
    }
    Ok(true)
}

/// `cargo xtask hint N`: the next hint, one more each time.
pub fn hint_command(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    let hints = &chapter.card.hints;
    let n = chapter.card.number;
    ui::heading(&chapter.heading());
    if hints.is_empty() {
        println!("This chapter has no hints. The book's page explains the task.");
        return Ok(true);
    }
    let mut progress = load(ws);
    let entry = progress.entry(chapter.id().to_string()).or_default();
    let shown = (entry.hints_seen + 1).min(hints.len());
    entry.hints_seen = shown;
    if entry.state == State::NotStarted {
        entry.state = State::InProgress;
    }
    save(ws, &progress)?;
    for (i, hint) in hints.iter().enumerate().take(shown) {
        let label = format!("Hint {} of {}:", i + 1, hints.len());
        let label = if i + 1 == shown {
            ui::bold(&label)
        } else {
            ui::dim(&label)
        };
        println!("\n{label}");
        for line in ui::wrap(hint, 2, ui::WIDTH) {
            println!("{line}");
        }
    }
    println!();
    if shown == hints.len() {
        println!(
            "That was the last hint. The reference solution is in solutions/{}/; try \
             the hints first, then compare once `cargo xtask check {n}` passes.",
            chapter.id()
        );
    } else {
        println!("Run `cargo xtask hint {n}` again for the next hint.");
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_survives_a_round_trip_through_its_file() {
        let mut p = Progress::new();
        p.insert(
            "ch02-measure".into(),
            Entry {
                state: State::Passed,
                hints_seen: 2,
            },
        );
        p.insert(
            "ch05-caching".into(),
            Entry {
                state: State::InProgress,
                hints_seen: 0,
            },
        );
        assert_eq!(parse(&render(&p)), p);
    }

    #[test]
    fn a_damaged_line_reads_as_not_started_instead_of_failing() {
        let p = parse("ch02-measure ??? x\n\n# comment\n");
        assert_eq!(p["ch02-measure"], Entry::default());
        assert_eq!(p.len(), 1);
    }
}
