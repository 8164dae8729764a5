//! The service's numbers: how many requests, how many failed, how long they
//! took.
//!
//! `place_order` is meant to call [`Metrics::record`] once per request. The
//! dashboard reads [`Metrics::snapshot`]; Prometheus scrapes
//! [`Metrics::render_prometheus`] over HTTP every few seconds and expects its
//! text exposition format, with these metrics:
//!
//! - `orders_requests_total`, a counter: every request, whatever its outcome;
//! - `orders_errors_total`, a counter: the requests that failed;
//! - `orders_duration_seconds`, a histogram of request durations in seconds;
//! - `orders_latency_seconds`, a summary with the quantiles 0.5, 0.95 and 0.99.
//!
//! Several requests record at the same time, through `&self`.
//!
//! Solution: the RED method's three numbers (rate, errors, duration), kept
//! with atomics only, so that recording never waits for a lock.
//!
//! - Requests and errors are two counters. The rate is what Prometheus derives
//!   from a counter (`rate(orders_requests_total[1m])`), so the service only
//!   counts; it never divides by time itself.
//! - The starter kept a sum and showed the average. An average of latencies
//!   describes no request in particular: a few slow ones pull it up while the
//!   median customer sees something else, and it says nothing about the slow
//!   tail. Percentiles answer "how long do 95 (or 99) requests in 100 stay
//!   within", which is what people feel.
//! - Exact percentiles need every duration, sorted: memory that grows with
//!   traffic. A histogram keeps counts per bucket instead, in fixed memory.
//!   The buckets here are log-linear, as in HdrHistogram: each power of two
//!   is split into 128 equal buckets, so a bucket is never wider than 1/128 of
//!   the values it holds (0.8%), and reporting its middle is within 0.4% of
//!   any value in it. 7,424 buckets cover every `u64` of microseconds, in 58 KB.
//! - Prometheus gets a second, coarse histogram with its conventional bucket
//!   bounds. Its buckets can be added up across instances, and Prometheus can
//!   compute percentiles from them; the summary carries this process's own
//!   percentiles, which are precise but cannot be averaged across instances.
//!
//! The trade-off: the snapshot reads each atomic separately, so while requests
//! are being recorded, its numbers can be a few requests apart from each other.
//! For a dashboard, that is fine; a lock on every request would not be.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

/// What the dashboard shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    pub requests: u64,
    pub errors: u64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
}

/// Each power of two is split into 2^7 = 128 buckets.
const SUB_BUCKET_BITS: u32 = 7;
const SUB_BUCKETS: usize = 1 << SUB_BUCKET_BITS;
/// Enough buckets for any `u64` number of microseconds.
const BUCKETS: usize = (64 - SUB_BUCKET_BITS as usize + 1) * SUB_BUCKETS;

/// Prometheus' customary bucket bounds for request durations, in seconds.
const PROMETHEUS_BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    requests: AtomicU64,
    errors: AtomicU64,
    total_micros: AtomicU64,
    /// The fine histogram, for percentiles: counts per bucket of microseconds.
    buckets: Box<[AtomicU64]>,
    /// The coarse histogram, for Prometheus: one count per bound, then +Inf.
    prometheus: [AtomicU64; PROMETHEUS_BOUNDS.len() + 1],
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            total_micros: AtomicU64::new(0),
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            prometheus: Default::default(),
        }
    }

    /// Records one request: how it ended and how long it took.
    pub fn record(&self, outcome: Outcome, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.requests.fetch_add(1, Ordering::Relaxed);
        if outcome == Outcome::Failure {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.total_micros.fetch_add(micros, Ordering::Relaxed);
        self.buckets[bucket_of(micros)].fetch_add(1, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        let slot = PROMETHEUS_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(PROMETHEUS_BOUNDS.len());
        self.prometheus[slot].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let percentile = |q| Duration::from_micros(percentile(&counts, q));
        MetricsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            p50: percentile(0.50),
            p95: percentile(0.95),
            p99: percentile(0.99),
        }
    }

    /// The metrics in Prometheus' text exposition format (version 0.0.4):
    /// a `# TYPE` line before each metric, then its samples, one per line.
    pub fn render_prometheus(&self) -> String {
        let s = self.snapshot();
        let sum = self.total_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let mut out = format!(
            "# HELP orders_requests_total Order requests, whatever their outcome.\n\
             # TYPE orders_requests_total counter\n\
             orders_requests_total {}\n\
             # HELP orders_errors_total Order requests that failed.\n\
             # TYPE orders_errors_total counter\n\
             orders_errors_total {}\n\
             # HELP orders_duration_seconds Time to handle an order request.\n\
             # TYPE orders_duration_seconds histogram\n",
            s.requests, s.errors
        );
        // Prometheus buckets are cumulative: each counts everything at or
        // under its bound, so the last one (+Inf) counts every request.
        let mut cumulative = 0;
        for (i, count) in self.prometheus.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = PROMETHEUS_BOUNDS
                .get(i)
                .map_or("+Inf".to_string(), f64::to_string);
            out += &format!(
                "orders_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}\n"
            );
        }
        out += &format!(
            "orders_duration_seconds_sum {sum}\n\
             orders_duration_seconds_count {cumulative}\n\
             # HELP orders_latency_seconds Order request latency percentiles.\n\
             # TYPE orders_latency_seconds summary\n"
        );
        for (q, value) in [("0.5", s.p50), ("0.95", s.p95), ("0.99", s.p99)] {
            let seconds = value.as_secs_f64();
            out += &format!("orders_latency_seconds{{quantile=\"{q}\"}} {seconds}\n");
        }
        out += &format!(
            "orders_latency_seconds_sum {sum}\n\
             orders_latency_seconds_count {}\n",
            s.requests
        );
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A derived Debug would print all 7,424 buckets.
impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Metrics").field(&self.snapshot()).finish()
    }
}

/// The bucket of a value: values under 128 have a bucket each; above, the
/// power of two the value falls in picks a group of 128 buckets, and the seven
/// bits after the leading one pick the bucket within the group.
fn bucket_of(micros: u64) -> usize {
    if micros < SUB_BUCKETS as u64 {
        return micros as usize;
    }
    let shift = 63 - micros.leading_zeros() - SUB_BUCKET_BITS;
    (shift as usize + 1) * SUB_BUCKETS + ((micros >> shift) as usize - SUB_BUCKETS)
}

/// The smallest value bucket `i` holds, and how many values it spans.
fn bucket_range(i: usize) -> (u64, u64) {
    if i < SUB_BUCKETS {
        return (i as u64, 1);
    }
    let shift = (i / SUB_BUCKETS - 1) as u32;
    let lowest = ((SUB_BUCKETS + i % SUB_BUCKETS) as u64) << shift;
    (lowest, 1 << shift)
}

/// The nearest-rank percentile: the bucket holding the value that at least a
/// fraction `q` of all values are at or under, reported as the bucket's middle.
fn percentile(counts: &[u64], q: f64) -> u64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    for (i, &count) in counts.iter().enumerate() {
        seen += count;
        if seen >= rank {
            let (lowest, width) = bucket_range(i);
            return lowest + width / 2;
        }
    }
    unreachable!("rank is at most the total count")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_the_bucket_whose_range_holds_it() {
        for v in (0..100_000).chain([u64::MAX / 3, u64::MAX]) {
            let (lowest, width) = bucket_range(bucket_of(v));
            assert!(lowest <= v && v - lowest < width, "{v}");
            assert!(width == 1 || (width as f64) / (lowest as f64) <= 1.0 / 128.0);
        }
    }
}
