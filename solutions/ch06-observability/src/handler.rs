//! Placing an order: load the user, price the cart, charge the card, save.
//!
//! The logic is right and stays as it is. What this chapter changes is what the
//! handler tells the people who run it.
//!
//! Time comes from `tokio::time::Instant`, not `std::time::Instant`: the checks
//! pause tokio's clock, so a request takes exactly the time its services wait.
//!
//! Solution, in three parts.
//!
//! Spans carry the context. The request gets one span, `order`, holding its
//! `request_id` and `user_id`; each step gets a child span. Every event logged
//! inside them, including the payments client's own, is written with those
//! fields, so nothing has to pass the request id around by hand, and one
//! search for a request id finds every line of that request. The request's span
//! is attached to the request's future with `Instrument`, never entered with
//! `span.enter()`: an entered span belongs to the thread, and while this
//! request waits at an `.await`, the thread runs other requests, which would
//! then log inside this request's span.
//!
//! Events are facts with typed fields. The message is a constant ("order
//! placed"), so it can be searched for; what varies is in fields, recorded as
//! numbers, so a pipeline can sum amounts and chart durations. Levels say what
//! happened to the request: INFO when it went as planned (or was refused as
//! it should be), WARN when something failed and was recovered (the retried
//! payment), ERROR when the service failed the request, logged once, where
//! the outcome is known, with the cause.
//!
//! Failures are sorted by whose fault they are. A declined card, an unknown
//! user or product: the service worked, the request could not be served, as a
//! 4xx would say over HTTP. Those are logged at INFO and counted as client
//! errors, apart from the error rate: a customer typing nonsense, or a run of
//! empty bank accounts, must not page anyone. A payment gateway that does not
//! answer, even after a retry, is the service failing a valid request: that
//! is the ERROR an alert should fire on, and the E of RED. The match that
//! decides it lists every variant, so a new kind of failure cannot be added
//! without someone deciding which it is.
//!
//! The cause goes in a field, `error`, never into the message: the message is
//! the same for every failure of a kind ("order failed"), so a query can
//! count them, and the field says why (`#[instrument(err)]` uses the same
//! field name).
//!
//! Metrics are recorded in one place that every path passes, the outcome and
//! duration of each request, after the steps, whether they failed or not.

use tokio::time::Instant;
use tracing::{Instrument, error, info, info_span, instrument, warn};

use crate::deps::{Deps, PaymentError};
use crate::metrics::Outcome;
use crate::model::{
    CardNumber, CartLine, OrderConfirmation, OrderError, OrderRequest, User,
};

/// Places one order. See the crate's documentation (`src/lib.rs`) for what
/// operations expects to see from it.
pub async fn place_order(
    deps: &Deps,
    req: OrderRequest,
) -> Result<OrderConfirmation, OrderError> {
    // `%` records the request id through Display: the text itself, without
    // the quotes Debug would add. The user id is a number and stays one.
    let span = info_span!(
        "order",
        request_id = %req.request_id,
        user_id = req.user_id
    );
    handle(deps, req).instrument(span).await
}

/// The request from start to end: the steps, then what it amounted to.
async fn handle(
    deps: &Deps,
    req: OrderRequest,
) -> Result<OrderConfirmation, OrderError> {
    let started = Instant::now();
    let result = steps(deps, &req).await;
    let took = started.elapsed();
    // Milliseconds as an f64: a number in the JSON, with the microseconds kept.
    // (`as_millis` would give a u128, which the JSON layer writes as a string.)
    let duration_ms = took.as_secs_f64() * 1000.0;
    let outcome = outcome_of(&result);
    deps.metrics.record(outcome, took);
    match &result {
        Ok(placed) => info!(
            order_id = placed.order_id,
            total_cents = placed.total_cents,
            duration_ms,
            "order placed"
        ),
        Err(cause) if outcome == Outcome::ServerError => {
            error!(error = %cause, duration_ms, "order failed")
        }
        Err(cause) => info!(error = %cause, duration_ms, "order rejected"),
    }
    result
}

/// Whose fault a failure is. Every variant is listed (no `_`), so that a new
/// kind of failure does not compile until someone decides.
fn outcome_of(result: &Result<OrderConfirmation, OrderError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(
            OrderError::UnknownUser(_)
            | OrderError::UnknownSku(_)
            | OrderError::PaymentDeclined(_),
        ) => Outcome::ClientError,
        Err(OrderError::PaymentUnavailable) => Outcome::ServerError,
    }
}

async fn steps(
    deps: &Deps,
    req: &OrderRequest,
) -> Result<OrderConfirmation, OrderError> {
    let user = load_user(deps, req.user_id).await?;
    let total_cents = price_cart(deps, &req.lines).await?;
    let charge_id = charge(deps, &req.request_id, &req.card, total_cents).await?;
    let order_id = save(deps, &user, total_cents, &charge_id).await?;
    Ok(OrderConfirmation {
        order_id,
        total_cents,
        charge_id,
    })
}

// Each step is a span of its own. `skip_all` keeps the arguments out of the
// span (`deps` is large and the request is already on the parent span); what
// helps to read a step's events is added back with `fields`.

#[instrument(skip_all)]
async fn load_user(deps: &Deps, user_id: u64) -> Result<User, OrderError> {
    deps.users
        .load(user_id)
        .await
        .ok_or(OrderError::UnknownUser(user_id))
}

#[instrument(skip_all, fields(lines = lines.len()))]
async fn price_cart(deps: &Deps, lines: &[CartLine]) -> Result<u64, OrderError> {
    deps.catalog
        .price(lines)
        .await
        .map_err(OrderError::UnknownSku)
}

// `?card` is safe: CardNumber's Debug shows the last four digits only.
#[instrument(skip_all, fields(card = ?card, amount_cents = amount_cents))]
async fn charge(
    deps: &Deps,
    request_id: &str,
    card: &CardNumber,
    amount_cents: u64,
) -> Result<String, OrderError> {
    let mut result = deps.payments.charge(request_id, card, amount_cents).await;
    if result == Err(PaymentError::Timeout) {
        // Recovered (so far): WARN, not ERROR. If the retry fails too, the
        // request fails and `handle` logs that once, at ERROR.
        warn!("payment gateway timed out; retrying with the same idempotency key");
        result = deps.payments.charge(request_id, card, amount_cents).await;
    }
    result.map_err(|e| match e {
        PaymentError::Declined(reason) => OrderError::PaymentDeclined(reason),
        PaymentError::Timeout => OrderError::PaymentUnavailable,
    })
}

#[instrument(skip_all)]
async fn save(
    deps: &Deps,
    user: &User,
    total_cents: u64,
    charge_id: &str,
) -> Result<u64, OrderError> {
    Ok(deps.orders.save(user.id, total_cents, charge_id).await)
}
