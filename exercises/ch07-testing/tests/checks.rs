//! Chapter 7's checks on the load generator and the regression gate.
//!
//! Your own tests of the service (src/tests/) are judged by the runner
//! separately: `cargo xtask check 7` runs them against known mutants of the
//! service and prints one line per mutant after these checks.
//!
//! The load generator runs on tokio's paused clock against a simulated
//! service: every request takes 10 ms, except that the service stalls from
//! t = 2 s to t = 3 s, and everything that arrives or is in flight then is
//! answered at 3 s + 10 ms. Time moves only when every task waits, so the
//! figures are exact and the same on every machine.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch07_testing::gate;
use ch07_testing::loadgen::{self, Plan, Report, Request};
use tokio::time::Instant;

const LATENCY: Duration = Duration::from_millis(10);
const STALL_FROM: Duration = Duration::from_secs(2);
const STALL_UNTIL: Duration = Duration::from_secs(3);

/// The simulated service: records when each request arrives (when its future
/// is first polled: that is when it would be on the wire).
struct Scripted {
    start: Instant,
    arrivals: Mutex<Vec<Duration>>,
}

impl Scripted {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            arrivals: Mutex::new(Vec::new()),
        })
    }

    fn target(self: &Arc<Self>) -> impl Fn(u64) -> Request + Send + Sync + 'static {
        let service = Arc::clone(self);
        move |_i| {
            let service = Arc::clone(&service);
            Box::pin(async move {
                let at = service.start.elapsed();
                service.arrivals.lock().unwrap().push(at);
                tokio::time::sleep(latency_at(at)).await;
            })
        }
    }

    fn arrivals(&self) -> Vec<Duration> {
        self.arrivals.lock().unwrap().clone()
    }
}

// ANCHOR: script
/// How long the simulated service takes for a request arriving at `at`.
fn latency_at(at: Duration) -> Duration {
    if at >= STALL_FROM && at < STALL_UNTIL {
        STALL_UNTIL - at + LATENCY
    } else {
        LATENCY
    }
}
// ANCHOR_END: script

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// 100 requests per second for 5 s, with connections to spare.
const ROOMY: Plan = Plan {
    rate_per_sec: 100,
    duration: Duration::from_secs(5),
    connections: 1_000,
};

async fn run_roomy() -> (Report, Vec<Duration>) {
    let service = Scripted::new();
    let report = loadgen::run(ROOMY, service.target()).await;
    (report, service.arrivals())
}

#[test]
fn the_report_gives_nearest_rank_percentiles() {
    // 1 ms, 2 ms, … 100 ms, in a scrambled order.
    let latencies: Vec<Duration> = (0..100u64)
        .map(|i| Duration::from_millis(i * 37 % 100 + 1))
        .collect();
    let report = Report { latencies };
    let seen = [
        report.p50(),
        report.p95(),
        report.p99(),
        report.percentile(100.0),
    ];
    let single = loadgen::percentile(&[Duration::from_millis(7)], 99.0);
    let empty = loadgen::percentile(&[], 99.0);
    assert!(
        seen == [50, 95, 99, 100].map(Duration::from_millis)
            && single == Duration::from_millis(7)
            && empty == Duration::ZERO,
        "Expected, for the latencies 1 ms to 100 ms: p50 = 50 ms, p95 = 95 ms, p99 = \
         99 ms, p100 = 100 ms; 7 ms for the single value 7 ms; zero for no values. \
         Seen: {seen:?}, {single:?}, {empty:?}. Look at loadgen::percentile and \
         Report's p50, p95 and p99."
    );
}

#[tokio::test(start_paused = true)]
async fn the_load_generator_sends_every_planned_request_once() {
    let (report, arrivals) = run_roomy().await;
    assert_eq!(
        (arrivals.len(), report.latencies.len()),
        (500, 500),
        "The plan is 100 requests per second for 5 s: 500 requests, and one latency \
         for each in the report. Seen: {} requests arrived, {} latencies reported. \
         Look at loadgen::run.",
        arrivals.len(),
        report.latencies.len()
    );
}

#[tokio::test(start_paused = true)]
async fn the_load_generator_holds_its_arrival_rate_while_the_service_stalls() {
    let (_, arrivals) = run_roomy().await;
    for second in 0..5u64 {
        let from = Duration::from_secs(second);
        let until = from + Duration::from_secs(1);
        let count = arrivals
            .iter()
            .filter(|a| **a >= from && **a < until)
            .count();
        assert!(
            (95..=105).contains(&count),
            "Expected about 100 requests to start in every second of the plan (95 to \
             105: the rate held within 5%), whatever the service does. Seen: {count} \
             started between t = {second} s and t = {} s (the service stalls from \
             t = 2 s to t = 3 s). Requests must start on the plan's schedule, not when \
             earlier answers come back. Look at loadgen::run.",
            second + 1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_reported_p99_includes_the_stall() {
    let (report, _) = run_roomy().await;
    // What users would have seen had each request been sent on time.
    let truth: Vec<Duration> = (0..500u64)
        .map(|i| latency_at(ROOMY.interval() * i as u32))
        .collect();
    let expected = loadgen::percentile(&truth, 99.0);
    let seen = report.p99();
    let close = seen.abs_diff(expected) * 20 <= expected;
    assert!(
        close && report.p50() == LATENCY,
        "Expected p50 = {} and p99 within 5% of {} (the requests planned during the \
         1 s stall wait for it). Seen: p50 = {}, p99 = {}. A generator that waits for \
         each answer sends almost nothing during the stall, so the stall barely shows \
         in its percentiles. Look at loadgen::run.",
        ms(LATENCY),
        ms(expected),
        ms(report.p50()),
        ms(seen)
    );
}

#[tokio::test(start_paused = true)]
async fn latency_is_measured_from_each_requests_intended_start() {
    // Only 4 connections: during the stall all 4 are stuck, and the requests
    // planned meanwhile cannot even be sent until the stall ends.
    let plan = Plan {
        rate_per_sec: 100,
        duration: Duration::from_secs(10),
        connections: 4,
    };
    let service = Scripted::new();
    let report = loadgen::run(plan, service.target()).await;
    let in_flight_max = max_in_flight(&service.arrivals());
    assert!(
        in_flight_max <= 4,
        "Expected at most 4 requests in flight at once (plan.connections = 4). Seen: \
         {in_flight_max}. Look at loadgen::run."
    );
    let slow = report
        .latencies
        .iter()
        .filter(|l| **l >= Duration::from_millis(500))
        .count();
    assert!(
        report.latencies.len() == 1_000
            && slow >= 40
            && report.p99() >= Duration::from_millis(800),
        "Expected 1000 latencies, of which the requests planned in the first half of \
         the stall (about 50) show at least 500 ms, and p99 at least 800 ms: a request \
         that waited for a free connection was late for its user all the same. Seen: \
         {} latencies, {slow} of at least 500 ms, p99 = {}. Measure each latency \
         from the moment the plan meant the request to start, not from when it was \
         finally sent. Look at loadgen::run.",
        report.latencies.len(),
        ms(report.p99())
    );
}

/// The most requests the simulated service had at once (each request lasts
/// from its arrival to its answer).
fn max_in_flight(arrivals: &[Duration]) -> usize {
    let mut events: Vec<(Duration, i32)> = Vec::new();
    for a in arrivals {
        events.push((*a, 1));
        events.push((*a + latency_at(*a), -1));
    }
    // Ends before starts at the same instant: a freed connection is reused.
    events.sort_by_key(|(t, delta)| (*t, *delta));
    let (mut now, mut max) = (0i32, 0i32);
    for (_, delta) in events {
        now += delta;
        max = max.max(now);
    }
    max as usize
}

/// 1000 latencies: 94% between 10.0 and 10.94 ms, the slowest 6% between 15.0
/// and 20.9 ms, in a scrambled order (a fixed permutation).
fn typical_run() -> Vec<Duration> {
    let by_rank = |k: u64| {
        if k < 940 {
            Duration::from_micros(10_000 + k)
        } else {
            Duration::from_micros(15_000 + (k - 940) * 100)
        }
    };
    (0..1000u64).map(|i| by_rank(i * 7_919 % 1_000)).collect()
}

fn p95(values: &[Duration]) -> Duration {
    loadgen::percentile(values, 95.0)
}

#[test]
fn the_gate_passes_an_unchanged_run() {
    let baseline = typical_run();
    let mut candidate = baseline.clone();
    candidate.reverse();
    let verdict = gate::compare(&baseline, &candidate);
    assert!(
        !verdict.regressed,
        "Expected the gate to pass a candidate with exactly the baseline's latencies \
         (in another order). Seen: regressed = true ({:?}). Look at gate::compare.",
        verdict
    );
}

#[test]
fn the_gate_flags_a_run_whose_p95_doubled() {
    let baseline = typical_run();
    // The slowest 6% take twice as long; everything else is unchanged. The
    // mean grows by about 10%.
    let candidate: Vec<Duration> = baseline
        .iter()
        .map(|l| {
            if *l >= Duration::from_millis(15) {
                *l * 2
            } else {
                *l
            }
        })
        .collect();
    let verdict = gate::compare(&baseline, &candidate);
    assert!(
        verdict.regressed,
        "Expected the gate to fail a candidate whose p95 went from {} to {} (the \
         slowest 6% of requests take twice as long). Seen: it passed ({:?}). The mean \
         grew by only about 10%: what users of the slow requests feel is not in the \
         mean. Look at gate::compare.",
        ms(p95(&baseline)),
        ms(p95(&candidate)),
        verdict
    );
}

#[test]
fn the_gate_is_not_fooled_by_a_change_in_the_mean_alone() {
    let baseline = typical_run();
    // Five requests (0.5%) take 100 times as long: the mean almost doubles,
    // p95 does not move.
    let mut candidate = baseline.clone();
    let mut slowest: Vec<usize> = (0..candidate.len()).collect();
    slowest.sort_by_key(|&i| std::cmp::Reverse(candidate[i]));
    for &i in &slowest[..5] {
        candidate[i] *= 100;
    }
    let verdict = gate::compare(&baseline, &candidate);
    assert!(
        !verdict.regressed,
        "Expected the gate to pass a candidate whose p95 is unchanged ({} in both) \
         while 5 outliers of 1000 almost double the mean. Seen: it failed ({:?}). \
         The gate judges p95, which a handful of outliers does not move. Look at \
         gate::compare.",
        ms(p95(&baseline)),
        verdict
    );
}

#[test]
fn the_gate_allows_twenty_percent_and_flags_anything_more() {
    let baseline = vec![Duration::from_millis(100); 100];
    let at_limit = vec![Duration::from_millis(120); 100];
    let beyond = vec![Duration::from_nanos(120_000_001); 100];
    let huge = vec![Duration::MAX; 3];
    let verdicts = [
        gate::compare(&baseline, &at_limit),
        gate::compare(&baseline, &beyond),
        gate::compare(&baseline, &huge),
    ];
    assert!(
        !verdicts[0].regressed && verdicts[1].regressed && verdicts[2].regressed,
        "Expected: 100 ms → 120 ms passes (exactly 20% more is allowed), 100 ms → \
         120.000001 ms fails, and 100 ms → Duration::MAX fails. Seen: regressed = \
         {}, {}, {}. Look at the comparison in gate::compare.",
        verdicts[0].regressed,
        verdicts[1].regressed,
        verdicts[2].regressed
    );
}
