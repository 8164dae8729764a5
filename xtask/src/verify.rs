//! `cargo xtask verify`: the proof that the course works, for maintainers and CI.
//!
//! For every chapter: `xtask/pristine.txt` records its starter and checks as
//! they are; the untouched starter fails at least one check; the
//! reference solution passes every check and its bench gate; every decoy is
//! rejected by the check it targets, with a message that names the mistake.
//! For the project: the runner's own tests, formatting, clippy with warnings
//! denied, the book, and the originality check against the reference article.
//! It ends with a table and the line `N passed, M failed`.

use std::path::Path;

use anyhow::Result;

use crate::chapter::Chapter;
use crate::checks::{self, Run, Subject};
use crate::libtest::Outcome;
use crate::process::Cmd;
use crate::workspace::Workspace;
use crate::{bench, book, decoy, mutants, pristine, soak, ui, variant};

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    /// Records one verified claim and prints it as a ✓ or ✗ line.
    fn claim(&mut self, ok: bool, what: &str, detail: &str) -> bool {
        let mark = if ok { ui::green("✓") } else { ui::red("✗") };
        println!("  {mark} {what}");
        if !detail.is_empty() && !ok {
            for line in detail.lines().take(30) {
                println!("      {line}");
            }
        }
        if ok {
            self.passed += 1;
        } else {
            self.failed.push(what.to_string());
        }
        ok
    }
}

struct Row {
    id: String,
    starter: bool,
    solution: bool,
    decoys: (usize, usize),
    ratio: String,
}

pub fn verify_command(ws: &Workspace, only: &[String], full: bool) -> Result<bool> {
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    let chapters = if only.is_empty() {
        Chapter::all(ws)?
    } else {
        only.iter()
            .map(|q| Chapter::find(ws, q, "verify"))
            .collect::<Result<_>>()?
    };
    warn_if_starters_are_edited(ws);

    ui::heading("The runner's own tests");
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
        &tail(&out.stdout, &out.stderr),
    );

    ui::heading("Formatting and lints");
    let out = Cmd::cargo(ws)
        .args(["fmt", "--all", "--check"])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "cargo fmt --check (runner, support, starters)",
        &out.stdout,
    );
    let solution_files = rust_files(&ws.solutions_dir());
    if !solution_files.is_empty() {
        let out = Cmd::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .args(&solution_files)
            .echo()
            .output(None)?;
        tally.claim(out.success(), "rustfmt --check (solutions)", &out.stdout);
    }
    let out = Cmd::cargo(ws)
        .args([
            "clippy",
            "--quiet",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .echo()
        .output(None)?;
    tally.claim(
        out.success(),
        "clippy -D warnings (runner, support, starters)",
        &tail("", &out.stderr),
    );

    let mut rows = Vec::new();
    for chapter in &chapters {
        rows.push(verify_chapter(ws, chapter, &mut tally)?);
    }

    ui::heading("The book");
    tally.claim(
        book::build(ws, false, true)?,
        "the book builds, every include resolves",
        "",
    );

    ui::heading("Originality");
    let tool = ws.root.join("../shared/tools/originality-check");
    if tool.is_file() {
        let out = Cmd::new(&tool).arg(&ws.root).echo().output(None)?;
        tally.claim(
            out.success(),
            "no sentence shared with the reference article",
            &out.stdout,
        );
    } else {
        println!(
            "  - skipped: {} is not here (it ships with the team's shared folder)",
            tool.display()
        );
    }

    if full {
        for chapter in &chapters {
            verify_slow_proofs(ws, chapter, &mut tally)?;
        }
    }

    print_table(&rows);
    let secs = started.elapsed().as_secs();
    println!("\nverify took {} min {} s.", secs / 60, secs % 60);
    if !tally.failed.is_empty() {
        println!("Failed: {}", tally.failed.join("; "));
    }
    println!("{} passed, {} failed", tally.passed, tally.failed.len());
    Ok(tally.failed.is_empty())
}

fn verify_chapter(ws: &Workspace, chapter: &Chapter, tally: &mut Tally) -> Result<Row> {
    ui::heading(&chapter.heading());
    let id = chapter.id();

    // 0. The record of the chapter as given is current: `check` judges edited
    //    checks and `reset` restores starters by it.
    let (current, detail) = pristine::is_current(ws, chapter)?;
    tally.claim(
        current,
        &format!("{id}: xtask/pristine.txt records its starter and checks"),
        &detail,
    );

    // 1. The starter must fail, and fail on a check, not on a compile error.
    let run = checks::run(ws, chapter, &Subject::learner(ws, chapter), false)?;
    let (starter_ok, detail) = match &run {
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
            (
                true,
                format!(
                    "{} of {} checks fail: {}",
                    names.len(),
                    v.len(),
                    names.join("; ")
                ),
            )
        }
    };
    tally.claim(
        starter_ok,
        &format!("{id}: the starter fails its checks"),
        &detail,
    );
    if starter_ok {
        println!("      {}", ui::dim(&detail));
    }

    // 2. The solution must pass every check, clippy, and the bench gate.
    let files = variant::solution_files(chapter)?;
    let subject = variant::assemble(ws, chapter, "solution", &files)?;
    let run = checks::run(ws, chapter, &subject, false)?;
    let solution_ok = tally.claim(
        run.all_passed(),
        &format!("{id}: the solution passes every check"),
        &describe(&run),
    );
    let out = Cmd::cargo(ws)
        .args(["clippy", "--quiet", "--all-targets", "--manifest-path"])
        .arg(&subject.manifest)
        .args(["--", "-D", "warnings"])
        .output(None)?;
    tally.claim(
        out.success(),
        &format!("{id}: the solution is clippy-clean"),
        &tail("", &out.stderr),
    );
    let mut ratio = "-".to_string();
    if let Some(gate) = &chapter.card.bench
        && solution_ok
    {
        let home = ws
            .scratch_dir()
            .join("criterion-quick")
            .join(format!("{id}-solution"));
        let result = bench::quick(ws, chapter, gate, &subject, &home, false)?;
        let (ok, detail) = match &result {
            Ok(r) => {
                ratio = format!("{:.1}× (≥{}×)", r.ratio, gate.min_ratio);
                let margin = r.ratio / gate.min_ratio;
                (
                    r.passed && margin >= 3.0,
                    format!(
                        "{} {} vs {} {}: {:.1}×, {:.1}× the gate (at least 3× is required)",
                        gate.baseline,
                        ui::duration_ns(r.baseline_ns),
                        gate.candidate,
                        ui::duration_ns(r.candidate_ns),
                        r.ratio,
                        margin
                    ),
                )
            }
            Err(why) => (false, why.clone()),
        };
        tally.claim(
            ok,
            &format!("{id}: the solution beats the bench gate by 3× or more"),
            &detail,
        );
        println!("      {}", ui::dim(&detail));
    }

    // 3. Every decoy must be rejected by its check, with its words.
    let decoys = decoy::load_all(chapter)?;
    let mut rejected = 0;
    for d in &decoys {
        // A decoy whose edit no longer applies is a failed claim, not a crash:
        // the rest of the chapter is still worth verifying.
        let (ok, detail) = match variant::decoy_files(chapter, d) {
            Ok(files) => {
                let name = format!("decoy-{}", d.name);
                let subject = variant::assemble(ws, chapter, &name, &files)?;
                judge_decoy(d, &checks::run(ws, chapter, &subject, false)?)
            }
            Err(err) => (false, format!("{err:#}")),
        };
        if tally.claim(ok, &format!("{id}: decoy {} is rejected", d.name), &detail) {
            rejected += 1;
        }
    }
    Ok(Row {
        id: id.to_string(),
        starter: starter_ok,
        solution: solution_ok,
        decoys: (rejected, decoys.len()),
        ratio,
    })
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
            mutants::print_verdict(chapter, &verdict);
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
    let steady = soak::soak_command(ws, chapter, runs, true)?;
    tally.claim(
        steady,
        &format!("{id}: no verdict flips over {runs} runs with every core busy"),
        "",
    );
    Ok(())
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
            .flat_map(|(n, o)| ui::verdict_lines(n, o))
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
    println!(
        "  {:<22} {:<10} {:<10} {:<8} bench ratio",
        "chapter", "starter", "solution", "decoys"
    );
    for r in rows {
        let decoys = format!("{}/{}", r.decoys.0, r.decoys.1);
        println!(
            "  {:<22} {:<10} {:<10} {:<8} {}",
            r.id,
            yes_no(r.starter, "fails"),
            yes_no(r.solution, "passes"),
            decoys,
            r.ratio
        );
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
        && !out.stdout.trim().is_empty()
    {
        println!(
            "{} exercises/ has local changes; verify treats what is there as the starters:\n{}",
            ui::yellow("note:"),
            out.stdout.trim_end()
        );
    }
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                found.push(p);
            }
        }
    }
    found.sort();
    found
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
