//! Money: charging for a validated cart, and giving it back.
//!
//! The only code that knows how the payment provider is asked. When the
//! provider changes (a new API version, an idempotency key so that a retried
//! charge is not taken twice, another currency), this file changes and the
//! order of checkout's steps does not.

use crate::cart::ValidCart;
use crate::payments::{ChargeId, PaymentError, Payments};

/// Charges the customer the order's total. Taking a `ValidCart`, not a `Cart`,
/// means this step cannot be handed a cart nobody checked.
pub async fn charge(
    payments: &impl Payments,
    order: &ValidCart,
) -> Result<ChargeId, PaymentError> {
    payments.charge(order.customer(), order.total_cents()).await
}

/// Gives back a charge whose order could not be completed.
pub async fn refund(
    payments: &impl Payments,
    charge: &ChargeId,
) -> Result<(), PaymentError> {
    payments.refund(charge).await
}
