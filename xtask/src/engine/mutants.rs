//! cargo-mutants over a solution: do the chapter's checks notice when the reference
//! solution is broken in small ways they were not written against?
//!
//! Decoys test the mistakes their author thought of. cargo-mutants finds the
//! others: it changes the solution one operator, constant or function body at
//! a time and runs the chapter's checks against each change. A change that no
//! check notices (a survivor) is either a hole in the checks, to be closed, or
//! an equivalent change or code outside the lesson, to be listed with its
//! reason in `solutions/<id>/mutants.toml`:
//!
//! ```toml
//! [[survivor]]
//! mutant = "src/catalogue.rs: replace Catalogue::len -> usize with 0"
//! reason = "why no check should notice it"
//! ```
//!
//! The mutant's name is cargo-mutants' own, without line and column (so the
//! list survives edits above it). The command fails when a survivor is not
//! listed, and when a listed one is now caught (the list must stay true).
//!
//! The solution is assembled as the scratch crate `mutants` (see variant.rs),
//! mutated in place, and built in the shared target directory, so only the
//! chapter's own crate is rebuilt per mutant. Checks run under cargo-nextest
//! when it is installed, one process per check as `check` runs them; else
//! under `cargo test`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::engine::chapter::Chapter;
use crate::engine::variant;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Listed {
    #[serde(default)]
    survivor: Vec<Survivor>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Survivor {
    mutant: String,
    reason: String,
}

/// What one run of cargo-mutants found, by mutant name (no line or column).
#[derive(Debug, Default)]
pub struct Outcomes {
    pub caught: BTreeSet<String>,
    pub missed: BTreeSet<String>,
    pub timeout: BTreeSet<String>,
    pub unviable: BTreeSet<String>,
}

/// The verdict on one chapter: survivors nobody explained, and listed
/// survivors that the checks now catch.
#[derive(Debug, Default)]
pub struct Verdict {
    pub unlisted: Vec<String>,
    pub stale: Vec<String>,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.unlisted.is_empty() && self.stale.is_empty()
    }
}

/// The verdict as lines: each unlisted survivor and stale listing, and what
/// to do about them.
pub fn verdict_lines(chapter: &Chapter, verdict: &Verdict) -> Vec<String> {
    let list = format!("solutions/{}/mutants.toml", chapter.id());
    let mut lines = Vec::new();
    for m in &verdict.unlisted {
        lines.push(format!("  {} survived, not listed: {m}", ui::red("✗")));
    }
    for m in &verdict.stale {
        lines.push(format!(
            "  {} listed in {list} but now caught: {m} (remove it from the list)",
            ui::red("✗")
        ));
    }
    if verdict.holds() {
        lines.push(format!(
            "  {} every survivor is listed in {list} with its reason",
            ui::green("✓")
        ));
    } else if !verdict.unlisted.is_empty() {
        let text = format!(
            "Each survivor is a change to the solution that no check notices: make a \
             check notice it, or list it in {list} with the reason no check should."
        );
        lines.extend(ui::wrap(&text, 2, ui::WIDTH));
    }
    lines
}

/// One line per mutant caught only because the checks hung past
/// cargo-mutants' timeout (none failed): caught, but no check says what broke.
pub fn hang_lines(chapter: &Chapter, outcomes: &Outcomes) -> Vec<String> {
    let secs = chapter.card.timeout_seconds * 4;
    outcomes
        .timeout
        .iter()
        .map(|m| {
            format!(
                "  {} caught only by a hang (the checks were stopped after {secs} s, none \
                 failed): {m}",
                ui::yellow("⏱")
            )
        })
        .collect()
}

impl Outcomes {
    /// Every mutant tested, whatever became of it.
    pub fn total(&self) -> usize {
        self.caught.len() + self.missed.len() + self.timeout.len() + self.unviable.len()
    }
}

/// Runs cargo-mutants over the chapter's solution and judges the outcome
/// against the list. Returns the verdict, the outcomes and how many survivors
/// are listed.
pub fn run(
    ws: &Workspace,
    chapter: &Chapter,
    jobs: usize,
    re: Option<&str>,
    echo: bool,
) -> Result<(Verdict, Outcomes, usize)> {
    ensure_installed()?;
    let listed = load_list(chapter)?;
    let files = variant::solution_files(chapter)?;
    let subject = variant::assemble(ws, chapter, "mutants", &files)?;
    let root = subject
        .dir
        .parent()
        .context("the scratch crate has a workspace folder above it")?;
    let out_dir = ws.scratch_dir().join("mutants").join(chapter.id());
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("creating {}", out_dir.display()))?;
    let mut cmd = command(ws, chapter, root, &out_dir, jobs, re);
    if echo {
        cmd = cmd.echo();
    }
    let started = Instant::now();
    let out = cmd.output(None)?;
    if echo {
        let secs = started.elapsed().as_secs();
        ui::line(ui::dim(&format!("cargo-mutants took {secs} s")));
    }
    let outcomes = read_outcomes(&out_dir.join("mutants.out"), &out.stderr_text())?;
    // Put the solution's files back as they were (cargo-mutants restores each
    // file itself; this also undoes a run that was killed halfway).
    variant::assemble(ws, chapter, "mutants", &files)?;
    let mut verdict = judge(&outcomes, &listed);
    if re.is_some() {
        // Only some mutants ran: a listed one that did not run is not stale.
        let ran: BTreeSet<&String> = outcomes
            .caught
            .iter()
            .chain(&outcomes.timeout)
            .chain(&outcomes.unviable)
            .collect();
        verdict.stale.retain(|m| ran.contains(m));
    }
    Ok((verdict, outcomes, listed.len()))
}

/// `cargo mutants` over the scratch workspace at `root`, results in `out_dir`.
fn command(
    ws: &Workspace,
    chapter: &Chapter,
    root: &Path,
    out_dir: &Path,
    jobs: usize,
    re: Option<&str>,
) -> Cmd {
    let mut cmd = Cmd::cargo(ws)
        .args(["mutants", "--no-shuffle", "--dir"])
        .arg(root)
        .arg("--output")
        .arg(out_dir)
        .args(["--timeout", &(chapter.card.timeout_seconds * 4).to_string()])
        .args(["--minimum-test-timeout", "20"]);
    // In place, cargo-mutants tests one mutant at a time; with more jobs it
    // copies the crate per job (each then builds in its own copy).
    if jobs > 1 {
        cmd = cmd.args(["--jobs", &jobs.to_string()]);
    } else {
        cmd = cmd.arg("--in-place");
    }
    if let Some(re) = re {
        cmd = cmd.args(["--re", re]);
    }
    if nextest_installed() {
        cmd = cmd.args(["--test-tool", "nextest"]);
    }
    cmd
}

fn ensure_installed() -> Result<()> {
    let ok = Cmd::new("cargo")
        .args(["mutants", "--version"])
        .output(None)
        .map(|o| o.success())
        .unwrap_or(false);
    if !ok {
        anyhow::bail!(
            "cargo-mutants is not installed. Install it once with `cargo install \
             --locked cargo-mutants` (about 4 minutes on 2 cores), then run this again."
        );
    }
    Ok(())
}

fn nextest_installed() -> bool {
    Cmd::new("cargo")
        .args(["nextest", "--version"])
        .output(None)
        .map(|o| o.success())
        .unwrap_or(false)
}

fn load_list(chapter: &Chapter) -> Result<Vec<String>> {
    let path = chapter.solution_dir.join("mutants.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let listed: Listed =
        toml::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    for s in &listed.survivor {
        anyhow::ensure!(
            !s.reason.trim().is_empty(),
            "{}: the survivor {:?} has no reason",
            path.display(),
            s.mutant
        );
    }
    Ok(listed.survivor.into_iter().map(|s| s.mutant).collect())
}

/// What cargo-mutants wrote in `dir`; an error with what it said
/// (`stderr`) when it did not finish.
fn read_outcomes(dir: &Path, stderr: &str) -> Result<Outcomes> {
    if !dir.join("caught.txt").is_file() {
        let said: Vec<&str> = stderr.lines().collect();
        anyhow::bail!(
            "cargo-mutants did not finish (no {}); it said:\n{}",
            dir.join("caught.txt").display(),
            said[said.len().saturating_sub(15)..].join("\n")
        );
    }
    let read = |name: &str| -> Result<BTreeSet<String>> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(name_of)
            .collect())
    };
    Ok(Outcomes {
        caught: read("caught.txt")?,
        missed: read("missed.txt")?,
        timeout: read("timeout.txt")?,
        unviable: read("unviable.txt")?,
    })
}

/// `mutants/src/a.rs:12:5: replace x with y` → `src/a.rs: replace x with y`
/// (the scratch crate's folder, `mutants/`, is not part of the name).
fn name_of(line: &str) -> String {
    let line = line.trim();
    let line = line.strip_prefix("mutants/").unwrap_or(line);
    let mut parts = line.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(file), Some(l), Some(c), Some(rest))
            if l.chars().all(|ch| ch.is_ascii_digit())
                && c.chars().all(|ch| ch.is_ascii_digit()) =>
        {
            format!("{file}:{rest}")
        }
        _ => line.to_string(),
    }
}

fn judge(outcomes: &Outcomes, listed: &[String]) -> Verdict {
    let listed: BTreeSet<&str> = listed.iter().map(|s| s.trim()).collect();
    Verdict {
        unlisted: outcomes
            .missed
            .iter()
            .filter(|m| !listed.contains(m.as_str()))
            .cloned()
            .collect(),
        stale: listed
            .iter()
            .filter(|m| !outcomes.missed.contains(**m))
            .map(|m| m.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_line_and_column_only() {
        assert_eq!(
            name_of(
                "mutants/src/catalogue.rs:123:9: replace < with <= in Catalogue::price"
            ),
            "src/catalogue.rs: replace < with <= in Catalogue::price"
        );
        assert_eq!(
            name_of("src/a.rs: replace x with y"),
            "src/a.rs: replace x with y"
        );
    }

    #[test]
    fn an_unlisted_survivor_and_a_stale_listing_both_fail() {
        let outcomes = Outcomes {
            missed: ["src/a.rs: m1".to_string(), "src/a.rs: m2".to_string()].into(),
            caught: ["src/a.rs: m3".to_string()].into(),
            ..Outcomes::default()
        };
        let v = judge(&outcomes, &["src/a.rs: m1".into(), "src/a.rs: m3".into()]);
        assert_eq!(v.unlisted, vec!["src/a.rs: m2"]);
        assert_eq!(v.stale, vec!["src/a.rs: m3"]);
        assert!(!v.holds());
        let v = judge(&outcomes, &["src/a.rs: m1".into(), "src/a.rs: m2".into()]);
        assert!(v.holds());
    }

    #[test]
    fn a_mutant_caught_only_by_a_hang_gets_a_line_of_its_own() {
        let course = crate::fixture::Course::new("mutants-hang");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let outcomes = Outcomes {
            caught: BTreeSet::from(["src/a.rs: replace f with g".to_string()]),
            timeout: BTreeSet::from(["src/a.rs: replace h with loop".to_string()]),
            ..Outcomes::default()
        };
        let lines = hang_lines(&chapter, &outcomes);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("caught only by a hang"), "{lines:?}");
        assert!(
            lines[0].ends_with("src/a.rs: replace h with loop"),
            "{lines:?}"
        );
    }
}
