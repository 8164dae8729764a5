//! The latency histogram of the chapter's two days (the `percentiles`
//! example's 100,000 seeded request durations), with the mean and the
//! solution's `Metrics` p50, p95 and p99 marked.
//!
//! ```text
//! cargo xtask figures 6
//! ```

#[path = "../../figure.rs"]
mod figure;
#[allow(dead_code)] // its own main and report
#[path = "../../../exercises/ch06-observability/examples/percentiles.rs"]
mod percentiles;

use std::time::Duration;

use ch06_observability::{Metrics, Outcome};
use figure::Figure;
use support::rng::Rng;

/// Milliseconds, to a tenth.
fn ms(micros: f64) -> f64 {
    (micros / 100.0).round() / 10.0
}

fn main() {
    for (name, title, bad_day, bin_ms, upto_ms) in [
        (
            "latency-normal-day",
            "A normal day: 100,000 requests",
            false,
            5,
            500,
        ),
        (
            "latency-bad-day",
            "A bad day: 2% of the requests wait for a payment timeout",
            true,
            20,
            2_100,
        ),
    ] {
        let mut rng = Rng::new(6);
        let durations: Vec<u64> = (0..100_000)
            .map(|_| percentiles::duration_micros(&mut rng, bad_day))
            .collect();
        let metrics = Metrics::new();
        for &d in &durations {
            metrics.record(Outcome::Success, Duration::from_micros(d));
        }
        let snapshot = metrics.snapshot();
        let mean = durations.iter().sum::<u64>() as f64 / durations.len() as f64;
        let mut bins = vec![0u64; upto_ms / bin_ms];
        for &d in &durations {
            let bin = (d / 1_000) as usize / bin_ms;
            if let Some(count) = bins.get_mut(bin) {
                *count += 1;
            }
        }
        let mut figure = Figure::new(
            name,
            title,
            "request duration (ms)",
            &format!("requests per {bin_ms} ms"),
        );
        for (i, &count) in bins.iter().enumerate() {
            let from = (i * bin_ms) as f64;
            figure = figure.bar(from, from + bin_ms as f64, count as f64);
        }
        figure
            .mark(ms(mean), "mean")
            .mark(ms(snapshot.p50.as_micros() as f64), "p50")
            .mark(ms(snapshot.p95.as_micros() as f64), "p95")
            .mark(ms(snapshot.p99.as_micros() as f64), "p99")
            .print();
    }
}
