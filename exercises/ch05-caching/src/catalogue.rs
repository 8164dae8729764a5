//! The product catalogue: prices, read through a cache in front of the store.
//!
//! Every product page shows a price, so the catalogue is read far more often
//! than prices change, and a few popular products get most of the reads. Asking
//! the store every time would cost a network round trip per page view; the cache
//! below keeps the prices it has read, so that most reads are answered from
//! memory.
//!
//! It went to production after a quick test on a laptop, where it looked
//! perfect: the second read of a product never reached the store. Since then,
//! the pricing team, the on-call engineer and the monitoring team have each
//! filed a complaint; the checks (`cargo xtask check 5`) spell them out.
//!
//! What the checks rely on (keep these as they are): `Catalogue::new(store,
//! clock, config)`, `async fn price(&self, Sku) -> Option<Cents>`, `async fn
//! update_price(&self, Sku, Cents)`, `stats(&self) -> Stats` (its two fields
//! and `Stats::hit_ratio`), `len` and `is_empty`, with `CacheConfig` as it is.
//! The checks share one `Arc<Catalogue<_, _>>` between tasks started with
//! `tokio::spawn`, so the futures of `price` and `update_price` must be `Send`;
//! they pass an `Arc` of their own store and clock (see `store.rs` and
//! `clock.rs`, which you leave alone).
//!
//! Everything else is yours to change: the fields of `Catalogue`, its trait
//! bounds (as long as an `Arc` of any `Store` and `Clock` still meets them),
//! private helpers and types, new modules beside this one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{Cents, Sku, Store};

/// How the cache may behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long a price may be served after it was read from the store. An
    /// entry read at time `t` is served until just before `t + ttl`; from
    /// `t + ttl` on, the next read goes to the store again.
    pub ttl: Duration,
    /// The most entries the cache may hold at any moment.
    pub capacity: usize,
}

/// What the cache has done since it was created.
///
/// Every call to [`Catalogue::price`] counts exactly once: as a hit when a
/// fresh price was in the cache, as a miss otherwise (whether that read then
/// called the store itself or waited for another read's call to finish).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: u64,
    pub misses: u64,
}

impl Stats {
    /// The share of reads answered from the cache, between 0 and 1.
    pub fn hit_ratio(&self) -> f64 {
        let reads = self.hits + self.misses;
        if reads == 0 {
            0.0
        } else {
            self.hits as f64 / reads as f64
        }
    }
}

/// Prices, read through a cache in front of a slow [`Store`].
pub struct Catalogue<S, C> {
    store: S,
    // The clock was passed in so that tests can control time; nothing here has
    // needed to know the time so far.
    _clock: C,
    cache: Mutex<HashMap<Sku, Option<Cents>>>,
}

impl<S: Store, C: Clock> Catalogue<S, C> {
    pub fn new(store: S, clock: C, config: CacheConfig) -> Self {
        Self {
            store,
            _clock: clock,
            // Room for `capacity` prices from the start, so the map does not
            // have to grow while it warms up.
            cache: Mutex::new(HashMap::with_capacity(config.capacity)),
        }
    }

    // ANCHOR: price
    /// The price of `sku`: from the cache when it is there, from the store
    /// otherwise (and then kept for next time).
    pub async fn price(&self, sku: Sku) -> Option<Cents> {
        let cached = self.lock().get(&sku).copied();
        if let Some(price) = cached {
            return price;
        }
        let price = self.store.get(sku).await;
        self.lock().insert(sku, price);
        price
    }
    // ANCHOR_END: price

    // ANCHOR: update_price
    /// Changes the price of `sku` in the store.
    pub async fn update_price(&self, sku: Sku, price: Cents) {
        self.store.put(sku, price).await;
    }
    // ANCHOR_END: update_price

    /// Hits and misses so far. The cache counts nothing yet: nobody can tell
    /// how well it works.
    pub fn stats(&self) -> Stats {
        Stats::default()
    }

    /// How many entries the cache holds right now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Sku, Option<Cents>>> {
        self.cache
            .lock()
            .expect("the cache's lock is never poisoned")
    }
}
