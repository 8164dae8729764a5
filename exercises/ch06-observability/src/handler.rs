//! Placing an order: load the user, price the cart, charge the card, save.
//!
//! The logic is right and stays as it is. What this chapter changes is what the
//! handler tells the people who run it. Today that is a few sentences, each
//! built with `format!`-style arguments: a person can read them one at a time,
//! but a program cannot add up amounts, find every line of one request, or
//! count failures from them. And it measures nothing.
//!
//! Time comes from `tokio::time::Instant`, not `std::time::Instant`: the checks
//! pause tokio's clock, so a request takes exactly the time its services wait.

use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::deps::{Deps, PaymentError};
use crate::model::{
    CardNumber, CartLine, OrderConfirmation, OrderError, OrderRequest, User,
};

/// Places one order. See the crate's documentation (`src/lib.rs`) for what
/// operations expects to see from it.
pub async fn place_order(
    deps: &Deps,
    req: OrderRequest,
) -> Result<OrderConfirmation, OrderError> {
    let started = Instant::now();
    info!("handling order request {req:?}");

    let user = load_user(deps, req.user_id).await?;
    let total_cents = price_cart(deps, &req.lines).await?;
    let charge_id = charge(deps, &req.request_id, &req.card, total_cents).await?;
    let order_id = save(deps, &user, total_cents, &charge_id).await?;

    info!(
        "[{}] order {order_id} placed for {} <{}>: ${}.{:02} in {:?}",
        req.request_id,
        user.name,
        user.email,
        total_cents / 100,
        total_cents % 100,
        started.elapsed()
    );
    Ok(OrderConfirmation {
        order_id,
        total_cents,
        charge_id,
    })
}

async fn load_user(deps: &Deps, user_id: u64) -> Result<User, OrderError> {
    info!("loading user {user_id}");
    deps.users
        .load(user_id)
        .await
        .ok_or(OrderError::UnknownUser(user_id))
}

async fn price_cart(deps: &Deps, lines: &[CartLine]) -> Result<u64, OrderError> {
    deps.catalog
        .price(lines)
        .await
        .map_err(OrderError::UnknownSku)
}

async fn charge(
    deps: &Deps,
    request_id: &str,
    card: &CardNumber,
    amount_cents: u64,
) -> Result<String, OrderError> {
    info!("charging {amount_cents} cents to card {}", card.expose());
    let mut result = deps.payments.charge(request_id, card, amount_cents).await;
    if result == Err(PaymentError::Timeout) {
        // The idempotency key makes a second attempt safe.
        error!("payment gateway timed out! retrying");
        result = deps.payments.charge(request_id, card, amount_cents).await;
    }
    match result {
        Ok(charge_id) => Ok(charge_id),
        Err(PaymentError::Declined(reason)) => {
            warn!("order failed");
            Err(OrderError::PaymentDeclined(reason))
        }
        Err(PaymentError::Timeout) => Err(OrderError::PaymentUnavailable),
    }
}

async fn save(
    deps: &Deps,
    user: &User,
    total_cents: u64,
    charge_id: &str,
) -> Result<u64, OrderError> {
    Ok(deps.orders.save(user.id, total_cents, charge_id).await)
}
