//! The checks for chapter 5. `cargo xtask check 5` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count or a time on a clock the check controls, so it is
//! the same on every machine:
//! - the store below counts its calls, and its latency is a tokio sleep under
//!   paused time (`start_paused = true`): "100 ms" is exact, and takes no real
//!   time at all;
//! - the catalogue's clock is a hand-moved clock, so expiry happens at exactly
//!   the instant the check chooses;
//! - the hit-ratio checks replay a seeded trace, compared with a reference LRU
//!   computed here on the same trace.
//!
//! The store and the clock are defined here, not taken from `src/`, so that
//! nothing the checks rely on can change under them.

mod workload;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch05_caching::{CacheConfig, Catalogue, Cents, Clock, Sku, Store};
use support::rng::Rng;
use tokio::time::Instant as TokioInstant;

const WHERE: &str = "exercises/ch05-caching/src/catalogue.rs";

// ANCHOR: fakes
/// A store that counts its calls. `get` reads the price when it is called and
/// answers after `get_latency`, like a reply crossing the network; `put`
/// changes the price after `put_latency`, when the write arrives.
struct CountingStore {
    prices: Mutex<HashMap<Sku, Cents>>,
    gets: AtomicU64,
    get_latency: Duration,
    put_latency: Duration,
}

/// A clock that moves only when the check moves it.
struct TestClock(Mutex<std::time::Instant>);
// ANCHOR_END: fakes

impl CountingStore {
    fn new(get_latency: Duration, put_latency: Duration) -> Arc<Self> {
        Arc::new(Self {
            prices: Mutex::new((0..1_000).map(|k| (Sku(k), price_of(k))).collect()),
            gets: AtomicU64::new(0),
            get_latency,
            put_latency,
        })
    }

    fn instant() -> Arc<Self> {
        Self::new(Duration::ZERO, Duration::ZERO)
    }

    fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }

    /// A change made behind the catalogue's back (another service, an admin).
    fn set(&self, sku: Sku, price: Cents) {
        self.prices.lock().unwrap().insert(sku, price);
    }
}

impl Store for CountingStore {
    async fn get(&self, sku: Sku) -> Option<Cents> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let price = self.prices.lock().unwrap().get(&sku).copied();
        if !self.get_latency.is_zero() {
            tokio::time::sleep(self.get_latency).await;
        }
        price
    }

    async fn put(&self, sku: Sku, price: Cents) {
        if !self.put_latency.is_zero() {
            tokio::time::sleep(self.put_latency).await;
        }
        self.prices.lock().unwrap().insert(sku, price);
    }
}

impl TestClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(std::time::Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> std::time::Instant {
        *self.0.lock().unwrap()
    }
}

type Cat = Catalogue<Arc<CountingStore>, Arc<TestClock>>;

fn catalogue(
    store: &Arc<CountingStore>,
    clock: &Arc<TestClock>,
    ttl: Duration,
    capacity: usize,
) -> Arc<Cat> {
    Arc::new(Catalogue::new(
        Arc::clone(store),
        Arc::clone(clock),
        CacheConfig { ttl, capacity },
    ))
}

/// The store's starting price of product `k`.
fn price_of(k: u32) -> Cents {
    1_000 + 7 * Cents::from(k)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const HOUR: Duration = Duration::from_secs(3_600);

/// "1 store call", "3 store calls".
fn calls(n: u64) -> String {
    if n == 1 {
        "1 store call".into()
    } else {
        format!("{n} store calls")
    }
}

#[tokio::test]
async fn a_second_read_of_a_price_is_served_from_the_cache() {
    let (store, clock) = (CountingStore::instant(), TestClock::new());
    let cat = catalogue(&store, &clock, HOUR, 100);
    for read in 1..=2 {
        let got = cat.price(Sku(7)).await;
        assert!(
            got == Some(price_of(7)),
            "read {read} of Sku(7) should give the store's price {:?}, saw {got:?}. \
             Look at price in {WHERE}.",
            Some(price_of(7))
        );
    }
    assert!(
        store.gets() == 1,
        "expected 2 reads of one product to call the store once (the second read is \
         answered from the cache), saw {}. Look at price in {WHERE}.",
        calls(store.gets())
    );
}

#[tokio::test]
async fn a_read_after_an_update_sees_the_new_price() {
    let (store, clock) = (CountingStore::instant(), TestClock::new());
    let cat = catalogue(&store, &clock, HOUR, 100);
    let old = cat.price(Sku(7)).await;
    cat.update_price(Sku(7), 1_499).await;
    let new = cat.price(Sku(7)).await;
    assert!(
        new == Some(1_499),
        "price(Sku(7)) was {old:?}; after update_price(Sku(7), 1499) returned, \
         price(Sku(7)) gave {new:?}, expected Some(1499). That is a stale read: the \
         store has the new price but the cache still serves its copy of the old one. \
         A write through the catalogue must invalidate (remove) the cached entry, or \
         replace it. Look at update_price in {WHERE}."
    );
}

#[tokio::test(start_paused = true)]
async fn no_read_that_starts_after_an_update_sees_the_old_price() {
    // Reads take 100 ms and the write takes 20 ms (paused time: exact, and
    // instant in real time). A read starts every 5 ms for 300 ms; the update
    // starts at 12 ms, while the first read's load is still in flight.
    let store = CountingStore::new(ms(100), ms(20));
    let clock = TestClock::new();
    let cat = catalogue(&store, &clock, HOUR, 100);
    let sku = Sku(7);
    let start = TokioInstant::now();
    let writer = {
        let cat = Arc::clone(&cat);
        tokio::spawn(async move {
            tokio::time::sleep_until(start + ms(12)).await;
            cat.update_price(sku, 1_499).await;
            TokioInstant::now()
        })
    };
    let readers: Vec<_> = (0..60)
        .map(|i| {
            let cat = Arc::clone(&cat);
            tokio::spawn(async move {
                tokio::time::sleep_until(start + ms(5 * i)).await;
                let began = TokioInstant::now();
                (began, cat.price(sku).await)
            })
        })
        .collect();
    let updated = writer.await.expect("update_price panicked");
    for reader in readers {
        let (began, price) = reader.await.expect("price panicked");
        if began > updated && price != Some(1_499) {
            panic!(
                "a read that began at {} ms, after update_price returned at {} ms, saw \
                 {price:?}, expected the new price Some(1499).\n\
                 The usual cause: the first read's load (from 0 to 100 ms) was in flight \
                 during the update and carries the old price. Removing the cached entry \
                 is not enough: a load in flight during an update must neither be shared \
                 with reads that start after the update nor put its old price into the \
                 cache when it lands. Look at price and update_price in {WHERE}.",
                (began - start).as_millis(),
                (updated - start).as_millis()
            );
        }
    }
    let last = cat.price(sku).await;
    assert!(
        last == Some(1_499),
        "once everything had settled, price(Sku(7)) gave {last:?}, expected Some(1499): \
         a load that started before the update put the old price back into the cache. \
         Look at price and update_price in {WHERE}."
    );
}

#[tokio::test]
async fn an_entry_expires_exactly_when_its_ttl_has_passed() {
    let (store, clock) = (CountingStore::instant(), TestClock::new());
    let ttl = Duration::from_secs(60);
    let cat = catalogue(&store, &clock, ttl, 100);
    let sku = Sku(7);
    cat.price(sku).await;
    // Someone changes the price behind the catalogue's back: only the TTL
    // bounds how long the catalogue may keep serving its copy.
    clock.advance(Duration::from_secs(30));
    store.set(sku, 1_499);
    clock.advance(ttl - Duration::from_secs(30) - ms(1));
    let before = cat.price(sku).await;
    assert!(
        store.gets() == 1 && before == Some(price_of(7)),
        "59.999 s after the price was loaded, with a TTL of 60 s, the read should still \
         be served from the cache (1 store call in all, price {:?}); saw {} and \
         {before:?}: the entry expired too early. Look at price in {WHERE}.",
        Some(price_of(7)),
        calls(store.gets())
    );
    clock.advance(ms(1));
    let at_ttl = cat.price(sku).await;
    assert!(
        store.gets() == 2 && at_ttl == Some(1_499),
        "exactly 60 s after the price was loaded, with a TTL of 60 s, the entry has \
         expired: expected the read to call the store again and see the new price \
         Some(1499); saw {} in all and {at_ttl:?}. An entry loaded at t is fresh \
         while now < t + ttl, and expired from t + ttl on, exactly. Check its age on \
         every read, not only when inserting. Look at price in {WHERE}.",
        calls(store.gets())
    );
}

#[tokio::test(start_paused = true)]
async fn the_cache_never_holds_more_entries_than_its_capacity() {
    let store = CountingStore::new(ms(10), Duration::ZERO);
    let clock = TestClock::new();
    let capacity = 50;
    let cat = catalogue(&store, &clock, HOUR, capacity);
    let mut rng = Rng::new(55);
    let mut products = std::collections::HashSet::new();
    for read in 1..=600 {
        let sku = Sku(rng.below(400) as u32);
        products.insert(sku);
        cat.price(sku).await;
        let len = cat.len();
        assert!(
            len <= capacity,
            "after {read} reads of {} different products the cache holds {len} \
             entries; its capacity is {capacity}. An unbounded cache grows until the \
             process runs out of memory: when it is full, evict an entry (the least \
             recently used, at least) before inserting. Look at price in {WHERE}.",
            products.len()
        );
    }
    let calls = store.gets();
    let again = Sku(rng.below(400) as u32);
    cat.price(again).await;
    cat.price(again).await;
    assert!(
        store.gets() <= calls + 1,
        "a product read twice in a row should be a hit the second time, even in a full \
         cache; it reached the store twice. Look at price in {WHERE}."
    );
    // 200 misses on different products, all in flight at the same time.
    let readers: Vec<_> = (400..600)
        .map(|k| {
            let cat = Arc::clone(&cat);
            tokio::spawn(async move { cat.price(Sku(k)).await })
        })
        .collect();
    for r in readers {
        r.await.expect("price panicked");
    }
    let len = cat.len();
    assert!(
        len <= capacity,
        "after 200 concurrent misses on different products the cache holds {len} \
         entries; its capacity is {capacity}. Check the bound when each load's price \
         is inserted, not only when the read starts. Look at price in {WHERE}."
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_on_one_key_reach_the_store_once() {
    let store = CountingStore::new(ms(100), Duration::ZERO);
    let clock = TestClock::new();
    let cat = catalogue(&store, &clock, HOUR, 100);
    let sku = Sku(7);
    let readers: Vec<_> = (0..100)
        .map(|_| {
            let cat = Arc::clone(&cat);
            tokio::spawn(async move { cat.price(sku).await })
        })
        .collect();
    for r in readers {
        let got = r.await.expect("price panicked");
        assert!(
            got == Some(price_of(7)),
            "every concurrent reader should get the store's price {:?}, one saw \
             {got:?}. Look at price in {WHERE}.",
            Some(price_of(7))
        );
    }
    assert!(
        store.gets() == 1,
        "100 reads of one product arrived together at an empty cache, and the store \
         was called {} times; expected once. That is a stampede: each miss loads the price \
         on its own, and a popular product that expires sends every reader to the store \
         at once. When a load of this product is already in flight, wait for its result \
         instead of starting another (single-flight). Look at price in {WHERE}.",
        store.gets()
    );
    cat.price(sku).await;
    assert!(
        store.gets() == 1,
        "the price the 100 readers waited for was not kept in the cache: the next read \
         called the store again. Look at price in {WHERE}."
    );
}

#[tokio::test(start_paused = true)]
async fn misses_on_different_keys_load_in_parallel() {
    let store = CountingStore::new(ms(100), Duration::ZERO);
    let clock = TestClock::new();
    let cat = catalogue(&store, &clock, HOUR, 100);
    cat.price(Sku(0)).await;
    let start = TokioInstant::now();
    let misses: Vec<_> = (1..=10)
        .map(|k| {
            let cat = Arc::clone(&cat);
            tokio::spawn(async move {
                cat.price(Sku(k)).await;
                TokioInstant::now() - start
            })
        })
        .collect();
    let hit = {
        let cat = Arc::clone(&cat);
        tokio::spawn(async move {
            cat.price(Sku(0)).await;
            TokioInstant::now() - start
        })
    };
    let mut slowest = Duration::ZERO;
    for m in misses {
        slowest = slowest.max(m.await.expect("price panicked"));
    }
    let hit = hit.await.expect("price panicked");
    assert!(
        slowest < ms(200),
        "10 reads of 10 different uncached products, each load taking 100 ms, took \
         {} ms together; in parallel they take 100 ms. The loads waited for each \
         other: a lock held across the store's await serializes every miss behind the \
         one before it. Hold a lock only to look at or change the map, never while \
         waiting for the store; single-flight is per product. Look at price in {WHERE}.",
        slowest.as_millis()
    );
    assert!(
        hit < ms(1),
        "a read of a cached product waited {} ms while other products were loading; \
         a hit should not wait at all. A lock held across the store's await makes \
         every read wait for it. Look at price in {WHERE}.",
        hit.as_millis()
    );
}

#[tokio::test(start_paused = true)]
async fn statistics_count_each_read_once_as_a_hit_or_a_miss() {
    let store = CountingStore::new(ms(10), Duration::ZERO);
    let clock = TestClock::new();
    let ttl = Duration::from_secs(60);
    let cat = catalogue(&store, &clock, ttl, 100);
    // miss, hit, miss, hit, (expiry) miss.
    cat.price(Sku(1)).await;
    cat.price(Sku(1)).await;
    cat.price(Sku(2)).await;
    cat.price(Sku(1)).await;
    clock.advance(ttl);
    cat.price(Sku(1)).await;
    let s = cat.stats();
    assert!(
        (s.hits, s.misses) == (2, 3),
        "reads of 1, 1, 2, 1, then 1 again after its TTL, should count 2 hits and 3 \
         misses; stats() says {} hits and {} misses. Count each call to price once: a \
         hit when a fresh price was in the cache, a miss otherwise (the last read comes \
         after the TTL, so it is a miss: if the expiry check fails, fix that first). \
         Look at price and stats in {WHERE}.",
        s.hits,
        s.misses
    );
    // 100 concurrent reads of one product: one loads, 99 wait. Each is a miss.
    let readers: Vec<_> = (0..100)
        .map(|_| {
            let cat = Arc::clone(&cat);
            tokio::spawn(async move { cat.price(Sku(3)).await })
        })
        .collect();
    for r in readers {
        r.await.expect("price panicked");
    }
    let t = cat.stats();
    let (hits, misses) = (t.hits - s.hits, t.misses - s.misses);
    assert!(
        hits + misses == 100 && misses >= 1,
        "100 concurrent reads of an uncached product should add 100 to hits + misses \
         (at least one of them a miss); saw {hits} hits and {misses} misses added. \
         A read that waits for another read's load counts once, as a miss. Look at \
         price and stats in {WHERE}."
    );
    // A seeded mix, one read at a time: every miss is exactly one store call.
    let (store, clock) = (CountingStore::instant(), TestClock::new());
    let cat = catalogue(&store, &clock, ttl, 20);
    let mut rng = Rng::new(8);
    for _ in 0..2_000 {
        clock.advance(ms(100));
        cat.price(Sku(rng.below(100) as u32)).await;
    }
    let s = cat.stats();
    assert!(
        s.hits + s.misses == 2_000 && s.misses == store.gets(),
        "after 2,000 reads, one at a time, expected hits + misses = 2,000 and misses = \
         store calls ({}); stats() says {} hits and {} misses. Look at price and stats \
         in {WHERE}.",
        store.gets(),
        s.hits,
        s.misses
    );
}

/// What the checks see of one replay of the standard trace.
struct Replay {
    store_calls: u64,
    largest: usize,
}

/// Replays the standard trace through the learner's catalogue, one read at a
/// time, with 1 ms between reads and a TTL longer than the whole trace (so
/// only the capacity and the eviction policy decide what is a hit).
async fn replay_standard_trace(trace: &[Sku]) -> Replay {
    let (store, clock) = (CountingStore::instant(), TestClock::new());
    {
        let mut prices = store.prices.lock().unwrap();
        prices.extend((0..workload::PRODUCTS).map(|k| (Sku(k), price_of(k))));
    }
    let cat = catalogue(&store, &clock, HOUR, workload::CAPACITY);
    let mut largest = 0;
    for &sku in trace {
        clock.advance(ms(1));
        cat.price(sku).await;
        largest = largest.max(cat.len());
    }
    Replay {
        store_calls: store.gets(),
        largest,
    }
}

fn assert_bounded(replay: &Replay) {
    assert!(
        replay.largest <= workload::CAPACITY,
        "while replaying {} reads the cache held up to {} entries, with a capacity of \
         {}. A hit ratio only means something within the bound: make the capacity \
         check above pass first. Look at price in {WHERE}.",
        workload::thousands(workload::READS as u64),
        workload::thousands(replay.largest as u64),
        workload::thousands(workload::CAPACITY as u64)
    );
}

// Why 60% and not more: on this trace, no cache of 1,000 entries can save more
// than 80.3% of the store calls (Belady's optimal policy, which knows the future);
// LRU saves 66.0%, FIFO 61.6%, moka about 72.5%
// (`cargo run -p ch05-caching --example hit_ratios --release`).
#[tokio::test]
async fn store_calls_fall_by_at_least_60_percent_on_a_skewed_workload() {
    let trace = workload::standard_trace();
    let replay = replay_standard_trace(&trace).await;
    assert_bounded(&replay);
    let reads = trace.len() as f64;
    let saved = 1.0 - replay.store_calls as f64 / reads;
    assert!(
        saved >= 0.60,
        "{} reads over {} products (Zipf, exponent {}), cache capacity {}: the store \
         was called {} times, {:.1}% fewer than without a cache; expected at least 60% \
         fewer. Few hits on a skewed workload mean the popular products do not stay \
         cached: look at which entry you evict, and whether a hit counts as a use. \
         Look at price in {WHERE}.",
        workload::thousands(trace.len() as u64),
        workload::thousands(u64::from(workload::PRODUCTS)),
        workload::EXPONENT,
        workload::thousands(workload::CAPACITY as u64),
        workload::thousands(replay.store_calls),
        100.0 * saved
    );
}

#[tokio::test]
async fn hit_ratio_on_a_skewed_workload_keeps_up_with_lru() {
    let trace = workload::standard_trace();
    let replay = replay_standard_trace(&trace).await;
    assert_bounded(&replay);
    let yours = 1.0 - replay.store_calls as f64 / trace.len() as f64;
    let lru = workload::ratio(workload::lru_hits(&trace, workload::CAPACITY), &trace);
    let margin = 0.02;
    assert!(
        yours >= lru - margin,
        "on the same {} reads (Zipf, exponent {}) with capacity {}, your cache's hit \
         ratio is {yours:.3} (counted from store calls) and a plain LRU cache's is \
         {lru:.3}; expected at least {:.3} (LRU minus {margin}). Evicting the oldest \
         insertion (FIFO) or an arbitrary entry loses the popular products; a hit must \
         make its entry the most recently used. Look at price in {WHERE}.",
        workload::thousands(trace.len() as u64),
        workload::EXPONENT,
        workload::thousands(workload::CAPACITY as u64),
        lru - margin
    );
}
