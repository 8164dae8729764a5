//! `cargo xtask verify`: the proof that the course works, for maintainers and CI.
//!
//! For every chapter: `xtask/pristine.txt` records its starter and checks as
//! they are; the untouched starter fails at least one check; the
//! reference solution passes every check and its bench gate; every decoy is
//! rejected by the check it targets, with a message that names the mistake.
//! For the project: the runner's own tests, formatting, clippy with warnings
//! denied, the book, and the originality check against the reference article.
//! It ends with a table and the line `N passed, M failed`. `--chapters-only`
//! leaves out the project-wide proofs (for a maintainer working on one chapter,
//! and for the runner's own tests of `verify`); `--full` adds cargo-mutants and
//! a busy soak per chapter, and (for the whole course) what `--bundle` adds:
//! the offline bundle unpacked and used as a room would (`bundle_trial.rs`).

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::checks::{self, Run};
use crate::engine::libtest::{self, Outcome};
use crate::engine::subject::Subject;
use crate::engine::{
    bench, book, bundle, bundle_trial, decoy, figures, known_mutants, mutants,
    pristine, soak, variant,
};
use crate::ground::disk;
use crate::ground::files;
use crate::ground::process::{self, Cmd};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    /// Records one verified claim and prints it as a ✓ or ✗ line.
    fn claim(&mut self, ok: bool, what: &str, detail: &str) -> bool {
        ui::line(format!("  {} {what}", ui::mark(ok)));
        if !detail.is_empty() && !ok {
            ui::lines(detail.lines().take(30).map(|l| format!("      {l}")));
        }
        if ok {
            self.passed += 1;
        } else {
            self.failed.push(what.to_string());
        }
        ok
    }
}

/// How long each stage of a verify took, in order: printed at the end, so a
/// maintainer sees where CI's budget goes.
#[derive(Default)]
struct Stages(Vec<(String, u64)>);

impl Stages {
    fn time<T>(&mut self, name: &str, stage: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = std::time::Instant::now();
        let out = stage();
        self.0.push((name.to_string(), started.elapsed().as_secs()));
        out
    }

    fn shown(&self, secs: u64) -> String {
        format!("{} min {} s", secs / 60, secs % 60)
    }

    /// The steps of one stage, in seconds: "starter 3 s, decoys 35 s".
    fn in_seconds(&self) -> String {
        self.0
            .iter()
            .map(|(name, secs)| format!("{name} {secs} s"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn by_stage(&self) -> String {
        self.0
            .iter()
            .map(|(name, secs)| format!("{name} {}", self.shown(*secs)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

struct Row {
    id: String,
    starter: bool,
    solution: bool,
    decoys: (usize, usize),
    ratio: String,
}

/// What `verify` proves besides the chapters; `--chapters-only` leaves it out.
pub struct Scope {
    /// The runner's tests, formatting, lints, the book, originality.
    pub project: bool,
    /// cargo-mutants and a busy soak per chapter (`--full`).
    pub slow: bool,
    /// The offline bundle unpacked and used as a room would (`--bundle`,
    /// and a whole `--full`).
    pub bundle: bool,
}

pub fn verify_command(ws: &Workspace, only: &[String], scope: Scope) -> Result<bool> {
    let started = std::time::Instant::now();
    // Everything verify builds is built once and judged.
    process::builds_are_built_once();
    let mut tally = Tally::default();
    let chapters = if only.is_empty() {
        Chapter::all(ws)?
    } else {
        only.iter()
            .map(|q| Chapter::find(ws, q, "verify"))
            .collect::<Result<_>>()?
    };
    warn_if_starters_are_edited(ws);
    let mut took = Stages::default();
    if scope.project {
        took.time("runner tests", || verify_runner_tests(ws, &mut tally))?;
        took.time("fmt and clippy", || {
            verify_formatting_and_lints(ws, &mut tally)
        })?;
    }
    let mut rows = Vec::new();
    for chapter in &chapters {
        let row =
            took.time(chapter.id(), || verify_chapter(ws, chapter, &mut tally))?;
        rows.push(row);
    }
    if scope.project {
        took.time("book, browser, originality", || {
            verify_book_and_originality(ws, &mut tally)
        })?;
    }
    if scope.bundle {
        took.time("bundle", || verify_bundle(ws, &mut tally))?;
    }
    if scope.slow {
        took.time("offline after doctor", || {
            verify_offline_after_doctor(ws, &mut tally)
        })?;
        for chapter in &chapters {
            took.time(&format!("{} slower proofs", chapter.id()), || {
                verify_slow_proofs(ws, chapter, &mut tally)
            })?;
        }
    }
    print_table(&rows);
    let secs = started.elapsed().as_secs();
    ui::line(format!("\nverify took {}.", took.shown(secs)));
    ui::line(ui::dim(&format!("  by stage: {}", took.by_stage())));
    if !tally.failed.is_empty() {
        ui::line(format!("Failed: {}", tally.failed.join("; ")));
    }
    ui::line(format!(
        "{} passed, {} failed",
        tally.passed,
        tally.failed.len()
    ));
    Ok(tally.failed.is_empty())
}

fn verify_runner_tests(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("The runner's own tests");
    // Built first, then run, so that the time of each shows apart (the build
    // is most dependencies' first compile).
    let started = std::time::Instant::now();
    Cmd::cargo(ws)
        .args(["test", "--no-run", "--quiet", "--package", "xtask"])
        .args(["--package", "support"])
        .echo()
        .output(None)?;
    let built = started.elapsed().as_secs();
    let out = Cmd::cargo(ws)
        .args([
            "test",
            "--quiet",
            "--package",
            "xtask",
            "--package",
            "support",
        ])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "runner and support tests pass",
        &tail(&out.stdout_text(), &out.stderr_text()),
    );
    let ran = started.elapsed().as_secs() - built;
    ui::line(format!(
        "      {}",
        ui::dim(&format!("built in {built} s, ran in {ran} s"))
    ));
    Ok(())
}

fn verify_formatting_and_lints(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("Formatting and lints");
    let out = Cmd::cargo(ws)
        .args(["fmt", "--all", "--check"])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "cargo fmt --check (runner, support, starters)",
        &out.stdout_text(),
    );
    let solution_files: Vec<_> = files::files_under(&ws.solutions_dir())?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    if !solution_files.is_empty() {
        let out = Cmd::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .args(&solution_files)
            .echo()
            .output(None)?;
        tally.claim(
            out.success(),
            "rustfmt --check (solutions)",
            &out.stdout_text(),
        );
    }
    let out = Cmd::cargo(ws)
        .args(["clippy", "--quiet", "--workspace", "--all-targets"])
        .args(["--", "-D", "warnings"])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "clippy -D warnings (runner, support, starters)",
        &tail("", &out.stderr_text()),
    );
    Ok(())
}

fn verify_book_and_originality(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("The book");
    let started = std::time::Instant::now();
    let built = book::build(ws, false, true)?;
    tally.claim(
        built,
        &format!(
            "the book builds, every include resolves ({} s)",
            started.elapsed().as_secs()
        ),
        "",
    );
    verify_book_in_a_browser(ws, tally)?;
    ui::heading("Originality");
    let tool = ws.root.join("../shared/tools/originality-check");
    if !tool.is_file() {
        ui::line(format!(
            "  - skipped: {} is not here (it ships with the team's shared folder)",
            tool.display()
        ));
        return Ok(());
    }
    let out = Cmd::new(&tool).arg(&ws.root).echo().output(None)?;
    tally.claim(
        out.success(),
        "no sentence shared with the reference article",
        &out.stdout_text(),
    );
    Ok(())
}

/// The book in headless Chromium (`xtask/tests/book_browser.rs`: every page,
/// its links, search, the live panel, rebuild and reload), when Chromium and
/// its driver are installed; one line saying so when they are not.
fn verify_book_in_a_browser(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("The book in a browser");
    let path = std::env::var_os("PATH");
    let chromium = process::find_program(path.as_deref(), CHROMIUM);
    let driver = process::find_program(path.as_deref(), &["chromedriver"]);
    if chromium.is_none() || driver.is_none() {
        ui::line(
            "  - skipped: Chromium and its driver are not installed (Debian: \
             `apt-get install chromium chromium-driver`; .ci/run installs them)",
        );
        return Ok(());
    }
    let started = std::time::Instant::now();
    let out = Cmd::cargo(ws)
        .args([
            "test",
            "--quiet",
            "--package",
            "xtask",
            "--test",
            "book_browser",
        ])
        .args(["--", "--ignored", "--nocapture"])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        &format!(
            "every page in headless Chromium: no console error or failed request, links \
             and anchors resolve, search, highlighting, notes closed, phone width; the \
             live panel; rebuild and reload ({} s; screenshots in target/book-screens/)",
            started.elapsed().as_secs()
        ),
        &tail(&out.stdout_text(), &out.stderr_text()),
    );
    Ok(())
}

/// Chromium's names on the PATH (Debian's, other distributions', Google's).
const CHROMIUM: &[&str] = &["chromium", "chromium-browser", "google-chrome"];

/// `cargo xtask bundle`'s archive, unpacked into a fresh folder with an empty
/// cargo home and cargo's offline mode: the room's first commands work there.
fn verify_bundle(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("The offline bundle");
    let started = std::time::Instant::now();
    let path = bundle::default_path(ws);
    // The working copy, as everything else verify proves.
    let written = match bundle::write(ws, &path, bundle::Changes::Allow) {
        Ok(w) => w,
        Err(err) => {
            tally.claim(
                false,
                "cargo xtask bundle writes the archive",
                &format!("{err:#}"),
            );
            return Ok(());
        }
    };
    tally.claim(
        true,
        &format!(
            "cargo xtask bundle writes the archive ({}, {} s)",
            disk::shown(written.bytes),
            started.elapsed().as_secs()
        ),
        "",
    );
    for step in bundle_trial::run(ws, &path)? {
        let what = format!(
            "unpacked, offline, empty cargo home: `{}` works ({} s)",
            step.command,
            step.took.as_secs()
        );
        tally.claim(step.ok, &what, &step.said);
    }
    Ok(())
}

/// Every claim about one chapter, in order: its record is current, the starter
/// fails, the solution passes (with clippy and the gate), every decoy is
/// rejected.
fn verify_chapter(ws: &Workspace, chapter: &Chapter, tally: &mut Tally) -> Result<Row> {
    ui::heading(&chapter.heading());
    let id = chapter.id();
    // The record of the chapter as given is current: `check` judges edited
    // checks and `reset` restores starters by it.
    let (current, detail) = pristine::is_current(ws, chapter)?;
    tally.claim(
        current,
        &format!("{id}: xtask/pristine.txt records its starter and checks"),
        &detail,
    );
    let mut steps = Stages::default();
    let starter = steps.time("starter", || starter_fails(ws, chapter, tally))?;
    let (solution, ratio) = solution_passes(ws, chapter, tally, &mut steps)?;
    if solution && !figures::programs(chapter)?.is_empty() {
        steps.time("figures", || figures_match(ws, chapter, tally))?;
    }
    let decoys = decoys_are_rejected(ws, chapter, tally, &mut steps)?;
    // Where the chapter's share of CI's budget went (builds included).
    ui::line(format!(
        "      {}",
        ui::dim(&format!("{id} took: {}", steps.in_seconds()))
    ));
    Ok(Row {
        id: id.to_string(),
        starter,
        solution,
        decoys,
        ratio,
    })
}

/// The starter must fail, and fail on a check, not on a compile error.
fn starter_fails(ws: &Workspace, chapter: &Chapter, tally: &mut Tally) -> Result<bool> {
    let run = checks::run(ws, chapter, &Subject::learner(ws, chapter), false)?;
    let run = with_own_tests(ws, chapter, run, &variant::starter_files(chapter)?)?;
    if chapter.card.learner_tests.is_some() {
        let alive = run
            .failed()
            .iter()
            .filter(|(n, _)| n.starts_with(known_mutants::NOTICE_PREFIX))
            .count();
        tally.claim(
            alive > 0,
            &format!("{}: the starter's own tests leave known mutants alive", chapter.id()),
            "every known mutant is caught by the starter's tests: the task is already done",
        );
    }
    let (ok, detail) = match &run {
        Run::DidNotCompile(f) => (
            false,
            format!(
                "the starter does not compile:\n{}",
                f.first.clone().unwrap_or_default()
            ),
        ),
        Run::Ran(_) if run.all_passed() => (
            false,
            "every check passes on the starter: it is already solved".into(),
        ),
        Run::Ran(v) => {
            let names: Vec<String> =
                run.failed().iter().map(|(n, _)| ui::sentence(n)).collect();
            let failing = names.join("; ");
            (
                true,
                format!("{} of {} checks fail: {failing}", names.len(), v.len()),
            )
        }
    };
    tally.claim(
        ok,
        &format!("{}: the starter fails its checks", chapter.id()),
        &detail,
    );
    if ok {
        ui::line(format!("      {}", ui::dim(&detail)));
    }
    Ok(ok)
}

/// The solution must pass every check, clippy, and the bench gate.
/// Returns whether its checks pass, and the gate's ratio for the table.
fn solution_passes(
    ws: &Workspace,
    chapter: &Chapter,
    tally: &mut Tally,
    steps: &mut Stages,
) -> Result<(bool, String)> {
    let id = chapter.id();
    let files = variant::solution_files(chapter)?;
    let subject = variant::assemble(ws, chapter, "solution", &files)?;
    let run = steps.time("solution", || {
        let run = checks::run(ws, chapter, &subject, false)?;
        with_own_tests(ws, chapter, run, &files)
    })?;
    let passes = tally.claim(
        run.all_passed(),
        &format!("{id}: the solution passes every check"),
        &describe(&run),
    );
    let out = steps.time("clippy", || {
        Cmd::cargo(ws)
            .args(["clippy", "--quiet", "--all-targets", "--manifest-path"])
            .arg(&subject.manifest)
            .args(["--", "-D", "warnings"])
            .output(None)
    })?;
    tally.claim(
        out.success(),
        &format!("{id}: the solution is clippy-clean"),
        &tail("", &out.stderr_text()),
    );
    let ratio = match &chapter.card.bench {
        Some(gate) if passes => steps.time("gate", || {
            solution_beats_gate(ws, chapter, gate, &subject, tally)
        })?,
        _ => "-".to_string(),
    };
    Ok((passes, ratio))
}

/// The book's figures of counts are what the solution measures today (timed
/// figures need only be there). The figure programs are examples of the
/// solution's scratch crate, so only they compile here.
fn figures_match(ws: &Workspace, chapter: &Chapter, tally: &mut Tally) -> Result<()> {
    let id = chapter.id();
    let started = std::time::Instant::now();
    let (ok, detail) = match figures::measure(ws, chapter, false) {
        Err(e) => (false, format!("{e:#}")),
        Ok(measured) => {
            let lines: Vec<String> = figures::differences(ws, chapter, &measured)?
                .iter()
                .map(|d| d.describe(ws, chapter))
                .collect();
            let fix = format!(
                "Run `cargo xtask figures {}`, look at the new figures and commit them.",
                chapter.card.number
            );
            (lines.is_empty(), format!("{}\n{fix}", lines.join("\n")))
        }
    };
    tally.claim(
        ok,
        &format!("{id}: the book's figures match a fresh measurement"),
        &detail,
    );
    let secs = started.elapsed().as_secs_f64();
    ui::line(format!(
        "      {}",
        ui::dim(&format!("measured and drawn in {secs:.1} s"))
    ));
    Ok(())
}

/// The solution beats the gate, measured here as the learner's `check`
/// measures it; the margin over the gate is shown. That the gate never flips
/// for a correct solution on a busy machine is proved by the soak (`verify
/// --full`: 30 runs with every core busy), not by a margin measured once: on a
/// machine whose cores are already busy, any margin shrinks (chapter 5's went
/// from about 4× the gate on a quiet machine to 2× beside two busy loops).
fn solution_beats_gate(
    ws: &Workspace,
    chapter: &Chapter,
    gate: &crate::engine::chapter::BenchGate,
    subject: &Subject,
    tally: &mut Tally,
) -> Result<String> {
    let id = chapter.id();
    let home = ws
        .scratch_dir()
        .join("criterion-quick")
        .join(format!("{id}-solution"));
    let (ok, detail, ratio) =
        match bench::quick(ws, chapter, gate, subject, &home, false)? {
            Ok(r) => {
                let margin = r.ratio / gate.min_ratio;
                let mut detail = format!(
                    "{} {} vs {} {}: {:.1}×, {:.1}× the gate (at least {}×)",
                    gate.baseline,
                    ui::duration_ns(r.baseline_ns),
                    gate.candidate,
                    ui::duration_ns(r.candidate_ns),
                    r.ratio,
                    margin,
                    gate.min_ratio
                );
                // What the live panel would show of this run (chapter 5's hit ratios).
                if let Some(readings) = &r.readings {
                    detail.push_str(&format!("; for the panel: {}", readings.line()));
                }
                let ratio = format!("{:.1}× (≥{}×)", r.ratio, gate.min_ratio);
                (r.passed, detail, ratio)
            }
            Err(why) => (false, why, "-".to_string()),
        };
    tally.claim(
        ok,
        &format!("{id}: the solution beats the bench gate"),
        &detail,
    );
    ui::line(format!("      {}", ui::dim(&detail)));
    Ok(ratio)
}

/// Every decoy must be rejected by its check, with its words. Returns how
/// many were, of how many.
fn decoys_are_rejected(
    ws: &Workspace,
    chapter: &Chapter,
    tally: &mut Tally,
    steps: &mut Stages,
) -> Result<(usize, usize)> {
    let decoys = decoy::load_all(chapter)?;
    let mut prebuilt = steps.time("decoys built", || {
        build_decoys_together(ws, chapter, &decoys)
    })?;
    let judged = std::time::Instant::now();
    let mut rejected = 0;
    for d in &decoys {
        // A decoy whose edit no longer applies is a failed claim, not a crash:
        // the rest of the chapter is still worth verifying.
        let (ok, detail) = match variant::decoy_files(chapter, d) {
            Ok(files) => {
                // Only the decoy's target check decides it; a known-mutant
                // target is judged by the subject's own tests below.
                let only = (!known_mutants::is_own_tests_verdict(&d.must_fail))
                    .then_some(d.must_fail.as_str());
                let run = match prebuilt.remove(&d.name) {
                    Some(built) => checks::run_built(
                        chapter,
                        &built.subject,
                        &built.executables,
                        false,
                        only,
                    )?,
                    None => {
                        let name = format!("decoy-{}", d.name);
                        let subject = variant::assemble(ws, chapter, &name, &files)?;
                        checks::run_only(ws, chapter, &subject, false, only)?
                    }
                };
                // The known mutants are run only for a decoy they judge: the
                // other verdicts do not depend on them, and each run rebuilds
                // its copies of the service; only the copies its verdict
                // depends on are built (`run_for`).
                let run = if known_mutants::is_own_tests_verdict(&d.must_fail) {
                    match run {
                        Run::Ran(_) => {
                            let own = known_mutants::run_for(
                                ws,
                                chapter,
                                &files,
                                &d.must_fail,
                            )?;
                            known_mutants::join(run, own)
                        }
                        other => other,
                    }
                } else {
                    run
                };
                judge_decoy(d, &run)
            }
            Err(err) => (false, format!("{err:#}")),
        };
        let what = format!("{}: decoy {} is rejected", chapter.id(), d.name);
        if tally.claim(ok, &what, &detail) {
            rejected += 1;
        }
    }
    steps
        .0
        .push(("decoys judged".into(), judged.elapsed().as_secs()));
    Ok((rejected, decoys.len()))
}

/// The chapter's decoys built together in one cargo invocation (the build is
/// most of a decoy's cost, and one invocation keeps both cores busy), keyed by
/// decoy name. Decoys judged by the learner's own tests, decoys whose edits no
/// longer apply, and every decoy of a chapter whose copies cannot share a
/// workspace are left out: `decoys_are_rejected` builds those one by one.
fn build_decoys_together(
    ws: &Workspace,
    chapter: &Chapter,
    decoys: &[decoy::Decoy],
) -> Result<std::collections::BTreeMap<String, checks::Built>> {
    let mut names = Vec::new();
    let mut variants = Vec::new();
    for d in decoys {
        if known_mutants::is_own_tests_verdict(&d.must_fail) {
            continue;
        }
        if let Ok(files) = variant::decoy_files(chapter, d) {
            names.push(d.name.clone());
            variants.push((variant::package_name("decoy", &d.name), files));
        }
    }
    let built = checks::build_many(ws, chapter, "decoys", &variants)?;
    Ok(built
        .map(|b| names.into_iter().zip(b).collect())
        .unwrap_or_default())
}

/// `verify --full`: the runner test that proves `doctor` makes the day's
/// commands work offline (ignored by plain `cargo test`: from cold it builds
/// a copy of the runner, the book builder and chapter 2 in release).
fn verify_offline_after_doctor(ws: &Workspace, tally: &mut Tally) -> Result<()> {
    ui::heading("Offline after doctor");
    let out = Cmd::cargo(ws)
        .args([
            "test",
            "--quiet",
            "--package",
            "xtask",
            "--test",
            "learner_loop",
        ])
        .args(["--", "--ignored", "after_doctor"])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "after doctor, every chapter's check and the book work with cargo's offline mode",
        &tail(&out.stdout_text(), &out.stderr_text()),
    );
    Ok(())
}

/// `verify --full`: the slower proofs, per chapter. cargo-mutants over the
/// solution (every survivor listed with a reason, no listed one caught), and a
/// soak of the verdicts with every core busy (30 runs where a wall-clock gate
/// exists, 5 elsewhere, where every verdict rests on counts and paused clocks).
fn verify_slow_proofs(
    ws: &Workspace,
    chapter: &Chapter,
    tally: &mut Tally,
) -> Result<()> {
    let id = chapter.id();
    ui::heading(&format!("{} · slower proofs", chapter.heading()));
    match mutants::run(ws, chapter, 1, None, true) {
        Ok((verdict, outcomes, listed)) => {
            ui::lines(mutants::hang_lines(chapter, &outcomes));
            ui::lines(mutants::verdict_lines(chapter, &verdict));
            tally.claim(
                verdict.holds(),
                &format!(
                    "{id}: mutants of the solution: {} caught, {} timed out, {} unviable, \
                     {} survived ({listed} listed)",
                    outcomes.caught.len(),
                    outcomes.timeout.len(),
                    outcomes.unviable.len(),
                    outcomes.missed.len()
                ),
                "",
            );
        }
        Err(err) => {
            tally.claim(false, &format!("{id}: mutants ran"), &format!("{err:#}"));
        }
    }
    let runs = if chapter.card.bench.is_some() { 30 } else { 5 };
    ui::heading(&format!("{} · soak", chapter.heading()));
    let found = soak::soak(ws, chapter, runs, true)?;
    ui::lines(found.lines());
    tally.claim(
        found.flips() == 0,
        &format!("{id}: no verdict flips over {runs} runs with every core busy"),
        "",
    );
    Ok(())
}

/// In a chapter that judges the learner's own tests, the checks' verdicts
/// followed by those of the subject's own tests (`files`, its `src/`) against
/// the known mutants (known_mutants.rs): a decoy's `must_fail` may name one.
fn with_own_tests(
    ws: &Workspace,
    chapter: &Chapter,
    run: Run,
    files: &std::collections::BTreeMap<std::path::PathBuf, String>,
) -> Result<Run> {
    if !matches!(run, Run::Ran(_)) {
        return Ok(run);
    }
    let own = known_mutants::run(ws, chapter, files, false)?;
    Ok(known_mutants::join(run, own))
}

/// A decoy is rejected when its target check fails with the expected words.
fn judge_decoy(d: &decoy::Decoy, run: &Run) -> (bool, String) {
    let failed = match run {
        Run::DidNotCompile(f) => {
            return (
                false,
                format!(
                    "the decoy does not compile, so it proves nothing:\n{}",
                    f.first.clone().unwrap_or_default()
                ),
            );
        }
        Run::Ran(_) => run.failed(),
    };
    let target = failed
        .iter()
        .find(|(name, _)| name.rsplit("::").next() == Some(d.must_fail.as_str()));
    match target {
        Some((_, Outcome::Failed { message, .. }))
            if message.contains(&d.message_contains) =>
        {
            (true, String::new())
        }
        Some((_, Outcome::Failed { message, .. })) => (
            false,
            format!(
                "{} failed, but its message lacks {:?}:\n{message}",
                d.must_fail, d.message_contains
            ),
        ),
        Some((_, other)) => (
            false,
            format!("{} did not fail cleanly: {other:?}", d.must_fail),
        ),
        None => {
            let names: Vec<String> = failed.iter().map(|(n, _)| n.clone()).collect();
            (
                false,
                format!(
                    "mistake: {}\n{} passed; the checks that failed: {}",
                    d.mistake.trim(),
                    d.must_fail,
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        }
    }
}

fn describe(run: &Run) -> String {
    match run {
        Run::DidNotCompile(f) => format!(
            "does not compile:\n{}",
            f.first.clone().unwrap_or_else(|| f.stderr.clone())
        ),
        Run::Ran(_) => run
            .failed()
            .iter()
            .flat_map(|(n, o)| libtest::verdict_lines(n, o))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let yes_no = |ok: bool, yes: &str| {
        if ok {
            format!("{yes} ✓")
        } else {
            "✗".to_string()
        }
    };
    ui::heading("Chapters");
    ui::line(format!(
        "  {:<22} {:<10} {:<10} {:<8} bench ratio",
        "chapter", "starter", "solution", "decoys"
    ));
    for r in rows {
        let decoys = format!("{}/{}", r.decoys.0, r.decoys.1);
        ui::line(format!(
            "  {:<22} {:<10} {:<10} {:<8} {}",
            r.id,
            yes_no(r.starter, "fails"),
            yes_no(r.solution, "passes"),
            decoys,
            r.ratio
        ));
    }
}

fn warn_if_starters_are_edited(ws: &Workspace) {
    let out = Cmd::new("git")
        .args(["status", "--porcelain", "--"])
        .arg(ws.exercises_dir())
        .current_dir(&ws.root)
        .output(None);
    if let Ok(out) = out
        && out.success()
        && !out.stdout_text().trim().is_empty()
    {
        ui::line(format!(
            "{} exercises/ has local changes; verify treats what is there as the starters:\n{}",
            ui::yellow("note:"),
            out.stdout_text().trim_end()
        ));
    }
}

/// The last lines of a command's output, for a failure's detail.
fn tail(stdout: &str, stderr: &str) -> String {
    let all: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    all[all.len().saturating_sub(25)..].join("\n")
}
