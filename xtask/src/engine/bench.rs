//! The bench gate: the learner's code against the starter's, in one run.
//!
//! A timing never gates on its own (machines differ by more than any honest
//! margin). What gates is a ratio: the bench measures the starter's approach
//! (frozen in the bench file) and the learner's code in the same process, one
//! after the other, and the learner's must be `min_ratio` times faster. The
//! solution beats each gate by at least 3×, which `verify` shows every run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::engine::cargo::{self, Build, Targets};
use crate::engine::chapter::{BenchGate, Chapter};
use crate::engine::progress::Readings;
use crate::engine::subject::Subject;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// Said before the first bench build of a crate. Measured from an empty target
/// directory (after the chapter's checks were built) on 2 cores kept busy by
/// other builds, load about 7: 3 min 39 s for chapter 1 (2026-12-01).
const FIRST_BENCH_BUILD: &str = "Building the benchmark in release mode. The first \
    time, this compiles the dependencies with optimizations and takes three to four \
    minutes on a 2-core machine (`cargo xtask doctor` does it ahead of time); later \
    runs reuse them and take seconds.";

/// criterion flags for a quick but steady measurement.
const QUICK: [&str; 5] = [
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "1",
    "--noplot",
];

/// Set to a file's path when a bench runs under the runner: a bench with
/// something to show on the book's live panel writes one line there (chapter
/// 5: `hit-ratio yours=0.612 moka=0.655 optimal=0.741`, see
/// [`Readings`]). A file rather than a line on stdout, so that what the learner
/// reads of the bench is what it printed, in `check` as in `bench`.
pub const READINGS_ENV: &str = "XTASK_PANEL_FILE";

#[derive(Debug)]
pub struct GateResult {
    pub baseline_ns: f64,
    pub candidate_ns: f64,
    pub ratio: f64,
    pub passed: bool,
    /// What the bench wrote for the live panel, if anything.
    pub readings: Option<Readings>,
}

/// Where a bench run with `criterion_home` writes its readings.
pub fn readings_file(criterion_home: &Path) -> PathBuf {
    criterion_home.join("panel-readings.txt")
}

/// The readings a bench wrote to `path`: its first line, `None` when there is
/// no file or the line is damaged.
pub fn read_readings(path: &Path) -> Option<Readings> {
    let text = std::fs::read_to_string(path).ok()?;
    Readings::from_line(text.lines().next()?)
}

/// Runs the gate's criterion group quickly. `Err(sentence)` when the bench could
/// not produce a measurement (it did not compile, or panicked).
pub fn quick(
    ws: &Workspace,
    chapter: &Chapter,
    gate: &BenchGate,
    subject: &Subject,
    criterion_home: &Path,
    echo: bool,
) -> Result<Result<GateResult, String>> {
    let marker = built_marker(ws, subject);
    if echo {
        say_what_is_measured(gate, &marker);
    }
    let exe = match build(ws, chapter, gate, subject, echo)? {
        Ok(exe) => exe,
        Err(why) => return Ok(Err(why)),
    };
    if let Some(parent) = marker.parent() {
        let _ = std::fs::create_dir_all(parent);
        let _ = std::fs::write(&marker, b"");
    }
    let stdout = match run_group(&exe, gate, subject, criterion_home, echo)? {
        Ok(stdout) => stdout,
        Err(why) => return Ok(Err(why)),
    };
    if echo {
        for line in own_report(&stdout, &gate.group) {
            ui::line(format!("  {line}").trim_end());
        }
    }
    let baseline_ns = median_ns(criterion_home, &gate.group, &gate.baseline)?;
    let candidate_ns = median_ns(criterion_home, &gate.group, &gate.candidate)?;
    let ratio = baseline_ns / candidate_ns;
    Ok(Ok(GateResult {
        baseline_ns,
        candidate_ns,
        ratio,
        passed: ratio >= gate.min_ratio,
        readings: read_readings(&readings_file(criterion_home)),
    }))
}

/// A marker per crate says whether its bench was ever built here: the first
/// build compiles every dependency in release mode, which takes minutes on a
/// 2-core machine, and a learner should know that before it starts.
fn built_marker(ws: &Workspace, subject: &Subject) -> PathBuf {
    let name = subject
        .manifest
        .to_string_lossy()
        .replace(['/', '\\', ':'], "_");
    ws.scratch_dir().join("bench-built").join(name)
}

fn say_what_is_measured(gate: &BenchGate, marker: &Path) {
    ui::blank();
    ui::line(format!(
        "Quick bench: {} against {}, same run.",
        gate.candidate, gate.baseline
    ));
    if !marker.exists() {
        ui::aside(FIRST_BENCH_BUILD, 2);
    }
}

/// The gate's bench executable, or why there is none.
fn build(
    ws: &Workspace,
    chapter: &Chapter,
    gate: &BenchGate,
    subject: &Subject,
    echo: bool,
) -> Result<Result<PathBuf, String>> {
    match cargo::build(ws, subject, Targets::Bench(&gate.target), echo)? {
        Build::Built(exes) => match exes.into_iter().find(|(n, _)| *n == gate.target) {
            Some((_, exe)) => Ok(Ok(exe)),
            None => bail!(
                "cargo built no bench named {:?} for {}",
                gate.target,
                chapter.id()
            ),
        },
        Build::Failed(f) => {
            let first = f.first.unwrap_or(f.stderr);
            Ok(Err(format!("the bench does not compile:\n{first}")))
        }
    }
}

/// Runs the gate's group with quick criterion flags into `criterion_home`;
/// what the bench printed, or why it stopped.
fn run_group(
    exe: &Path,
    gate: &BenchGate,
    subject: &Subject,
    criterion_home: &Path,
    echo: bool,
) -> Result<Result<String, String>> {
    // Start from an empty folder so that no earlier run's estimate is ever
    // read, nor an earlier run's readings.
    let _ = std::fs::remove_dir_all(criterion_home.join(&gate.group));
    let readings = readings_file(criterion_home);
    let _ = std::fs::remove_file(&readings);
    let _ = std::fs::create_dir_all(criterion_home);
    let mut cmd = Cmd::new(exe)
        .arg("--bench")
        .arg(format!("^{}/", gate.group))
        .args(QUICK)
        .env("CRITERION_HOME", criterion_home)
        .env(READINGS_ENV, &readings)
        .env("RUST_BACKTRACE", "0")
        .current_dir(&subject.dir);
    if echo {
        cmd = cmd.echo();
    }
    let out = cmd.output(Some(Duration::from_secs(10 * 60)))?;
    if out.timed_out() {
        return Ok(Err("the bench ran for 10 minutes and was stopped".into()));
    }
    if !out.success() {
        let stderr = out.stderr_text();
        let said: Vec<&str> = stderr.lines().filter(|l| !l.is_empty()).collect();
        let tail = said[said.len().saturating_sub(4)..].join("\n");
        return Ok(Err(format!("the bench stopped with an error:\n{tail}")));
    }
    Ok(Ok(out.stdout_text()))
}

/// What a bench printed of its own before criterion started measuring (e.g.
/// chapter 5's table of hit ratios beside moka and the optimum), which `check`
/// shows above the gate. Criterion's lines all start with "Benchmarking" or
/// the group's name, so everything before the first of them is the bench's.
fn own_report<'a>(stdout: &'a str, group: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = stdout
        .lines()
        .take_while(|l| !l.starts_with("Benchmarking") && !l.starts_with(group))
        .collect();
    let start = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |i| i + 1);
    lines[start..end].to_vec()
}

/// criterion's median estimate for one function of a group, in nanoseconds.
pub fn median_ns(home: &Path, group: &str, function: &str) -> Result<f64> {
    let path = home
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading criterion's estimate {}", path.display()))?;
    parse_median(&text)
        .with_context(|| format!("reading the median in {}", path.display()))
}

fn parse_median(json: &str) -> Result<f64> {
    let v: Value = serde_json::from_str(json)?;
    v["median"]["point_estimate"]
        .as_f64()
        .context("no median.point_estimate")
}

/// The gate's two medians and its verdict, for a learner.
pub fn gate_lines(
    gate: &BenchGate,
    result: &Result<GateResult, String>,
) -> Vec<String> {
    let r = match result {
        Ok(r) => r,
        Err(why) => return vec![format!("  {} no measurement: {why}", ui::red("✗"))],
    };
    vec![
        format!(
            "  {:<9} {:>10}",
            gate.baseline,
            ui::duration_ns(r.baseline_ns)
        ),
        format!(
            "  {:<9} {:>10}",
            gate.candidate,
            ui::duration_ns(r.candidate_ns)
        ),
        format!(
            "  {} {:.1}× faster than the starter (the gate asks for at least {}×)",
            ui::mark(r.passed),
            r.ratio,
            gate.min_ratio
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_bench_prints_before_criterion_starts_is_its_own_report() {
        let out = "\nhit ratio  lru 0.66\n\nBenchmarking ch05_x/starter\nch05_x/starter time: [1 ms]\n";
        assert_eq!(own_report(out, "ch05_x"), vec!["hit ratio  lru 0.66"]);
        assert!(own_report("Benchmarking g/a\n", "g").is_empty());
    }

    /// The first line of the bench's file, whole or not at all; no file, an
    /// empty one or a damaged line is no reading.
    #[test]
    fn readings_are_read_from_the_file_the_bench_wrote() {
        let dir =
            std::env::temp_dir().join(format!("xtask-readings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = readings_file(&dir);
        let _ = std::fs::remove_file(&path);
        assert_eq!(read_readings(&path), None);
        std::fs::write(
            &path,
            "hit-ratio yours=0.612 moka=0.655 optimal=0.741\nmore\n",
        )
        .unwrap();
        let r = read_readings(&path).unwrap();
        assert_eq!(r.label, "hit-ratio");
        assert_eq!(r.values.len(), 3);
        assert_eq!(r.values[2], ("optimal".to_string(), 0.741));
        for damaged in ["", "\n", "hit-ratio yours=0.6 moka=", "yours=0.6"] {
            std::fs::write(&path, damaged).unwrap();
            assert_eq!(read_readings(&path), None, "{damaged:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_median_is_read_from_criterions_estimates() {
        let json = r#"{"mean":{"point_estimate":5.0},"median":{"point_estimate":4.25,
                       "standard_error":0.1}}"#;
        assert_eq!(parse_median(json).unwrap(), 4.25);
        assert!(parse_median("{}").is_err());
    }
}
