//! Tests of the order service, each at the level where its bug would show.
//!
//! - `pricing`: plain unit tests on the boundary values (just below, exactly
//!   at, above the discount threshold); microseconds each.
//! - `storage`: through real SQLite (in memory), because the SQL is code too:
//!   a fake repository would pass while a wrong `WHERE` lists cancelled orders.
//! - `faults`: the service with fakes for its dependencies that fail in each
//!   way they can (an error, no answer at all) on tokio's paused clock, so
//!   "within the timeout" is checked exactly and costs no real time.
//! - `api`: the router in-process, for what only HTTP shows (status codes).
//!
//! Each test names the behaviour it pins down; `cargo xtask check 7` runs them
//! against known mutants of the service.

mod api;
mod faults;
mod pricing;
mod storage;

use std::sync::Arc;
use std::time::Duration;

use crate::repo::SqliteOrders;
use crate::service::{OrderService, SHIPPING_TIMEOUT};
use crate::shipping::{Quote, Shipping};

/// A partner that always quotes `cents`, at once.
pub(super) struct FixedQuote(pub u64);

impl Shipping for FixedQuote {
    fn quote<'a>(&'a self, _sku: &'a str, _quantity: u32) -> Quote<'a> {
        Box::pin(async move { Ok(self.0) })
    }
}

/// The service over a fresh SQLite database and a partner quoting 5.00.
pub(super) fn service() -> OrderService {
    OrderService::new(
        Arc::new(SqliteOrders::in_memory().unwrap()),
        Arc::new(FixedQuote(500)),
        SHIPPING_TIMEOUT,
    )
}

pub(super) const TIMEOUT: Duration = SHIPPING_TIMEOUT;
