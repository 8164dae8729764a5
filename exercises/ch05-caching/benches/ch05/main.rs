//! Chapter 5's bench: your catalogue beside the starter's, in the same run.
//!
//! - `ch05_stampede` (the gate of `cargo xtask check 5`): just after a deploy,
//!   the cache is empty and 512 requests for the 8 products on the front page
//!   arrive together. The store answers in 1 ms and serves 4 calls at once, like
//!   a database behind a pool of 4 connections. Every call the cache does not
//!   make is a call nobody queues behind.
//!
//!   Both sides do exactly the work they claim on every run: each burst gets a
//!   new, empty cache, and no store call answers before every read of the burst
//!   has begun (and looked in the cache). Without that start line, a busy machine
//!   that was slow to start the readers let the later ones find prices the
//!   earlier ones had loaded, so the starter made fewer than 512 store calls and
//!   measured faster than its floor (512 calls through 4 connections at 1 ms
//!   each cannot take less than 128 ms). The starter's side checks its count on
//!   every burst.
//! - `ch05_read`: one read of your catalogue, cold (the price comes from the
//!   store) and warm (the price is cached).
//!
//! Before measuring, it prints the hit ratios of your cache, of moka and of
//! Belady's optimal policy on the chapter's seeded trace (the same table as
//! `cargo run -p ch05-caching --example hit_ratios --release`), and gives the
//! runner three of them for the book's live panel.

#[path = "../../tests/workload/mod.rs"]
mod workload;

mod starter;

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use ch05_caching::{CacheConfig, Catalogue, Cents, Sku, SlowStore, Store, SystemClock};
use criterion::{Criterion, SamplingMode, criterion_group};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio::task::JoinSet;

const LATENCY: Duration = Duration::from_millis(1);
const CONNECTIONS: usize = 4;
const FRONT_PAGE: u32 = 8;
const REQUESTS: u32 = 512;

fn config() -> CacheConfig {
    CacheConfig {
        ttl: Duration::from_secs(60),
        capacity: 1_000,
    }
}

fn store() -> Arc<SlowStore> {
    let store = SlowStore::new(LATENCY, CONNECTIONS);
    for k in 0..1_000 {
        store.insert(Sku(k), 1_000 + u64::from(k));
    }
    Arc::new(store)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// Holds back every store call of one burst until all of its reads have
/// begun, so that no read can find a price another read of the same burst
/// loaded, however the threads happen to be scheduled.
struct StartLine {
    not_yet_begun: AtomicUsize,
    open: watch::Sender<bool>,
}

impl StartLine {
    fn new(reads: u32) -> Arc<Self> {
        Arc::new(Self {
            not_yet_begun: AtomicUsize::new(reads as usize),
            open: watch::Sender::new(false),
        })
    }

    /// One more read has begun; the last one opens the line.
    fn begun(&self) {
        if self.not_yet_begun.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.open.send_replace(true);
        }
    }

    async fn wait(&self) {
        self.open
            .subscribe()
            .wait_for(|&open| open)
            .await
            .expect("the start line outlives its burst");
    }
}

/// The bench's store, whose calls wait at the burst's start line.
struct BurstStore {
    store: Arc<SlowStore>,
    line: Arc<StartLine>,
}

impl Store for BurstStore {
    async fn get(&self, sku: Sku) -> Option<Cents> {
        self.line.wait().await;
        self.store.get(sku).await
    }

    async fn put(&self, sku: Sku, price: Cents) {
        self.store.put(sku, price).await
    }
}

/// Runs `read` up to its first wait (the cache lookup and, on a miss, the
/// store call held at the start line), says so, then lets it finish.
async fn begin_then_finish(
    read: impl Future<Output = Option<Cents>>,
    line: &StartLine,
) -> Option<Cents> {
    let mut read = std::pin::pin!(read);
    let first = std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
    line.begun();
    match first {
        Poll::Ready(price) => price,
        Poll::Pending => read.await,
    }
}

/// One burst through a new starter catalogue; returns the store calls it made.
async fn starter_burst(store: &Arc<SlowStore>) -> u64 {
    let before = store.gets();
    let line = StartLine::new(REQUESTS);
    let burst_store = BurstStore {
        store: Arc::clone(store),
        line: Arc::clone(&line),
    };
    let cat = Arc::new(starter::Catalogue::new(burst_store));
    let mut readers = JoinSet::new();
    for i in 0..REQUESTS {
        let (cat, line) = (Arc::clone(&cat), Arc::clone(&line));
        readers.spawn(async move {
            begin_then_finish(cat.price(Sku(i % FRONT_PAGE)), &line).await
        });
    }
    readers.join_all().await;
    store.gets() - before
}

/// One burst through a new catalogue of yours; returns the store calls it made.
async fn yours_burst(store: &Arc<SlowStore>) -> u64 {
    let before = store.gets();
    let line = StartLine::new(REQUESTS);
    let burst_store = BurstStore {
        store: Arc::clone(store),
        line: Arc::clone(&line),
    };
    let cat = Arc::new(Catalogue::new(burst_store, SystemClock, config()));
    let mut readers = JoinSet::new();
    for i in 0..REQUESTS {
        let (cat, line) = (Arc::clone(&cat), Arc::clone(&line));
        readers.spawn(async move {
            begin_then_finish(cat.price(Sku(i % FRONT_PAGE)), &line).await
        });
    }
    readers.join_all().await;
    store.gets() - before
}

/// The starter must miss on every read of a burst, or its side of the ratio
/// measures less work than it claims.
fn check_starter_calls(calls: u64) {
    assert!(
        calls == u64::from(REQUESTS),
        "the bench's starter side made {calls} store calls in a burst of {REQUESTS} \
         reads, expected {REQUESTS}: the start line in benches/ch05/main.rs did not \
         hold the burst's loads back. This is a fault of the bench, not of your code."
    );
}

/// 512 concurrent reads of 8 products against an empty cache.
fn stampede(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let mut group = c.benchmark_group("ch05_stampede");
    // The starter takes a tenth of a second or more per burst: few, flat samples.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("starter", |b| {
        b.iter(|| check_starter_calls(rt.block_on(starter_burst(&store))))
    });
    group.bench_function("yours", |b| b.iter(|| rt.block_on(yours_burst(&store))));
    group.finish();
}

/// Store calls per burst on each side: a count, the same on every run.
fn store_calls_per_burst() -> String {
    let rt = runtime();
    let store = store();
    let starter = rt.block_on(starter_burst(&store));
    check_starter_calls(starter);
    let yours = rt.block_on(yours_burst(&store));
    format!(
        "Store calls in one burst of {REQUESTS} reads of {FRONT_PAGE} products at an \
         empty cache: starter {starter}, yours {yours} (the fewest possible: \
         {FRONT_PAGE}).\n"
    )
}

/// One read, with the price in the cache or not.
fn read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let store = store();
    let mut group = c.benchmark_group("ch05_read");
    group.bench_function("cold", |b| {
        b.iter(|| {
            let cat = Catalogue::new(Arc::clone(&store), SystemClock, config());
            rt.block_on(cat.price(black_box(Sku(7))))
        })
    });
    let warm = Catalogue::new(Arc::clone(&store), SystemClock, config());
    rt.block_on(warm.price(Sku(7)));
    group.bench_function("warm", |b| {
        b.iter(|| rt.block_on(warm.price(black_box(Sku(7)))))
    });
    group.finish();
}

criterion_group!(benches, stampede, read);

fn main() {
    let (table, panel) = workload::hit_ratio_report();
    println!("{table}");
    // Run by the runner (`cargo xtask check 5` or `bench 5`), the hit ratios
    // also go to the file it names, for the live panel of the book it serves.
    if let Some(path) = std::env::var_os("XTASK_PANEL_FILE") {
        let _ = std::fs::write(path, panel);
    }
    println!("{}", store_calls_per_burst());
    benches();
    Criterion::default().configure_from_args().final_summary();
}
