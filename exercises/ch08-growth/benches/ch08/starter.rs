//! The starter's service as it was, frozen for the bench: sessions in the
//! instance's memory, a payment that goes straight to the provider on every
//! request, and a feature switch read from the instance's memory. Only the
//! routes the bench calls are here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use ch08_growth::payments::{ChargeRequest, PaymentProvider};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct PaymentRequest {
    order: String,
    amount_cents: u64,
}

#[derive(Clone)]
pub struct StarterApp {
    sessions: Arc<Mutex<HashMap<String, String>>>,
    switches: Arc<Mutex<HashMap<String, bool>>>,
    payments: Arc<dyn PaymentProvider>,
}

type Reply = (StatusCode, Json<Value>);

impl StarterApp {
    pub fn new(payments: Arc<dyn PaymentProvider>) -> Self {
        Self {
            sessions: Arc::default(),
            switches: Arc::default(),
            payments,
        }
    }

    /// Logs `user` in and returns the session's token.
    pub fn login(&self, user: &str) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        self.sessions
            .lock()
            .unwrap()
            .insert(token.clone(), user.to_string());
        token
    }

    pub fn switch_on(&self, flag: &str) {
        self.switches.lock().unwrap().insert(flag.to_string(), true);
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/me", get(me))
            .route("/payments", post(pay))
            .route("/features/{flag}", get(feature))
            .with_state(self.clone())
    }

    fn user_of(&self, headers: &HeaderMap) -> Option<String> {
        let token = headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        self.sessions.lock().unwrap().get(token).cloned()
    }
}

fn unauthorized() -> Reply {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": "log in first" })),
    )
}

async fn me(State(app): State<StarterApp>, headers: HeaderMap) -> Reply {
    match app.user_of(&headers) {
        Some(user) => (StatusCode::OK, Json(json!({ "user": user }))),
        None => unauthorized(),
    }
}

async fn pay(
    State(app): State<StarterApp>,
    headers: HeaderMap,
    Json(request): Json<PaymentRequest>,
) -> Reply {
    let Some(user) = app.user_of(&headers) else {
        return unauthorized();
    };
    let charge = ChargeRequest {
        key: uuid::Uuid::new_v4().to_string(),
        user,
        amount_cents: request.amount_cents,
    };
    match app.payments.charge(charge).await {
        Ok(charge) => (
            StatusCode::OK,
            Json(json!({
                "charge_id": charge.id,
                "order": request.order,
                "amount_cents": charge.amount_cents,
            })),
        ),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": e.to_string() })),
        ),
    }
}

async fn feature(
    State(app): State<StarterApp>,
    Path(flag): Path<String>,
    headers: HeaderMap,
) -> Reply {
    if app.user_of(&headers).is_none() {
        return unauthorized();
    }
    let on = app.switches.lock().unwrap().get(&flag).copied();
    (
        StatusCode::OK,
        Json(json!({ "flag": flag, "enabled": on.unwrap_or(false) })),
    )
}
