//! `cargo xtask soak N`: does a chapter's verdict ever change between runs?
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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;

use crate::chapter::Chapter;
use crate::checks::{self, Run};
use crate::workspace::Workspace;
use crate::{bench, ui, variant};

/// `cargo xtask soak N [--runs K] [--busy]`.
pub fn soak_command(
    ws: &Workspace,
    chapter: &Chapter,
    runs: usize,
    busy: bool,
) -> Result<bool> {
    ui::heading(&format!("{} · soak", chapter.heading()));
    let subjects = [
        ("solution", variant::solution_files(chapter)?),
        ("starter", variant::starter_files(chapter)?),
    ];
    // Build both first, so no run's time includes compiling.
    let mut built = Vec::new();
    for (name, files) in &subjects {
        let subject = variant::assemble(ws, chapter, &format!("soak-{name}"), files)?;
        checks::run(ws, chapter, &subject, false)?;
        built.push((*name, subject));
    }
    let spinner = busy.then(BusyCores::start);
    let cores = spinner.as_ref().map_or(0, |s| s.threads);
    println!(
        "{runs} runs each of the solution and the starter{}.",
        if busy {
            format!(", with {cores} busy threads (one per core)")
        } else {
            String::new()
        }
    );
    let started = Instant::now();
    let mut flips = 0;
    let mut rows = Vec::new();
    for (name, subject) in &built {
        let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
        let mut ratios = Vec::new();
        for i in 0..runs {
            let run = checks::run(ws, chapter, subject, false)?;
            let verdict = match &run {
                Run::DidNotCompile(_) => "does not compile".to_string(),
                Run::Ran(_) if !run.all_passed() => {
                    let failed: Vec<String> =
                        run.failed().iter().map(|(n, _)| short(n)).collect();
                    format!("fails: {}", failed.join(", "))
                }
                Run::Ran(_) => match &chapter.card.bench {
                    None => "passes".to_string(),
                    Some(gate) => {
                        let home = ws
                            .scratch_dir()
                            .join("criterion-quick")
                            .join(format!("{}-soak-{name}", chapter.id()));
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
                        }
                    }
                },
            };
            *verdicts.entry(verdict).or_default() += 1;
            eprint!("\r  {name}: run {} of {runs}", i + 1);
        }
        eprintln!();
        let most = verdicts.values().copied().max().unwrap_or(0);
        flips += runs - most;
        rows.push((*name, verdicts, ratios));
    }
    drop(spinner);
    for (name, verdicts, ratios) in &rows {
        println!("\n  {name}:");
        for (verdict, count) in verdicts {
            println!("    {count:>3} × {verdict}");
        }
        if !ratios.is_empty() {
            let mut r = ratios.clone();
            r.sort_by(f64::total_cmp);
            println!(
                "    gate ratio: min {:.1}×, median {:.1}×, max {:.1}×",
                r[0],
                r[r.len() / 2],
                r[r.len() - 1]
            );
        }
    }
    let secs = started.elapsed().as_secs();
    let mark = if flips == 0 {
        ui::green("✓")
    } else {
        ui::red("✗")
    };
    println!(
        "\n{mark} {flips} flips in {} runs ({} min {} s).",
        runs * built.len(),
        secs / 60,
        secs % 60
    );
    Ok(flips == 0)
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
