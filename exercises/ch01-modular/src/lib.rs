//! Chapter 1: modular, single-responsibility code.
//!
//! A small shop's checkout. A customer submits a cart; the shop prices it,
//! charges the card, takes the items out of stock, emails a confirmation and
//! records the sale for the analysts. Each of those talks to a service across
//! the network, so each one takes time and each one can fail.
//!
//! The services sit behind small traits, one per module, with an in-memory
//! implementation that waits a configurable latency on every call:
//!
//! - [`payments`]: charge a card, refund a charge;
//! - [`inventory`]: take items out of stock, all or nothing;
//! - [`mail`]: send an email;
//! - [`analytics`]: record a sale.
//!
//! [`cart`] holds the customer's cart, the catalog and the rules a cart must
//! follow. [`checkout`] is where an order happens, and where this chapter's
//! work is (see the book's chapter 1, and run the timeline first):
//!
//! ```text
//! cargo run -p ch01-modular --example timeline
//! ```
//!
//! The checks call exactly this public API: [`validate`] and [`checkout()`],
//! with the types they take and return, and the four service traits, which the
//! checks implement with fakes of their own. The top of `src/checkout.rs` says
//! what else they look at, and what is yours to change.

pub mod analytics;
pub mod cart;
pub mod checkout;
pub mod inventory;
pub mod mail;
pub mod payments;

pub use analytics::{Analytics, AnalyticsError, SaleEvent};
pub use cart::{
    Cart, CartLine, Catalog, MAX_QUANTITY, PricedLine, ValidCart, ValidationError,
    validate,
};
pub use checkout::{CheckoutError, FollowUp, Receipt, Shop, checkout};
pub use inventory::{Inventory, StockError, StockLine};
pub use mail::{Email, MailError, Mailer};
pub use payments::{ChargeId, PaymentError, Payments};
