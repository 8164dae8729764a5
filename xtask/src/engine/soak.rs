//! Soaking a chapter: does its verdict ever change between runs?
//!
//! A verdict must not depend on how busy the machine is. This runs the
//! chapter's checks (and, when they all pass, the quick bench gate) K times on
//! the reference solution and on the starter, optionally with a spinning
//! thread on every core for the whole time, and prints each distinct verdict
//! with how often it came. Any run whose verdict differs from its subject's
//! most common one is a flip, and the command fails. A wall-clock gate may
//! stay only in a chapter where this shows no flip over 30 busy runs
//! (ARCHITECTURE.md, "Verdicts are deterministic").

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::engine::cargo::{self, Build, Targets};
use crate::engine::chapter::Chapter;
use crate::engine::checks::{self, Run};
use crate::engine::subject::Subject;
use crate::engine::{bench, variant};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// What a soak found: per subject, each distinct verdict with how often it
/// came, and the gate's ratios.
pub struct Soak {
    pub runs: usize,
    pub subjects: Vec<(&'static str, BTreeMap<String, usize>, Vec<f64>)>,
    pub took: Duration,
}

impl Soak {
    /// Runs that differ from their subject's most common verdict.
    pub fn flips(&self) -> usize {
        self.subjects
            .iter()
            .map(|(_, verdicts, _)| {
                self.runs - verdicts.values().copied().max().unwrap_or(0)
            })
            .sum()
    }

    /// Each subject's verdicts and ratios, then the count of flips.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, verdicts, ratios) in &self.subjects {
            lines.push(format!("\n  {name}:"));
            for (verdict, count) in verdicts {
                lines.push(format!("    {count:>3} × {verdict}"));
            }
            if !ratios.is_empty() {
                let mut r = ratios.clone();
                r.sort_by(f64::total_cmp);
                lines.push(format!(
                    "    gate ratio: min {:.1}×, median {:.1}×, max {:.1}×",
                    r[0],
                    r[r.len() / 2],
                    r[r.len() - 1]
                ));
            }
        }
        let secs = self.took.as_secs();
        lines.push(format!(
            "\n{} {} flips in {} runs ({} min {} s).",
            ui::mark(self.flips() == 0),
            self.flips(),
            self.runs * self.subjects.len(),
            secs / 60,
            secs % 60
        ));
        lines
    }
}

/// Runs the checks (and gate) of `chapter` `runs` times on the solution and on
/// the starter, with every core kept busy when `busy`.
pub fn soak(
    ws: &Workspace,
    chapter: &Chapter,
    runs: usize,
    busy: bool,
) -> Result<Soak> {
    let subjects = [
        ("solution", variant::solution_files(chapter)?),
        ("starter", variant::starter_files(chapter)?),
    ];
    let spinner = busy.then(BusyCores::start);
    let busy_threads = spinner.as_ref().map_or(0, |s| s.threads);
    let with = if busy {
        format!(", with {busy_threads} busy threads (one per core)")
    } else {
        String::new()
    };
    ui::line(format!(
        "{runs} runs each of the solution and the starter{with}."
    ));
    let mut took = std::time::Duration::ZERO;
    let mut rows = Vec::new();
    for (name, files) in &subjects {
        // Each subject is built once, right before its runs: no run's time
        // includes compiling, no run waits for cargo's lock on the target
        // directory, and a chapter's binary (which every copy puts at the same
        // path, chapter 8's) is this subject's own while its runs use it.
        let subject = variant::assemble(ws, chapter, &format!("soak-{name}"), files)?;
        let executables = match cargo::build(ws, &subject, Targets::Tests, false)? {
            Build::Built(exes) => Some(exes),
            Build::Failed(_) => None,
        };
        let started = Instant::now();
        let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
        let mut ratios = Vec::new();
        for i in 0..runs {
            let verdict =
                verdict_of(ws, chapter, name, &subject, &executables, &mut ratios)?;
            *verdicts.entry(verdict).or_default() += 1;
            ui::progress(&format!("  {name}: run {} of {runs}", i + 1), i + 1 == runs);
        }
        took += started.elapsed();
        rows.push((*name, verdicts, ratios));
    }
    drop(spinner);
    Ok(Soak {
        runs,
        subjects: rows,
        took,
    })
}

/// One run's verdict in words; a gate's ratio is added to `ratios`.
fn verdict_of(
    ws: &Workspace,
    chapter: &Chapter,
    name: &str,
    subject: &Subject,
    executables: &Option<Vec<(String, PathBuf)>>,
    ratios: &mut Vec<f64>,
) -> Result<String> {
    let Some(executables) = executables else {
        return Ok("does not compile".to_string());
    };
    let run = checks::run_built(chapter, subject, executables, false, None)?;
    let gate = match &run {
        Run::DidNotCompile(_) => return Ok("does not compile".to_string()),
        Run::Ran(_) if !run.all_passed() => {
            let failed: Vec<String> =
                run.failed().iter().map(|(n, _)| short(n)).collect();
            return Ok(format!("fails: {}", failed.join(", ")));
        }
        Run::Ran(_) => match &chapter.card.bench {
            None => return Ok("passes".to_string()),
            Some(gate) => gate,
        },
    };
    let home = ws
        .scratch_dir()
        .join("criterion-quick")
        .join(format!("{}-soak-{name}", chapter.id()));
    Ok(
        match bench::quick(ws, chapter, gate, subject, &home, false)? {
            Ok(r) => {
                ratios.push(r.ratio);
                if r.passed {
                    "passes, gate holds".to_string()
                } else {
                    "checks pass, gate fails".to_string()
                }
            }
            Err(why) => format!("bench error: {why}"),
        },
    )
}

fn short(name: &str) -> String {
    name.rsplit("::").next().unwrap_or(name).to_string()
}

/// One thread per core spinning until dropped: the load a learner's machine
/// has while an editor, a browser and a build run beside the check.
struct BusyCores {
    stop: Arc<AtomicBool>,
    handles: Vec<std::thread::JoinHandle<()>>,
    threads: usize,
}

impl BusyCores {
    fn start() -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x: u64 = 1;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6364136223846793005),
                            )
                            .wrapping_add(1);
                        }
                    }
                })
            })
            .collect();
        Self {
            stop,
            handles,
            threads,
        }
    }
}

impl Drop for BusyCores {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}
