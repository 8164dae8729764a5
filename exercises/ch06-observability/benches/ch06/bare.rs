//! The handler with every log line and every metric taken out: the same calls,
//! in the same order, with the same retry. It is what the bench compares your
//! instrumented handler against, so that the difference between the two is
//! what the instrumentation costs, and nothing else.

use ch06_observability::deps::PaymentError;
use ch06_observability::{Deps, OrderConfirmation, OrderError, OrderRequest};

pub async fn place_order(
    deps: &Deps,
    req: OrderRequest,
) -> Result<OrderConfirmation, OrderError> {
    let user = deps
        .users
        .load(req.user_id)
        .await
        .ok_or(OrderError::UnknownUser(req.user_id))?;
    let total_cents = deps
        .catalog
        .price(&req.lines)
        .await
        .map_err(OrderError::UnknownSku)?;
    let pay = || {
        deps.payments
            .charge(&req.request_id, &req.card, total_cents)
    };
    let mut result = pay().await;
    if result == Err(PaymentError::Timeout) {
        result = pay().await;
    }
    let charge_id = result.map_err(|e| match e {
        PaymentError::Declined(reason) => OrderError::PaymentDeclined(reason),
        PaymentError::Timeout => OrderError::PaymentUnavailable,
    })?;
    let order_id = deps.orders.save(user.id, total_cents, &charge_id).await;
    Ok(OrderConfirmation {
        order_id,
        total_cents,
        charge_id,
    })
}
