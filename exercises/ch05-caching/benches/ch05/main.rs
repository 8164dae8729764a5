//! Chapter 5's bench: your catalogue beside the starter's, in the same run.
//!
//! - `ch05_stampede` (the gate of `cargo xtask check 5`): just after a deploy,
//!   the cache is empty and 512 requests for the 8 products on the front page
//!   arrive together. The store answers in 1 ms and serves 4 calls at once, like
//!   a database behind a pool of 4 connections. Every call the cache does not
//!   make is a call nobody queues behind.
//! - `ch05_read`: one read of your catalogue, cold (the price comes from the
//!   store) and warm (the price is cached).
//!
//! Before measuring, it prints the hit ratios of your cache, of moka and of
//! Belady's optimal policy on the chapter's seeded trace (the same table as
//! `cargo run -p ch05-caching --example hit_ratios --release`).

#[path = "../../tests/workload/mod.rs"]
mod workload;

mod starter;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use ch05_caching::{CacheConfig, Catalogue, Sku, SlowStore, SystemClock};
use criterion::{Criterion, SamplingMode, criterion_group};
use tokio::runtime::Runtime;
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

/// 512 concurrent reads of 8 products against an empty cache.
fn stampede(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let mut group = c.benchmark_group("ch05_stampede");
    // The starter takes a tenth of a second or more per burst: few, flat samples.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("starter", |b| {
        b.iter(|| {
            rt.block_on(async {
                let cat = Arc::new(starter::Catalogue::new(Arc::clone(&store)));
                let mut readers = JoinSet::new();
                for i in 0..REQUESTS {
                    let cat = Arc::clone(&cat);
                    readers.spawn(async move { cat.price(Sku(i % FRONT_PAGE)).await });
                }
                readers.join_all().await
            })
        })
    });
    group.bench_function("yours", |b| {
        b.iter(|| {
            rt.block_on(async {
                let cat =
                    Arc::new(Catalogue::new(Arc::clone(&store), SystemClock, config()));
                let mut readers = JoinSet::new();
                for i in 0..REQUESTS {
                    let cat = Arc::clone(&cat);
                    readers.spawn(async move { cat.price(Sku(i % FRONT_PAGE)).await });
                }
                readers.join_all().await
            })
        })
    });
    group.finish();
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
    println!("{}", workload::hit_ratio_table());
    benches();
    Criterion::default().configure_from_args().final_summary();
}
