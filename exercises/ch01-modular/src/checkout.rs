//! Checkout: from a customer's cart to a paid, confirmed order.
//!
//! [`checkout`] is what the web handler calls. It hands everything to
//! `process_order`, which was written in a hurry for the launch and has grown
//! with every incident since: pricing, payment, stock, the confirmation email
//! and analytics, each with its own way of handling errors, in one function.
//! It works on a good day. Run the timeline example to see a day that is not.
//!
//! What the checks hold you to (`tests/checks.rs`):
//!
//! - they call `checkout(&Shop<P, I, M, A>, &Cart) -> Result<Receipt,
//!   CheckoutError>` and `validate(&Cart, &Catalog) -> Result<ValidCart,
//!   ValidationError>`, with the generic bounds as they are: the checks' fakes
//!   implement exactly the four service traits;
//! - they read `Shop`'s fields, `Receipt`, `FollowUp`, and the variants
//!   `CheckoutError::{Invalid, Payment, Stock, RefundFailed}`; the service
//!   modules (`payments.rs`, `inventory.rs`, `mail.rs`, `analytics.rs`) are
//!   the services' side of the contract: leave them as they are;
//! - they compare the confirmation email, word for word, with the one this
//!   starter sends, and expect `validate` to keep the cart as it was sent;
//! - they run `checkout` with a mail relay or a collector that is slow or never
//!   answers, and as a spawned task (so its future must be `Send`);
//! - they read the source under `src/`: no function may call more than one of
//!   the four services itself, `checkout` must go through `validate`, the only
//!   home of the cart's rules, and `validate` must write none of the email.
//!
//! Everything else is yours: `process_order`, private helpers, new modules
//! and files, and the `Email` variant of `CheckoutError`.

use std::fmt;

use crate::analytics::{Analytics, AnalyticsError, SaleEvent};
use crate::cart::{Cart, Catalog, MAX_QUANTITY, ValidationError};
use crate::inventory::{Inventory, StockError, StockLine};
use crate::mail::{Email, MailError, Mailer};
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutError {
    Invalid(ValidationError),
    Payment(PaymentError),
    Stock(StockError),
    Email(MailError),
    /// The stock step failed after the card was charged, and giving the money
    /// back failed too: the customer has paid for nothing, and the shop must
    /// settle `charge` by hand (support reads these).
    RefundFailed {
        charge: ChargeId,
        stock: StockError,
        refund: PaymentError,
    },
}

impl From<MailError> for CheckoutError {
    fn from(e: MailError) -> Self {
        CheckoutError::Email(e)
    }
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckoutError::Invalid(e) => write!(f, "invalid cart: {e}"),
            CheckoutError::Payment(e) => write!(f, "payment failed: {e}"),
            CheckoutError::Stock(e) => write!(f, "stock: {e}"),
            CheckoutError::Email(e) => write!(f, "confirmation: {e}"),
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
    process_order(shop, cart).await
}

// ANCHOR: process_order
async fn process_order<P, I, M, A>(
    shop: &Shop<P, I, M, A>,
    cart: &Cart,
) -> Result<Receipt, CheckoutError>
where
    P: Payments,
    I: Inventory,
    M: Mailer,
    A: Analytics,
{
    if cart.lines.is_empty() {
        return Err(CheckoutError::Invalid(ValidationError::EmptyCart));
    }

    // Price the cart, and write the email's list of items while we are at it.
    let mut total_cents = 0;
    let mut items = 0;
    let mut listing = String::new();
    for line in &cart.lines {
        let Some(price) = shop.catalog.price_cents(&line.sku) else {
            return Err(CheckoutError::Invalid(ValidationError::UnknownSku {
                sku: line.sku.clone(),
            }));
        };
        let amount = price * u64::from(line.quantity);
        total_cents += amount;
        items += line.quantity;
        listing.push_str(&format!(
            "  {:>2} × {:<10} ${}.{:02}\n",
            line.quantity,
            line.sku,
            amount / 100,
            amount % 100
        ));
    }

    // Take the money first: nothing leaves the warehouse unpaid.
    let charge = shop
        .payments
        .charge(&cart.customer, total_cents)
        .await
        .map_err(CheckoutError::Payment)?;

    // The warehouse takes one request with every line. It refuses lines of
    // zero items and parcels of more than MAX_QUANTITY of a kind, so quantities
    // are checked here, where its request is built.
    let mut request = Vec::new();
    for line in &cart.lines {
        if line.quantity == 0 || line.quantity > MAX_QUANTITY {
            return Err(CheckoutError::Invalid(ValidationError::BadQuantity {
                sku: line.sku.clone(),
                quantity: line.quantity,
            }));
        }
        request.push(StockLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
        });
    }
    shop.inventory
        .take(&request)
        .await
        .map_err(CheckoutError::Stock)?;

    // Tell the customer.
    let email = Email {
        to: cart.customer.clone(),
        subject: format!("Your order {charge} is confirmed"),
        body: format!(
            "Thank you for your order!\n\n{listing}\n  Total charged: ${}.{:02}\n",
            total_cents / 100,
            total_cents % 100
        ),
    };
    shop.mailer.send(email).await?;

    // Tell the analysts. (After last spring's outage: never fail an order
    // because of analytics.)
    let event = SaleEvent {
        charge: charge.clone(),
        total_cents,
        items,
    };
    if let Err(e) = shop.analytics.record(event).await {
        eprintln!("analytics: sale {charge} was not recorded: {e}");
    }

    Ok(Receipt {
        charge,
        total_cents,
        follow_ups: Vec::new(),
    })
}
// ANCHOR_END: process_order
