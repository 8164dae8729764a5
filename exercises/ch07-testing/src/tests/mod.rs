//! Your tests of the order service. They are compiled only for `cargo test`
//! (`#[cfg(test)] mod tests;` in lib.rs), so they can use private items, and
//! `cargo test -p ch07-testing --lib` runs them.
//!
//! `cargo xtask check 7` runs them against the service as given (they must all
//! pass) and against known mutants of the service: copies with one small bug
//! each. A mutant that none of your tests notices is reported by the behaviour
//! it breaks. Add files here (`mod` lines below) as you like.
//!
//! Only tests in this folder are judged (the mutants are copies of the
//! service's files, so keep those as given). A test run still going after the
//! chapter's 60 s timeout is stopped: on the service as given that is a
//! failure; on a mutant it counts as noticing the bug, but a test whose only
//! way to fail is to hang says nothing about what went wrong, so assert what
//! you expect, including how long it may take. A harmless change to the
//! service (a comment, a renamed local) must not make a test fail: test what
//! the service does, not how its source reads.
//!
//! TODO: these tests pass, but they assert little. Decide which behaviours
//! matter and test each one at the level where a bug in it would show.

use std::sync::Arc;
use std::time::Duration;

use crate::pricing;
use crate::repo::{Orders, SqliteOrders};
use crate::service::{OrderService, SHIPPING_TIMEOUT};
use crate::shipping::SlowPartner;

fn service() -> OrderService {
    OrderService::new(
        Arc::new(SqliteOrders::in_memory().unwrap()),
        Arc::new(SlowPartner {
            latency: Duration::from_millis(5),
        }),
        SHIPPING_TIMEOUT,
    )
}

#[test]
fn a_mug_has_a_price() {
    assert!(pricing::unit_cents("mug").is_some());
}

#[test]
fn goods_cost_something() {
    assert!(pricing::goods_cents(1_250, 2) > 0);
}

#[test]
fn an_order_can_be_stored() {
    let orders = SqliteOrders::in_memory().unwrap();
    assert!(orders.insert("ada", "mug", 2, 2_500).is_ok());
}

#[tokio::test]
async fn an_order_can_be_placed() {
    let placed = service().place("ada", "mug", 2).await;
    assert!(placed.is_ok());
}

#[tokio::test]
async fn the_http_api_accepts_an_order() {
    let app = crate::http::router(Arc::new(service()));
    let addr = crate::http::serve(app).await.unwrap();
    let body = r#"{"customer":"ada","sku":"tea","quantity":1}"#;
    let status = post(addr, "/orders", body).await;
    assert_eq!(status, 201);
}

/// Sends one POST over a fresh connection and returns the status code. (No
/// HTTP client library here on purpose: a few lines of HTTP/1.1 suffice.)
async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}
