//! Open- against closed-loop load generation, on tokio's paused clock: the
//! percentiles each reports while the service stalls for longer and longer
//! (the closed loop's p95 is the same 10 ms as its p99, so it is not drawn). The
//! starter's closed loop (`exercises/ch07-testing/src/loadgen.rs` as the
//! course gives it) beside the solution's open loop, both sending 100 requests
//! per second for 5 s to the checks' simulated service: 10 ms a request,
//! except that everything arriving or in flight during the stall (from t = 2 s)
//! is answered when it ends, 10 ms later.
//!
//! ```text
//! cargo xtask figures 7
//! ```

#[allow(dead_code)] // the parts of the starter's generator not drawn here
#[path = "../../../exercises/ch07-testing/src/loadgen.rs"]
mod closed;
#[path = "../../figure.rs"]
mod figure;

use std::sync::Arc;
use std::time::Duration;

use ch07_testing::loadgen as open;
use figure::Figure;
use tokio::time::Instant;

const LATENCY: Duration = Duration::from_millis(10);
const STALL_FROM: Duration = Duration::from_secs(2);
const RATE: u32 = 100;
const DURATION: Duration = Duration::from_secs(5);

/// The checks' service, with a stall of `stall` from t = 2 s: returns what
/// a request sent now costs.
fn service(stall: Duration) -> impl Fn(u64) -> open::Request + Send + Sync + 'static {
    let start = Arc::new(Instant::now());
    move |_i| {
        let start = Arc::clone(&start);
        Box::pin(async move {
            let at = start.elapsed();
            let wait = if at >= STALL_FROM && at < STALL_FROM + stall {
                STALL_FROM + stall - at + LATENCY
            } else {
                LATENCY
            };
            tokio::time::sleep(wait).await;
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let stalls = [0u64, 100, 250, 500, 750, 1_000, 1_500, 2_000];
    let mut points: [Vec<(f64, f64)>; 3] = Default::default();
    for stall in stalls {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a tokio runtime");
        let stall_d = Duration::from_millis(stall);
        let (open_report, closed_report) = rt.block_on(async {
            let plan = open::Plan {
                rate_per_sec: RATE,
                duration: DURATION,
                connections: 1_000,
            };
            let open_report = open::run(plan, service(stall_d)).await;
            let plan = closed::Plan {
                rate_per_sec: RATE,
                duration: DURATION,
                connections: 1_000,
            };
            let closed_report = closed::run(plan, service(stall_d)).await;
            (open_report, closed_report)
        });
        let x = stall as f64;
        points[0].push((x, ms(open_report.p99())));
        points[1].push((x, ms(open_report.p95())));
        points[2].push((x, ms(closed_report.p99())));
    }
    let [open99, open95, closed99] = points;
    Figure::new(
        "open-vs-closed",
        "What a load generator reports while the service stalls (100 req/s for 5 s)",
        "stall of the service (ms)",
        "reported latency (ms)",
    )
    .series("solution: open loop, p99", &open99)
    .series("solution: open loop, p95", &open95)
    .series("starter: closed loop, p99", &closed99)
    .print();
}
