//! Chapter 3's bench: what keys, indexes and pagination cost at scale.
//!
//! ```text
//! cargo xtask bench 3          (or: cargo bench -p ch03-data-model)
//! ```
//!
//! Before criterion starts it prints counts, which are the same on every
//! machine (the book quotes them):
//! - WAL frames written by 100,000 inserts (in transactions of 100 rows) keyed
//!   by integers, by random UUIDv4 and by time-ordered UUIDv7. The random bytes
//!   come from a seeded generator, so the counts never change.
//! - VM steps of one page of 20 out of 200,000 accounts at pages 1, 100 and
//!   1,000: the starter (OFFSET, no index), OFFSET with an index on (name, id),
//!   keyset with that index, and your `Store::accounts_page`.
//! - VM steps of the starter's `orders_of` over 200,000 orders, before and
//!   after an index on `orders (account_id)`.
//!
//! Then criterion times the same things: `ch03_keys` (10,000 inserts),
//! `ch03_pages` and `ch03_index`.

mod starter;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use ch03_data_model::{Cursor, ManualClock, Store};
use criterion::{BatchSize, Criterion, criterion_group};
use rusqlite::{Connection, params};
use support::rng::Rng;
use support::steps::{StepCounter, total_steps};
use uuid::{Builder, Uuid};

const ACCOUNTS: usize = 200_000;
const ORDERS: usize = 200_000;
const LIMIT: usize = 20;
const PAGES: [usize; 3] = [1, 100, 1_000];

#[derive(Clone, Copy, Debug)]
enum Key {
    Integer,
    V4,
    V7,
}

/// A file database in WAL mode that never checkpoints on its own, so the WAL
/// holds every frame written.
fn wal_database(tag: &str) -> (Connection, PathBuf) {
    let path =
        std::env::temp_dir().join(format!("ch03-{tag}-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let conn = Connection::open(&path).expect("open a file database");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA synchronous = OFF;",
    )
    .expect("set WAL mode");
    (conn, path)
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Inserts `rows` rows keyed by `key`, 100 per transaction; returns the WAL
/// frames written (pages, each written whole).
fn insert_rows(conn: &Connection, key: Key, rows: usize) -> i64 {
    match key {
        Key::Integer => conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)",
        ),
        Key::V4 | Key::V7 => conn.execute_batch(
            "CREATE TABLE t (id BLOB PRIMARY KEY NOT NULL, payload TEXT NOT NULL) WITHOUT ROWID",
        ),
    }
    .expect("create the table");
    let mut rng = Rng::new(2026);
    let start_ms: u64 = 1_764_547_200_000;
    for batch in 0..rows.div_ceil(100) {
        let tx = conn.unchecked_transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO t (id, payload) VALUES (?1, ?2)")
                .expect("prepare the insert");
            for i in batch * 100..((batch + 1) * 100).min(rows) {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
                bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
                let payload = format!("user{i}@example.com / a name of some length");
                match key {
                    Key::Integer => insert.execute(params![i as i64 + 1, payload]),
                    Key::V4 => {
                        let id: Uuid = Builder::from_random_bytes(bytes).into_uuid();
                        insert.execute(params![id.as_bytes().as_slice(), payload])
                    }
                    Key::V7 => {
                        // Ten keys per millisecond, random within it.
                        let ms = start_ms + i as u64 / 10;
                        let mut rand = [0u8; 10];
                        rand.copy_from_slice(&bytes[..10]);
                        let id =
                            Builder::from_unix_timestamp_millis(ms, &rand).into_uuid();
                        insert.execute(params![id.as_bytes().as_slice(), payload])
                    }
                }
                .expect("insert a row");
            }
        }
        tx.commit().expect("commit");
    }
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
        .expect("read the WAL's frame count")
}

fn wal_report() {
    println!(
        "WAL frames written by {} inserts, 100 per transaction:",
        100_000
    );
    let mut frames = Vec::new();
    for key in [Key::Integer, Key::V4, Key::V7] {
        let (conn, path) = wal_database(&format!("{key:?}"));
        let n = insert_rows(&conn, key, 100_000);
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .expect("page count");
        drop(conn);
        remove(&path);
        println!(
            "  {:<8} key: {n:>8} frames, database {pages:>6} pages",
            format!("{key:?}")
        );
        frames.push(n);
    }
    if let [_, v4, v7] = frames[..] {
        println!("  v4 / v7: {:.1}x\n", v4 as f64 / v7.max(1) as f64);
    }
}

/// The starter's schema holding `ACCOUNTS` accounts and `ORDERS` orders, with
/// names shared by many accounts (as in the checks).
fn starter_database() -> StepCounter {
    let db = StepCounter::in_memory().expect("open");
    db.execute_batch(starter::SCHEMA)
        .expect("create the starter's schema");
    let tx = db.unchecked_transaction().expect("begin");
    {
        let mut account = tx
            .prepare("INSERT INTO accounts (email, name) VALUES (?1, ?2)")
            .expect("prepare");
        for i in 0..ACCOUNTS {
            account
                .execute(params![format!("user{i}@example.com"), name_of(i)])
                .expect("insert an account");
        }
        let mut order = tx
            .prepare("INSERT INTO orders (account_id, total_cents) VALUES (?1, ?2)")
            .expect("prepare");
        let mut rng = Rng::new(9);
        for _ in 0..ORDERS {
            let account = 1 + rng.below(ACCOUNTS as u64) as i64;
            order
                .execute(params![account, 100])
                .expect("insert an order");
        }
    }
    tx.commit().expect("commit");
    db.clear();
    db
}

fn name_of(i: usize) -> String {
    format!("Name {:05}", (i * 7_919) % 50_000)
}

/// Your store holding `ACCOUNTS` accounts with the same names.
fn your_store<'c>(db: &'c StepCounter, clock: &'c ManualClock) -> Store<'c> {
    let store = Store::open(db, clock).expect("open your store");
    for i in 0..ACCOUNTS {
        if i % 4 == 0 {
            clock.advance(1);
        }
        store
            .create_account(&format!("user{i}@example.com"), &name_of(i))
            .expect("create an account in your store");
    }
    db.clear();
    store
}

/// Your cursor to the start of page `page`, by walking.
fn your_cursor(store: &Store<'_>, page: usize) -> Option<Cursor> {
    let mut cursor = None;
    for _ in 1..page {
        cursor = store
            .accounts_page(cursor.as_ref(), LIMIT)
            .expect("your accounts_page")
            .next;
    }
    cursor
}

/// The keyset position before page `page`, by walking.
fn keyset_after(db: &Connection, page: usize) -> Option<(String, i64)> {
    let mut after: Option<(String, i64)> = None;
    for _ in 1..page {
        let rows = starter::page_by_keyset(
            db,
            after.as_ref().map(|(n, i)| (n.as_str(), *i)),
            LIMIT,
        );
        after = rows.last().cloned();
    }
    after
}

fn steps<T>(db: &StepCounter, f: impl FnOnce() -> T) -> u64 {
    let (out, runs) = db.watch(|_| f());
    black_box(out);
    total_steps(&runs)
}

fn pages_report(db: &StepCounter, store: &Store<'_>, yours: &StepCounter) {
    println!("VM steps for one page of {LIMIT} out of {ACCOUNTS} accounts:");
    println!(
        "  {:<34} {:>10} {:>10} {:>10}",
        "", "page 1", "page 100", "page 1000"
    );
    let row = |what: &str, counts: Vec<u64>| {
        println!(
            "  {what:<34} {:>10} {:>10} {:>10}",
            counts[0], counts[1], counts[2]
        );
    };
    row(
        "starter: OFFSET, no index",
        PAGES
            .iter()
            .map(|&p| steps(db, || starter::page_by_offset(db, p, LIMIT)))
            .collect(),
    );
    db.execute_batch("CREATE INDEX accounts_by_name ON accounts (name, id)")
        .expect("create the index");
    row(
        "OFFSET, index on (name, id)",
        PAGES
            .iter()
            .map(|&p| steps(db, || starter::page_by_offset(db, p, LIMIT)))
            .collect(),
    );
    row(
        "keyset, index on (name, id)",
        PAGES
            .iter()
            .map(|&p| {
                let after = keyset_after(db, p);
                steps(db, || {
                    starter::page_by_keyset(
                        db,
                        after.as_ref().map(|(n, i)| (n.as_str(), *i)),
                        LIMIT,
                    )
                })
            })
            .collect(),
    );
    row(
        "yours: Store::accounts_page",
        PAGES
            .iter()
            .map(|&p| {
                let cursor = your_cursor(store, p);
                steps(yours, || store.accounts_page(cursor.as_ref(), LIMIT))
            })
            .collect(),
    );
    db.execute_batch("DROP INDEX accounts_by_name")
        .expect("drop the index");
    println!();
}

fn index_report(db: &StepCounter) {
    let before = steps(db, || starter::orders_of(db, 4_242));
    db.execute_batch("CREATE INDEX orders_by_account ON orders (account_id)")
        .expect("create the index");
    let after = steps(db, || starter::orders_of(db, 4_242));
    db.execute_batch("DROP INDEX orders_by_account")
        .expect("drop the index");
    println!(
        "VM steps of the starter's orders_of over {ORDERS} orders: {before} without an \
         index on orders (account_id), {after} with it ({:.0}x fewer)\n",
        before as f64 / after.max(1) as f64
    );
}

fn benches(c: &mut Criterion) {
    wal_report();
    let db = starter_database();
    let yours = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(1_764_547_200_000);
    let store = your_store(&yours, &clock);
    pages_report(&db, &store, &yours);
    index_report(&db);

    let mut g = c.benchmark_group("ch03_keys");
    g.sample_size(10);
    for key in [Key::V4, Key::V7] {
        g.bench_function(format!("{key:?}_10000_inserts"), |b| {
            b.iter_batched(
                || wal_database(&format!("bench-{key:?}")),
                |(conn, path)| {
                    black_box(insert_rows(&conn, key, 10_000));
                    drop(conn);
                    remove(&path);
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("ch03_pages");
    g.bench_function("starter_page_1000", |b| {
        b.iter(|| starter::page_by_offset(&db, 1_000, LIMIT))
    });
    let cursor = your_cursor(&store, 1_000);
    g.bench_function("yours_page_1000", |b| {
        b.iter(|| {
            store
                .accounts_page(cursor.as_ref(), LIMIT)
                .expect("your page")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("ch03_index");
    g.bench_function("orders_of_without_index", |b| {
        b.iter(|| starter::orders_of(&db, 4_242))
    });
    db.execute_batch("CREATE INDEX orders_by_account ON orders (account_id)")
        .expect("create the index");
    g.bench_function("orders_of_with_index", |b| {
        b.iter(|| starter::orders_of(&db, 4_242))
    });
    g.finish();
}

criterion_group!(ch03, benches);

fn main() {
    ch03();
    Criterion::default().configure_from_args().final_summary();
}
