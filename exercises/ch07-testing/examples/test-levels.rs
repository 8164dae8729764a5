//! What one test costs at each level, measured here.
//!
//! `cargo run --release -p ch07-testing --example test-levels`
//!
//! Each level runs the same kind of work one of your tests would, the way the
//! test harness runs it (a fresh tokio runtime per async test, as
//! `#[tokio::test]` builds one), many times; the table shows the median.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use ch07_testing::http;
use ch07_testing::pricing;
use ch07_testing::repo::{Orders, SqliteOrders};
use ch07_testing::service::{OrderService, SHIPPING_TIMEOUT};
use ch07_testing::shipping::{Quote, Shipping};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// A partner that never answers.
struct Hanging;

impl Shipping for Hanging {
    fn quote<'a>(&'a self, _: &'a str, _: u32) -> Quote<'a> {
        Box::pin(std::future::pending())
    }
}

fn service(partner: Arc<dyn Shipping>) -> OrderService {
    OrderService::new(
        Arc::new(SqliteOrders::in_memory().unwrap()),
        partner,
        SHIPPING_TIMEOUT,
    )
}

/// A partner that answers at once (no timer: a zero-length real sleep would
/// still wait for the timer's next 1 ms tick).
struct AtOnce;

impl Shipping for AtOnce {
    fn quote<'a>(&'a self, _: &'a str, _: u32) -> Quote<'a> {
        Box::pin(async { Ok(490) })
    }
}

fn fast_partner() -> Arc<dyn Shipping> {
    Arc::new(AtOnce)
}

fn human(d: Duration) -> String {
    match d.as_nanos() {
        n if n < 10_000 => format!("{n} ns"),
        n if n < 10_000_000 => format!("{:.1} µs", n as f64 / 1e3),
        n => format!("{:.1} ms", n as f64 / 1e6),
    }
}

fn runtime(paused: bool) -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all().start_paused(paused);
    builder.build().unwrap()
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

/// A level's name, how many times to run it, and one test's work.
type Level = (&'static str, usize, Box<dyn FnMut()>);

fn main() {
    let levels: Vec<Level> = vec![
        (
            "unit: the discount at the threshold",
            100_000,
            Box::new(|| assert_eq!(pricing::goods_cents(1_000, 10), 9_000)),
        ),
        (
            "storage: SQLite in memory, 2 orders, cancel, list",
            2_000,
            Box::new(|| {
                let orders = SqliteOrders::in_memory().unwrap();
                let first = orders.insert("ada", "mug", 1, 100).unwrap();
                orders.insert("ada", "tea", 1, 100).unwrap();
                orders.cancel(first).unwrap();
                assert_eq!(orders.open_orders_of("ada").unwrap().len(), 1);
            }),
        ),
        (
            "fault: hanging partner, paused clock",
            2_000,
            Box::new(|| {
                runtime(true).block_on(async {
                    service(Arc::new(Hanging))
                        .place("ada", "tea", 1)
                        .await
                        .unwrap();
                })
            }),
        ),
        (
            "fault: hanging partner, real clock",
            5,
            Box::new(|| {
                runtime(false).block_on(async {
                    service(Arc::new(Hanging))
                        .place("ada", "tea", 1)
                        .await
                        .unwrap();
                })
            }),
        ),
        (
            "HTTP in-process: router.oneshot(POST /orders)",
            2_000,
            Box::new(|| {
                runtime(false).block_on(async {
                    let app = http::router(Arc::new(service(fast_partner())));
                    let body = r#"{"customer":"ada","sku":"tea","quantity":1}"#;
                    let request = Request::post("/orders")
                        .header("content-type", "application/json")
                        .body(Body::from(body))
                        .unwrap();
                    let response = app.oneshot(request).await.unwrap();
                    assert_eq!(response.status(), 201);
                })
            }),
        ),
        (
            "HTTP on loopback: bind, connect, POST /orders",
            500,
            Box::new(|| {
                runtime(false).block_on(async {
                    let app = http::router(Arc::new(service(fast_partner())));
                    let addr = http::serve(app).await.unwrap();
                    let body = r#"{"customer":"ada","sku":"tea","quantity":1}"#;
                    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    let request = format!(
                        "POST /orders HTTP/1.1\r\nhost: {addr}\r\ncontent-type: \
                         application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    stream.write_all(request.as_bytes()).await.unwrap();
                    let mut answer = Vec::new();
                    stream.read_to_end(&mut answer).await.unwrap();
                    assert!(answer.starts_with(b"HTTP/1.1 201"));
                })
            }),
        ),
    ];
    println!("{:<52} {:>12}", "one test of this kind", "median");
    for (name, runs, mut f) in levels {
        let took = median(runs, &mut f);
        println!("{name:<52} {:>12}", human(took));
    }
}
