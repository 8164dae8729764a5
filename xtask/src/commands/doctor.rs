//! `cargo xtask doctor`: is this machine ready for a workshop day?
//!
//! One ✓/✗ line each, and under each ✗ the fix in one sentence: the Rust
//! toolchain against the course's `rust-version`, free disk against what a
//! full build takes, every chapter's checks, benches and examples built (the
//! long step: a progress line on stderr says which chapter and how long so
//! far), the book built, and then the proof of offline readiness: every one of
//! those builds again with cargo's offline mode, which succeeds only when
//! nothing is left to download. Run once on every machine before the day;
//! afterwards `check`, `bench` and `book` start without compiling
//! dependencies and without a network. Exits non-zero when any line fails.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::engine::book;
use crate::engine::chapter::Chapter;
use crate::engine::network;
use crate::engine::readiness::{self, Built, Finding};
use crate::ground::disk;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask doctor`.
pub fn doctor_command(ws: &Workspace) -> Result<bool> {
    let started = Instant::now();
    ui::heading("Doctor: is this machine ready for the workshop?");
    ui::blank();
    let chapters = Chapter::all(ws)?;
    let mut findings = Vec::new();
    let mut say = |f: Finding| {
        show(&f);
        findings.push(f.ok);
    };
    let declared = readiness::declared_rust_version(ws)?;
    say(readiness::toolchain(
        declared.as_deref(),
        &readiness::rustc_version().unwrap_or_default(),
    ));
    say(readiness::disk(
        disk::free_bytes(&ws.target_dir()).ok(),
        disk::used_bytes(&ws.target_dir()),
        readiness::cargo_cache_missing(),
        readiness::FULL_BUILD_BYTES,
    ));
    say(build_every_chapter(ws, &chapters, false)?);
    say(build_the_book(ws)?);
    say(build_every_chapter(ws, &chapters, true)?);
    let failed = findings.iter().filter(|ok| !**ok).count();
    ui::blank();
    let took = minutes(started.elapsed());
    if failed == 0 {
        ui::paragraph(&READY.replace("{took}", &took), 0);
    } else {
        ui::paragraph(
            &format!(
                "{failed} of {} lines fail ({took}): fix each ✗ as its line says, then \
                 run `cargo xtask doctor` again.",
                findings.len()
            ),
            0,
        );
    }
    Ok(failed == 0)
}

/// `✓ what`, or `✗ what` and the fix below it.
fn show(f: &Finding) {
    // A hanging indent: the mark, then the sentence wrapped beside it.
    let mut lines = ui::wrap(&f.what, 4, ui::WIDTH);
    lines[0].replace_range(..4, &format!("  {} ", ui::mark(f.ok)));
    ui::lines(lines);
    for line in f.said.lines() {
        ui::line(format!("      {}", ui::dim(line)));
    }
    if !f.ok {
        ui::paragraph(&format!("Fix: {}.", f.fix), 4);
    }
}

/// Every chapter's builds (and the runner's and the book's builder), one
/// after the other with a progress line; with `offline`, the same under
/// cargo's offline mode, which proves nothing is left to download.
fn build_every_chapter(
    ws: &Workspace,
    chapters: &[Chapter],
    offline: bool,
) -> Result<Finding> {
    let started = Instant::now();
    let mut jobs: Vec<(String, Vec<String>)> = Vec::new();
    for c in chapters {
        for args in readiness::chapter_builds(c) {
            jobs.push((c.id().to_string(), args));
        }
    }
    if offline {
        for args in readiness::runner_builds() {
            jobs.push((args[args.len() - 1].clone(), args));
        }
    }
    let mut broken: Vec<String> = Vec::new();
    let mut needs_network = false;
    let mut last_said = String::new();
    for (i, (name, args)) in jobs.iter().enumerate() {
        let mode = if offline { "offline: " } else { "building " };
        say_progress(&format!(
            "  {mode}[{}/{}] {name}, cargo {} ({} so far)…   ",
            i + 1,
            jobs.len(),
            args[0],
            minutes(started.elapsed())
        ));
        match readiness::build(ws, args, offline)? {
            Built::Yes => {}
            Built::NeedsNetwork => {
                needs_network = true;
                push_once(&mut broken, name);
            }
            Built::No(said) => {
                last_said = said;
                push_once(&mut broken, name);
            }
        }
    }
    end_progress();
    let took = minutes(started.elapsed());
    let what = if offline {
        format!(
            "offline: every chapter's checks, benches and examples, the runner and \
             the book's builder build with CARGO_NET_OFFLINE=true ({took})"
        )
    } else {
        format!(
            "every chapter's checks, benches and examples are built ({} chapters, \
             {took})",
            chapters.len()
        )
    };
    if broken.is_empty() {
        return Ok(Finding::pass(what));
    }
    let names = jobs
        .iter()
        .map(|(n, _)| n)
        .collect::<std::collections::BTreeSet<_>>();
    let list = if broken.len() == names.len() && offline {
        "every chapter, the runner and the book's builder".to_string()
    } else if broken.len() == names.len() {
        "every chapter".to_string()
    } else {
        broken.join(", ")
    };
    if needs_network {
        return Ok(Finding::fail(
            format!("cargo still has to download dependencies for {list}"),
            network::FIX,
        ));
    }
    let mut finding = Finding::fail(
        format!("{list} did not build; cargo said:"),
        &format!(
            "run `cargo xtask check N` for that chapter to see the error in full; if \
                 the chapter is one you edited, `cargo xtask reset N` puts the starter \
                 back{}",
            if offline {
                ""
            } else {
                " (your files are backed up first)"
            }
        ),
    );
    finding.said = last_said;
    Ok(finding)
}

fn push_once(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_string());
    }
}

/// The book, as `cargo xtask book` builds it (mdBook compiles the first time).
fn build_the_book(ws: &Workspace) -> Result<Finding> {
    say_progress("  building the book…");
    let started = Instant::now();
    let outcome = book::build_quietly(ws)?;
    end_progress();
    let took = minutes(started.elapsed());
    Ok(match outcome {
        book::Outcome::Built => Finding::pass(format!(
            "the book is built ({took}); `cargo xtask book --open` serves it"
        )),
        book::Outcome::NeedsNetwork => Finding::fail(
            "the book's builder still has to download dependencies".into(),
            network::FIX,
        ),
        book::Outcome::Failed(said) => {
            let mut f = Finding::fail(
                "the book did not build; mdBook said:".into(),
                "run `cargo xtask book` to see the whole message, which names the page",
            );
            f.said = said;
            f
        }
    })
}

/// The step under way, rewritten in place on a terminal (nothing in a log:
/// the ✓/✗ lines say it all there).
fn say_progress(text: &str) {
    if std::io::stderr().is_terminal() {
        ui::progress(&format!("{text:<79}"), false);
    }
}

/// Clears the progress line, so the verdict's line takes its place.
fn end_progress() {
    if std::io::stderr().is_terminal() {
        ui::progress(&" ".repeat(ui::WIDTH - 1), false);
        ui::progress("", false);
    }
}

/// `2 min 05 s`, `41 s`, with no-break spaces: wrapping keeps them whole.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}\u{a0}s")
    } else {
        format!("{}\u{a0}min\u{a0}{:02}\u{a0}s", s / 60, s % 60)
    }
}

const READY: &str = "Every line passes ({took}): this machine is ready for the \
    workshop, and the course works without a network from here on.";

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture declares no rust-version and has neither a buildable
    /// chapter 5 nor a book builder: the doctor runs every line anyway and
    /// its verdict fails, which makes `cargo xtask doctor` exit non-zero.
    #[test]
    fn a_machine_with_failing_lines_gets_a_failing_verdict() {
        let course = crate::fixture::Course::new("doctor-fails");
        assert!(!doctor_command(&course.ws).unwrap());
    }

    #[test]
    fn durations_read_in_minutes_and_seconds() {
        let shown = |s| minutes(Duration::from_secs(s)).replace('\u{a0}', " ");
        assert_eq!(shown(41), "41 s");
        assert_eq!(shown(125), "2 min 05 s");
    }
}
