//! Chapter 2's bench: your code beside the starter's, in the same run.
//!
//! `cargo xtask check 2` runs the `ch02_report` group quickly once every check
//! passes and gates on the ratio starter ÷ yours; `cargo xtask bench 2` runs
//! everything with criterion's full report. The database makes every statement
//! wait 0.2 ms, as a database server across a network would.

mod starter;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use support::db::CountingConnection;
use support::shop::Shop;

/// The gate's data: big enough that the starter's per-statement and per-row
/// costs dominate (and the ratio is far above the gate), small enough that one
/// starter report takes about a tenth of a second, so the quick bench that
/// `cargo xtask check 2` runs takes one sample per report and stays short.
const CUSTOMERS: usize = 50;
const ORDERS: usize = 150;

fn report(c: &mut Criterion) {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    Shop::generate(2, CUSTOMERS, ORDERS)
        .create_in(&conn)
        .unwrap();
    let db = CountingConnection::wrap(conn, Some(Duration::from_micros(200))).unwrap();

    let mut group = c.benchmark_group("ch02_report");
    // The starter takes about a tenth of a second per report: take few, flat
    // samples (10 is criterion's minimum).
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    // The gate reads the medians, which need no resampling; 5,000 bootstrap
    // resamples (criterion's default is 100,000) keep the confidence
    // intervals usable and save most of the analysis time.
    group.nresamples(5_000);
    group.bench_function("starter", |b| {
        b.iter(|| starter::customer_report(black_box(&db)))
    });
    group.bench_function("yours", |b| {
        b.iter(|| ch02_measure::customer_report(black_box(&db)).unwrap())
    });
    group.finish();
}

fn unique(c: &mut Criterion) {
    let signups: Vec<String> = (0..20_000u64)
        .map(|i| format!("user{}@example.com", (i * 7919) % 10_000))
        .collect();
    let mut group = c.benchmark_group("ch02_unique");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.bench_function("starter", |b| {
        b.iter(|| starter::first_seen_unique(&signups))
    });
    group.bench_function("yours", |b| {
        b.iter(|| ch02_measure::first_seen_unique(&signups))
    });
    group.finish();
}

criterion_group!(benches, report, unique);
criterion_main!(benches);
