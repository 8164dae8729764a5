//! `cargo xtask try N <wrong solution>...`: are these wrong solutions rejected?
//!
//! The reviewer's tool. Someone who has read only a chapter's page and starter
//! writes plausible wrong solutions, each as a folder whose `src/` holds the
//! files that differ from the starter (as `solutions/<id>/src` does), or as a
//! decoy file (`*.toml`, the format of `solutions/<id>/decoys/`). This builds
//! each as a scratch crate, runs the chapter's checks against it, and says which
//! checks rejected it. A wrong solution that passes every check is a hole: it
//! becomes a check and a decoy. Nothing in the learner's folder is touched.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::chapter::Chapter;
use crate::engine::checks::{self, Run};
use crate::engine::libtest;
use crate::engine::{decoy, known_mutants, variant};
use crate::ground::process;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask try N PATH...`: true when every one is rejected.
pub fn try_command(
    ws: &Workspace,
    chapter: &Chapter,
    paths: &[PathBuf],
) -> Result<bool> {
    ui::heading(&format!("{} · wrong solutions", chapter.heading()));
    // Each wrong solution is built once and judged.
    process::builds_are_built_once();
    let mut passed = Vec::new();
    let mut each = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let files = files_of(chapter, path).with_context(|| {
            format!("reading the wrong solution {}", path.display())
        })?;
        each.push((name, files));
    }
    // All of them built in one cargo invocation when they can be (it keeps
    // every core busy); one by one otherwise, e.g. when one does not compile.
    let together: Vec<_> = each
        .iter()
        .map(|(name, files)| (variant::package_name("try", name), files.clone()))
        .collect();
    let mut prebuilt = checks::build_many(ws, chapter, "try", &together)?
        .map(|b| b.into_iter().map(Some).collect::<Vec<_>>())
        .unwrap_or_default();
    for (i, (name, files)) in each.iter().enumerate() {
        let run = match prebuilt.get_mut(i).and_then(Option::take) {
            Some(built) => checks::run_built(
                chapter,
                &built.subject,
                &built.executables,
                false,
                None,
            )?,
            None => {
                let subject =
                    variant::assemble(ws, chapter, &format!("try-{name}"), files)?;
                checks::run(ws, chapter, &subject, false)?
            }
        };
        // In a chapter that judges the learner's own tests, a wrong solution
        // may be a weak test suite: run it against the known mutants too.
        let run = match run {
            Run::Ran(_) => {
                let own = known_mutants::run(ws, chapter, files, false)?;
                known_mutants::join(run, own)
            }
            other => other,
        };
        if !show_verdict(name, &run) {
            passed.push(name.clone());
        }
    }
    let holes = if passed.is_empty() {
        String::new()
    } else {
        format!(": {}", passed.join(", "))
    };
    ui::blank();
    ui::line(format!(
        "{} of {} wrong solutions passed every check{holes}",
        passed.len(),
        paths.len()
    ));
    Ok(passed.is_empty())
}

/// One wrong solution's verdict; false when it passed every check (a hole).
fn show_verdict(name: &str, run: &Run) -> bool {
    match run {
        Run::DidNotCompile(f) => {
            ui::line(format!(
                "  {} {name}: does not compile, so it proves nothing",
                ui::yellow("?")
            ));
            if let Some(first) = &f.first {
                ui::lines(first.lines().take(12).map(|l| format!("      {l}")));
            }
            true
        }
        Run::Ran(_) if run.all_passed() => {
            ui::line(format!(
                "  {} {name}: passes every check (a hole)",
                ui::red("✗")
            ));
            false
        }
        Run::Ran(_) => {
            let failed = run.failed();
            ui::line(format!(
                "  {} {name}: rejected by {} check(s)",
                ui::green("✓"),
                failed.len()
            ));
            for (check, outcome) in failed {
                let lines = libtest::verdict_lines(check, outcome);
                ui::lines(lines.into_iter().take(8).map(|l| format!("    {l}")));
            }
            true
        }
    }
}

/// The crate's files for one wrong solution: the starter overlaid with a
/// folder's `src/`, or a decoy's edits applied to its base.
fn files_of(
    chapter: &Chapter,
    path: &Path,
) -> Result<std::collections::BTreeMap<PathBuf, String>> {
    if path.extension().is_some_and(|e| e == "toml") {
        let d = decoy::load(path)?;
        return variant::decoy_files(chapter, &d);
    }
    let src = path.join("src");
    if !src.is_dir() {
        bail!("{} has no src/ folder", path.display());
    }
    let mut files = variant::starter_files(chapter)?;
    files.extend(variant::read_tree(path, Path::new("src"))?);
    Ok(files)
}
