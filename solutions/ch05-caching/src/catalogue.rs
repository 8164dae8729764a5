//! The product catalogue: prices, read through a cache in front of the store.
//!
//! Every product page shows a price, so the catalogue is read far more often
//! than prices change, and a few popular products get most of the reads. Asking
//! the store every time would cost a network round trip per page view; the cache
//! below keeps the prices it has read, so that most reads are answered from
//! memory.
//!
//! Solution: a read-through cache that is bounded, expires, invalidates, loads
//! each product once however many readers miss it together, and counts what it
//! does. The decisions, and what each one trades away:
//!
//! - **Consistency.** A write through this catalogue removes the cached entry
//!   (and cancels any load in flight for that product), so every read that
//!   starts after `update_price` returns sees the new price. Writes made
//!   elsewhere (another instance, a batch job) are invisible to this process:
//!   for those, the TTL is the promise, "a price is at most `ttl` old". A
//!   shorter TTL keeps that promise tighter and costs hits; a longer one saves
//!   store calls and serves old prices for longer. Pick it from how long the
//!   business can tolerate an old price, not from the hit ratio.
//! - **Invalidate, do not update.** Putting the new price into the cache on
//!   write would save one store call, but two concurrent writers could then
//!   leave the cache holding the price that lost the race in the store, until
//!   the TTL. Removing the entry lets the next read fetch whatever the store
//!   decided.
//! - **Eviction: LRU.** When the cache is full, the entry unused for longest
//!   goes. Simple, predictable, and good on skewed traffic. It is not the best
//!   one can do: a burst of one-off reads (a crawler, a report) flushes popular
//!   entries out. moka admits a newcomer only if it is read more often than
//!   the entry it would replace (TinyLFU; Caffeine adds a small LRU window in
//!   front, W-TinyLFU); `cargo xtask bench 5` prints how much that gains on the
//!   chapter's workload, a trace whose popular set never moves, which flatters
//!   frequency-based admission.
//! - **Expiry.** A price's age counts from when the store was asked, however
//!   long it took to answer. A TTL too long for an `Instant` to hold
//!   (`Duration::MAX`) means "never". "No such product" is cached like a price:
//!   same TTL, same bound, same invalidation.
//! - **Single-flight.** Misses on one product share one load. Without it, a
//!   popular product that expires sends every concurrent reader to the store
//!   at the same moment (a stampede), exactly when the store is busiest. A
//!   reader that waits for another's load counts as a miss: the cache did not
//!   have the answer. If the reader running the load is cancelled, a waiter
//!   takes it over (`OnceCell` does this). It works within this process only:
//!   a fleet restarting together still sends one load per instance per key.
//! - **Short critical sections.** One `std::sync::Mutex` guards the maps, and
//!   it is never held across an `.await`: the store's latency is spent outside
//!   it, so misses on different products load in parallel and hits never wait
//!   for a load. The compiler helps here: a `std` guard alive across an
//!   `.await` would make the future not `Send`, and `tokio::spawn` would refuse it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

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
    clock: C,
    config: CacheConfig,
    state: Mutex<State>,
    // Counters outside the lock: reading the stats never waits for a read.
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Everything the lock guards.
#[derive(Default)]
struct State {
    entries: HashMap<Sku, Entry>,
    /// Every entry by its last use, least recently used first: the next
    /// victim is the first key. A `BTreeMap` costs O(log n) per use; an
    /// intrusive linked list would be O(1), at the price of unsafe code or an
    /// arena, for no difference a store call would notice.
    recency: BTreeMap<u64, Sku>,
    /// Counts uses, to give each one a distinct place in `recency`.
    uses: u64,
    /// The loads in flight, one per product.
    loading: HashMap<Sku, Arc<Load>>,
}

struct Entry {
    price: Option<Cents>,
    /// `None`: never. A TTL so long that `started + ttl` is past what an
    /// `Instant` can represent (`Duration::MAX` says "never expire") must not
    /// panic, and no clock will ever reach that instant anyway.
    expires_at: Option<Instant>,
    last_use: u64,
}

/// One call to the store, shared by every read of the product that misses
/// while it is in flight.
struct Load {
    /// When the load began. The TTL counts from here, not from when the price
    /// arrived: the store read it somewhere in between, so counting from the
    /// start guarantees that no price is served more than `ttl` after the
    /// store answered for it. The cost is a slightly shorter life per entry.
    started: Instant,
    price: OnceCell<Option<Cents>>,
}

impl<S: Store, C: Clock> Catalogue<S, C> {
    pub fn new(store: S, clock: C, config: CacheConfig) -> Self {
        Self {
            store,
            clock,
            config,
            state: Mutex::new(State::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The price of `sku`: from the cache when a fresh copy is there, from the
    /// store otherwise (one load per product, however many readers miss).
    pub async fn price(&self, sku: Sku) -> Option<Cents> {
        let load = {
            let mut state = self.lock();
            let now = self.clock.now();
            if let Some(price) = state.fresh(sku, now) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return price;
            }
            self.misses.fetch_add(1, Ordering::Relaxed);
            // Join the load in flight for this product, or start one.
            let load = state.loading.entry(sku).or_insert_with(|| {
                Arc::new(Load {
                    started: now,
                    price: OnceCell::new(),
                })
            });
            Arc::clone(load)
        }; // The lock is released here, before waiting for the store.

        // The first reader to get here runs the store call; the others wait for
        // its result. If that reader is cancelled, the next one takes over.
        let price = *load.price.get_or_init(|| self.store.get(sku)).await;

        // Keep the price only if this load is still the current one for the
        // product. An update in between removed it from `loading`: its price
        // may predate the update, so it is returned to the readers that were
        // already waiting (they began before the update finished) but never
        // cached. The identity check (`ptr_eq`), not just "is some load
        // registered", matters: a newer load may be registered by now.
        let mut state = self.lock();
        if state
            .loading
            .get(&sku)
            .is_some_and(|current| Arc::ptr_eq(current, &load))
        {
            state.loading.remove(&sku);
            let expires_at = load.started.checked_add(self.config.ttl);
            state.insert(sku, price, expires_at, self.config.capacity);
        }
        price
    }

    /// Changes the price of `sku` in the store, then forgets the cached copy.
    pub async fn update_price(&self, sku: Sku, price: Cents) {
        // Store first, cache second. The other order leaves a gap: a read
        // between the invalidation and the write would load the old price from
        // the store and cache it again.
        self.store.put(sku, price).await;
        let mut state = self.lock();
        state.remove(sku);
        // A load that started before the write may carry the old price: drop
        // it, so that later reads start a fresh one and it cannot be cached.
        state.loading.remove(&sku);
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// How many entries the cache holds right now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, so it is never poisoned.
        self.state
            .lock()
            .expect("the cache's lock is never poisoned")
    }
}

impl State {
    /// The cached price of `sku` if it is still fresh at `now`, marking it as
    /// just used. An expired entry is removed on the way.
    fn fresh(&mut self, sku: Sku, now: Instant) -> Option<Option<Cents>> {
        let entry = self.entries.get_mut(&sku)?;
        if entry.expires_at.is_some_and(|expiry| now >= expiry) {
            self.remove(sku);
            return None;
        }
        // A hit is a use: the entry moves to the most recently used end.
        self.recency.remove(&entry.last_use);
        self.uses += 1;
        entry.last_use = self.uses;
        self.recency.insert(self.uses, sku);
        Some(entry.price)
    }

    /// Caches `price` for `sku`, evicting the least recently used entries
    /// first if the cache is full.
    fn insert(
        &mut self,
        sku: Sku,
        price: Option<Cents>,
        expires_at: Option<Instant>,
        capacity: usize,
    ) {
        self.remove(sku);
        if capacity == 0 {
            return;
        }
        while self.entries.len() >= capacity {
            let Some((_, victim)) = self.recency.pop_first() else {
                break;
            };
            self.entries.remove(&victim);
        }
        self.uses += 1;
        self.recency.insert(self.uses, sku);
        // `None` (no such product) is cached like a price: a page that links
        // to a missing product would otherwise reach the store on every view.
        self.entries.insert(
            sku,
            Entry {
                price,
                expires_at,
                last_use: self.uses,
            },
        );
    }

    fn remove(&mut self, sku: Sku) {
        if let Some(entry) = self.entries.remove(&sku) {
            self.recency.remove(&entry.last_use);
        }
    }
}
