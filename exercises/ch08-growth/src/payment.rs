//! `POST /payments`: charge the logged-in user for an order.
//!
//! The request carries an `Idempotency-Key` header chosen by the client, and
//! a body `{"order": "o-17", "amount_cents": 1299}`. The client sends the same
//! key again whenever it retries this payment.

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
