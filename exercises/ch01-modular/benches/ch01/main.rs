//! Chapter 1's bench: one checkout, your code beside the starter's, in the
//! same run.
//!
//! Every service really waits (tokio's timer, not a paused clock): charge
//! 10 ms, stock 5 ms, email 8 ms, analytics 6 ms, a tenth of the latencies the
//! checks use, so that criterion can take many samples quickly. Calling the
//! four services one after the other takes their sum, 29 ms; once email and
//! analytics run together, the floor is 10 + 5 + 8 = 23 ms. That is a ratio of
//! about 1.26, too small a gap to gate on a timing, so this bench is a
//! demonstration: `cargo xtask check 1` gates on the paused-clock check
//! instead. Run it with `cargo xtask bench 1`; it prints the ratio at the end.

mod starter;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use ch01_modular::analytics::InMemoryAnalytics;
use ch01_modular::inventory::InMemoryInventory;
use ch01_modular::mail::InMemoryMailer;
use ch01_modular::payments::InMemoryPayments;
use ch01_modular::{Cart, Catalog, Shop};
use criterion::{Criterion, SamplingMode, criterion_group};

const GROUP: &str = "ch01_checkout";

fn checkout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let ms = Duration::from_millis;
    let shop = Shop {
        catalog: Catalog::new([("mug", 1_200), ("tea", 850), ("pot", 3_400)]),
        payments: InMemoryPayments::new(ms(10)),
        // Enough stock for every checkout criterion will run.
        inventory: InMemoryInventory::new(
            ms(5),
            [("mug", 1_000_000), ("tea", 1_000_000), ("pot", 1_000_000)],
        ),
        mailer: InMemoryMailer::new(ms(8)),
        analytics: InMemoryAnalytics::new(ms(6)),
    };
    let cart = Cart::new("ada@example.com", [("mug", 2), ("tea", 3), ("pot", 1)]);

    let mut group = c.benchmark_group(GROUP);
    // A checkout takes tens of milliseconds: take few, flat samples.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function("starter", |b| {
        b.iter(|| {
            runtime
                .block_on(starter::process_order(&shop, &cart))
                .unwrap()
        })
    });
    group.bench_function("yours", |b| {
        b.iter(|| {
            runtime
                .block_on(ch01_modular::checkout(&shop, &cart))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, checkout);

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratio(started);
}

/// Prints starter ÷ yours from the medians criterion just wrote, when this run
/// measured both (a filtered run may have measured only one of them).
fn print_ratio(started: SystemTime) {
    let median_ms = |function: &str| -> Option<f64> {
        let path = criterion_home()
            .join(GROUP)
            .join(function)
            .join("new")
            .join("estimates.json");
        let written = std::fs::metadata(&path).ok()?.modified().ok()?;
        if written < started {
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        median_ns(&text).map(|ns| ns / 1e6)
    };
    if let (Some(starter), Some(yours)) = (median_ms("starter"), median_ms("yours")) {
        println!(
            "\n{GROUP}: starter {starter:.1} ms, yours {yours:.1} ms (criterion \
             medians); starter ÷ yours = {:.2}.",
            starter / yours
        );
    }
}

/// Where criterion writes its results: the same rule as criterion's own.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // This executable is <target>/<profile>/deps/ch01-<hash>.
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// criterion's median estimate, in nanoseconds, from its estimates.json.
fn median_ns(json: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["median"]["point_estimate"].as_f64()
}
