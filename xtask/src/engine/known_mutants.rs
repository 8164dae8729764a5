//! Known mutants: the learner's own tests, judged by the bugs they catch.
//!
//! In a chapter whose card has `[learner_tests]` (chapter 7), the learner
//! writes tests of a service, and "the tests pass" proves nothing: tests that
//! assert nothing pass too. So the runner keeps a set of known mutants of the
//! service, each a small bug, in `solutions/<id>/known-mutants/<name>.toml`,
//! out of the learner's folder (one source of truth: the same files serve
//! `check`, `verify`, and every decoy):
//!
//! ```toml
//! behaviour = "an order for zero items is refused"
//! [[edit]]
//! file = "src/service.rs"
//! find = "if quantity == 0 || quantity > MAX_QUANTITY {"
//! replace = "if quantity > MAX_QUANTITY {"
//! ```
//!
//! The edits are the decoys' (found exactly once, replaced) and may touch only
//! the service's files, never the learner's test folder. `behaviour` says, in
//! one line, what no test pins down while the mutant survives: the learner
//! reads that, never the mutant's code, and decides how and at which level to
//! test it.
//!
//! For a subject's `src/` (the learner's files, or the solution's or a decoy's)
//! the runner writes one scratch workspace (`variant::assemble_members`) with
//! one member per copy: `as-given` (the files unchanged) and one per mutant.
//! The copy as given is built first, alone, so a test that does not compile is
//! reported once and in the learner's paths; then the others in one cargo
//! call, sharing the dependencies already built. Each copy's unit tests run in
//! one process, as many copies at once as there are cores. The verdicts:
//! - `your_tests_pass_on_the_service_as_given`: every test passes unchanged;
//! - `your_tests_notice_when_<name>` per mutant: at least one test fails (or
//!   hangs past the chapter's timeout, as cargo-mutants counts it).
//!
//! Mutant verdicts are judged only once the tests pass as given: against a
//! failing suite every mutant would look caught.
//!
//! Neutral mutants are the other half: harmless edits of the service (a
//! comment, a reformat, a renamed local, an equivalent rewrite), in
//! `solutions/<id>/neutral-mutants/<name>.toml`, same edits, with `change`
//! saying in one line what was changed. Tests that judge behaviour pass on
//! them; tests that judge the source text (a fingerprint of a file, a search
//! for a line) fail. All of them are applied to one more copy, `neutral`,
//! built with the others in the same cargo call (one copy whatever their
//! number: plain `verify` runs this for every subject). Its verdict,
//! `your_tests_pass_on_copies_that_behave_the_same`, follows the as-given one;
//! and a test that fails on the neutral copy is not counted when it fails on
//! a known mutant (it would fail on any change), so a source-text test kills
//! no mutant.
//!
//! A mutant caught only because the tests hung past the timeout (none failed)
//! counts as caught, as cargo-mutants counts it, and `check` says so beneath
//! its ✓: a test that fails fast says what broke, a hang does not.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::engine::cargo::{self, Build, CompileFailure, Targets};
use crate::engine::chapter::Chapter;
use crate::engine::checks::Run;
use crate::engine::decoy::{self, Edit};
use crate::engine::libtest::Outcome;
use crate::engine::variant;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// The verdict on the tests against the service as given.
pub const AS_GIVEN: &str = "your_tests_pass_on_the_service_as_given";

/// How every mutant's verdict name begins.
pub const NOTICE_PREFIX: &str = "your_tests_notice_when_";

/// The verdict on the tests against the neutral mutants.
pub const SAME_BEHAVIOUR: &str = "your_tests_pass_on_copies_that_behave_the_same";

/// The scratch workspace's member that holds the files unchanged.
const AS_GIVEN_MEMBER: &str = "as-given";

/// The scratch workspace's member with every neutral mutant applied.
const NEUTRAL_MEMBER: &str = "neutral";

/// True for a verdict that the subject's own tests give (against the known
/// and neutral mutants), not a check: a decoy's `must_fail` naming one is
/// judged by `run`.
pub fn is_own_tests_verdict(name: &str) -> bool {
    name.starts_with(NOTICE_PREFIX) || name == AS_GIVEN || name == SAME_BEHAVIOUR
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    behaviour: String,
    #[serde(rename = "edit")]
    edits: Vec<Edit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NeutralSpec {
    change: String,
    #[serde(rename = "edit")]
    edits: Vec<Edit>,
}

/// A harmless edit of the service: the learner's tests must pass on it.
#[derive(Debug)]
pub struct NeutralMutant {
    /// The file's stem: `a-comment-in-every-file`.
    pub name: String,
    /// What was changed, in one line (the learner may read this).
    pub change: String,
    pub edits: Vec<Edit>,
}

#[derive(Debug)]
pub struct KnownMutant {
    /// The file's stem: `zero-items-are-accepted`.
    pub name: String,
    /// What no test pins down while it survives (the learner reads this).
    pub behaviour: String,
    pub edits: Vec<Edit>,
}

impl KnownMutant {
    /// `your_tests_notice_when_zero_items_are_accepted`: printed as a sentence,
    /// and what a decoy's `must_fail` names.
    pub fn verdict_name(&self) -> String {
        format!("{NOTICE_PREFIX}{}", self.name.replace('-', "_"))
    }

    fn member(&self) -> String {
        format!("mutant-{}", self.name)
    }
}

/// Every known mutant of `chapter`, sorted by name. An error when one is
/// malformed, has no edit, or edits the learner's test folder.
pub fn load_all(chapter: &Chapter) -> Result<Vec<KnownMutant>> {
    if chapter.card.learner_tests.is_none() {
        return Ok(Vec::new());
    }
    let dir = chapter.solution_dir.join("known-mutants");
    let specs: Vec<(String, Spec)> =
        read_specs(chapter, &dir, "known mutant", |s: &Spec| &s.edits)?;
    if specs.is_empty() {
        bail!(
            "{} judges the learner's tests, but {} holds no known mutant",
            chapter.id(),
            dir.display()
        );
    }
    Ok(specs
        .into_iter()
        .map(|(name, spec)| KnownMutant {
            name,
            behaviour: spec.behaviour.trim().to_string(),
            edits: spec.edits,
        })
        .collect())
}

/// Every neutral mutant of `chapter`, sorted by name; none when the chapter
/// has no `neutral-mutants/` folder. Errors as `load_all`.
pub fn load_neutral(chapter: &Chapter) -> Result<Vec<NeutralMutant>> {
    let dir = chapter.solution_dir.join("neutral-mutants");
    if chapter.card.learner_tests.is_none() || !dir.is_dir() {
        return Ok(Vec::new());
    }
    let specs =
        read_specs(chapter, &dir, "neutral mutant", |s: &NeutralSpec| &s.edits)?;
    Ok(specs
        .into_iter()
        .map(|(name, spec)| NeutralMutant {
            name,
            change: spec.change.trim().to_string(),
            edits: spec.edits,
        })
        .collect())
}

/// Each `*.toml` in `dir` as `(stem, spec)`, sorted by stem. An error when
/// one is malformed, has no edit, or edits the learner's test folder.
fn read_specs<T: serde::de::DeserializeOwned>(
    chapter: &Chapter,
    dir: &Path,
    what: &str,
    edits: impl Fn(&T) -> &Vec<Edit>,
) -> Result<Vec<(String, T)>> {
    let Some(own) = &chapter.card.learner_tests else {
        return Ok(Vec::new());
    };
    let mut specs = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the {what}s in {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let spec: T = toml::from_str(&text)
            .with_context(|| format!("reading the {what} {}", path.display()))?;
        if edits(&spec).is_empty() {
            bail!("the {what} {} has no [[edit]]", path.display());
        }
        if let Some(e) = edits(&spec).iter().find(|e| e.file.starts_with(&own.dir)) {
            bail!(
                "the {what} {} edits {}, in the learner's own tests ({}); \
                 mutants change only the service",
                path.display(),
                e.file.display(),
                own.dir.display()
            );
        }
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        specs.push((name.into_owned(), spec));
    }
    specs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(specs)
}

/// The learner's tests in `files` (a crate's `src/`, relative paths) against
/// the service as given, its neutral mutants and each known mutant. `None`
/// for a chapter without `[learner_tests]`. With `echo`, says what it is
/// doing (the verdicts are the caller's to print).
pub fn run(
    ws: &Workspace,
    chapter: &Chapter,
    files: &BTreeMap<PathBuf, String>,
    echo: bool,
) -> Result<Option<Run>> {
    Ok(run_judged(ws, chapter, files, echo)?.map(|j| j.run))
}

/// `run`'s verdicts, and what a learner should know beside them.
pub struct Judged {
    pub run: Run,
    /// The verdict names of the known mutants caught only because the tests
    /// hung past the timeout (none failed).
    pub hung: Vec<String>,
}

/// The lines `check` prints beneath the ✓ of a mutant caught only by a hang.
pub fn hung_lines(chapter: &Chapter) -> Vec<String> {
    let text = format!(
        "caught only by a hang: on this copy your tests were still running after {} \
         seconds and were stopped; none failed. A test that fails says what broke, a hang \
         does not: give the test a deadline of its own.",
        chapter.card.timeout_seconds
    );
    ui::wrap(&text, 6, ui::WIDTH)
        .iter()
        .map(|l| ui::dim(l))
        .collect()
}

/// `run`, with the mutants caught only by a hang.
pub fn run_judged(
    ws: &Workspace,
    chapter: &Chapter,
    files: &BTreeMap<PathBuf, String>,
    echo: bool,
) -> Result<Option<Judged>> {
    run_some(ws, chapter, files, echo, None)
}

/// `run`, with only the copies that `verdict` (a decoy's `must_fail`)
/// depends on: the service as given, the neutral copy, and the known mutant
/// it names, if any. The other mutants' verdicts are left out. A decoy needs
/// no more, and each copy left out is one build less for `verify`.
pub fn run_for(
    ws: &Workspace,
    chapter: &Chapter,
    files: &BTreeMap<PathBuf, String>,
    verdict: &str,
) -> Result<Option<Run>> {
    Ok(run_some(ws, chapter, files, false, Some(verdict))?.map(|j| j.run))
}

/// `run_judged`, with only the known mutant whose verdict is `only` (none
/// when `only` names no mutant) or every one (`None`).
fn run_some(
    ws: &Workspace,
    chapter: &Chapter,
    files: &BTreeMap<PathBuf, String>,
    echo: bool,
    only: Option<&str>,
) -> Result<Option<Judged>> {
    let Some(own) = &chapter.card.learner_tests else {
        return Ok(None);
    };
    let mut mutants = load_all(chapter)?;
    keep_only(&mut mutants, only);
    let neutral = load_neutral(chapter)?;
    if echo {
        ui::blank();
        let harmless = if neutral.is_empty() {
            String::new()
        } else {
            " and on a copy with harmless rewrites (no change in behaviour),"
                .to_string()
        };
        ui::aside(
            &format!(
                "Your own tests ({}/) against the service as given{harmless} and {} \
                 known mutants of it (copies with one small bug each):",
                own.dir.display(),
                mutants.len()
            ),
            0,
        );
    }
    // Each copy: its member name, and its files or why it could not be made
    // (the files it edits), by member name.
    let mut members = vec![(AS_GIVEN_MEMBER.to_string(), files.clone())];
    let mut not_made: BTreeMap<String, String> = BTreeMap::new();
    // Each edit with the name of the mutant it comes from.
    let mut plant = |member: String, edits: &[(&str, &Edit)]| {
        let mut copy = files.clone();
        let planted = edits.iter().try_for_each(|(name, e)| {
            decoy::apply_edits(name, "service", std::slice::from_ref(*e), &mut copy)
        });
        match planted {
            Ok(()) => members.push((member, copy)),
            Err(_) => {
                let mut files: Vec<String> = edits
                    .iter()
                    .map(|(_, e)| e.file.display().to_string())
                    .collect();
                files.sort();
                files.dedup();
                not_made.insert(member, files.join(", "));
            }
        }
    };
    if !neutral.is_empty() {
        let edits: Vec<(&str, &Edit)> = neutral
            .iter()
            .flat_map(|n| n.edits.iter().map(|e| (n.name.as_str(), e)))
            .collect();
        plant(NEUTRAL_MEMBER.to_string(), &edits);
    }
    for m in &mutants {
        let edits: Vec<(&str, &Edit)> =
            m.edits.iter().map(|e| (m.name.as_str(), e)).collect();
        plant(m.member(), &edits);
    }
    let subjects = variant::assemble_members(
        ws,
        chapter,
        "known-mutants",
        &members,
        variant::Keep::Library,
    )?;
    let as_given = &subjects[0];
    let mut exes =
        match cargo::build(ws, as_given, Targets::LibTests { all: false }, echo)? {
            Build::Built(exes) => exes,
            Build::Failed(failure) => {
                return Ok(Some(Judged {
                    run: Run::DidNotCompile(in_learners_paths(failure)),
                    hung: Vec::new(),
                }));
            }
        };
    if subjects.len() > 1 {
        match cargo::build(ws, as_given, Targets::LibTests { all: true }, false)? {
            Build::Built(more) => exes.extend(more),
            Build::Failed(failure) => bail!(
                "a known or neutral mutant of {} does not compile with tests that \
                 compile as given; fix the mutant:\n{}",
                chapter.id(),
                failure.first.unwrap_or(failure.stderr)
            ),
        }
    }
    let timeout = Duration::from_secs(chapter.card.timeout_seconds);
    let runs: Vec<(PathBuf, PathBuf)> = subjects
        .iter()
        .filter_map(|s| {
            let target = s.package.replace('-', "_");
            let exe = exes.iter().find(|(name, _)| *name == target)?;
            Some((exe.1.clone(), s.dir.clone()))
        })
        .collect();
    if runs.len() != subjects.len() {
        bail!("cargo built no unit-test executable for some copy of the service");
    }
    let results = run_parallel(&runs, timeout)?;
    let by_member: BTreeMap<&str, &TestRun> = subjects
        .iter()
        .map(|s| s.package.as_str())
        .zip(results.iter())
        .collect();
    let (verdicts, hung) = verdicts(
        &own.dir,
        &Copies {
            mutants: &mutants,
            neutral: &neutral,
        },
        &by_member,
        &not_made,
    );
    Ok(Some(Judged {
        run: Run::Ran(verdicts),
        hung,
    }))
}

/// Keeps the known mutant whose verdict is `only` (none when it names none);
/// all of them for `None`.
fn keep_only(mutants: &mut Vec<KnownMutant>, only: Option<&str>) {
    if let Some(verdict) = only {
        mutants.retain(|m| m.verdict_name() == verdict);
    }
}

/// The mutants a subject's tests are judged against.
struct Copies<'a> {
    mutants: &'a [KnownMutant],
    neutral: &'a [NeutralMutant],
}

/// The check verdicts followed by the learner-test verdicts. A compile failure
/// of either is the run's verdict.
pub fn join(checks: Run, own: Option<Run>) -> Run {
    match (checks, own) {
        (Run::Ran(mut v), Some(Run::Ran(more))) => {
            v.extend(more);
            Run::Ran(v)
        }
        (Run::Ran(_), Some(failed @ Run::DidNotCompile(_))) => failed,
        (checks, _) => checks,
    }
}

/// What one copy's test binary did.
#[derive(Debug, Clone, PartialEq)]
enum TestRun {
    Passed { tests: usize },
    Failed { failing: Vec<String>, first: String },
    TimedOut,
}

/// Runs each `(executable, dir)`, as many at once as there are cores.
fn run_parallel(
    runs: &[(PathBuf, PathBuf)],
    timeout: Duration,
) -> Result<Vec<TestRun>> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(runs.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<TestRun>>>> =
        Mutex::new((0..runs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((exe, dir)) = runs.get(i) else {
                        break;
                    };
                    let result = run_one(exe, dir, timeout);
                    slots.lock().expect("no worker panics")[i] = Some(result);
                }
            });
        }
    });
    slots
        .into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.expect("every copy was run"))
        .collect()
}

fn run_one(exe: &Path, dir: &Path, timeout: Duration) -> Result<TestRun> {
    let out = Cmd::new(exe)
        .env("RUST_BACKTRACE", "0")
        .current_dir(dir)
        .output(Some(timeout))?;
    if out.timed_out() {
        return Ok(TestRun::TimedOut);
    }
    Ok(read_libtest(&out.stdout_text(), out.success()))
}

/// A test binary's outcome from libtest's human output.
fn read_libtest(stdout: &str, success: bool) -> TestRun {
    let failing: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .map(str::to_string)
        .collect();
    if success && failing.is_empty() {
        let tests = stdout.lines().filter(|l| l.ends_with(" ... ok")).count();
        return TestRun::Passed { tests };
    }
    let first = failing
        .first()
        .and_then(|name| failure_text(stdout, name))
        .unwrap_or_else(|| stdout.lines().rev().take(8).collect::<Vec<_>>().join("\n"));
    TestRun::Failed { failing, first }
}

/// What test `name` printed, from its `---- name stdout ----` section.
fn failure_text(stdout: &str, name: &str) -> Option<String> {
    let header = format!("---- {name} stdout ----");
    let after = stdout.split_once(&header)?.1;
    let text: Vec<&str> = after
        .lines()
        .take_while(|l| !l.starts_with("---- ") && *l != "failures:")
        .filter(|l| !l.trim().is_empty() && !l.starts_with("note: run with"))
        .collect();
    Some(text.join("\n"))
}

/// The verdicts, as-given first, then the neutral copy's (when the chapter
/// has neutral mutants), then one per known mutant in name order; and the
/// names of the mutants caught only by a hang. `not_made` is keyed by member.
fn verdicts(
    dir: &Path,
    copies: &Copies,
    by_member: &BTreeMap<&str, &TestRun>,
    not_made: &BTreeMap<String, String>,
) -> (Vec<(String, Outcome)>, Vec<String>) {
    let dir = dir.display();
    let as_given = by_member.get(AS_GIVEN_MEMBER).copied();
    let (given, tests) = match as_given {
        Some(TestRun::Passed { tests }) => (Outcome::Passed, *tests),
        Some(TestRun::Failed { failing, first }) => (
            failed(format!(
                "Expected every test in {dir}/ to pass on the service as given (it has \
                 none of the known bugs). Seen: {} failed: {}. The first one's message:\n\
                 {first}\nA test that fails on correct code is wrong in what it expects: \
                 fix the test, not the service.",
                failing.len(),
                failing.join(", ")
            )),
            0,
        ),
        Some(TestRun::TimedOut) | None => (
            failed(format!(
                "Expected your tests in {dir}/ to finish on the service as given. Seen: \
                 still running after the chapter's timeout, and stopped. A test that \
                 waits for real time (or for an answer that never comes) hangs here: \
                 run `cargo test -p <chapter> --lib` to see which."
            )),
            0,
        ),
    };
    let judged = given == Outcome::Passed;
    let mut out = vec![(AS_GIVEN.to_string(), given)];
    let planted = |member: &str, behaviour: &str| {
        not_made.get(member).map(|files| {
            failed(format!(
                "This copy of the service ({behaviour}) could not be made: {files} is \
                 not as the chapter gave it. The runner judges your tests by changing \
                 the service's files, so leave those as given (`git diff` shows what \
                 changed) and keep your tests in {dir}/."
            ))
        })
    };
    // The tests that fail on the neutral copy judge the source text: their
    // failures on a known mutant do not count.
    let mut source_tests: Vec<&str> = Vec::new();
    if !copies.neutral.is_empty() {
        let changes: Vec<&str> =
            copies.neutral.iter().map(|n| n.change.as_str()).collect();
        let changes = changes.join("; ");
        let outcome = if let Some(f) = planted(NEUTRAL_MEMBER, "harmless rewrites") {
            f
        } else if !judged {
            failed(format!(
                "Not judged yet: your tests must first pass on the service as given \
                 (see above). This copy of the service behaves exactly as given, with \
                 harmless rewrites: {changes}."
            ))
        } else {
            match by_member.get(NEUTRAL_MEMBER) {
                Some(TestRun::Passed { .. }) => Outcome::Passed,
                Some(TestRun::Failed { failing, first }) => {
                    source_tests = failing.iter().map(String::as_str).collect();
                    failed(format!(
                        "Expected every test in {dir}/ to pass on a copy of the service \
                         that behaves exactly as given, rewritten harmlessly: {changes}. \
                         Seen: {} failed on it: {}. The first one's message:\n{first}\n\
                         Your tests fail on a service that behaves the same: they test \
                         its source text, not its behaviour. Such a test fails on any \
                         edit, a comment as much as a bug, so the bugs it \"catches\" \
                         prove nothing (they are not counted below). Test what the \
                         service does instead: its answers, what it stores, what it \
                         sends.",
                        failing.len(),
                        failing.join(", ")
                    ))
                }
                Some(TestRun::TimedOut) | None => failed(format!(
                    "Expected your tests in {dir}/ to finish on a copy of the service \
                     that behaves exactly as given, rewritten harmlessly: {changes}. \
                     Seen: still running after the chapter's timeout, and stopped. \
                     Nothing in these rewrites changes what the service does or how \
                     long it takes: look for a test that depends on the source text."
                )),
            }
        };
        out.push((SAME_BEHAVIOUR.to_string(), outcome));
    }
    let mut hung = Vec::new();
    for m in copies.mutants {
        let outcome = if let Some(f) = planted(&m.member(), &m.behaviour) {
            f
        } else if !judged {
            failed(format!(
                "Not judged yet: your tests must first pass on the service as given \
                 (see above). This copy of the service breaks: {}.",
                m.behaviour
            ))
        } else {
            match by_member.get(m.member().as_str()) {
                Some(TestRun::TimedOut) => {
                    hung.push(m.verdict_name());
                    Outcome::Passed
                }
                Some(TestRun::Failed { failing, .. })
                    if failing.iter().any(|t| !source_tests.contains(&t.as_str())) =>
                {
                    Outcome::Passed
                }
                Some(TestRun::Failed { failing, .. }) => failed(format!(
                    "Expected at least one of your tests to fail on a copy of the \
                     service with one small bug. Seen: only {} failed on it, which \
                     fail on a harmless rewrite too (see above), so they do not count. \
                     The behaviour it breaks, which none of your other tests pins \
                     down: {}. Add a test in {dir}/ that would fail if this stopped \
                     holding, at the level where such a bug would show.",
                    failing.join(", "),
                    m.behaviour
                )),
                _ => failed(format!(
                    "Expected at least one of your tests to fail on a copy of the \
                     service with one small bug. Seen: all {tests} of them pass on it. \
                     The behaviour it breaks, which none of your tests pins down: {}. \
                     Add a test in {dir}/ that would fail if this stopped holding, at \
                     the level where such a bug would show.",
                    m.behaviour
                )),
            }
        };
        out.push((m.verdict_name(), outcome));
    }
    (out, hung)
}

fn failed(message: String) -> Outcome {
    Outcome::Failed {
        location: None,
        message,
    }
}

/// A compile failure of the copy as given, in the learner's own paths
/// (`as-given/src/tests/mod.rs` → `src/tests/mod.rs`).
fn in_learners_paths(mut failure: CompileFailure) -> CompileFailure {
    let prefix = format!("{AS_GIVEN_MEMBER}/");
    let strip = |s: &str| s.replace(&prefix, "");
    failure.first = failure.first.as_deref().map(strip);
    failure.file = failure.file.as_deref().map(strip);
    failure.stderr = strip(&failure.stderr);
    failure
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    /// The fixture's chapter 2, given `[learner_tests]` and one known mutant.
    fn course(name: &str, mutant: &str) -> Course {
        let course = Course::new(name);
        let card = course.path("exercises/ch02-measure/exercise.toml");
        let text = std::fs::read_to_string(&card).unwrap();
        course.write(
            "exercises/ch02-measure/exercise.toml",
            &format!("{text}\n[learner_tests]\ndir = \"src/tests\"\n"),
        );
        course.write("solutions/ch02-measure/known-mutants/one-more.toml", mutant);
        course
    }

    const ONE_MORE: &str = "behaviour = \"the report runs one statement per order\"\n\
        [[edit]]\nfile = \"src/report.rs\"\nfind = \"1 + orders\"\nreplace = \"2 + orders\"\n";

    #[test]
    fn known_mutants_load_with_their_behaviour_and_verdict_name() {
        let course = course("km-load", ONE_MORE);
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let mutants = load_all(&chapter).unwrap();
        assert_eq!(mutants.len(), 1);
        assert_eq!(
            mutants[0].behaviour,
            "the report runs one statement per order"
        );
        assert_eq!(mutants[0].verdict_name(), "your_tests_notice_when_one_more");
    }

    #[test]
    fn a_mutant_of_the_learners_own_tests_is_refused() {
        let course = course(
            "km-own",
            "behaviour = \"b\"\n[[edit]]\nfile = \"src/tests/mod.rs\"\nfind = \"a\"\n\
             replace = \"b\"\n",
        );
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let err = format!("{:#}", load_all(&chapter).unwrap_err());
        assert!(err.contains("mutants change only the service"), "{err}");
    }

    #[test]
    fn a_chapter_without_learner_tests_has_no_known_mutants() {
        let course = Course::new("km-none");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        assert!(load_all(&chapter).unwrap().is_empty());
    }

    const PASSING: &str = "running 2 tests\ntest tests::a ... ok\ntest tests::b ... ok\n\n\
        test result: ok. 2 passed; 0 failed\n";
    const FAILING: &str = "running 2 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\n\n\
        failures:\n\n---- tests::b stdout ----\n\nthread 'tests::b' panicked at src/tests/mod.rs:9:5:\n\
        assertion `left == right` failed\nnote: run with `RUST_BACKTRACE=1` to see\n\n\
        failures:\n    tests::b\n\ntest result: FAILED. 1 passed; 1 failed\n";

    #[test]
    fn libtest_output_is_read_into_passes_and_failures() {
        assert_eq!(read_libtest(PASSING, true), TestRun::Passed { tests: 2 });
        let TestRun::Failed { failing, first } = read_libtest(FAILING, false) else {
            panic!("a failure");
        };
        assert_eq!(failing, ["tests::b"]);
        assert!(
            first.contains("panicked at src/tests/mod.rs:9:5"),
            "{first}"
        );
        assert!(!first.contains("RUST_BACKTRACE"), "{first}");
    }

    fn mutant() -> KnownMutant {
        KnownMutant {
            name: "zero-items".into(),
            behaviour: "an order for zero items is refused".into(),
            edits: vec![Edit {
                file: "src/service.rs".into(),
                find: "SECRET_FIND".into(),
                replace: "SECRET_REPLACE".into(),
            }],
        }
    }

    fn only(mutants: &[KnownMutant]) -> Copies<'_> {
        Copies {
            mutants,
            neutral: &[],
        }
    }

    fn message(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::Failed { message, .. } => message,
            other => panic!("expected a failure, saw {other:?}"),
        }
    }

    #[test]
    fn a_surviving_mutant_is_named_by_its_behaviour_never_by_its_code() {
        let m = mutant();
        let given = TestRun::Passed { tests: 3 };
        let survived = TestRun::Passed { tests: 3 };
        let by_member = BTreeMap::from([
            (AS_GIVEN_MEMBER, &given),
            ("mutant-zero-items", &survived),
        ]);
        let (v, _) = verdicts(
            Path::new("src/tests"),
            &only(&[m]),
            &by_member,
            &BTreeMap::new(),
        );
        assert_eq!(v[0], (AS_GIVEN.to_string(), Outcome::Passed));
        let text = message(&v[1].1);
        assert!(
            text.contains("an order for zero items is refused"),
            "{text}"
        );
        assert!(text.contains("all 3 of them pass"), "{text}");
        assert!(
            !text.contains("SECRET"),
            "the mutant's code is never shown: {text}"
        );
    }

    #[test]
    fn a_mutant_is_caught_by_a_failing_or_hanging_test() {
        let given = TestRun::Passed { tests: 3 };
        for caught in [
            TestRun::TimedOut,
            TestRun::Failed {
                failing: vec!["t".into()],
                first: String::new(),
            },
        ] {
            let by_member = BTreeMap::from([
                (AS_GIVEN_MEMBER, &given),
                ("mutant-zero-items", &caught),
            ]);
            let (v, _) = verdicts(
                Path::new("src/tests"),
                &only(&[mutant()]),
                &by_member,
                &BTreeMap::new(),
            );
            assert_eq!(v[1].1, Outcome::Passed, "{caught:?}");
        }
    }

    #[test]
    fn tests_failing_as_given_leave_every_mutant_unjudged() {
        let given = TestRun::Failed {
            failing: vec!["tests::b".into()],
            first: "boom".into(),
        };
        let caught = TestRun::TimedOut;
        let by_member =
            BTreeMap::from([(AS_GIVEN_MEMBER, &given), ("mutant-zero-items", &caught)]);
        let (v, _) = verdicts(
            Path::new("src/tests"),
            &only(&[mutant()]),
            &by_member,
            &BTreeMap::new(),
        );
        assert!(message(&v[0].1).contains("tests::b"));
        assert!(message(&v[0].1).contains("boom"));
        assert!(message(&v[1].1).starts_with("Not judged yet"));
    }

    #[test]
    fn a_service_file_changed_where_a_mutant_goes_is_explained() {
        let given = TestRun::Passed { tests: 1 };
        let by_member = BTreeMap::from([(AS_GIVEN_MEMBER, &given)]);
        let not_made = BTreeMap::from([(
            "mutant-zero-items".to_string(),
            "src/service.rs".into(),
        )]);
        let (v, _) = verdicts(
            Path::new("src/tests"),
            &only(&[mutant()]),
            &by_member,
            &not_made,
        );
        let text = message(&v[1].1);
        assert!(
            text.contains("src/service.rs is not as the chapter gave it"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn checks_and_learner_verdicts_join_and_a_compile_failure_wins() {
        let checks = Run::Ran(vec![("c".into(), Outcome::Passed)]);
        let own = Run::Ran(vec![(AS_GIVEN.into(), Outcome::Passed)]);
        let Run::Ran(all) = join(checks, Some(own)) else {
            panic!("ran");
        };
        assert_eq!(all.len(), 2);
        let failure = CompileFailure {
            errors: 1,
            first: Some("error\n --> as-given/src/tests/mod.rs:3:1".into()),
            file: Some("as-given/src/tests/mod.rs".into()),
            stderr: String::new(),
        };
        let checks = Run::Ran(vec![("c".into(), Outcome::Passed)]);
        let joined = join(checks, Some(Run::DidNotCompile(in_learners_paths(failure))));
        let Run::DidNotCompile(f) = joined else {
            panic!("the compile failure is the verdict");
        };
        assert_eq!(f.file.as_deref(), Some("src/tests/mod.rs"));
        assert!(f.first.unwrap().contains(" --> src/tests/mod.rs:3:1"));
    }

    #[test]
    fn each_copy_is_its_own_member_with_only_its_library() {
        let course = course("km-members", ONE_MORE);
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let files = variant::starter_files(&chapter).unwrap();
        let mut mutated = files.clone();
        decoy::apply_edits(
            "m",
            "service",
            &load_all(&chapter).unwrap()[0].edits,
            &mut mutated,
        )
        .unwrap();
        let members = vec![
            (AS_GIVEN_MEMBER.to_string(), files),
            ("mutant-one-more".to_string(), mutated),
        ];
        let subjects = variant::assemble_members(
            &course.ws,
            &chapter,
            "km",
            &members,
            variant::Keep::Library,
        )
        .unwrap();
        let root = std::fs::read_to_string(&subjects[0].manifest).unwrap();
        assert!(
            root.contains("\"as-given\"") && root.contains("\"mutant-one-more\""),
            "{root}"
        );
        let manifest =
            std::fs::read_to_string(subjects[1].dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("name = \"mutant-one-more\""),
            "{manifest}"
        );
        assert!(!manifest.contains("[[bench]]"), "{manifest}");
        let report =
            std::fs::read_to_string(subjects[1].dir.join("src/report.rs")).unwrap();
        assert!(report.contains("2 + orders"), "{report}");
    }

    fn neutral() -> NeutralMutant {
        NeutralMutant {
            name: "a-comment".into(),
            change: "a comment added to pricing.rs".into(),
            edits: vec![Edit {
                file: "src/pricing.rs".into(),
                find: "SECRET_FIND".into(),
                replace: "SECRET_REPLACE".into(),
            }],
        }
    }

    fn failing(tests: &[&str]) -> TestRun {
        TestRun::Failed {
            failing: tests.iter().map(|t| t.to_string()).collect(),
            first: "fingerprint changed".into(),
        }
    }

    #[test]
    fn tests_failing_on_a_harmless_rewrite_fail_and_kill_no_mutant() {
        let given = TestRun::Passed { tests: 3 };
        let on_neutral = failing(&["tests::snapshot"]);
        let only_snapshot = failing(&["tests::snapshot"]);
        let also_real = failing(&["tests::snapshot", "tests::price"]);
        let mut second = mutant();
        second.name = "other".into();
        let by_member = BTreeMap::from([
            (AS_GIVEN_MEMBER, &given),
            (NEUTRAL_MEMBER, &on_neutral),
            ("mutant-zero-items", &only_snapshot),
            ("mutant-other", &also_real),
        ]);
        let copies = Copies {
            mutants: &[mutant(), second],
            neutral: &[neutral()],
        };
        let (v, hung) = verdicts(
            Path::new("src/tests"),
            &copies,
            &by_member,
            &BTreeMap::new(),
        );
        let names: Vec<&str> = v.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                AS_GIVEN,
                SAME_BEHAVIOUR,
                "your_tests_notice_when_zero_items",
                "your_tests_notice_when_other"
            ]
        );
        let text = message(&v[1].1);
        assert!(
            text.contains("they test its source text, not its behaviour"),
            "{text}"
        );
        assert!(text.contains("a comment added to pricing.rs"), "{text}");
        assert!(
            text.contains("tests::snapshot") && text.contains("fingerprint changed")
        );
        assert!(!text.contains("SECRET"), "{text}");
        let text = message(&v[2].1);
        assert!(text.contains("fail on a harmless rewrite too"), "{text}");
        assert!(
            text.contains("an order for zero items is refused"),
            "{text}"
        );
        assert_eq!(v[3].1, Outcome::Passed, "a behaviour test failed on it");
        assert!(hung.is_empty());
    }

    #[test]
    fn tests_passing_on_the_harmless_rewrite_pass_its_verdict() {
        let given = TestRun::Passed { tests: 3 };
        let caught = failing(&["tests::price"]);
        let by_member = BTreeMap::from([
            (AS_GIVEN_MEMBER, &given),
            (NEUTRAL_MEMBER, &given),
            ("mutant-zero-items", &caught),
        ]);
        let copies = Copies {
            mutants: &[mutant()],
            neutral: &[neutral()],
        };
        let (v, _) = verdicts(
            Path::new("src/tests"),
            &copies,
            &by_member,
            &BTreeMap::new(),
        );
        assert_eq!(v[1], (SAME_BEHAVIOUR.to_string(), Outcome::Passed));
        assert_eq!(v[2].1, Outcome::Passed);
    }

    #[test]
    fn a_harmless_rewrite_that_hangs_or_cannot_be_made_is_explained() {
        let given = TestRun::Passed { tests: 3 };
        let hangs = TestRun::TimedOut;
        let copies = Copies {
            mutants: &[],
            neutral: &[neutral()],
        };
        let by_member =
            BTreeMap::from([(AS_GIVEN_MEMBER, &given), (NEUTRAL_MEMBER, &hangs)]);
        let (v, _) = verdicts(
            Path::new("src/tests"),
            &copies,
            &by_member,
            &BTreeMap::new(),
        );
        assert!(message(&v[1].1).contains("still running"), "{:?}", v[1]);
        let by_member = BTreeMap::from([(AS_GIVEN_MEMBER, &given)]);
        let not_made =
            BTreeMap::from([(NEUTRAL_MEMBER.to_string(), "src/pricing.rs".into())]);
        let (v, _) = verdicts(Path::new("src/tests"), &copies, &by_member, &not_made);
        let text = message(&v[1].1);
        assert!(
            text.contains("src/pricing.rs is not as the chapter gave it"),
            "{text}"
        );
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn a_mutant_caught_only_by_a_hang_is_named() {
        let given = TestRun::Passed { tests: 3 };
        let hangs = TestRun::TimedOut;
        let by_member =
            BTreeMap::from([(AS_GIVEN_MEMBER, &given), ("mutant-zero-items", &hangs)]);
        let (v, hung) = verdicts(
            Path::new("src/tests"),
            &only(&[mutant()]),
            &by_member,
            &BTreeMap::new(),
        );
        assert_eq!(v[1].1, Outcome::Passed);
        assert_eq!(hung, ["your_tests_notice_when_zero_items"]);
        let caught = failing(&["t"]);
        let by_member =
            BTreeMap::from([(AS_GIVEN_MEMBER, &given), ("mutant-zero-items", &caught)]);
        let (_, hung) = verdicts(
            Path::new("src/tests"),
            &only(&[mutant()]),
            &by_member,
            &BTreeMap::new(),
        );
        assert!(hung.is_empty(), "a failure is no hang");
    }

    #[test]
    fn own_test_verdicts_are_told_from_checks() {
        assert!(is_own_tests_verdict(AS_GIVEN));
        assert!(is_own_tests_verdict(SAME_BEHAVIOUR));
        assert!(is_own_tests_verdict("your_tests_notice_when_x"));
        assert!(!is_own_tests_verdict("the_gate_passes_an_unchanged_run"));
    }

    #[test]
    fn neutral_mutants_load_with_their_change_and_may_not_edit_the_tests() {
        let course = course("km-neutral", ONE_MORE);
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        assert!(
            load_neutral(&chapter).unwrap().is_empty(),
            "no folder, none"
        );
        course.write(
            "solutions/ch02-measure/neutral-mutants/a-comment.toml",
            "change = \"a comment\"\n[[edit]]\nfile = \"src/report.rs\"\nfind = \"a\"\n\
             replace = \"b\"\n",
        );
        let neutral = load_neutral(&chapter).unwrap();
        assert_eq!(neutral.len(), 1);
        assert_eq!(neutral[0].change, "a comment");
        course.write(
            "solutions/ch02-measure/neutral-mutants/b-tests.toml",
            "change = \"c\"\n[[edit]]\nfile = \"src/tests/mod.rs\"\nfind = \"a\"\n\
             replace = \"b\"\n",
        );
        let err = format!("{:#}", load_neutral(&chapter).unwrap_err());
        assert!(err.contains("mutants change only the service"), "{err}");
    }

    #[test]
    fn the_hang_line_says_how_long_the_tests_ran_and_that_none_failed() {
        let course = Course::new("km-hung-line");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let lines = hung_lines(&chapter);
        assert!(
            lines.iter().all(|l| ui::visible_len(l) <= ui::WIDTH),
            "{lines:?}"
        );
        // Without colour codes, one space between words.
        let mut plain = String::new();
        let mut in_code = false;
        for c in lines.join(" ").chars() {
            match c {
                '\u{1b}' => in_code = true,
                'm' if in_code => in_code = false,
                _ if !in_code => plain.push(c),
                _ => {}
            }
        }
        let line = plain.split_whitespace().collect::<Vec<_>>().join(" ");
        let secs = format!("after {} seconds", chapter.card.timeout_seconds);
        assert!(line.contains("caught only by a hang"), "{line}");
        assert!(
            line.contains(&secs) && line.contains("none failed"),
            "{line}"
        );
    }

    #[test]
    fn a_decoys_run_keeps_only_the_mutant_its_verdict_names() {
        let mut second = mutant();
        second.name = "other".into();
        let mut all = vec![mutant(), second];
        keep_only(&mut all, None);
        assert_eq!(all.len(), 2, "no verdict named: every mutant");
        keep_only(&mut all, Some("your_tests_notice_when_other"));
        let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["other"]);
        keep_only(&mut all, Some(SAME_BEHAVIOUR));
        assert!(all.is_empty(), "the neutral verdict needs no known mutant");
    }
}
