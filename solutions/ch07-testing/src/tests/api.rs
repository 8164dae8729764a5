//! What only the HTTP layer shows: routes, status codes and the JSON that
//! comes back. In-process through the router (no socket), except one test
//! that goes over loopback to cover `serve` itself.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

use super::service;
use crate::http::{router, serve};

fn app() -> Router {
    router(Arc::new(service()))
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn a_valid_order_is_created_with_its_total() {
    let body = r#"{"customer":"ada","sku":"mug","quantity":8}"#;
    let (status, text) = send(&app(), "POST", "/orders", body).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    // 8 × 12.50 = 100.00, exactly the threshold: 90.00, plus 5.00 shipping.
    assert_eq!(json(&text)["total_cents"], 9_500);
}

#[tokio::test]
async fn an_invalid_order_is_the_clients_fault() {
    for body in [
        r#"{"customer":"ada","sku":"mug","quantity":0}"#,
        r#"{"customer":"ada","sku":"spoon","quantity":1}"#,
    ] {
        let (status, _) = send(&app(), "POST", "/orders", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn a_customers_open_orders_come_back_as_json_until_cancelled() {
    let app = app();
    let body = r#"{"customer":"ada","sku":"tea","quantity":2}"#;
    let (_, created) = send(&app, "POST", "/orders", body).await;
    let id = json(&created)["id"].as_i64().unwrap();
    let (status, listed) = send(&app, "GET", "/customers/ada/orders", "").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = json(&listed);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["quantity"], 2);
    let (status, _) = send(&app, "POST", &format!("/orders/{id}/cancel"), "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = send(&app, "GET", "/customers/ada/orders", "").await;
    assert_eq!(json(&listed), serde_json::json!([]));
}

#[tokio::test]
async fn cancelling_an_unknown_order_is_not_found() {
    let (status, _) = send(&app(), "POST", "/orders/7/cancel", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_server_takes_an_order_over_loopback() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = serve(app()).await.unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    let body = r#"{"customer":"ada","sku":"tea","quantity":1}"#;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /orders HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}
