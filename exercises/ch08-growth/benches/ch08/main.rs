//! Chapter 8's bench: what each change of the chapter costs one request, your
//! service beside the starter's, in the same run. A demonstration, not a gate:
//! the changes make a single request a little slower, and what they buy (ten
//! instances that agree, retries that charge once) no single-machine timing
//! shows.
//!
//! - `ch08_session`: `GET /me`, a request that only looks up its session: in
//!   the instance's memory (starter) or wherever yours keeps sessions.
//! - `ch08_payment`: `POST /payments` with a new Idempotency-Key each time
//!   (`yours_first_attempt`) and with the same key again (`yours_retry`, the
//!   kept answer), against the starter's payment, which has no key to keep.
//!   The provider is the in-memory `DemoProvider`, which answers at once, so
//!   the figures are the service's own cost; a real provider's round trip
//!   (hundreds of milliseconds) would dwarf them.
//! - `ch08_rollout`: deciding whether one user gets a feature, the starter's
//!   global switch against your `Rollout::is_enabled_for`; and the whole
//!   `GET /features/{flag}` request on both sides.
//!
//! Every request goes to an axum router in this process (no socket), over a
//! SQLite file in a temporary folder, so the figures are the code's cost.

mod starter;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use ch08_growth::payments::DemoProvider;
use ch08_growth::{App, Config, Rollout};
use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tower::ServiceExt;

fn folder() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ch08-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating the bench's folder");
    dir
}

async fn send(
    router: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> u16 {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("a request");
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
    status
}

/// Logs in through `router` and returns the `Authorization` header's value.
async fn login(router: &Router, user: &str) -> String {
    let request = Request::builder()
        .method("POST")
        .uri("/login")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "user": user }).to_string()))
        .expect("a request");
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the login's body");
    let body: Value = serde_json::from_slice(&bytes).expect("the login's JSON");
    format!(
        "Bearer {}",
        body["session"].as_str().expect("a session token")
    )
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("a tokio runtime");
    let dir = folder();
    let config = Config {
        database: dir.join("bench.db"),
        replica_lag: Duration::from_millis(500),
    };
    let yours = App::open(&config, Arc::new(DemoProvider::default()))
        .expect("App::open")
        .router();
    let old = starter::StarterApp::new(Arc::new(DemoProvider::default()));
    old.switch_on("new-checkout");
    let old_auth = format!("Bearer {}", old.login("alice"));
    let old = old.router();
    let auth = rt.block_on(login(&yours, "alice"));
    let rollout = json!({ "percent": 10, "killed": false });
    let status = rt.block_on(send(
        &yours,
        "PUT",
        "/admin/features/new-checkout",
        &[],
        Some(&rollout),
    ));
    assert_eq!(status, 200, "PUT /admin/features/new-checkout");

    let mut group = c.benchmark_group("ch08_session");
    group.bench_function("starter", |b| {
        b.iter(|| {
            rt.block_on(send(
                &old,
                "GET",
                "/me",
                &[("authorization", &old_auth)],
                None,
            ))
        })
    });
    group.bench_function("yours", |b| {
        b.iter(|| {
            rt.block_on(send(
                &yours,
                "GET",
                "/me",
                &[("authorization", &auth)],
                None,
            ))
        })
    });
    group.finish();

    let payment = json!({ "order": "o-1", "amount_cents": 1299 });
    let next_key = AtomicU64::new(0);
    let mut group = c.benchmark_group("ch08_payment");
    group.bench_function("starter", |b| {
        b.iter(|| {
            let headers = [("authorization", old_auth.as_str())];
            rt.block_on(send(&old, "POST", "/payments", &headers, Some(&payment)))
        })
    });
    group.bench_function("yours_first_attempt", |b| {
        b.iter(|| {
            let key = format!("bench-{}", next_key.fetch_add(1, Ordering::Relaxed));
            let headers = [
                ("authorization", auth.as_str()),
                ("idempotency-key", key.as_str()),
            ];
            rt.block_on(send(&yours, "POST", "/payments", &headers, Some(&payment)))
        })
    });
    let retry = [
        ("authorization", auth.as_str()),
        ("idempotency-key", "bench-retry"),
    ];
    rt.block_on(send(&yours, "POST", "/payments", &retry, Some(&payment)));
    group.bench_function("yours_retry", |b| {
        b.iter(|| {
            rt.block_on(send(&yours, "POST", "/payments", &retry, Some(&payment)))
        })
    });
    group.finish();

    let users: Vec<String> = (0..1_000).map(|i| format!("user-{i}")).collect();
    let switch = true;
    let ten = Rollout {
        percent: 10,
        killed: false,
    };
    let mut group = c.benchmark_group("ch08_rollout");
    group.bench_function("starter_decision", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % users.len();
            black_box(black_box(switch) && !black_box(&users[i]).is_empty())
        })
    });
    group.bench_function("yours_decision", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % users.len();
            black_box(ten.is_enabled_for("new-checkout", black_box(&users[i])))
        })
    });
    group.bench_function("starter_request", |b| {
        let headers = [("authorization", old_auth.as_str())];
        b.iter(|| {
            rt.block_on(send(&old, "GET", "/features/new-checkout", &headers, None))
        })
    });
    group.bench_function("yours_request", |b| {
        let headers = [("authorization", auth.as_str())];
        b.iter(|| {
            rt.block_on(send(
                &yours,
                "GET",
                "/features/new-checkout",
                &headers,
                None,
            ))
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
