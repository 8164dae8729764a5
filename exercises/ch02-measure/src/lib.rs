//! Chapter 2: measure before you optimize.
//!
//! A small shop keeps customers, orders and line items in SQLite. Two pieces of
//! this crate are slow once the data grows, and one piece only looks slow. Do not
//! guess which is which: run the profile first (see the book's chapter 2).
//!
//! ```text
//! cargo run -p ch02-measure --example profile --release
//! ```
//!
//! The checks call exactly this public API: `customer_report`,
//! `first_seen_unique` and `money::format_cents`, with the report's types.

pub mod money;
pub mod report;
pub mod unique;

pub use report::{CustomerReport, LineItem, OrderSummary, customer_report};
pub use unique::first_seen_unique;
