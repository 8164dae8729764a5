//! `POST /payments`: charge the logged-in user for an order.
//!
//! The request carries an `Idempotency-Key` header chosen by the client, and
//! a body `{"order": "o-17", "amount_cents": 1299}`. The client sends the same
//! key again whenever it retries this payment.
//!
//! What the contract leaves open is written on the chapter's page (promise 4);
//! in short:
//! - without a usable session the answer is 401, before anything else is
//!   looked at; a missing, empty or longer-than-255 key is then a 400;
//! - "the same body" means the same `order` and `amount_cents`, however the
//!   JSON was spaced or ordered;
//! - a copy that arrives while the first attempt is still running may wait for
//!   its answer or get 409 at once (either, also when that attempt fails); it
//!   never reaches the provider;
//! - the provider may take up to 20 s, and an attempt waiting for it keeps its
//!   key; an attempt that never finishes (its request was cancelled, or its
//!   instance died and runs none of its code again) stops blocking its key
//!   within 10 minutes;
//! - time, for anything stored, is [`crate::db::now_ms`] (tokio's clock, which
//!   the checks pause and move).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::app::{App, Reply, reply};
use crate::payments::{ChargeRequest, ProviderError};

/// The body of `POST /payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    pub order: String,
    pub amount_cents: u64,
}

// ANCHOR: pay
pub async fn pay(
    State(app): State<App>,
    headers: HeaderMap,
    Json(request): Json<PaymentRequest>,
) -> Reply {
    let session = match app.authenticate(&headers) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    let charge = ChargeRequest {
        // The provider wants a key with every charge.
        key: uuid::Uuid::new_v4().to_string(),
        user: session.user.clone(),
        amount_cents: request.amount_cents,
    };
    match app.payments().charge(charge).await {
        Ok(charge) => (
            StatusCode::OK,
            Json(json!({
                "charge_id": charge.id,
                "order": request.order,
                "amount_cents": charge.amount_cents,
            })),
        ),
        Err(ProviderError::Declined(reason)) => (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({ "error": "declined", "reason": reason })),
        ),
        Err(ProviderError::Unavailable) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "payment provider unavailable",
        ),
        Err(ProviderError::TimedOut) => {
            reply(StatusCode::GATEWAY_TIMEOUT, "payment provider timed out")
        }
    }
}
// ANCHOR_END: pay
