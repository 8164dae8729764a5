//! The services the order handler calls, simulated in memory. You do not need
//! to change this file.
//!
//! Each call waits as long as a call across a data-centre network would (see
//! [`Latency`]), using tokio's clock: the checks pause that clock, so a request
//! takes exactly the sum of its waits, on any machine, in no real time at all.
//!
//! The payments client is a stand-in for a library you do not own: like many
//! real clients, it logs an event of its own when a charge goes through.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::metrics::Metrics;
use crate::model::{CardNumber, CartLine, User};

/// A card the issuer declines, for "insufficient funds".
pub const DECLINED_CARD: &str = "4000 0000 0000 0002";
/// A card whose first charge attempt times out at the gateway; a retry with
/// the same idempotency key goes through.
pub const FLAKY_CARD: &str = "4000 0000 0000 0119";
/// A card whose every charge attempt times out: the gateway cannot reach its
/// issuer at all.
pub const UNREACHABLE_CARD: &str = "4000 0000 0000 0408";

/// How long each service takes to answer.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub users: Duration,
    pub catalog: Duration,
    pub payments: Duration,
    /// How long the gateway keeps a caller waiting before giving up.
    pub payment_timeout: Duration,
    pub orders: Duration,
}

impl Latency {
    /// Services across a network: a placed order waits 40 ms in all, one
    /// whose first payment attempt times out waits 140 ms.
    pub const NETWORK: Self = Self {
        users: Duration::from_millis(4),
        catalog: Duration::from_millis(1),
        payments: Duration::from_millis(30),
        payment_timeout: Duration::from_millis(100),
        orders: Duration::from_millis(5),
    };

    /// Services that answer at once: only the handler's own work is left, which
    /// is what the overhead bench measures.
    pub const NONE: Self = Self {
        users: Duration::ZERO,
        catalog: Duration::ZERO,
        payments: Duration::ZERO,
        payment_timeout: Duration::ZERO,
        orders: Duration::ZERO,
    };
}

/// Everything `place_order` needs: the four services and the metrics.
#[derive(Debug)]
pub struct Deps {
    pub users: Users,
    pub catalog: Catalog,
    pub payments: Payments,
    pub orders: Orders,
    pub metrics: Metrics,
}

impl Deps {
    /// The services with network latencies ([`Latency::NETWORK`]).
    pub fn new() -> Self {
        Self::with_latency(Latency::NETWORK)
    }

    pub fn with_latency(latency: Latency) -> Self {
        Self {
            users: Users {
                latency: latency.users,
            },
            catalog: Catalog {
                latency: latency.catalog,
            },
            payments: Payments {
                latency: latency.payments,
                timeout: latency.payment_timeout,
                timed_out: Mutex::new(HashSet::new()),
                next_charge: AtomicU64::new(1),
                attempts: AtomicU64::new(0),
            },
            orders: Orders {
                latency: latency.orders,
                next_id: AtomicU64::new(1001),
            },
            metrics: Metrics::default(),
        }
    }
}

impl Default for Deps {
    fn default() -> Self {
        Self::new()
    }
}

async fn wait(latency: Duration) {
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

/// The users service: users 1 to 10,000 exist.
#[derive(Debug)]
pub struct Users {
    latency: Duration,
}

impl Users {
    pub async fn load(&self, id: u64) -> Option<User> {
        wait(self.latency).await;
        (1..=10_000).contains(&id).then(|| User {
            id,
            name: format!("Customer {id}"),
            email: format!("customer{id}@example.com"),
        })
    }
}

/// The catalogue: a handful of products and their prices.
#[derive(Debug)]
pub struct Catalog {
    latency: Duration,
}

impl Catalog {
    pub const PRODUCTS: [(&str, u64); 5] = [
        ("KEYBOARD", 4_999),
        ("MOUSE", 1_999),
        ("CABLE", 599),
        ("DOCK", 12_500),
        ("MONITOR", 18_999),
    ];

    /// The price of one unit, in cents, without asking the service.
    pub fn unit_price(sku: &str) -> Option<u64> {
        Self::PRODUCTS
            .iter()
            .find(|(s, _)| *s == sku)
            .map(|(_, cents)| *cents)
    }

    /// The cart's total in cents, or the first SKU the catalogue does not know.
    pub async fn price(&self, lines: &[CartLine]) -> Result<u64, String> {
        wait(self.latency).await;
        lines.iter().try_fold(0, |total, line| {
            let unit = Self::unit_price(&line.sku).ok_or_else(|| line.sku.clone())?;
            Ok(total + unit * u64::from(line.quantity))
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentError {
    /// The issuer said no, and why.
    Declined(String),
    /// No answer in time. Whether the charge happened is unknown: retry with the
    /// same idempotency key, and the gateway charges at most once.
    Timeout,
}

/// The payments client.
#[derive(Debug)]
pub struct Payments {
    latency: Duration,
    timeout: Duration,
    /// Idempotency keys whose first attempt already timed out.
    timed_out: Mutex<HashSet<String>>,
    next_charge: AtomicU64,
    attempts: AtomicU64,
}

impl Payments {
    /// Charges `card`; `key` makes retries safe (the request id will do).
    /// Returns the gateway's charge id.
    pub async fn charge(
        &self,
        key: &str,
        card: &CardNumber,
        amount_cents: u64,
    ) -> Result<String, PaymentError> {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if card.expose() == UNREACHABLE_CARD {
            wait(self.timeout).await;
            return Err(PaymentError::Timeout);
        }
        if card.expose() == FLAKY_CARD {
            let first_attempt = self.timed_out.lock().unwrap().insert(key.to_string());
            if first_attempt {
                wait(self.timeout).await;
                return Err(PaymentError::Timeout);
            }
        }
        wait(self.latency).await;
        if card.expose() == DECLINED_CARD {
            return Err(PaymentError::Declined("insufficient funds".into()));
        }
        let charge_id =
            format!("ch_{}", self.next_charge.fetch_add(1, Ordering::Relaxed));
        // The client's own event, as a library would log it.
        tracing::info!(
            target: "payments_client",
            amount_cents,
            charge_id = %charge_id,
            "charge approved"
        );
        Ok(charge_id)
    }

    /// How many charge attempts this client has made, retries included.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
}

/// The orders database.
#[derive(Debug)]
pub struct Orders {
    latency: Duration,
    next_id: AtomicU64,
}

impl Orders {
    /// Stores the order and returns its id.
    pub async fn save(&self, user_id: u64, total_cents: u64, charge_id: &str) -> u64 {
        wait(self.latency).await;
        // A real store would write these; the simulation only hands out ids.
        let _ = (user_id, total_cents, charge_id);
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}
