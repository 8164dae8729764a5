//! A load generator: sends requests at a planned rate and reports latencies.
//!
//! The target is any function that starts request number `i` and returns a
//! future that ends when the answer is in: the checks pass a simulated service
//! on tokio's paused clock, the example passes HTTP calls to the real server.
//!
//! Open loop: request `i` is due at `start + i × interval`, whatever earlier
//! requests are doing, and its latency runs from that intended start to its
//! answer. A generator that waits for each answer (a closed loop) stops
//! sending exactly when the service stalls, so the stall hits one request
//! instead of every request a user would have sent meanwhile: coordinated
//! omission. When all connections are busy, a request starts late; measuring
//! from its intended start keeps that wait in its latency, as a user waiting
//! in line would feel it (the convention of wrk2 and HdrHistogram).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

/// One request in flight: ends when its answer is in.
pub type Request = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What to send.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Requests per second, on a fixed schedule.
    pub rate_per_sec: u32,
    /// How long to send for: `rate_per_sec × duration` requests in all.
    pub duration: Duration,
    /// At most this many requests in flight at once (a real tool's
    /// connection pool).
    pub connections: usize,
}

impl Plan {
    /// How many requests the plan sends.
    pub fn requests(&self) -> u64 {
        (u128::from(self.rate_per_sec) * self.duration.as_nanos() / 1_000_000_000)
            as u64
    }

    /// The time between two planned starts.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(1) / self.rate_per_sec.max(1)
    }
}

/// What a run saw.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// One latency per request, in the order of the plan: `latencies[i]` is
    /// request `i`'s, whenever its answer came back.
    pub latencies: Vec<Duration>,
}

impl Report {
    /// The `p`-th percentile (0 < p ≤ 100) of the latencies, nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.latencies, p)
    }

    pub fn p50(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn p95(&self) -> Duration {
        self.percentile(95.0)
    }

    pub fn p99(&self) -> Duration {
        self.percentile(99.0)
    }
}

/// Nearest-rank percentile (0 < p ≤ 100): the smallest value with at least
/// `p`% of the values at or below it, exactly as given (to the nanosecond).
/// Zero for no values.
pub fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `plan` against `send` and reports every request's latency.
///
/// Request `i` (from 0) is planned to start `i × plan.interval()` after the
/// run starts, a schedule fixed in advance, whatever the service does; `send(i)`
/// is called once per request, never before its planned start, and never with
/// more than `plan.connections` requests in flight.
pub async fn run<F>(plan: Plan, send: F) -> Report
where
    F: Fn(u64) -> Request + Send + Sync + 'static,
{
    let connections = Arc::new(Semaphore::new(plan.connections.max(1)));
    let interval = plan.interval().as_nanos();
    let start = Instant::now();
    let mut in_flight = Vec::new();
    for i in 0..plan.requests() {
        let offset = interval.saturating_mul(u128::from(i));
        let intended =
            start + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX));
        tokio::time::sleep_until(intended).await;
        // Waiting here for a free connection delays the sending, but not the
        // moment the latency is counted from.
        let Ok(permit) = Arc::clone(&connections).acquire_owned().await else {
            break;
        };
        let request = send(i);
        in_flight.push(tokio::spawn(async move {
            request.await;
            drop(permit);
            intended.elapsed()
        }));
    }
    let mut latencies = Vec::with_capacity(in_flight.len());
    for handle in in_flight {
        // A request whose future panicked has no latency to report.
        if let Ok(latency) = handle.await {
            latencies.push(latency);
        }
    }
    Report { latencies }
}
