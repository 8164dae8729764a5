//! Chapter 6's bench: what instrumentation costs, measured in one run.
//!
//! ```text
//! cargo xtask bench 6
//! ```
//!
//! Three versions of one order, each placed against services that answer at
//! once (`Latency::NONE`), so the handler's own work is all that is measured:
//!
//! - `bare`: the handler without a single log line or metric (`bare.rs`);
//! - `yours_unobserved`: your handler with no subscriber installed, the cost of
//!   spans and events that nobody listens to;
//! - `yours_json`: your handler with your JSON subscriber writing to nowhere
//!   (`io::sink`): building every span, formatting every event, recording the
//!   metrics.
//!
//! At the end it prints each ratio to `bare`, and what the difference costs in
//! CPU: the share of one core it takes at 1,000 orders a second. (Not a share
//! of the 40 ms an order waits on its services: that wait is not CPU, and the
//! thread serves other requests meanwhile.)

mod bare;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use ch06_observability::{Deps, Latency, OrderRequest, log_subscriber, place_order};
use criterion::Criterion;

// ANCHOR: overhead
fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let deps = Deps::with_latency(Latency::NONE);
    let req = OrderRequest {
        request_id: "req-bench".into(),
        user_id: 7,
        card: ch06_observability::CardNumber::new("4242 4242 4242 4242"),
        lines: vec![ch06_observability::CartLine {
            sku: "KEYBOARD".into(),
            quantity: 2,
        }],
    };
    let mut group = c.benchmark_group("ch06_overhead");
    group.bench_function("bare", |b| {
        b.iter(|| runtime.block_on(bare::place_order(&deps, black_box(req.clone()))))
    });
    group.bench_function("yours_unobserved", |b| {
        b.iter(|| runtime.block_on(place_order(&deps, black_box(req.clone()))))
    });
    tracing::subscriber::with_default(log_subscriber(std::io::sink), || {
        group.bench_function("yours_json", |b| {
            b.iter(|| runtime.block_on(place_order(&deps, black_box(req.clone()))))
        });
    });
    group.finish();
}
// ANCHOR_END: overhead

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    overhead(&mut criterion);
    criterion.final_summary();
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--test" || a == "--list") {
        print_ratios();
    }
}

/// Reads the medians criterion just wrote and prints each one against `bare`.
fn print_ratios() {
    let home = criterion_home().join("ch06_overhead");
    let median = |function: &str| -> Option<f64> {
        let path = home.join(function).join("new").join("estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json["median"]["point_estimate"].as_f64()
    };
    let Some(bare) = median("bare") else {
        return;
    };
    // Nanoseconds of CPU in one second of one core.
    let core_second = Duration::from_secs(1).as_nanos() as f64;
    println!("\nch06_overhead, medians against the bare handler:");
    println!("  bare               {:>9.2} µs", bare / 1e3);
    for function in ["yours_unobserved", "yours_json"] {
        if let Some(t) = median(function) {
            println!(
                "  {function:<18} {:>9.2} µs  {:>5.1}× bare  (+{:.2} µs of CPU a \
                 request: {:.2}% of one core at 1,000 orders a second)",
                t / 1e3,
                t / bare,
                (t - bare) / 1e3,
                (t - bare) * 1_000.0 / core_second * 100.0
            );
        }
    }
}

/// Where criterion writes its results, by criterion's own rules.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // The bench binary is built in <target>/<profile>/deps; its target folder
    // is also where cargo puts CARGO_TARGET_TMPDIR.
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("..")
        .join("criterion")
}
