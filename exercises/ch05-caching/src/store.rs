//! The store that holds the prices: the source of truth, and slow.
//!
//! In production this is a database or a pricing service on another machine.
//! Two of its properties matter for caching, and [`SlowStore`] simulates both:
//! - every call waits for the network (`latency`), however small the answer;
//! - the store serves only a few calls at once (`connections`, like a connection
//!   pool): when more arrive together, they queue, and everyone waits longer.
//!
//! It also counts the calls it serves, because "how often did we reach the
//! store?" is the number a cache exists to lower.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

/// A product's stock-keeping unit: its identifier in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(pub u32);

/// A price, in cents.
pub type Cents = u64;

// ANCHOR: store_trait
/// Where prices are kept. Both calls cross the network.
pub trait Store: Send + Sync + 'static {
    /// The current price of `sku`, or `None` when there is no such product.
    fn get(&self, sku: Sku) -> impl Future<Output = Option<Cents>> + Send;

    /// Sets the price of `sku`; once this returns, `get` answers `price`.
    fn put(&self, sku: Sku, price: Cents) -> impl Future<Output = ()> + Send;
}
// ANCHOR_END: store_trait

/// An in-memory store that behaves like a remote one: each call waits
/// `latency`, at most `connections` calls are served at once, and every call
/// is counted.
#[derive(Debug)]
pub struct SlowStore {
    prices: Mutex<HashMap<Sku, Cents>>,
    latency: Duration,
    connections: Semaphore,
    gets: AtomicU64,
    puts: AtomicU64,
}

impl SlowStore {
    /// A store whose calls each wait `latency`, with up to `connections` of
    /// them served at the same time.
    pub fn new(latency: Duration, connections: usize) -> Self {
        Self {
            prices: Mutex::new(HashMap::new()),
            latency,
            connections: Semaphore::new(connections.max(1)),
            gets: AtomicU64::new(0),
            puts: AtomicU64::new(0),
        }
    }

    /// Sets a price directly, without latency and without counting a call:
    /// for filling the store before a test or a bench.
    pub fn insert(&self, sku: Sku, price: Cents) {
        self.lock().insert(sku, price);
    }

    /// How many `get` calls the store has served.
    pub fn gets(&self) -> u64 {
        self.gets.load(Ordering::Relaxed)
    }

    /// How many `put` calls the store has served.
    pub fn puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Sku, Cents>> {
        self.prices
            .lock()
            .expect("the store's lock is never poisoned")
    }

    /// Waits for a free connection, then for the network.
    async fn round_trip(&self) -> tokio::sync::SemaphorePermit<'_> {
        let permit = self
            .connections
            .acquire()
            .await
            .expect("the semaphore is never closed");
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        permit
    }
}

impl Store for SlowStore {
    async fn get(&self, sku: Sku) -> Option<Cents> {
        let _connection = self.round_trip().await;
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.lock().get(&sku).copied()
    }

    async fn put(&self, sku: Sku, price: Cents) {
        let _connection = self.round_trip().await;
        self.puts.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(sku, price);
    }
}

/// A shared store is a store: keep an `Arc` to read its counters afterwards.
impl<T: Store> Store for Arc<T> {
    fn get(&self, sku: Sku) -> impl Future<Output = Option<Cents>> + Send {
        (**self).get(sku)
    }

    fn put(&self, sku: Sku, price: Cents) -> impl Future<Output = ()> + Send {
        (**self).put(sku, price)
    }
}
