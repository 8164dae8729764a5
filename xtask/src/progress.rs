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

/// Writes the whole file to a temporary name, then renames it over the old
/// one: a Ctrl-C mid-write leaves the old progress, never half a file.
fn save(ws: &Workspace, progress: &Progress) -> Result<()> {
    let path = ws.progress_file();
    let partial = path.with_extension("txt.partial");
    std::fs::write(&partial, render(progress))
        .and_then(|()| std::fs::rename(&partial, &path))
        .with_context(|| format!("saving progress to {}", path.display()))
}

pub fn state_of(ws: &Workspace, chapter: &Chapter) -> State {
    load(ws)
        .get(chapter.id())
        .copied()
        .unwrap_or_default()
        .state
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

/// After `reset`: the starter is back, so the chapter is in progress again (as
/// rustlings does); the hints already seen stay seen.
pub fn record_reset(ws: &Workspace, chapter: &Chapter) -> Result<()> {
    let mut progress = load(ws);
    let entry = progress.entry(chapter.id().to_string()).or_default();
    entry.state = State::InProgress;
    save(ws, &progress)
}

/// The first chapter, in order, that has not passed.
pub fn next_chapter<'a>(
    ws: &Workspace,
    chapters: &'a [Chapter],
) -> Option<&'a Chapter> {
    let progress = load(ws);
    chapters.iter().find(|c| {
        progress.get(c.id()).copied().unwrap_or_default().state != State::Passed
    })
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
        println!("  {:>2}  {:<44} {state}", c.card.number, c.card.title);
    }
    let missing: Vec<String> = (1..=COURSE_CHAPTERS)
        .filter(|n| !chapters.iter().any(|c| c.card.number == *n))
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() && !chapters.is_empty() {
        let list = missing.join(", ");
        println!(
            "{}",
            ui::dim(&format!("      (chapters {list} are still being written)"))
        );
    }
    println!();
    let Some(c) = next_chapter(ws, &chapters) else {
        if chapters.is_empty() {
            println!("There are no chapters yet.");
        } else {
            print_wrapped(ALL_PASSED, 0);
        }
        return Ok(true);
    };
    let n = c.card.number;
    let state = progress.get(c.id()).copied().unwrap_or_default().state;
    let edit = if c.card.edit.is_empty() {
        format!("exercises/{}/src/", c.id())
    } else {
        let files: Vec<String> = c
            .card
            .edit
            .iter()
            .map(|f| format!("exercises/{}/{f}", c.id()))
            .collect();
        files.join(" and ")
    };
    if state == State::InProgress {
        println!("Next: chapter {n}, {} (in progress).", c.card.title);
        print_wrapped(
            &format!(
                "Edit {edit}, then check your work; `cargo xtask watch {n}` checks again \
                 every time you save. Stuck? `cargo xtask hint {n}` gives one hint at a \
                 time, and book/src/{} has the chapter.",
                c.card.page
            ),
            2,
        );
    } else {
        println!("Next: chapter {n}, {}.", c.card.title);
        print_wrapped(
            &format!(
                "1. Read it: `cargo xtask book --open` serves the book on 127.0.0.1 (or \
                 open book/src/{} in an editor).",
                c.card.page
            ),
            2,
        );
        print_wrapped(&format!("2. Edit {edit}."), 2);
        print_wrapped(
            &format!(
                "3. Check your work until every line shows ✓; `cargo xtask watch {n}` \
                 checks again every time you save."
            ),
            2,
        );
        print_wrapped(
            &format!("Stuck? `cargo xtask hint {n}` gives one hint at a time."),
            2,
        );
    }
    println!("\nRun next:  cargo xtask check {n}");
    if chapters.iter().any(|c| {
        progress
            .get(c.id())
            .is_some_and(|e| e.state == State::Passed)
    }) {
        print_wrapped(SOLUTION_AFTER_PASS, 0);
    }
    Ok(true)
}

fn print_wrapped(text: &str, indent: usize) {
    for line in ui::wrap(text, indent, ui::WIDTH) {
        println!("{line}");
    }
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
    let already_all = entry.hints_seen >= hints.len();
    let shown = (entry.hints_seen + 1).min(hints.len());
    entry.hints_seen = shown;
    if entry.state == State::NotStarted {
        entry.state = State::InProgress;
    }
    save(ws, &progress)?;
    // One new hint at a time; once all were seen, asking again recaps them all.
    let first = if already_all { 0 } else { shown - 1 };
    if first > 0 {
        let earlier = if first == 1 {
            "Hint 1 was".to_string()
        } else {
            format!("Hints 1–{first} were")
        };
        println!(
            "{}",
            ui::dim(&format!(
                "{earlier} shown before; after the last one, this command shows them all."
            ))
        );
    }
    for (i, hint) in hints.iter().enumerate().take(shown).skip(first) {
        let label = format!("Hint {} of {}:", i + 1, hints.len());
        let label = if i + 1 == shown && !already_all {
            ui::bold(&label)
        } else {
            ui::dim(&label)
        };
        println!("\n{label}");
        print_wrapped(hint, 2);
    }
    println!();
    let next = if already_all {
        format!(
            "There are no more hints: those are all {} of chapter {n}'s. Once \
             `cargo xtask check {n}` passes, `cargo xtask solution {n}` shows the \
             reference solution beside your code.",
            hints.len()
        )
    } else if shown == hints.len() {
        format!(
            "That was the last hint. Once `cargo xtask check {n}` passes, `cargo xtask \
             solution {n}` shows the reference solution beside your code."
        )
    } else {
        format!("Run `cargo xtask hint {n}` again for the next hint.")
    };
    print_wrapped(&next, 0);
    Ok(true)
}

/// The course has eight chapters, one per section of the article it follows;
/// the ones not yet written are named in the status so nobody wonders.
const COURSE_CHAPTERS: u32 = 8;

const ALL_PASSED: &str = "Every chapter passes. Well done. `cargo xtask solution N` \
    shows a chapter's reference solution beside your code.";

const SOLUTION_AFTER_PASS: &str = "For a chapter you passed, `cargo xtask solution N` \
    shows the reference solution beside your code.";

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
