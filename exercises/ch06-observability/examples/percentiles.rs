//! Why percentiles, not the average: one service, a normal day and a bad one.
//!
//! ```text
//! cargo run -p ch06-observability --example percentiles --release
//! ```
//!
//! 100,000 request durations from a seeded generator, shaped like a real
//! service's: most requests take around 40 ms, and 3% miss a cache and take
//! 150 to 400 ms. On the bad day, in addition, 2% of the requests hit a payment
//! gateway that hangs until a 1 to 2 s timeout. The exact mean and
//! percentiles come from sorting all the durations.
//!
//! Then the same durations go through your `Metrics`, and the example shows how
//! far its p50, p95 and p99 are from the exact ones (the checks allow 1%), and
//! how far Prometheus' `histogram_quantile` would be, computed the way
//! Prometheus computes it from the `_bucket` lines of your exposition.

use std::time::Duration;

use ch06_observability::{Metrics, Outcome};
use support::rng::Rng;

// ANCHOR: day
/// One request's duration in microseconds (public: the book's figure of these
/// days, `cargo xtask figures 6`, draws the same durations).
pub fn duration_micros(rng: &mut Rng, bad_day: bool) -> u64 {
    if bad_day && rng.chance(2) {
        return 1_000_000 + rng.below(1_000_000); // stuck until the timeout
    }
    if rng.chance(3) {
        return 150_000 + rng.below(250_000); // a cache miss
    }
    // Around 40 ms, log-normally: most a little faster or slower, a few 2× off.
    let (u1, u2) = (1.0 - rng.unit(), rng.unit());
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (40_000.0 * (0.4 * normal).exp()) as u64
}
// ANCHOR_END: day

/// The exact percentile (nearest rank) of sorted values.
fn exact(sorted: &[u64], q: f64) -> u64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(micros: f64) -> String {
    format!("{:.1} ms", micros / 1000.0)
}

fn main() {
    let n = 100_000;
    let mut days = Vec::new();
    for (name, bad_day) in [("normal day", false), ("bad day", true)] {
        let mut rng = Rng::new(6);
        let mut durations: Vec<u64> =
            (0..n).map(|_| duration_micros(&mut rng, bad_day)).collect();
        let metrics = Metrics::new();
        for &d in &durations {
            metrics.record(Outcome::Success, Duration::from_micros(d));
        }
        durations.sort_unstable();
        let buckets = buckets_of(&metrics.render_prometheus());
        days.push((name, durations, metrics.snapshot(), buckets));
    }

    println!("{n} requests a day; exact values, by sorting every duration:\n");
    println!(
        "  {:<12} {:>10} {:>10} {:>10} {:>10}",
        "", "mean", "p50", "p95", "p99"
    );
    for (name, sorted, _, _) in &days {
        let mean = sorted.iter().sum::<u64>() as f64 / sorted.len() as f64;
        println!(
            "  {name:<12} {:>10} {:>10} {:>10} {:>10}",
            ms(mean),
            ms(exact(sorted, 0.50) as f64),
            ms(exact(sorted, 0.95) as f64),
            ms(exact(sorted, 0.99) as f64)
        );
    }
    let slow = |sorted: &[u64], over: u64| sorted.iter().filter(|&&d| d > over).count();
    let (_, normal, _, _) = &days[0];
    let (_, bad, _, _) = &days[1];
    println!(
        "\n  requests over 1 s: {} on the normal day, {} on the bad day",
        slow(normal, 1_000_000),
        slow(bad, 1_000_000)
    );

    println!("\nYour Metrics, fed the same durations (the checks allow 1% off):\n");
    for (name, sorted, snapshot, _) in &days {
        let mut cells = Vec::new();
        for (label, q, got) in [
            ("p50", 0.50, snapshot.p50),
            ("p95", 0.95, snapshot.p95),
            ("p99", 0.99, snapshot.p99),
        ] {
            let want = exact(sorted, q) as f64;
            let got = got.as_micros() as f64;
            let off = (got - want).abs() / want * 100.0;
            cells.push(format!("{label} {} ({off:.2}% off)", ms(got)));
        }
        println!("  {name:<12} {}", cells.join(", "));
    }

    println!(
        "\nPrometheus' histogram_quantile over your exposition's buckets \
         (orders_duration_seconds_bucket):\n"
    );
    for (name, sorted, _, buckets) in &days {
        if buckets.is_empty() {
            println!("  {name:<12} (no orders_duration_seconds_bucket lines yet)");
            continue;
        }
        let mut cells = Vec::new();
        for (label, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
            let want = exact(sorted, q) as f64;
            let got = histogram_quantile(q, buckets) * 1e6;
            let off = (got - want).abs() / want * 100.0;
            cells.push(format!("{label} {} ({off:.1}% off)", ms(got)));
        }
        println!("  {name:<12} {}", cells.join(", "));
    }
}

/// The `orders_duration_seconds_bucket` lines of an exposition, as (upper
/// bound in seconds, cumulative count), in order; empty if there are none.
fn buckets_of(exposition: &str) -> Vec<(f64, f64)> {
    let mut buckets: Vec<(f64, f64)> = exposition
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("orders_duration_seconds_bucket{le=\"")?;
            let (le, rest) = rest.split_once("\"}")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((bound, rest.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// What PromQL's `histogram_quantile(q, …)` returns for one set of buckets:
/// find the bucket the rank falls in, then assume the values are spread
/// evenly inside it (linear interpolation between its bounds; the first
/// bucket starts at 0; a rank in the +Inf bucket returns the highest finite
/// bound).
fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> f64 {
    let total = buckets.last().map_or(0.0, |b| b.1);
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                return lower.0;
            }
            if count == lower.1 {
                return bound;
            }
            return lower.0 + (bound - lower.0) * (rank - lower.1) / (count - lower.1);
        }
        lower = (bound, count);
    }
    f64::NAN
}
