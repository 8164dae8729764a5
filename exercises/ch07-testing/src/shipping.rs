//! The shipping partner: a remote service that quotes a price per parcel.
//!
//! It is flaky in the ways remote services are: sometimes it answers with an
//! error (a 500), sometimes it does not answer for a long time. The service
//! must not fail or hang because of it (see `service::OrderService::shipping`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What a quote returns: the price in cents, or why there is none.
pub type Quote<'a> =
    Pin<Box<dyn Future<Output = Result<u64, ShippingError>> + Send + 'a>>;

/// Why the partner gave no price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShippingError {
    /// The partner answered with this HTTP status (500, 503…).
    Status(u16),
    /// The partner could not be reached.
    Unreachable,
}

// ANCHOR: trait
/// The shipping partner, as the service sees it.
pub trait Shipping: Send + Sync {
    fn quote<'a>(&'a self, sku: &'a str, quantity: u32) -> Quote<'a>;
}
// ANCHOR_END: trait

/// A stand-in for the partner in the demo and the example: answers after
/// `latency` with 4.90 per parcel of up to 10 items.
pub struct SlowPartner {
    pub latency: Duration,
}

impl Shipping for SlowPartner {
    fn quote<'a>(&'a self, _sku: &'a str, quantity: u32) -> Quote<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            Ok(490 * u64::from(quantity.div_ceil(10)))
        })
    }
}
