//! Running a chapter's checks and turning them into verdicts.
//!
//! The same function serves the learner (`check`, on their crate) and the
//! maintainer (`verify`, on scratch crates holding the solution or a decoy):
//! build the test binaries, list their tests, run each test in its own process
//! (two at a time on a 2-core machine), and return the verdicts in the order the
//! checks are written in the test file, which is the order a learner should
//! read them in.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cargo::{self, Build, CompileFailure, Crate, Targets};
use crate::chapter::Chapter;
use crate::libtest::{self, Outcome};
use crate::pristine::{self, Change};
use crate::workspace::Workspace;
use crate::{bench, progress, ui};

/// The crate whose checks are run: the learner's, or a scratch crate.
pub struct Subject {
    pub manifest: PathBuf,
    pub package: String,
    /// The crate's folder: tests run with it as their working directory.
    pub dir: PathBuf,
}

impl Subject {
    /// The learner's crate, in the root workspace.
    pub fn learner(ws: &Workspace, chapter: &Chapter) -> Self {
        Self {
            manifest: ws.root.join("Cargo.toml"),
            package: chapter.package().to_string(),
            dir: chapter.dir.clone(),
        }
    }

    pub fn as_crate(&self) -> Crate<'_> {
        Crate {
            manifest: &self.manifest,
            package: &self.package,
        }
    }
}

pub enum Run {
    DidNotCompile(CompileFailure),
    Ran(Vec<(String, Outcome)>),
}

impl Run {
    pub fn all_passed(&self) -> bool {
        matches!(self, Run::Ran(v) if v.iter().all(|(_, o)| *o == Outcome::Passed))
    }

    pub fn failed(&self) -> Vec<&(String, Outcome)> {
        match self {
            Run::Ran(v) => v.iter().filter(|(_, o)| *o != Outcome::Passed).collect(),
            Run::DidNotCompile(_) => Vec::new(),
        }
    }
}

/// Builds and runs every check of `chapter` against `subject`.
pub fn run(
    ws: &Workspace,
    chapter: &Chapter,
    subject: &Subject,
    echo: bool,
) -> Result<Run> {
    let executables = match cargo::build(ws, &subject.as_crate(), Targets::Tests, echo)?
    {
        Build::Built(exes) => exes,
        Build::Failed(failure) => return Ok(Run::DidNotCompile(failure)),
    };
    let mut tests: Vec<(PathBuf, String)> = Vec::new();
    for (_, exe) in &executables {
        for name in libtest::list(exe)? {
            tests.push((exe.clone(), name));
        }
    }
    let order = source_order(&chapter.dir.join("tests"));
    tests.sort_by_key(|(_, name)| {
        let short = name.rsplit("::").next().unwrap_or(name);
        order.iter().position(|n| n == short).unwrap_or(usize::MAX)
    });
    let timeout = Duration::from_secs(chapter.card.timeout_seconds);
    let outcomes = run_parallel(&tests, &subject.dir, timeout, echo)?;
    Ok(Run::Ran(
        tests.into_iter().map(|(_, n)| n).zip(outcomes).collect(),
    ))
}

/// Runs every test in its own process, as many at once as there are cores.
/// With `echo`, says so when the checks take long enough to look like a hang.
fn run_parallel(
    tests: &[(PathBuf, String)],
    dir: &Path,
    timeout: Duration,
    echo: bool,
) -> Result<Vec<Outcome>> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(tests.len().max(1));
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Outcome>>>> =
        Mutex::new((0..tests.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((exe, name)) = tests.get(i) else {
                        break;
                    };
                    let outcome = libtest::run_one(exe, name, dir, timeout);
                    results.lock().expect("no worker panics")[i] = Some(outcome);
                    finished.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        if echo {
            // The learner's view: each verdict printed as soon as it and every
            // check before it are done, so the list grows in reading order
            // instead of appearing all at once after the slowest check.
            s.spawn(|| {
                let started = std::time::Instant::now();
                let notice_after = SLOW_NOTICE_AFTER.min(timeout / 2);
                let mut printed = 0;
                let mut noticed = false;
                while printed < tests.len() {
                    let lines = {
                        let done = results.lock().expect("no worker panics");
                        match &done[printed] {
                            Some(Ok(outcome)) => {
                                Some(ui::verdict_lines(&tests[printed].1, outcome))
                            }
                            Some(Err(_)) => Some(Vec::new()),
                            None => None,
                        }
                    };
                    if let Some(lines) = lines {
                        for line in lines {
                            println!("{line}");
                        }
                        printed += 1;
                        continue;
                    }
                    if !noticed && started.elapsed() >= notice_after {
                        noticed = true;
                        let text = format!(
                            "Some checks are still running after {} s; each one is \
                             stopped at {} s and reported.",
                            notice_after.as_secs(),
                            timeout.as_secs()
                        );
                        for line in ui::wrap(&text, 2, ui::WIDTH) {
                            println!("{}", ui::dim(&line));
                        }
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every test was run"))
        .collect()
}

/// Test function names in the order they appear in the chapter's test files.
fn source_order(tests_dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(tests_dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut names = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut after_test_attr = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
                after_test_attr = true;
            } else if after_test_attr && let Some(rest) = fn_name(line) {
                names.push(rest.to_string());
                after_test_attr = false;
            }
        }
    }
    names
}

fn fn_name(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("async fn ")
        .or_else(|| line.strip_prefix("fn "))?;
    rest.split(['(', '<']).next()
}

/// The short form of a compile failure, pointing at the learner's file.
pub fn compile_failure_lines(chapter: &Chapter, f: &CompileFailure) -> Vec<String> {
    let mut lines = Vec::new();
    match &f.first {
        Some(rendered) => {
            let count = if f.errors == 1 {
                "1 error".to_string()
            } else {
                format!("{} errors", f.errors)
            };
            let place = f.file.as_deref().unwrap_or("the chapter's crate");
            let text = format!(
                "{} the code does not compile ({count}); the first is in {place}:",
                ui::red("✗")
            );
            lines.extend(ui::wrap(&text, 2, ui::WIDTH));
            lines.extend(rendered.lines().map(|l| format!("    {l}")));
            if crosses_threads(rendered) {
                // The error shows where the future is spawned (often in the
                // checks), but the cause is what the learner's code holds.
                lines.extend(ui::wrap(NOT_THREAD_SAFE, 2, ui::WIDTH));
            } else if f.file.as_deref().is_some_and(|p| {
                p.contains("tests/")
                    || p.contains("benches/")
                    || p.contains("examples/")
            }) {
                lines.extend(ui::wrap(ERROR_IN_CHECKS, 2, ui::WIDTH));
            }
        }
        None if needs_network(&f.stderr) => {
            let text = format!("{} {}", ui::red("✗"), NO_NETWORK);
            lines.extend(ui::wrap(&text, 2, ui::WIDTH));
            lines.push(format!("  {}", ui::dim("What cargo said:")));
            let said: Vec<&str> =
                f.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let tail = &said[said.len().saturating_sub(5)..];
            lines.extend(tail.iter().map(|l| format!("    {}", ui::dim(l))));
            return lines;
        }
        None => {
            lines.push(format!(
                "  {} cargo could not build the chapter:",
                ui::red("✗")
            ));
            let tail: Vec<&str> = f.stderr.lines().rev().take(12).collect();
            lines.extend(tail.into_iter().rev().map(|l| format!("    {l}")));
        }
    }
    lines.push(format!(
        "  Fix it, then run `cargo xtask check {}` again.",
        chapter.card.number
    ));
    lines
}

/// Whether cargo stopped because it had to download something and could not.
fn needs_network(stderr: &str) -> bool {
    const SIGNS: [&str; 11] = [
        "failed to download",
        "failed to get `",
        "Could not resolve host",
        "Couldn't resolve host",
        "Failed to connect to",
        "spurious network error",
        "failed to query replaced source registry",
        "download of config.json failed",
        "network failure",
        "attempting to make an HTTP request, but --offline was specified",
        "unable to update registry",
    ];
    SIGNS.iter().any(|s| stderr.contains(s))
        || (stderr.contains("no matching package named") && stderr.contains("offline"))
}

/// Says so, and is true, when the chapter's checks are not as the course gave
/// them: a verdict (or a bench gate) from changed checks would mean nothing.
pub fn checks_were_changed(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    let changes = pristine::changed_checks(ws, chapter)?;
    for line in changed_checks_lines(ws, chapter, &changes) {
        println!("{line}");
    }
    Ok(!changes.is_empty())
}

/// One sentence per changed check file, and what to do.
fn changed_checks_lines(
    ws: &Workspace,
    chapter: &Chapter,
    changes: &[Change],
) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    let files: Vec<String> = changes
        .iter()
        .map(|c| match c {
            Change::Edited(p) => {
                format!("{} was edited", ws.show(&chapter.dir.join(p)))
            }
            Change::Deleted(p) => {
                format!("{} was deleted", ws.show(&chapter.dir.join(p)))
            }
        })
        .collect();
    let n = chapter.card.number;
    let text = format!(
        "{} The checks of chapter {n} are not as the course gave them: {}. A verdict \
         from changed checks would mean nothing, so none was given. Put them back with \
         `cargo xtask reset {n} --checks` (your code in src/ stays as it is), then run \
         `cargo xtask check {n}` again.",
        ui::red("✗"),
        files.join(", ")
    );
    let mut lines = ui::wrap(&text, 2, ui::WIDTH);
    lines.extend(
        ui::wrap(CHANGED_CHECKS_MAINTAINERS, 2, ui::WIDTH)
            .into_iter()
            .map(|l| ui::dim(&l)),
    );
    lines
}

/// `cargo xtask check N`.
pub fn check_command(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    ui::heading(&chapter.heading());
    if checks_were_changed(ws, chapter)? {
        return Ok(false);
    }
    let subject = Subject::learner(ws, chapter);
    let run = run(ws, chapter, &subject, true).context("running the checks")?;
    let n = chapter.card.number;
    match &run {
        Run::DidNotCompile(f) => {
            for line in compile_failure_lines(chapter, f) {
                println!("{line}");
            }
            progress::record_attempt(ws, chapter, false)?;
            return Ok(false);
        }
        Run::Ran(verdicts) => {
            // Each verdict line was printed by `run` as it arrived.
            let passed = verdicts
                .iter()
                .filter(|(_, o)| *o == Outcome::Passed)
                .count();
            if passed < verdicts.len() {
                let next = format!(
                    "{passed} of {} checks pass. Read the first ✗ above, edit {}, and run \
                     `cargo xtask check {n}` again. Stuck? `cargo xtask hint {n}`.",
                    verdicts.len(),
                    edit_list(ws, chapter)
                );
                println!();
                for line in ui::wrap(&next, 0, ui::WIDTH) {
                    println!("{line}");
                }
                progress::record_attempt(ws, chapter, false)?;
                return Ok(false);
            }
            println!("\nAll {} checks pass.", verdicts.len());
        }
    }
    let gate_ok = match &chapter.card.bench {
        Some(gate) => {
            let home = ws.scratch_dir().join("criterion-quick").join("learner");
            let result = bench::quick(ws, chapter, gate, &subject, &home, true)?;
            bench::print_gate(gate, &result);
            result.as_ref().is_ok_and(|r| r.passed)
        }
        None => true,
    };
    progress::record_attempt(ws, chapter, gate_ok)?;
    if gate_ok {
        let chapters = Chapter::all(ws)?;
        let next = match progress::next_chapter(ws, &chapters) {
            Some(c) => format!(
                "Next: chapter {}, {}: read it with `cargo xtask book --open`, then run \
                 `cargo xtask check {}`.",
                c.card.number, c.card.title, c.card.number
            ),
            None => "That was the last chapter still to pass; well done.".to_string(),
        };
        let text = format!(
            "{} Chapter {n} passes. `cargo xtask solution {n}` shows the reference \
             solution beside your code. {next}",
            ui::green("✓")
        );
        println!();
        for line in ui::wrap(&text, 0, ui::WIDTH) {
            println!("{line}");
        }
    } else {
        println!(
            "\nThe checks pass but the bench gate does not hold yet: measure with \
             `cargo xtask bench {n}` and look at what is still slow."
        );
    }
    Ok(gate_ok)
}

fn edit_list(ws: &Workspace, chapter: &Chapter) -> String {
    if chapter.card.edit.is_empty() {
        return ws.show(&chapter.dir.join("src"));
    }
    let files: Vec<String> = chapter
        .card
        .edit
        .iter()
        .map(|f| ws.show(&chapter.dir.join(f)))
        .collect();
    files.join(" or ")
}

/// rustc's wording for a value that may not cross threads (E0277 with Send or
/// Sync): in async code almost always a guard or handle kept across an await.
fn crosses_threads(rendered: &str) -> bool {
    rendered.contains("cannot be sent between threads safely")
        || rendered.contains("cannot be shared between threads safely")
        || rendered.contains("future cannot be sent between threads")
}

/// How long checks run before the learner is told that some are still going.
const SLOW_NOTICE_AFTER: Duration = Duration::from_secs(5);

const ERROR_IN_CHECKS: &str = "The error is in the chapter's checks, which call your \
    crate's public functions and types by name: one of them was renamed, removed, or \
    changed its signature in src/. Keep the names and signatures the checks use and \
    change what happens inside.";

const NOT_THREAD_SAFE: &str = "Your code keeps something that may not cross threads \
    while it waits: usually a lock's guard still alive at an `.await`, or a value \
    that is not Send moved into `tokio::spawn`. The error is reported where the \
    checks run your code; the file named above is where the value is held. Keep the \
    names and signatures as they are: the checks need them.";

const NO_NETWORK: &str = "cargo has to download dependencies that this computer does \
    not have yet, and could not reach crates.io. Connect to the network once and run \
    `cargo fetch` in the course's folder; after that every command works offline.";

const CHANGED_CHECKS_MAINTAINERS: &str = "(Maintainers: after changing a chapter's \
    checks on purpose, record them with `cargo xtask pristine N`.)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_ordered_as_written_in_the_test_file() {
        let dir =
            std::env::temp_dir().join(format!("xtask-order-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("checks.rs"),
            "fn helper() {}\n#[test]\nfn zebra_first() {}\n\n#[tokio::test(start_paused = true)]\n\
             async fn alpha_second() {}\n#[test]\nfn middle<T>() {}\n",
        )
        .unwrap();
        assert_eq!(
            source_order(&dir),
            vec!["zebra_first", "alpha_second", "middle"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_download_without_network_is_recognised() {
        let offline = "error: no matching package named `anyhow` found\n\
                       location searched: crates.io index\n\
                       As a reminder, you're using offline mode (--offline)";
        assert!(needs_network(offline));
        assert!(needs_network(
            "warning: spurious network error\nerror: failed to download from `https://…`"
        ));
        assert!(!needs_network(
            "error: failed to parse manifest at `/x/Cargo.toml`"
        ));
    }
}
