//! Running a chapter's checks and turning them into verdicts.
//!
//! The same function serves the learner (`check`, on their crate) and the
//! maintainer (`verify`, `soak`, `try`, on scratch crates holding the solution
//! or a wrong one): build the test binaries, list their tests, run each test in
//! its own process (as many at once as the machine has cores), and return the
//! verdicts in the order the checks are written in the test files, which is
//! the order a learner should read them in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::engine::cargo::{self, Build, CompileFailure, Targets};
use crate::engine::chapter::Chapter;
use crate::engine::libtest::{self, Outcome};
use crate::engine::subject::Subject;
use crate::engine::variant;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

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

/// Builds and runs every check of `chapter` against `subject`. With `echo`,
/// prints the cargo command and each verdict as it arrives.
pub fn run(
    ws: &Workspace,
    chapter: &Chapter,
    subject: &Subject,
    echo: bool,
) -> Result<Run> {
    run_only(ws, chapter, subject, echo, None)
}

/// As [`run`], but only the check named `only` (its short name) when given:
/// `verify` judges a decoy by its one target check, and running the others
/// too would only cost time.
pub fn run_only(
    ws: &Workspace,
    chapter: &Chapter,
    subject: &Subject,
    echo: bool,
    only: Option<&str>,
) -> Result<Run> {
    let executables = match cargo::build(ws, subject, Targets::Tests, echo)? {
        Build::Built(exes) => exes,
        Build::Failed(failure) => return Ok(Run::DidNotCompile(failure)),
    };
    run_built(chapter, subject, &executables, echo, only)
}

/// Several variants of `chapter` (name, files) built as one scratch workspace
/// `group` in one cargo invocation, so cargo keeps every core busy instead of
/// building one small crate after another. Returns each variant's subject and
/// test executables, in the order given, or `None` when they cannot be built
/// together (the chapter has a build script, or a variant does not compile): the
/// caller then builds them one by one with [`run_only`].
pub fn build_many(
    ws: &Workspace,
    chapter: &Chapter,
    group: &str,
    variants: &[(String, BTreeMap<PathBuf, String>)],
) -> Result<Option<Vec<Built>>> {
    if variants.len() < 2 || variant::has_build_script(chapter)? {
        return Ok(None);
    }
    let subjects = variant::assemble_members(
        ws,
        chapter,
        group,
        variants,
        variant::Keep::AllTargets,
    )?;
    let Some(manifest) = subjects.first().map(|s| s.manifest.clone()) else {
        return Ok(None);
    };
    let Some(mut by_member) = cargo::build_members_tests(ws, &manifest)? else {
        return Ok(None);
    };
    let mut built = Vec::new();
    for subject in subjects {
        let Some(executables) = by_member.remove(&subject.dir) else {
            return Ok(None);
        };
        built.push(Built {
            subject,
            executables,
        });
    }
    Ok(Some(built))
}

/// A variant built by [`build_many`].
pub struct Built {
    pub subject: Subject,
    pub executables: Vec<(String, PathBuf)>,
}

/// Runs the checks (or only the one named `only`) in `executables`, built
/// from `subject`.
pub fn run_built(
    chapter: &Chapter,
    subject: &Subject,
    executables: &[(String, PathBuf)],
    echo: bool,
    only: Option<&str>,
) -> Result<Run> {
    let mut tests = in_source_order(chapter, executables)?;
    if let Some(only) = only {
        tests.retain(|(_, name)| name.rsplit("::").next() == Some(only));
    }
    let timeout = Duration::from_secs(chapter.card.timeout_seconds);
    let outcomes = run_parallel(&tests, &subject.dir, timeout, echo)?;
    Ok(Run::Ran(
        tests.into_iter().map(|(_, n)| n).zip(outcomes).collect(),
    ))
}

/// Every test of every test binary, as (binary, name), sorted as the checks
/// are written in the chapter's test files.
fn in_source_order(
    chapter: &Chapter,
    executables: &[(String, PathBuf)],
) -> Result<Vec<(PathBuf, String)>> {
    let mut tests = Vec::new();
    for (_, exe) in executables {
        for name in libtest::list(exe)? {
            tests.push((exe.clone(), name));
        }
    }
    let order = source_order(&chapter.dir.join("tests"));
    tests.sort_by_key(|(_, name)| {
        let short = name.rsplit("::").next().unwrap_or(name);
        order.iter().position(|n| n == short).unwrap_or(usize::MAX)
    });
    Ok(tests)
}

/// Each test's outcome, by its index, as the workers fill them in.
type Slots = Mutex<Vec<Option<Result<Outcome>>>>;

/// Runs every test in its own process, as many at once as there are cores.
/// With `echo`, prints each verdict as soon as it and the ones before it are
/// in, and says so when the checks take long enough to look like a hang.
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
    let slots: Slots = Mutex::new((0..tests.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| work(tests, &next, &slots, dir, timeout));
        }
        if echo {
            s.spawn(|| print_in_order(tests, &slots, timeout));
        }
    });
    slots
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every test was run"))
        .collect()
}

/// One worker: runs the next test nobody has taken, until none is left.
fn work(
    tests: &[(PathBuf, String)],
    next: &AtomicUsize,
    slots: &Slots,
    dir: &Path,
    timeout: Duration,
) {
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((exe, name)) = tests.get(i) else {
            break;
        };
        let outcome = libtest::run_one(exe, name, dir, timeout);
        slots.lock().expect("no worker panics")[i] = Some(outcome);
    }
}

/// The learner's view: each verdict printed as soon as it and every check
/// before it are done, so the list grows in reading order instead of
/// appearing all at once after the slowest check.
fn print_in_order(tests: &[(PathBuf, String)], slots: &Slots, timeout: Duration) {
    let started = Instant::now();
    let notice_after = SLOW_NOTICE_AFTER.min(timeout / 2);
    let mut printed = 0;
    let mut noticed = false;
    while printed < tests.len() {
        if let Some(lines) = ready(slots, printed, &tests[printed].1) {
            ui::lines(lines);
            printed += 1;
            continue;
        }
        if !noticed && started.elapsed() >= notice_after {
            noticed = true;
            let text = format!(
                "Some checks are still running after {} s; each one is stopped at {} s \
                 and reported.",
                notice_after.as_secs(),
                timeout.as_secs()
            );
            ui::aside(&text, 2);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The verdict lines of test `i` once it has finished (none for a test that
/// could not be run: the error is reported when the run ends).
fn ready(slots: &Slots, i: usize, name: &str) -> Option<Vec<String>> {
    match &slots.lock().expect("no worker panics")[i] {
        Some(Ok(outcome)) => Some(libtest::verdict_lines(name, outcome)),
        Some(Err(_)) => Some(Vec::new()),
        None => None,
    }
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
            } else if after_test_attr && let Some(name) = fn_name(line) {
                names.push(name.to_string());
                after_test_attr = false;
            }
        }
    }
    names
}

/// The name in `fn name(`, `async fn name<T>(`, `pub fn …`, `pub(crate) async
/// fn …`: whatever the visibility, a check keeps its place.
fn fn_name(line: &str) -> Option<&str> {
    let line = match line.strip_prefix("pub") {
        Some(rest) if rest.starts_with('(') => rest.split_once(')')?.1.trim_start(),
        Some(rest) if rest.starts_with(' ') => rest.trim_start(),
        _ => line,
    };
    let rest = line
        .strip_prefix("async fn ")
        .or_else(|| line.strip_prefix("fn "))?;
    rest.split(['(', '<']).next()
}

/// How long checks run before the learner is told that some are still going.
const SLOW_NOTICE_AFTER: Duration = Duration::from_secs(5);

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
    fn a_public_check_keeps_its_place_instead_of_sorting_last() {
        let dir = std::env::temp_dir()
            .join(format!("xtask-order-pub-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("checks.rs"),
            "#[test]\npub fn first() {}\n#[tokio::test]\npub async fn second() {}\n\
             #[test]\npub(crate) fn third() {}\n#[test]\nfn fourth() {}\n",
        )
        .unwrap();
        assert_eq!(source_order(&dir), ["first", "second", "third", "fourth"]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(fn_name("public_thing()"), None);
    }
}
