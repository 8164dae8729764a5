//! Chapter 4's bench: signup latency with a flaky email provider, the
//! starter's coupled signup beside yours, in the same run.
//!
//! The provider follows a seeded script (the same calls in the same order every
//! run): 90% of calls answer in 5 ms, 6% in 50 ms, 3% fail after 200 ms, and 1%
//! "hang", which here means answering after 1 s (a bench cannot wait forever;
//! the starter, which has no timeout, would). The table is printed twice:
//! - on tokio's **paused clock**, where each latency is exactly what the
//!   signup waited for: the same on every machine (this is what the checks
//!   hold you to: 0 ms for a decoupled signup);
//! - on the **wall clock**, where the signup's own work (a SQLite
//!   transaction in a file) shows, and the numbers move with the machine.
//!
//! Then criterion measures the mean of each, for its report. Run it with
//! `cargo xtask bench 4`. No gate: the checks are the verdict.

mod starter;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ch04_decoupling::{Email, EmailError, EmailService, Policy, Service};
use criterion::{Criterion, PlottingBackend, SamplingMode};
use support::rng::Rng;
use tokio::time::Instant;

const SIGNUPS: usize = 400;
const GROUP: &str = "ch04_signup";

/// The flaky provider: its answers come from a seeded generator.
struct Flaky {
    rng: Mutex<Rng>,
    calls: AtomicU64,
}

impl Flaky {
    fn new(seed: u64) -> Arc<Self> {
        Arc::new(Self {
            rng: Mutex::new(Rng::new(seed)),
            calls: AtomicU64::new(0),
        })
    }
}

impl EmailService for Flaky {
    async fn send(&self, _key: String, _email: Email) -> Result<(), EmailError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let roll = self.rng.lock().unwrap().below(100);
        let (after, result) = match roll {
            0..90 => (5, Ok(())),
            90..96 => (50, Ok(())),
            96..99 => (200, Err(EmailError::Unavailable)),
            _ => (1_000, Ok(())),
        };
        tokio::time::sleep(Duration::from_millis(after)).await;
        result
    }
}

struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir()
            .join(format!("ch04-bench-{name}-{}.sqlite", std::process::id()));
        let db = Self(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

fn runtime(paused: bool) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(paused)
        .build()
        .expect("a tokio runtime")
}

/// p50 and p99 of `SIGNUPS` signups, coupled and yours.
fn latencies(paused: bool) -> [(Duration, Duration); 2] {
    let rt = runtime(paused);
    let coupled_db = TempDb::new(if paused { "coupled-paused" } else { "coupled" });
    let yours_db = TempDb::new(if paused { "yours-paused" } else { "yours" });
    rt.block_on(async {
        let coupled = starter::CoupledSignup {
            db: Mutex::new(
                ch04_decoupling::db::open(&coupled_db.0).expect("a database"),
            ),
            email: Flaky::new(7),
        };
        let mut rng = Rng::new(3);
        let yours =
            Service::open(&yours_db.0, Flaky::new(7), Policy::default(), move || {
                rng.unit()
            })
            .expect("a database");
        let mut times = [Vec::new(), Vec::new()];
        for i in 0..SIGNUPS {
            let (name, address) = (format!("User {i}"), format!("user{i}@example.com"));
            let start = Instant::now();
            let _ = coupled.signup(&name, &address).await;
            times[0].push(start.elapsed());
            let start = Instant::now();
            let _ = yours.signup(&name, &address).await;
            times[1].push(start.elapsed());
        }
        times.map(|mut t| {
            t.sort();
            (t[t.len() / 2], t[t.len() * 99 / 100])
        })
    })
}

fn show(d: Duration) -> String {
    if d >= Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    }
}

fn table() {
    println!("Signup latency, {SIGNUPS} signups each, flaky provider (seeded):");
    println!(
        "{:<22} {:>12} {:>12} {:>12} {:>12}",
        "", "p50", "p99", "p50 ratio", "p99 ratio"
    );
    for (clock, paused) in [("paused clock", true), ("wall clock", false)] {
        let [coupled, yours] = latencies(paused);
        let ratio = |a: Duration, b: Duration| {
            if b.is_zero() {
                "∞ (yours 0)".to_string()
            } else {
                format!("{:.0}×", a.as_secs_f64() / b.as_secs_f64())
            }
        };
        println!(
            "{:<22} {:>12} {:>12}",
            format!("coupled, {clock}"),
            show(coupled.0),
            show(coupled.1)
        );
        println!(
            "{:<22} {:>12} {:>12} {:>12} {:>12}",
            format!("yours, {clock}"),
            show(yours.0),
            show(yours.1),
            ratio(coupled.0, yours.0),
            ratio(coupled.1, yours.1)
        );
    }
    println!();
}

fn signup(c: &mut Criterion) {
    let rt = runtime(false);
    let (coupled_db, yours_db) =
        (TempDb::new("crit-coupled"), TempDb::new("crit-yours"));
    let coupled = starter::CoupledSignup {
        db: Mutex::new(ch04_decoupling::db::open(&coupled_db.0).expect("a database")),
        email: Flaky::new(11),
    };
    let mut rng = Rng::new(3);
    let yours =
        Service::open(&yours_db.0, Flaky::new(11), Policy::default(), move || {
            rng.unit()
        })
        .expect("a database");
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group(GROUP);
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("starter", |b| {
        b.iter(|| {
            let i = next.fetch_add(1, Ordering::Relaxed);
            rt.block_on(coupled.signup("Ada", &format!("c{i}@example.com")))
        })
    });
    group.bench_function("yours", |b| {
        b.iter(|| {
            let i = next.fetch_add(1, Ordering::Relaxed);
            rt.block_on(yours.signup("Ada", &format!("y{i}@example.com")))
        })
    });
    group.finish();
}

fn main() {
    table();
    // Plotters draws the report's charts; naming it spares the "Gnuplot not
    // found" line criterion prints while looking for gnuplot.
    let mut c = Criterion::default()
        .plotting_backend(PlottingBackend::Plotters)
        .configure_from_args();
    signup(&mut c);
    c.final_summary();
}
