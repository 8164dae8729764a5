//! Signup latency with a flaky email provider, on tokio's paused clock: the
//! starter's coupled signup (as the bench freezes it) beside the solution's
//! outbox, 400 signups each, as `cargo xtask bench 4` measures them.
//!
//! ```text
//! cargo xtask figures 4
//! ```
//!
//! The provider is the bench's seeded script: 90% of calls answer in 5 ms, 6%
//! in 50 ms, 3% fail after 200 ms and 1% answer after 1 s. On the paused
//! clock a latency is exactly what the signup waited for, the same on every
//! machine.

#[path = "../../figure.rs"]
mod figure;
#[path = "../../../exercises/ch04-decoupling/benches/ch04/starter.rs"]
mod starter;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ch04_decoupling::{Email, EmailError, EmailService, Policy, Service};
use figure::Figure;
use support::rng::Rng;
use tokio::time::Instant;

const SIGNUPS: usize = 400;

/// The bench's flaky provider: its answers come from a seeded generator.
struct Flaky(Mutex<Rng>);

impl EmailService for Flaky {
    async fn send(&self, _key: String, _email: Email) -> Result<(), EmailError> {
        let roll = self.0.lock().unwrap().below(100);
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

fn temp_db(name: &str) -> PathBuf {
    let path = std::env::temp_dir()
        .join(format!("ch04-figure-{name}-{}.sqlite", std::process::id()));
    remove(&path);
    path
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let (coupled_db, decoupled_db) = (temp_db("coupled"), temp_db("decoupled"));
    let [coupled, decoupled] = rt.block_on(async {
        let coupled = starter::CoupledSignup {
            db: Mutex::new(ch04_decoupling::db::open(&coupled_db).expect("a database")),
            email: Flaky(Mutex::new(Rng::new(7))),
        };
        let mut rng = Rng::new(3);
        let decoupled = Service::open(
            &decoupled_db,
            Flaky(Mutex::new(Rng::new(7))),
            Policy::default(),
            move || rng.unit(),
        )
        .expect("a database");
        let mut times = [Vec::new(), Vec::new()];
        for i in 0..SIGNUPS {
            let (name, address) = (format!("User {i}"), format!("user{i}@example.com"));
            let start = Instant::now();
            let _ = coupled.signup(&name, &address).await;
            times[0].push(start.elapsed());
            let start = Instant::now();
            let _ = decoupled.signup(&name, &address).await;
            times[1].push(start.elapsed());
        }
        times.map(|mut t| {
            t.sort();
            t
        })
    });
    remove(&coupled_db);
    remove(&decoupled_db);

    // The latency at each percentile, nearest rank.
    let percentiles: Vec<usize> =
        [50, 60, 70, 80, 85].into_iter().chain(88..=100).collect();
    let curve = |sorted: &[Duration]| -> Vec<(f64, f64)> {
        percentiles
            .iter()
            .map(|&p| {
                let rank = (p * sorted.len()).div_ceil(100).max(1);
                (p as f64, sorted[rank - 1].as_secs_f64() * 1e3)
            })
            .collect()
    };
    Figure::new(
        "signup-latency",
        "Signup latency with a flaky email provider (400 signups, paused clock)",
        "percentile of signups",
        "signup latency (ms)",
    )
    .x_range(50.0, 100.0)
    .series("starter: coupled (waits for the email)", &curve(&coupled))
    .series("solution: outbox (email sent later)", &curve(&decoupled))
    .print();
}
