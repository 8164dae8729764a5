//! Open against closed loop, against the real server on loopback.
//!
//! `cargo run --release -p ch07-testing --example open-vs-closed`
//!
//! Starts the order service (axum, SQLite in memory, a shipping partner that
//! answers in 2 ms) on 127.0.0.1 with a port the system picks, and pauses the
//! whole server for 1 s at t = 2 s of each run (as a long GC pause, a blocked
//! runtime or a failover would). Then sends 200 orders per second for 5 s
//! twice: with a closed loop (the starter's generator, frozen below) and with
//! yours (`loadgen::run`), and prints both sets of percentiles side by side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request as HttpRequest;
use axum::middleware::{self, Next};
use axum::response::Response;
use ch07_testing::http;
use ch07_testing::loadgen::{self, Plan, Report, Request};
use ch07_testing::repo::SqliteOrders;
use ch07_testing::service::{OrderService, SHIPPING_TIMEOUT};
use ch07_testing::shipping::SlowPartner;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;
use tokio::time::Instant;

const PLAN: Plan = Plan {
    rate_per_sec: 200,
    duration: Duration::from_secs(5),
    connections: 256,
};

/// When the current run started: the pause is at 2 s to 3 s after it.
static RUN_START: Mutex<Option<Instant>> = Mutex::const_new(None);

async fn pause_at_two_seconds(request: HttpRequest, next: Next) -> Response {
    if let Some(start) = *RUN_START.lock().await {
        let (from, until) = (
            start + Duration::from_secs(2),
            start + Duration::from_secs(3),
        );
        let now = Instant::now();
        if now >= from && now < until {
            tokio::time::sleep_until(until).await;
        }
    }
    next.run(request).await
}

/// One order over a fresh connection; panics on anything but 201.
async fn order(addr: SocketAddr) {
    let body = r#"{"customer":"load","sku":"tea","quantity":1}"#;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "POST /orders HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("answer");
    assert!(answer.starts_with(b"HTTP/1.1 201"), "the order failed");
}

fn target(addr: SocketAddr) -> impl Fn(u64) -> Request + Send + Sync + 'static {
    move |_| Box::pin(order(addr))
}

/// The starter's generator, frozen: send, wait for the answer, send the next.
async fn closed_loop<F>(plan: Plan, send: F) -> Report
where
    F: Fn(u64) -> Request + Send + Sync + 'static,
{
    let mut latencies = Vec::new();
    let mut ticks = tokio::time::interval(plan.interval());
    for i in 0..plan.requests() {
        ticks.tick().await;
        let sent = Instant::now();
        send(i).await;
        latencies.push(sent.elapsed());
    }
    Report { latencies }
}

fn ms(d: Duration) -> String {
    format!("{:>9.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let service = OrderService::new(
        Arc::new(SqliteOrders::in_memory().expect("SQLite")),
        Arc::new(SlowPartner {
            latency: Duration::from_millis(2),
        }),
        SHIPPING_TIMEOUT,
    );
    let router = http::router(Arc::new(service))
        .layer(middleware::from_fn(pause_at_two_seconds));
    let addr = http::serve(router).await.expect("bind 127.0.0.1");
    println!(
        "{} orders/s for {} s against http://{addr}, server paused 1 s at t = 2 s",
        PLAN.rate_per_sec,
        PLAN.duration.as_secs()
    );
    *RUN_START.lock().await = Some(Instant::now());
    let started = Instant::now();
    let closed = closed_loop(PLAN, target(addr)).await;
    let closed_took = started.elapsed();
    *RUN_START.lock().await = Some(Instant::now());
    let started = Instant::now();
    let yours = loadgen::run(PLAN, target(addr)).await;
    let yours_took = started.elapsed();
    println!("{:<10} {:>12} {:>12}", "", "closed loop", "yours");
    println!(
        "{:<10} {:>12} {:>12}",
        "requests",
        closed.latencies.len(),
        yours.latencies.len()
    );
    let rate =
        |r: &Report, took: Duration| r.latencies.len() as f64 / took.as_secs_f64();
    println!(
        "{:<10} {:>10.0}/s {:>10.0}/s",
        "sent",
        rate(&closed, closed_took),
        rate(&yours, yours_took)
    );
    for (name, p) in [("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0)] {
        println!(
            "{name:<10} {} {}",
            ms(closed.percentile(p)),
            ms(yours.percentile(p))
        );
    }
}
