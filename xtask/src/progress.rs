//! The learner's progress: which chapters passed, how many hints were seen.
//!
//! Kept in a small text file at the repository root (`.course-progress.txt`,
//! ignored by git), one line per chapter, keyed by the chapter's id, never its
//! path, so renaming a folder or moving the clone loses nothing:
//!
//! ```text
//! ch02-measure passed 2 fail
//! ```
//!
//! The words are: the chapter's id, its state (`passed` once any check of it
//! passed, and it stays passed), the hints seen, and the latest check's
//! outcome (`pass`, `fail` or `-`), so the status can say "passed earlier,
//! failing now" instead of a stale "passed".
//!
//! Two commands may change the file at once (`watch` in one terminal, `hint`
//! in another): every change takes an exclusive lock on `.course-progress.lock`
//! for its read-modify-write, and writes through a temporary file of its own
//! that is renamed over the old one, so no update is lost and no reader ever
//! sees half a file.

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
    /// The latest check's outcome: `Some(true)` passed, `None` never checked.
    pub last_check: Option<bool>,
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
            let last_check = match words.next() {
                Some("pass") => Some(true),
                Some("fail") => Some(false),
                _ => None,
            };
            Some((
                id,
                Entry {
                    state,
                    hints_seen,
                    last_check,
                },
            ))
        })
        .collect()
}

fn render(progress: &Progress) -> String {
    let mut text = String::from(
        "# cargo xtask progress: chapter id, state, hints seen, latest check\n",
    );
    for (id, e) in progress {
        let last = match e.last_check {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "-",
        };
        text.push_str(&format!(
            "{id} {} {} {last}\n",
            e.state.word(),
            e.hints_seen
        ));
    }
    text
}

/// Changes one chapter's entry under the file's lock and saves the result;
/// returns the entry as saved.
fn update(
    ws: &Workspace,
    chapter: &Chapter,
    change: impl FnOnce(&mut Entry),
) -> Result<Entry> {
    update_at(&ws.progress_file(), chapter.id(), change)
}

fn update_at(
    path: &std::path::Path,
    id: &str,
    change: impl FnOnce(&mut Entry),
) -> Result<Entry> {
    let lock_path = path.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let mut progress = std::fs::read_to_string(path)
        .map(|t| parse(&t))
        .unwrap_or_default();
    let entry = progress.entry(id.to_string()).or_default();
    change(entry);
    let saved = *entry;
    save(path, &progress)?;
    // The lock is released when `lock` is dropped, after the rename.
    drop(lock);
    Ok(saved)
}

/// Writes the whole file to a temporary name of this process's own, then
/// renames it over the old one: a Ctrl-C mid-write leaves the old progress,
/// never half a file, and two processes never share a temporary file.
fn save(path: &std::path::Path, progress: &Progress) -> Result<()> {
    static SAVES: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial =
        path.with_extension(format!("txt.{}-{n}.partial", std::process::id()));
    std::fs::write(&partial, render(progress))
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("saving progress to {}", path.display()))
}

pub fn state_of(ws: &Workspace, chapter: &Chapter) -> State {
    load(ws)
        .get(chapter.id())
        .copied()
        .unwrap_or_default()
        .state
}

/// After a check: a pass marks the chapter passed; a failure never un-passes it,
/// but it is remembered as the latest outcome.
pub fn record_attempt(ws: &Workspace, chapter: &Chapter, passed: bool) -> Result<()> {
    update(ws, chapter, |entry| {
        entry.state = match (passed, entry.state) {
            (true, _) | (false, State::Passed) => State::Passed,
            (false, _) => State::InProgress,
        };
        entry.last_check = Some(passed);
    })
    .map(drop)
}

/// After `reset`: the starter is back, so the chapter is in progress again (as
/// rustlings does); the hints already seen stay seen.
pub fn record_reset(ws: &Workspace, chapter: &Chapter) -> Result<()> {
    update(ws, chapter, |entry| {
        entry.state = State::InProgress;
        entry.last_check = None;
    })
    .map(drop)
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
            State::Passed if e.last_check == Some(false) => {
                ui::yellow("passed earlier, failing now")
            }
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
                 time, and `cargo xtask book --open` shows the chapter in your browser."
            ),
            2,
        );
    } else {
        println!("Next: chapter {n}, {}.", c.card.title);
        print_wrapped(
            &format!(
                "1. Read it in your browser: `cargo xtask book --open` builds the book and \
                 serves it on 127.0.0.1 (the first build takes {BOOK_FIRST_BUILD} on a \
                 2-core machine; after that, seconds). The chapter's page is \
                 {} in the book.",
                c.card.page.replace(".md", ".html")
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
    let hints = &chapter.hints()?;
    let n = chapter.card.number;
    ui::heading(&chapter.heading());
    if hints.is_empty() {
        println!("This chapter has no hints. The book's page explains the task.");
        return Ok(true);
    }
    let mut already_all = false;
    let entry = update(ws, chapter, |entry| {
        already_all = entry.hints_seen >= hints.len();
        entry.hints_seen = (entry.hints_seen + 1).min(hints.len());
        if entry.state == State::NotStarted {
            entry.state = State::InProgress;
        }
    })?;
    let shown = entry.hints_seen;
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
        let label = format!("Hint {} of {} for chapter {n}:", i + 1, hints.len());
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
        format!(
            "For hint {} of {}, run the same command again: `cargo xtask hint {n}` \
             (the number names the chapter; the runner counts the hints).",
            shown + 1,
            hints.len()
        )
    };
    print_wrapped(&next, 0);
    Ok(true)
}

/// How long the book's first build takes on a 2-core machine from cold
/// (mdBook's library compiles once); measured, see ARCHITECTURE.md.
pub const BOOK_FIRST_BUILD: &str = "about two minutes";

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
                last_check: Some(false),
            },
        );
        p.insert(
            "ch05-caching".into(),
            Entry {
                state: State::InProgress,
                hints_seen: 0,
                last_check: None,
            },
        );
        assert_eq!(parse(&render(&p)), p);
    }

    #[test]
    fn a_file_from_before_the_latest_check_was_kept_still_reads() {
        let p = parse("ch02-measure passed 2\n");
        assert_eq!(p["ch02-measure"].state, State::Passed);
        assert_eq!(p["ch02-measure"].last_check, None);
    }

    /// `watch` and `hint` in two terminals: every update lands, none is lost
    /// to another's read-modify-write, and no temporary file is left behind.
    #[test]
    fn concurrent_updates_are_never_lost() {
        let dir =
            std::env::temp_dir().join(format!("xtask-progress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".course-progress.txt");
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..25 {
                        update_at(&path, "ch02-measure", |e| e.hints_seen += 1)
                            .unwrap();
                    }
                });
            }
        });
        let p = parse(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(p["ch02-measure"].hints_seen, 100);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_line_reads_as_not_started_instead_of_failing() {
        let p = parse("ch02-measure ??? x\n\n# comment\n");
        assert_eq!(p["ch02-measure"], Entry::default());
        assert_eq!(p.len(), 1);
    }
}
