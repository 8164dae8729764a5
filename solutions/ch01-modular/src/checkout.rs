//! Checkout: from a customer's cart to a paid, confirmed order.
//!
//! [`checkout`] decides only the order of things and what each failure means
//! for the order. Each step that talks to a service lives in a module of its
//! own and knows exactly one service, so each has one reason to change:
//!
//! | step                | where            | service     | changes when             |
//! |---------------------|------------------|-------------|--------------------------|
//! | `validate`          | `crate::cart`    | none        | a rule for carts does    |
//! | `charge`, `refund`  | [`payment`]      | `Payments`  | the provider's API does  |
//! | `take_stock`        | [`stock`]        | `Inventory` | the warehouse's API does |
//! | `send_confirmation` | [`confirmation`] | `Mailer`    | the email's wording does |
//! | `record_sale`       | [`sale`]         | `Analytics` | the analysts' event does |
//!
//! Each step can be tested with one fake, and any of them can later move behind
//! a queue or into a service of its own without `checkout` changing shape.

pub mod confirmation;
pub mod payment;
pub mod sale;
pub mod stock;

use std::fmt;

use crate::analytics::{Analytics, AnalyticsError};
use crate::cart::{Cart, Catalog, ValidationError, validate};
use crate::inventory::{Inventory, StockError};
use crate::mail::{MailError, Mailer};
use crate::payments::{ChargeId, PaymentError, Payments};

/// Everything a checkout needs: the catalog and the four services.
pub struct Shop<P, I, M, A> {
    pub catalog: Catalog,
    pub payments: P,
    pub inventory: I,
    pub mailer: M,
    pub analytics: A,
}

/// A paid, confirmed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub charge: ChargeId,
    pub total_cents: u64,
    /// What failed after the order was confirmed, for support (or a retry job)
    /// to follow up. Empty when everything went through.
    pub follow_ups: Vec<FollowUp>,
}

/// A side effect that failed once the order was already confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// The customer did not get the confirmation email.
    ConfirmationEmail(MailError),
    /// The analysts did not get the sale.
    SaleNotRecorded(AnalyticsError),
}

/// Why a checkout did not produce an order.
///
/// The type itself draws a boundary: only the steps that decide whether an
/// order exists (validation, payment, stock) can fail a checkout. The email
/// and the analytics event have no variant here, so no `?` can ever turn their
/// failure into a failed order; they end up in [`Receipt::follow_ups`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutError {
    /// The cart broke a rule; nothing was charged, taken or sent.
    Invalid(ValidationError),
    /// The card was not charged; nothing was taken or sent.
    Payment(PaymentError),
    /// The stock ran out after the charge; the charge was refunded.
    Stock(StockError),
    /// The stock ran out and the refund failed too: the customer has paid for
    /// nothing, and a person must give the money back by hand.
    RefundFailed {
        charge: ChargeId,
        stock: StockError,
        refund: PaymentError,
    },
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckoutError::Invalid(e) => write!(f, "invalid cart: {e}"),
            CheckoutError::Payment(e) => write!(f, "payment failed: {e}"),
            CheckoutError::Stock(e) => {
                write!(f, "stock: {e} (the charge was refunded)")
            }
            CheckoutError::RefundFailed {
                charge,
                stock,
                refund,
            } => write!(
                f,
                "stock: {stock}; refunding {charge} failed too ({refund})"
            ),
        }
    }
}

impl std::error::Error for CheckoutError {}

/// Turns a cart into a paid, confirmed order.
///
/// Three phases, each with its own rule for failure:
///
/// 1. **Decide** (validate): pure, so a bad cart costs nothing to refuse.
/// 2. **Commit** (charge, then take stock): one after the other, because the
///    stock must not move for a card that is declined, and every failure here
///    undoes what came before it (the refund). When the undo itself fails, the
///    checkout says so (`RefundFailed`, naming the charge) instead of
///    pretending the money went back: a person has to settle it.
/// 3. **Tell** (email, analytics): the order exists; these only report it.
///    They need the order but not each other, so they run together, and their
///    failures are written on the receipt instead of failing a paid order.
pub async fn checkout<P, I, M, A>(
    shop: &Shop<P, I, M, A>,
    cart: &Cart,
) -> Result<Receipt, CheckoutError>
where
    P: Payments,
    I: Inventory,
    M: Mailer,
    A: Analytics,
{
    // 1. Decide. After this line, `order` proves the cart is valid.
    let order = validate(cart, &shop.catalog).map_err(CheckoutError::Invalid)?;

    // 2. Commit. This keeps the starter's order, charge then stock, so the
    //    undo is a refund: it costs a fee, takes days to reach the customer and
    //    can fail. A production shop would make the undo cheap instead, by
    //    reserving the stock first or by authorizing the card here and
    //    capturing only once the stock is taken (the book's page, "Which step
    //    goes first"). The shape below stays the same either way: commit in
    //    order, and a later failure undoes what came before it. Each service
    //    is asked once: retrying safely needs idempotency keys (chapter 4).
    let charge = payment::charge(&shop.payments, &order)
        .await
        .map_err(CheckoutError::Payment)?;
    // Any stock error, `Unavailable` included, means no order: give the money
    // back. (A timeout cannot say whether the items were taken; refunding
    // then risks a miscounted shelf, which is cheaper than a customer charged
    // for nothing.)
    if let Err(stock) = stock::take_stock(&shop.inventory, &order).await {
        return Err(match payment::refund(&shop.payments, &charge).await {
            Ok(()) => CheckoutError::Stock(stock),
            Err(refund) => CheckoutError::RefundFailed {
                charge,
                stock,
                refund,
            },
        });
    }

    // 3. Tell. Awaited together: the checkout takes as long as the slower of
    //    the two, not their sum. Awaited at all (rather than spawned) so the
    //    receipt can say what did not go through.
    let (email, sale) = tokio::join!(
        confirmation::send_confirmation(&shop.mailer, &order, &charge),
        sale::record_sale(&shop.analytics, &order, &charge),
    );
    let mut follow_ups = Vec::new();
    if let Err(e) = email {
        follow_ups.push(FollowUp::ConfirmationEmail(e));
    }
    if let Err(e) = sale {
        follow_ups.push(FollowUp::SaleNotRecorded(e));
    }

    Ok(Receipt {
        charge,
        total_cents: order.total_cents(),
        follow_ups,
    })
}
