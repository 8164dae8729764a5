//! `cargo xtask check N`: the learner's verdict on their chapter.
//!
//! Refuses to judge changed checks; then builds and runs the checks (each
//! verdict printed as it arrives), explains a compile failure briefly and in
//! the learner's terms, and once every check passes runs the quick bench
//! gate. The outcome is recorded in the progress file, and the last lines
//! always say what to do next.

use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::bench;
use crate::engine::cargo::CompileFailure;
use crate::engine::chapter::Chapter;
use crate::engine::checks::{self, Run};
use crate::engine::known_mutants;
use crate::engine::libtest::{self, Outcome};
use crate::engine::network;
use crate::engine::pristine;
use crate::engine::progress;
use crate::engine::subject::Subject;
use crate::engine::variant;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask check N`.
pub fn check_command(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    ui::heading(&chapter.heading());
    if pristine::refuse_changed_checks(ws, chapter)? {
        return Ok(false);
    }
    let subject = Subject::learner(ws, chapter);
    let run = checks::run(ws, chapter, &subject, true).context("running the checks")?;
    let run = with_own_tests(ws, chapter, run)?;
    let checks_pass = match &run {
        Run::DidNotCompile(f) => {
            ui::lines(compile_failure_lines(chapter, f));
            false
        }
        // Each verdict line was printed by `checks::run` as it arrived.
        Run::Ran(verdicts) => say_how_many_pass(ws, chapter, verdicts),
    };
    let total = if let Run::Ran(v) = &run { v.len() } else { 0 };
    let failing: Vec<&str> = run.failed().iter().map(|(n, _)| n.as_str()).collect();
    progress::record_check(ws, chapter, total - failing.len(), total, &failing)?;
    if !checks_pass {
        progress::record_attempt(ws, chapter, false)?;
        return Ok(false);
    }
    let gate_ok = quick_bench(ws, chapter, &subject)?;
    progress::record_attempt(ws, chapter, gate_ok)?;
    if gate_ok {
        say_chapter_passes(ws, chapter)?;
    } else {
        ui::blank();
        ui::paragraph(
            &GATE_NOT_YET.replace("{n}", &chapter.card.number.to_string()),
            0,
        );
    }
    Ok(gate_ok)
}

/// In a chapter that judges the learner's own tests (`[learner_tests]`), their
/// verdicts against the known mutants, printed after the checks' and counted
/// with them. Nothing more when the checks did not compile.
fn with_own_tests(ws: &Workspace, chapter: &Chapter, run: Run) -> Result<Run> {
    if chapter.card.learner_tests.is_none() || !matches!(run, Run::Ran(_)) {
        return Ok(run);
    }
    let files = variant::read_tree(&chapter.dir, Path::new("src"))?;
    let own = known_mutants::run_judged(ws, chapter, &files, true)
        .context("running your own tests against the known mutants")?;
    if let Some(known_mutants::Judged {
        run: Run::Ran(verdicts),
        hung,
    }) = &own
    {
        for (name, outcome) in verdicts {
            ui::lines(libtest::verdict_lines(name, outcome));
            if hung.contains(name) {
                ui::lines(known_mutants::hung_lines(chapter));
            }
        }
    }
    Ok(known_mutants::join(run, own.map(|j| j.run)))
}

/// "All 9 checks pass.", or how many do and what to do next; true when all do.
fn say_how_many_pass(
    ws: &Workspace,
    chapter: &Chapter,
    verdicts: &[(String, Outcome)],
) -> bool {
    let n = chapter.card.number;
    let passed = verdicts
        .iter()
        .filter(|(_, o)| *o == Outcome::Passed)
        .count();
    ui::blank();
    if passed == verdicts.len() {
        ui::line(format!("All {} checks pass.", verdicts.len()));
        return true;
    }
    let next = format!(
        "{passed} of {} checks pass. Read the first ✗ above, edit {}, and run \
         `cargo xtask check {n}` again. Stuck? `cargo xtask hint {n}`.",
        verdicts.len(),
        edit_list(ws, chapter)
    );
    ui::paragraph(&next, 0);
    false
}

/// The chapter's bench gate, when it has one; true when it holds.
fn quick_bench(ws: &Workspace, chapter: &Chapter, subject: &Subject) -> Result<bool> {
    let Some(gate) = &chapter.card.bench else {
        return Ok(true);
    };
    let home = ws.scratch_dir().join("criterion-quick").join("learner");
    let result = bench::quick(ws, chapter, gate, subject, &home, true)?;
    ui::lines(bench::gate_lines(gate, &result));
    progress::record_ratio(ws, chapter, result.as_ref().ok().map(|r| r.ratio))?;
    let readings = result.as_ref().ok().and_then(|r| r.readings.clone());
    progress::record_readings(ws, chapter, readings)?;
    Ok(result.as_ref().is_ok_and(|r| r.passed))
}

/// The pass, the reference solution it unlocks, and the next chapter.
fn say_chapter_passes(ws: &Workspace, chapter: &Chapter) -> Result<()> {
    let n = chapter.card.number;
    let chapters = Chapter::all(ws)?;
    let next = match progress::next_chapter_after(ws, &chapters, chapter) {
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
    ui::blank();
    ui::paragraph(&text, 0);
    Ok(())
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

/// The short form of a compile failure, pointing at the learner's file.
fn compile_failure_lines(chapter: &Chapter, f: &CompileFailure) -> Vec<String> {
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
        None if network::needs_network(&f.stderr) => {
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

const GATE_NOT_YET: &str = "The checks pass but the bench gate does not hold yet: \
    measure with `cargo xtask bench {n}` and look at what is still slow.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_download_without_network_is_recognised() {
        let offline = "error: no matching package named `anyhow` found\n\
                       location searched: crates.io index\n\
                       As a reminder, you're using offline mode (--offline)";
        assert!(network::needs_network(offline));
        assert!(network::needs_network(
            "warning: spurious network error\nerror: failed to download from `https://…`"
        ));
        assert!(!network::needs_network(
            "error: failed to parse manifest at `/x/Cargo.toml`"
        ));
    }
}
