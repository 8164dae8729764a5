//! `POST /payments`: charge the logged-in user for an order.
//!
//! The request carries an `Idempotency-Key` header chosen by the client, and
//! a body `{"order": "o-17", "amount_cents": 1299}`. The client sends the same
//! key again whenever it retries this payment.
//!
//! The contract, for a key chosen by one user:
//! - the first request with it is carried out, and its answer kept: a charge
//!   (200) or a decline (402), which are the payment's outcome;
//! - every later request with the same key and body gets that kept answer,
//!   from any instance, without asking the provider again;
//! - a request that arrives while the first is still running waits for it;
//! - the same key with another body is a client bug: 422, nothing charged;
//! - when the provider fails (503, 504) nothing is kept, and the key is free
//!   again: the next retry tries again.
//!
//! What a retry must never repeat is the charge. Two things make sure of it:
//! a row per key in the shared database, claimed by a single statement that
//! only one request can win (the table's primary key decides, not a read
//! followed by a write), and the provider's own key, derived from ours, so
//! that a retry after a timeout (the money may have moved) asks the provider
//! about the same charge instead of making a new one.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::app::{App, Reply, internal, reply};
use crate::db;
use crate::payments::{ChargeRequest, ProviderError};

/// The body of `POST /payments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    pub order: String,
    pub amount_cents: u64,
}

/// Longest key accepted, as card providers do: a key is an id, not a payload.
const MAX_KEY_LEN: usize = 255;
/// The longest an attempt may wait for the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a claim on a key holds. Longer than any attempt can take, so a
/// live attempt is never taken over; after it, an attempt whose instance died
/// or whose request was cancelled mid-way stops blocking its key.
const LEASE: Duration = Duration::from_secs(30);
/// How often a waiting retry looks whether the attempt it waits for is done.
const POLL: Duration = Duration::from_millis(20);

/// Creates the table of idempotency records.
pub(crate) fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS idempotency (
             user TEXT NOT NULL,
             key TEXT NOT NULL,
             request TEXT NOT NULL,
             claimed_at_ms INTEGER NOT NULL,
             status INTEGER,
             body TEXT,
             PRIMARY KEY (user, key)
         );",
    )
}

pub async fn pay(
    State(app): State<App>,
    headers: HeaderMap,
    Json(request): Json<PaymentRequest>,
) -> Reply {
    let session = match app.authenticate(&headers) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        Some(Ok(key)) if !key.is_empty() && key.len() <= MAX_KEY_LEN => key.to_string(),
        _ => {
            return reply(
                StatusCode::BAD_REQUEST,
                "an Idempotency-Key header of 1 to 255 characters is required",
            );
        }
    };
    // The body as stored, to tell a retry from another request with the key.
    let fingerprint = serde_json::to_string(&request).unwrap_or_default();

    let claimed_at = match wait_for_claim(&app, &session.user, &key, &fingerprint).await
    {
        Ok(Claim::Ours(at)) => at,
        Ok(Claim::Done(reply)) => return reply,
        Ok(Claim::OtherRequest) => {
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was already used for a different payment",
            );
        }
        Ok(Claim::Busy) => {
            return reply(
                StatusCode::CONFLICT,
                "a payment with this Idempotency-Key is still in progress; retry later",
            );
        }
        Err(e) => return internal(e),
    };

    let charge = ChargeRequest {
        key: provider_key(&session.user, &key),
        user: session.user.clone(),
        amount_cents: request.amount_cents,
    };
    let outcome = tokio::time::timeout(PROVIDER_TIMEOUT, app.payments().charge(charge))
        .await
        .unwrap_or(Err(ProviderError::TimedOut));
    let answer = match outcome {
        Ok(charge) => (
            StatusCode::OK,
            json!({
                "charge_id": charge.id,
                "order": request.order,
                "amount_cents": charge.amount_cents,
            }),
        ),
        Err(ProviderError::Declined(reason)) => (
            StatusCode::PAYMENT_REQUIRED,
            json!({ "error": "declined", "reason": reason }),
        ),
        Err(failure) => {
            // Nothing decided: free the key, so the client's retry tries again.
            let released = app.db().primary().execute(
                "DELETE FROM idempotency WHERE user = ?1 AND key = ?2 AND claimed_at_ms = ?3",
                params![session.user, key, claimed_at],
            );
            if let Err(e) = released {
                return internal(e);
            }
            let status = match failure {
                ProviderError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::GATEWAY_TIMEOUT,
            };
            return reply(status, &failure.to_string());
        }
    };
    let saved = app.db().primary().execute(
        "UPDATE idempotency SET status = ?1, body = ?2
         WHERE user = ?3 AND key = ?4 AND claimed_at_ms = ?5",
        params![
            answer.0.as_u16(),
            answer.1.to_string(),
            session.user,
            key,
            claimed_at
        ],
    );
    match saved {
        Ok(_) => (answer.0, Json(answer.1)),
        Err(e) => internal(e),
    }
}

enum Claim {
    /// This request carries out the payment; the claim's time identifies it.
    Ours(i64),
    /// The payment's kept answer.
    Done(Reply),
    /// The key belongs to a request with another body.
    OtherRequest,
    /// Another attempt still holds the key.
    Busy,
}

/// Claims the key, or waits while another attempt holds it (at most one
/// lease, after which that attempt's claim has expired and can be taken).
async fn wait_for_claim(
    app: &App,
    user: &str,
    key: &str,
    fingerprint: &str,
) -> rusqlite::Result<Claim> {
    let give_up = tokio::time::Instant::now() + LEASE + POLL * 2;
    loop {
        let claim = try_claim(&app.db().primary(), user, key, fingerprint)?;
        if !matches!(claim, Claim::Busy) || tokio::time::Instant::now() >= give_up {
            return Ok(claim);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One statement decides who owns the key: the insert succeeds for exactly
/// one request, or takes over a claim whose lease has run out.
fn try_claim(
    conn: &Connection,
    user: &str,
    key: &str,
    fingerprint: &str,
) -> rusqlite::Result<Claim> {
    let now = db::now_ms() as i64;
    let lease = LEASE.as_millis() as i64;
    let won = conn.execute(
        "INSERT INTO idempotency (user, key, request, claimed_at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user, key) DO UPDATE SET claimed_at_ms = excluded.claimed_at_ms
         WHERE idempotency.status IS NULL
           AND idempotency.request = excluded.request
           AND idempotency.claimed_at_ms <= excluded.claimed_at_ms - ?5",
        params![user, key, fingerprint, now, lease],
    )?;
    if won == 1 {
        return Ok(Claim::Ours(now));
    }
    let row: Option<(String, Option<u16>, Option<String>)> = conn
        .query_row(
            "SELECT request, status, body FROM idempotency WHERE user = ?1 AND key = ?2",
            params![user, key],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((request, _, _)) if request != fingerprint => Claim::OtherRequest,
        Some((_, Some(status), Some(body))) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            Claim::Done((status, Json(body)))
        }
        // Held by a live attempt, or released between the two statements.
        _ => Claim::Busy,
    })
}

/// The provider's key for this user's key: the same on every retry, from any
/// instance, and different for every user (each chooses keys on their own).
fn provider_key(user: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update((user.len() as u64).to_be_bytes())
        .chain_update(user.as_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
