//! Chapter 2: measure before you optimize.
//!
//! A small shop keeps customers, orders and line items in SQLite. Some of this
//! crate is slow once the data grows, and some of it only looks slow. Do not
//! guess which is which: write down your guess, then measure (see the book's
//! chapter 2).
//!
//! ```text
//! cargo run -p ch02-measure --example profile --release
//! ```
//!
//! What the checks rely on (keep these; change anything else):
//! - `customer_report(&rusqlite::Connection) -> rusqlite::Result<Vec<CustomerReport>>`
//!   and the public fields of `CustomerReport`, `OrderSummary` and `LineItem`;
//! - `first_seen_unique(&[T]) -> Vec<T>`, called with items that are
//!   `Eq + Hash + Clone` and nothing more (no `Ord`, no `Debug`), so any bound
//!   you choose must be among those;
//! - `money::format_cents(i64) -> String`.
//!
//! Everything else is yours to change: function bodies, private helpers, the
//! modules behind them, new modules, anything from the standard library. The
//! `merch` crate in `vendor/merch` (the product list) belongs to another
//! team: call it as you like, but leave it as it is; the checks read it too.

pub mod catalogue;
pub mod money;
pub mod report;
pub mod unique;

pub use report::{CustomerReport, LineItem, OrderSummary, customer_report};
pub use unique::first_seen_unique;
