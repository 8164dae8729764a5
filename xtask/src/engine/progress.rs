//! The learner's progress: which chapters passed, how many hints were seen.
//!
//! Kept in a small text file at the repository root (`.course-progress.txt`,
//! ignored by git), one line per chapter, keyed by the chapter's id, never its
//! path, so renaming a folder or moving the clone loses nothing:
//!
//! ```text
//! ch02-measure passed 2 fail 7/9 154.7 fails_on_empty_input,keeps_order
//! ch05-caching passed 0 pass 31/31 4.2 - hit-ratio:yours=0.612,moka=0.655,optimal=0.741
//! ```
//!
//! The words are: the chapter's id, its state (`passed` once any check of it
//! passed, and it stays passed), the hints seen, the latest check's outcome
//! (`pass`, `fail` or `-`), so the status can say "passed earlier, failing
//! now" instead of a stale "passed", then how many checks passed in the latest
//! check of how many (`0/0` when the code did not compile, `-` never counted),
//! and the latest quick bench's ratio against the starter (`-` never measured),
//! then the checks that failed in the latest check, by name, joined by commas
//! (`-` none; the book's live panel lists them), then the readings the latest
//! bench reported for the panel (`-` none; see [`Readings`]).
//! Each word is optional from the fourth on: a file written before a word
//! existed still reads (the missing words read as "not known"), and a runner
//! from before a word existed reads the words it knows and ignores the rest.
//!
//! Two commands may change the file at once (`watch` in one terminal, `hint`
//! in another): every change takes an exclusive lock on `.course-progress.lock`
//! for its read-modify-write, and writes through a temporary file of its own
//! that is renamed over the old one, so no update is lost and no reader ever
//! sees half a file.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use crate::engine::chapter::Chapter;
use crate::ground::files;
use crate::ground::workspace::Workspace;

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

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Entry {
    pub state: State,
    pub hints_seen: usize,
    /// The latest check's outcome: `Some(true)` passed, `None` never checked.
    pub last_check: Option<bool>,
    /// The latest check's count of passing checks and of all checks; a total
    /// of 0 means the code did not compile. `None`: never counted.
    pub checks: Option<Tally>,
    /// The latest quick bench: how many times faster than the starter.
    pub ratio: Option<f64>,
    /// The checks that failed in the latest check, in source order.
    pub failing: Vec<String>,
    /// What the latest bench reported for the live panel.
    pub readings: Option<Readings>,
}

/// Named numbers a bench reports for the book's live panel, under one label:
/// chapter 5's are `hit-ratio` with `yours`, `moka` and `optimal`. The bench
/// writes them as one line of words (`hit-ratio yours=0.612 moka=0.655
/// optimal=0.741`, see `bench::READINGS_ENV`); the progress file keeps them as
/// one word (`hit-ratio:yours=0.612,moka=0.655,optimal=0.741`).
///
/// They are read whole or not at all: a label or name that is not lowercase
/// letters, digits and `-`, a value that is not a finite number, a name given
/// twice or no value at all makes the whole reading unknown, so the panel never
/// shows a wrong number or half a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Readings {
    pub label: String,
    /// In the order the bench gave them.
    pub values: Vec<(String, f64)>,
}

impl Readings {
    pub fn new<'a>(
        label: &str,
        pairs: impl IntoIterator<Item = &'a str>,
    ) -> Option<Self> {
        fn is_name(word: &str) -> bool {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
        if !is_name(label) {
            return None;
        }
        let mut values: Vec<(String, f64)> = Vec::new();
        for pair in pairs {
            let (name, value) = pair.split_once('=')?;
            let value = value.parse::<f64>().ok().filter(|v| v.is_finite())?;
            if !is_name(name) || values.iter().any(|(n, _)| n == name) {
                return None;
            }
            values.push((name.to_string(), value));
        }
        (!values.is_empty()).then(|| Readings {
            label: label.to_string(),
            values,
        })
    }

    /// The bench's line: the label, then `name=value` words.
    pub fn from_line(line: &str) -> Option<Self> {
        let mut words = line.split_whitespace();
        Self::new(words.next()?, words)
    }

    fn from_word(word: &str) -> Option<Self> {
        let (label, pairs) = word.split_once(':')?;
        Self::new(label, pairs.split(','))
    }

    /// As the bench wrote it: `hit-ratio yours=0.612 moka=0.655 optimal=0.741`.
    pub fn line(&self) -> String {
        self.word().replacen(':', " ", 1).replace(',', " ")
    }

    /// The progress file's word; each value as the shortest text that reads
    /// back as the same number.
    fn word(&self) -> String {
        let pairs: Vec<String> = self
            .values
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        format!("{}:{}", self.label, pairs.join(","))
    }
}

/// How many checks passed, of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub total: usize,
}

impl Tally {
    fn parse(word: &str) -> Option<Self> {
        let (passed, total) = word.split_once('/')?;
        Some(Tally {
            passed: passed.parse().ok()?,
            total: total.parse().ok()?,
        })
    }
}

pub type Progress = BTreeMap<String, Entry>;

pub fn load(ws: &Workspace) -> Progress {
    std::fs::read_to_string(ws.progress_file())
        .map(|t| parse(&t))
        .unwrap_or_default()
}

/// The progress file's text read; damage reads as "not known", never fails.
pub fn parse(text: &str) -> Progress {
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
            let checks = words.next().and_then(Tally::parse);
            let ratio = words
                .next()
                .and_then(|w| w.parse::<f64>().ok())
                .filter(|r| r.is_finite() && *r > 0.0);
            let failing = words
                .next()
                .filter(|w| *w != "-")
                .map(|w| w.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let readings = words.next().and_then(Readings::from_word);
            Some((
                id,
                Entry {
                    state,
                    hints_seen,
                    last_check,
                    checks,
                    ratio,
                    failing,
                    readings,
                },
            ))
        })
        .collect()
}

fn render(progress: &Progress) -> String {
    let mut text = String::from(
        "# cargo xtask progress: chapter id, state, hints seen, latest check, \
         checks passing/total, bench ratio, checks failing, bench readings\n",
    );
    for (id, e) in progress {
        let last = match e.last_check {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "-",
        };
        let checks = e
            .checks
            .map_or("-".to_string(), |t| format!("{}/{}", t.passed, t.total));
        // One decimal, as `check` shows it.
        let ratio = e.ratio.map_or("-".to_string(), |r| format!("{r:.1}"));
        let failing = match e.failing.join(",") {
            names if names.is_empty() => "-".to_string(),
            names => names,
        };
        let readings = e.readings.as_ref().map_or("-".to_string(), Readings::word);
        text.push_str(&format!(
            "{id} {} {} {last} {checks} {ratio} {failing} {readings}\n",
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
    let saved = entry.clone();
    save(path, &progress)?;
    // The lock is released when `lock` is dropped, after the rename.
    drop(lock);
    Ok(saved)
}

/// Writes the whole file through a temporary file of its own (see files.rs):
/// a Ctrl-C mid-write leaves the old progress, never half a file.
fn save(path: &std::path::Path, progress: &Progress) -> Result<()> {
    files::write_atomically(path, render(progress).as_bytes())
        .with_context(|| format!("saving progress to {}", path.display()))
}

pub fn state_of(ws: &Workspace, chapter: &Chapter) -> State {
    load(ws)
        .get(chapter.id())
        .cloned()
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

/// After the checks ran: how many passed, of how many (`total` 0 when the code
/// did not compile), and the names of those that failed.
pub fn record_check(
    ws: &Workspace,
    chapter: &Chapter,
    passed: usize,
    total: usize,
    failing: &[&str],
) -> Result<()> {
    update(ws, chapter, |entry| {
        entry.checks = Some(Tally { passed, total });
        // A name is a Rust identifier: never a space or a comma.
        entry.failing = failing
            .iter()
            .filter(|n| !n.is_empty() && !n.contains([' ', ',', '\n']))
            .map(|n| n.to_string())
            .collect();
    })
    .map(drop)
}

/// After the quick bench: how many times faster than the starter the
/// learner's code ran. `None` (the bench gave no measurement) keeps the latest
/// ratio measured, and so does a check whose checks fail (the bench runs only
/// once every check passes): "how fast was it last time" is still worth showing.
pub fn record_ratio(
    ws: &Workspace,
    chapter: &Chapter,
    ratio: Option<f64>,
) -> Result<()> {
    let Some(ratio) = ratio.filter(|r| r.is_finite() && *r > 0.0) else {
        return Ok(());
    };
    update(ws, chapter, |entry| entry.ratio = Some(ratio)).map(drop)
}

/// After a bench that reported readings for the panel. `None` (no bench ran,
/// or it reported none) keeps the latest, as `record_ratio` does.
pub fn record_readings(
    ws: &Workspace,
    chapter: &Chapter,
    readings: Option<Readings>,
) -> Result<()> {
    let Some(readings) = readings else {
        return Ok(());
    };
    update(ws, chapter, |entry| entry.readings = Some(readings)).map(drop)
}

/// After `reset`: the starter is back, so the chapter is in progress again (as
/// rustlings does); the hints already seen stay seen.
pub fn record_reset(ws: &Workspace, chapter: &Chapter) -> Result<()> {
    update(ws, chapter, |entry| {
        entry.state = State::InProgress;
        entry.last_check = None;
        entry.checks = None;
        entry.ratio = None;
        entry.failing.clear();
        entry.readings = None;
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
        progress.get(c.id()).cloned().unwrap_or_default().state != State::Passed
    })
}

/// The chapter to suggest once `current` passes: the first later chapter that
/// has not passed, or else the first earlier one (a workshop may start at
/// chapter 2; "next: chapter 1" would send its participants backwards first).
pub fn next_chapter_after<'a>(
    ws: &Workspace,
    chapters: &'a [Chapter],
    current: &Chapter,
) -> Option<&'a Chapter> {
    let progress = load(ws);
    let open = |c: &&'a Chapter| {
        c.id() != current.id()
            && progress.get(c.id()).cloned().unwrap_or_default().state != State::Passed
    };
    let later = chapters
        .iter()
        .filter(|c| c.card.number > current.card.number)
        .find(open);
    later.or_else(|| chapters.iter().find(open))
}

/// After `hint`: one more hint seen (never more than `total`), and a chapter
/// not started is now in progress. Returns the entry as saved and whether every
/// hint had been seen already.
pub fn record_hint(
    ws: &Workspace,
    chapter: &Chapter,
    total: usize,
) -> Result<(Entry, bool)> {
    let mut already_all = false;
    let entry = update(ws, chapter, |entry| {
        already_all = entry.hints_seen >= total;
        entry.hints_seen = (entry.hints_seen + 1).min(total);
        if entry.state == State::NotStarted {
            entry.state = State::InProgress;
        }
    })?;
    Ok((entry, already_all))
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
                last_check: Some(false),
                checks: Some(Tally {
                    passed: 7,
                    total: 9,
                }),
                ratio: Some(154.7),
                failing: vec!["a_check".into(), "another_check".into()],
                readings: None,
            },
        );
        p.insert(
            "ch05-caching".into(),
            Entry {
                state: State::InProgress,
                hints_seen: 0,
                last_check: None,
                checks: Some(Tally {
                    passed: 0,
                    total: 0,
                }),
                ratio: Some(4.2),
                failing: Vec::new(),
                readings: Readings::from_line(
                    "hit-ratio yours=0.612 moka=0.655 optimal=0.741",
                ),
            },
        );
        assert!(render(&p).contains(
            "ch05-caching in-progress 0 - 0/0 4.2 - hit-ratio:yours=0.612,moka=0.655,optimal=0.741\n"
        ));
        assert_eq!(parse(&render(&p)), p);
    }

    #[test]
    fn a_file_from_before_the_latest_check_was_kept_still_reads() {
        let p = parse("ch02-measure passed 2\n");
        assert_eq!(p["ch02-measure"].state, State::Passed);
        assert_eq!(p["ch02-measure"].last_check, None);
        let p = parse("ch02-measure passed 2 fail\n");
        assert_eq!(p["ch02-measure"].last_check, Some(false));
        assert_eq!(p["ch02-measure"].checks, None);
        assert_eq!(p["ch02-measure"].ratio, None);
    }

    /// A runner from before the counts reads the words it knows; this one
    /// reads a damaged count or ratio as "not known", never as a wrong number.
    #[test]
    fn counts_and_ratio_are_read_back_and_damage_reads_as_unknown() {
        let p = parse("a passed 1 pass 9/9 83.6\nb in-progress 0 fail x/9 -3\n");
        assert_eq!(
            p["a"].checks,
            Some(Tally {
                passed: 9,
                total: 9
            })
        );
        assert_eq!(p["a"].ratio, Some(83.6));
        assert_eq!(p["b"].checks, None);
        assert_eq!(p["b"].ratio, None);
        assert_eq!(p["b"].last_check, Some(false));
    }

    /// The bench's line and the file's word say the same, in the bench's order;
    /// a line from before the readings (seven words) reads as none.
    #[test]
    fn readings_are_read_from_the_benchs_line_and_from_the_file() {
        let r =
            Readings::from_line("hit-ratio  yours=0.612 moka=0.655 optimal=0.741\n")
                .unwrap();
        assert_eq!(r.label, "hit-ratio");
        assert_eq!(
            r.values,
            [
                ("yours".to_string(), 0.612),
                ("moka".to_string(), 0.655),
                ("optimal".to_string(), 0.741)
            ]
        );
        let p = parse(
            "ch05-caching passed 0 pass 31/31 4.2 - hit-ratio:yours=0.612,moka=0.655,optimal=0.741\n\
             ch02-measure passed 2 pass 9/9 154.7 -\n",
        );
        assert_eq!(r.line(), "hit-ratio yours=0.612 moka=0.655 optimal=0.741");
        assert_eq!(p["ch05-caching"].readings, Some(r));
        assert_eq!(p["ch05-caching"].ratio, Some(4.2));
        assert_eq!(p["ch02-measure"].readings, None);
        assert_eq!(p["ch02-measure"].ratio, Some(154.7));
    }

    /// A damaged reading is unknown as a whole, never a wrong number or half
    /// a comparison; the words before it still read.
    #[test]
    fn a_damaged_reading_reads_as_unknown() {
        for damaged in [
            "hit-ratio",
            "hit-ratio yours",
            "hit-ratio yours=",
            "hit-ratio yours=0.6x moka=0.655",
            "hit-ratio yours=NaN",
            "hit-ratio yours=inf",
            "hit-ratio yours=0.6 yours=0.7",
            "hit-ratio Yours=0.6",
            "hit ratio yours=0.6",
            "hit_ratio yours=0.6",
            "hit-ratio =0.6",
            "",
        ] {
            assert_eq!(Readings::from_line(damaged), None, "{damaged:?}");
        }
        for damaged in [
            "hit-ratio",
            "hit-ratio:",
            "hit-ratio:yours=0.6,",
            "hit-ratio:yours=0.6,moka",
            ":yours=0.6",
            "hit-ratio:yours=0..6",
        ] {
            let p = parse(&format!("a passed 0 pass 9/9 2.5 - {damaged}\n"));
            assert_eq!(p["a"].readings, None, "{damaged:?}");
            assert_eq!(p["a"].ratio, Some(2.5));
        }
    }

    /// The latest check's counts replace the earlier ones, a check without a
    /// bench keeps the latest ratio and readings, and `reset` forgets them.
    #[test]
    fn a_check_records_its_counts_and_keeps_the_latest_ratio() {
        let course = crate::fixture::Course::new("progress-record-check");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "check").unwrap();
        record_check(ws, &chapter, 9, 9, &[]).unwrap();
        record_ratio(ws, &chapter, Some(154.7)).unwrap();
        record_check(ws, &chapter, 7, 9, &["a_check", "b_check"]).unwrap();
        record_ratio(ws, &chapter, None).unwrap();
        let readings = Readings::from_line("hit-ratio yours=0.5 optimal=0.7");
        record_readings(ws, &chapter, readings.clone()).unwrap();
        record_readings(ws, &chapter, None).unwrap();
        let e = &load(ws)["ch02-measure"];
        assert_eq!(e.readings, readings);
        assert_eq!(
            e.checks,
            Some(Tally {
                passed: 7,
                total: 9
            })
        );
        assert_eq!(e.ratio, Some(154.7));
        assert_eq!(e.failing, ["a_check", "b_check"]);
        record_reset(ws, &chapter).unwrap();
        let e = &load(ws)["ch02-measure"];
        assert_eq!((e.checks, e.ratio), (None, None));
        assert!(e.failing.is_empty());
        assert_eq!(e.readings, None);
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
