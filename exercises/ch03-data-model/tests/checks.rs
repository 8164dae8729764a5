//! The checks for chapter 3. `cargo xtask check 3` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count or an exact comparison, never a timing: rows and
//! their relations, the order of keys, SQLite's query plans (`EXPLAIN QUERY
//! PLAN`) and the virtual-machine steps a query took. The expected answers are
//! computed here in plain Rust from seeded data, never from the store's SQL.
//! The data is built to be awkward: names shared by many accounts (ties at
//! page boundaries), emails in mixed case, accounts deleted and restored, keys
//! made within the same millisecond, and rows stored in another order than
//! they were inserted.

// The checks use `Id` only through Clone (not Copy): a learner's Id may hold
// a String.
#![allow(clippy::clone_on_copy)]

use std::collections::{BTreeMap, HashMap, HashSet};

use ch03_data_model::{Account, Cursor, Id, ManualClock, Page, Store};
use rusqlite::Connection;
use support::rng::Rng;
use support::steps::{StepCounter, query_plan, total_steps};

const SCHEMA_RS: &str = "exercises/ch03-data-model/src/schema.rs";
const STORE_RS: &str = "exercises/ch03-data-model/src/store.rs";
const ID_RS: &str = "exercises/ch03-data-model/src/id.rs";

/// 2025-12-01 00:00:00 UTC, in milliseconds.
const START: i64 = 1_764_547_200_000;

// ---------------------------------------------------------------------------
// Version-1 databases, as the store shipped them. A frozen copy of the
// starter's schema: the checks build old databases with it, whatever the
// learner's code has become.
// ---------------------------------------------------------------------------

const V1_SCHEMA: &str = "
    CREATE TABLE accounts (
        id    INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        name  TEXT NOT NULL
    );
    CREATE TABLE orders (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id  INTEGER NOT NULL REFERENCES accounts (id),
        total_cents INTEGER NOT NULL,
        metadata    TEXT NOT NULL DEFAULT '{}'
    );";

const NAMES: [&str; 6] = [
    "Ada Lovelace",
    "Alan Turing",
    "Barbara Liskov",
    "Edsger Dijkstra",
    "Grace Hopper",
    "Ken Thompson",
];

const METADATA: [&str; 6] = [
    r#"{"coupon": "SPRING", "channel": "web"}"#,
    r#"{"channel": "app"}"#,
    r#"{"coupon": "spring"}"#,
    r#"{}"#,
    r#"{"promo": {"coupon": "SPRING"}}"#,
    r#"{"coupon": "SPRING10", "channel": "web"}"#,
];

#[derive(Clone, Debug)]
struct V1Account {
    id: i64,
    email: String,
    name: String,
}

#[derive(Clone, Debug)]
struct V1Order {
    id: i64,
    account_id: i64,
    total_cents: i64,
    metadata: String,
}

struct V1 {
    accounts: Vec<V1Account>,
    orders: Vec<V1Order>,
}

/// Mixes the case of an ASCII string, reproducibly.
fn mixed_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if rng.chance(40) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn email_for(rng: &mut Rng, name: &str, n: usize) -> String {
    let local = name.to_ascii_lowercase().replace(' ', ".");
    mixed_case(rng, &format!("{local}.{n}@example.com"))
}

/// Seeded version-1 data: keys with gaps (rows deleted long ago), shared
/// names, mixed-case emails, orders with and without coupons.
fn v1_data(seed: u64, accounts: usize, orders: usize) -> V1 {
    let mut rng = Rng::new(seed);
    let mut id = 0;
    let accounts: Vec<V1Account> = (0..accounts)
        .map(|n| {
            id += 1 + rng.below(3) as i64;
            let name = NAMES[rng.below(NAMES.len() as u64) as usize].to_string();
            V1Account {
                id,
                email: email_for(&mut rng, &name, n),
                name,
            }
        })
        .collect();
    let mut id = 0;
    let orders = (0..orders)
        .map(|_| {
            id += 1 + rng.below(2) as i64;
            V1Order {
                id,
                account_id: accounts[rng.below(accounts.len() as u64) as usize].id,
                total_cents: 100 + rng.below(100_000) as i64,
                metadata: METADATA[rng.below(METADATA.len() as u64) as usize]
                    .to_string(),
            }
        })
        .collect();
    V1 { accounts, orders }
}

/// A version-1 database holding `v1`, rows inserted in a shuffled order (so
/// the order they are stored in is not the order they went in).
fn v1_database(v1: &V1) -> StepCounter {
    let db = StepCounter::in_memory().expect("open an in-memory SQLite database");
    db.execute_batch(V1_SCHEMA)
        .expect("create the version-1 schema");
    let mut rng = Rng::new(7);
    let mut accounts = v1.accounts.clone();
    shuffle(&mut rng, &mut accounts);
    let mut orders = v1.orders.clone();
    shuffle(&mut rng, &mut orders);
    let tx = db.unchecked_transaction().expect("begin");
    for a in &accounts {
        tx.execute(
            "INSERT INTO accounts (id, email, name) VALUES (?1, ?2, ?3)",
            rusqlite::params![a.id, a.email, a.name],
        )
        .expect("insert a version-1 account");
    }
    for o in &orders {
        tx.execute(
            "INSERT INTO orders (id, account_id, total_cents, metadata)
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![o.id, o.account_id, o.total_cents, o.metadata],
        )
        .expect("insert a version-1 order");
    }
    tx.commit().expect("commit");
    db
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

// ---------------------------------------------------------------------------
// Calling the store, with every error turned into an explained failure.
// ---------------------------------------------------------------------------

fn open<'c>(conn: &'c Connection, clock: &'c ManualClock) -> Store<'c> {
    Store::open(conn, clock).unwrap_or_else(|e| {
        panic!(
            "Store::open returned an error: {e}.\n\
             Opening a database must bring its schema up to date, whether the \
             database is new, made by version 1, or already up to date. Look at \
             Store::open in {STORE_RS} and migrate in {SCHEMA_RS}."
        )
    })
}

fn ok<T>(what: &str, result: rusqlite::Result<T>) -> T {
    result.unwrap_or_else(|e| {
        panic!(
            "Store::{what} returned an error: {e}. Look at Store::{what} in {STORE_RS}."
        )
    })
}

fn fresh() -> (StepCounter, ManualClock) {
    let db = StepCounter::in_memory().expect("open an in-memory SQLite database");
    (db, ManualClock::at(START))
}

/// Every page of the account list, following the cursors; at most
/// `max_pages` pages (a walk that does not end is a failure). Fails on the
/// first page that breaks the paging rules.
fn walk(store: &Store<'_>, limit: usize, max_pages: usize) -> Vec<Account> {
    let (accounts, broken) = walk_pages(store, limit, max_pages);
    if let Some(rule) = broken.first() {
        panic!("{rule}");
    }
    accounts
}

/// The walk, with the paging rules it saw broken (described, not yet
/// failed), so a caller can first say what the accounts themselves show.
fn walk_pages(
    store: &Store<'_>,
    limit: usize,
    max_pages: usize,
) -> (Vec<Account>, Vec<String>) {
    let mut out = Vec::new();
    let mut broken = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for page_number in 1..=max_pages {
        let page: Page =
            ok("accounts_page", store.accounts_page(cursor.as_ref(), limit));
        let (len, more) = (page.accounts.len(), page.next.is_some());
        if len > limit {
            broken.push(format!(
                "page {page_number} with limit {limit} held {len} accounts. Look at \
                 Store::accounts_page in {STORE_RS}."
            ));
        }
        if len == 0 && page_number > 1 {
            broken.push(format!(
                "page {page_number} with limit {limit} came back empty, though the page \
                 before handed back a cursor ({} accounts seen so far). `next` must be \
                 None exactly when no account follows a page. Look at \
                 Store::accounts_page in {STORE_RS}.",
                out.len()
            ));
            return (out, broken);
        }
        if len < limit && more {
            broken.push(format!(
                "page {page_number} with limit {limit} held {len} accounts and a cursor \
                 to a next page: a page that is not full is the last one. Look at \
                 Store::accounts_page in {STORE_RS}."
            ));
        }
        out.extend(page.accounts);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (out, broken),
        }
    }
    broken.push(format!(
        "the account list with {limit} per page did not end after {max_pages} pages \
         ({} accounts seen): each page hands back a cursor, and following them never \
         reaches the end, so some page is served again. Look at Store::accounts_page \
         in {STORE_RS}.",
        out.len()
    ));
    (out, broken)
}

fn all_accounts(store: &Store<'_>, expected_at_most: usize) -> Vec<Account> {
    walk(store, 1_000, expected_at_most / 1_000 + 3)
}

fn uuid_of(id: &Id) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(&id.to_string()).ok()
}

// ---------------------------------------------------------------------------
// Migrations
// ---------------------------------------------------------------------------

#[test]
fn migrating_a_populated_v1_database_keeps_every_account() {
    let v1 = v1_data(31, 300, 900);
    let db = v1_database(&v1);
    let clock = ManualClock::at(START);
    let store = open(&db, &clock);
    let listed = all_accounts(&store, v1.accounts.len());
    assert_eq!(
        listed.len(),
        v1.accounts.len(),
        "the version-1 database held {} accounts; after Store::open the account list \
         shows {}. A migration must keep every row. Look at migrate in {SCHEMA_RS}.",
        v1.accounts.len(),
        listed.len()
    );
    let ids: HashSet<&Id> = listed.iter().map(|a| &a.id).collect();
    assert_eq!(
        ids.len(),
        listed.len(),
        "after the migration {} accounts share {} keys: each row needs its own key. \
         Look at migrate in {SCHEMA_RS}.",
        listed.len(),
        ids.len()
    );
    for a in &v1.accounts {
        let found = ok("account_by_email", store.account_by_email(&a.email));
        match found {
            None => panic!(
                "the version-1 account {} ({:?}, {:?}) cannot be found by its email \
                 after the migration. Look at migrate in {SCHEMA_RS}.",
                a.id, a.email, a.name
            ),
            Some(found) => assert!(
                found.email == a.email && found.name == a.name,
                "the version-1 account {:?} / {:?} came back as {:?} / {:?} after the \
                 migration: the rows were copied into the wrong columns or changed on \
                 the way. Look at migrate in {SCHEMA_RS}.",
                a.email,
                a.name,
                found.email,
                found.name
            ),
        }
    }
    if let Some(a) = listed
        .iter()
        .find(|a| a.created_at.is_some() || a.updated_at.is_some())
    {
        panic!(
            "the version-1 account {:?} reads created_at = {:?}, updated_at = {:?} after \
             the migration. Version 1 never recorded when a row was made or changed, so \
             both are None for its rows (as {STORE_RS} says), not the time of the \
             migration. Look at migrate in {SCHEMA_RS}.",
            a.email, a.created_at, a.updated_at
        );
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or(serde_json::Value::String(s.to_string()))
}

#[test]
fn migrating_keeps_every_order_with_its_account() {
    let v1 = v1_data(32, 200, 1_000);
    let db = v1_database(&v1);
    let clock = ManualClock::at(START);
    let store = open(&db, &clock);
    let mut seen = 0;
    for a in &v1.accounts {
        let Some(account) = ok("account_by_email", store.account_by_email(&a.email))
        else {
            panic!(
                "the version-1 account {:?} is missing after the migration. Look at \
                 migrate in {SCHEMA_RS}.",
                a.email
            );
        };
        // Version 1 had no dates: its newest order is the one with the highest key.
        let mut want: Vec<&V1Order> =
            v1.orders.iter().filter(|o| o.account_id == a.id).collect();
        want.sort_by_key(|o| std::cmp::Reverse(o.id));
        let got = ok("orders_of", store.orders_of(&account.id));
        seen += got.len();
        let want_rows: Vec<(i64, serde_json::Value)> = want
            .iter()
            .map(|o| (o.total_cents, json(&o.metadata)))
            .collect();
        let got_rows: Vec<(i64, serde_json::Value)> = got
            .iter()
            .map(|o| (o.total_cents, json(&o.metadata)))
            .collect();
        if let Some(o) = got.iter().find(|o| o.created_at.is_some()) {
            panic!(
                "an order of the version-1 account {:?} reads created_at = {:?} after the \
                 migration. Version 1 never recorded when an order was placed, so it is \
                 None for its rows (as {STORE_RS} says), not the time of the migration. \
                 Look at migrate in {SCHEMA_RS}.",
                a.email, o.created_at
            );
        }
        if let Some(o) = got.iter().find(|o| o.account_id != account.id) {
            panic!(
                "an order listed for account {:?} says it belongs to account {}: the \
                 migration did not carry the relation over to the new keys. Look at \
                 migrate in {SCHEMA_RS}.",
                a.email, o.account_id
            );
        }
        assert!(
            want_rows == got_rows,
            "the version-1 account {:?} had {} orders (totals, newest first: {:?}); after \
             the migration orders_of gives {} ({:?}). A migration keeps every row, its \
             values and its relation; version-1 orders are newest first by their old \
             key. Look at migrate in {SCHEMA_RS}.",
            a.email,
            want_rows.len(),
            want_rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            got_rows.len(),
            got_rows.iter().map(|r| r.0).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        seen,
        v1.orders.len(),
        "every version-1 order must be listed once"
    );
}

/// Everything in a database: its version, its schema, and every row of every
/// table, as text lines in a fixed order.
fn dump(conn: &Connection) -> Vec<String> {
    let mut lines = Vec::new();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("read user_version");
    lines.push(format!("PRAGMA user_version = {version}"));
    let mut schema: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .expect("read sqlite_schema");
    schema.sort();
    for (kind, name, sql) in &schema {
        lines.push(format!("{kind} {name}: {}", sql.as_deref().unwrap_or("")));
    }
    for (kind, name, _) in &schema {
        if kind != "table" {
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{name}\""))
            .expect("read a table");
        let width = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let values: Vec<rusqlite::types::Value> = (0..width)
                    .map(|i| r.get(i))
                    .collect::<rusqlite::Result<_>>()?;
                Ok(format!("{name}: {values:?}"))
            })
            .and_then(|rows| rows.collect())
            .expect("read a table's rows");
        rows.sort();
        lines.extend(rows);
    }
    lines
}

fn first_change(before: &[String], after: &[String]) -> Option<String> {
    let n = before.len().max(after.len());
    (0..n).find_map(|i| {
        let (b, a) = (before.get(i), after.get(i));
        (b != a).then(|| {
            format!(
                "first difference, line {i}:\n  before: {}\n  after:  {}",
                b.map_or("(nothing)", |s| s.as_str()),
                a.map_or("(nothing)", |s| s.as_str())
            )
        })
    })
}

#[test]
fn migrating_twice_changes_nothing() {
    let v1 = v1_data(33, 120, 300);
    for (what, db) in [
        ("a version-1 database", v1_database(&v1)),
        (
            "a new, empty database",
            StepCounter::in_memory().expect("open"),
        ),
    ] {
        let clock = ManualClock::at(START);
        {
            let _first = open(&db, &clock);
        }
        let before = dump(&db);
        clock.advance(60_000);
        let again = Store::open(&db, &clock);
        if let Err(e) = again {
            panic!(
                "opening {what} a second time failed: {e}.\nThe first Store::open \
                 brought it up to date; the second must see that and do nothing, \
                 instead of running a migration again. Look at migrate in {SCHEMA_RS}."
            );
        }
        drop(again);
        let after = dump(&db);
        if let Some(change) = first_change(&before, &after) {
            panic!(
                "opening {what} a second time changed it.\n{change}\nA database that \
                 is up to date must come out of Store::open exactly as it went in \
                 (schema, version and every row): each migration runs once. Look at \
                 migrate in {SCHEMA_RS}."
            );
        }
    }
}

/// Lets the main database grow by only `pages` more pages: past that, SQLite
/// answers "database or disk is full", a failure in the middle of whatever is
/// writing, on demand.
fn limit_growth(conn: &Connection, pages: i64) {
    let count: i64 = conn
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .expect("read page_count");
    let _: i64 = conn
        .query_row(
            &format!("PRAGMA max_page_count = {}", count + pages),
            [],
            |r| r.get(0),
        )
        .expect("set max_page_count");
}

#[test]
fn a_migration_that_fails_halfway_leaves_the_version_1_database_as_it_was() {
    let v1 = v1_data(34, 300, 900);
    let mut failures = 0;
    // The migration runs out of room after a few pages, then a few more: one
    // of these stops it in the middle, whatever order it writes in.
    for room in [0, 1, 2, 3, 5, 8, 13, 21, 34] {
        let db = v1_database(&v1);
        let before = dump(&db);
        limit_growth(&db, room);
        let clock = ManualClock::at(START);
        let Err(e) = Store::open(&db, &clock).map(|_| ()) else {
            continue;
        };
        failures += 1;
        limit_growth(&db, 1 << 20);
        let after = dump(&db);
        if let Some(change) = first_change(&before, &after) {
            panic!(
                "Store::open on a version-1 database failed in the middle of the \
                 migration (the disk was full after {room} more pages: {e}) and left \
                 the database changed.\n{change}\nA migration is all or nothing: when \
                 it fails, the database must be exactly the version-1 database it was \
                 (schema, version and every row), so that the old code still runs on \
                 it and the next Store::open can try again. Look at migrate in \
                 {SCHEMA_RS}."
            );
        }
        let store = Store::open(&db, &clock).unwrap_or_else(|e| {
            panic!(
                "a migration failed halfway (disk full after {room} pages) and left the \
                 database as it was, but opening it again with room to spare failed: \
                 {e}. Look at migrate in {SCHEMA_RS}."
            )
        });
        let listed = all_accounts(&store, v1.accounts.len()).len();
        assert_eq!(
            listed,
            v1.accounts.len(),
            "after a failed migration and a second, successful Store::open, the list \
             shows {listed} of the {} version-1 accounts. Look at migrate in {SCHEMA_RS}.",
            v1.accounts.len()
        );
    }
    assert!(
        failures > 0,
        "Store::open upgraded a version-1 database of 300 accounts and 900 orders \
         while the disk was full: the checks expect the upgrade to write some rows. \
         Look at migrate in {SCHEMA_RS}."
    );
}

#[test]
fn a_version_1_database_whose_emails_differ_only_in_case_is_refused_unchanged() {
    // Version 1's UNIQUE compared emails byte for byte, so it let these in.
    let clashes = [
        (7, "Ann.Lee@Example.com"),
        (23, "ann.lee@example.com"),
        (30, "KIM@example.com"),
        (31, "kim@EXAMPLE.com"),
    ];
    let mut v1 = v1_data(35, 40, 120);
    for (i, email) in clashes {
        v1.accounts[i].email = email.to_string();
    }
    let db = v1_database(&v1);
    let before = dump(&db);
    let clock = ManualClock::at(START);
    let opened = Store::open(&db, &clock).map(|_| ());
    let shown: Vec<&str> = clashes.iter().map(|(_, e)| *e).collect();
    let Err(e) = opened else {
        panic!(
            "Store::open upgraded a version-1 database holding {shown:?}, two pairs of \
             accounts whose emails differ only in case: after the upgrade each pair is \
             one address held by two live accounts.\nThe rule for such a database (see \
             the chapter and {SCHEMA_RS}): refuse it with an error that names the \
             emails, and leave it as it was. Which account keeps an address is for a \
             person to decide, not the migration. Look at migrate in {SCHEMA_RS}."
        );
    };
    let text = e.to_string();
    let unnamed: Vec<&&str> = shown.iter().filter(|m| !text.contains(**m)).collect();
    assert!(
        unnamed.is_empty(),
        "Store::open refused a version-1 database whose emails {shown:?} differ only in \
         case, but its error does not name {unnamed:?}: {text}\nWhoever has to fix the \
         data needs to know which accounts clash. Look at migrate in {SCHEMA_RS}."
    );
    let after = dump(&db);
    if let Some(change) = first_change(&before, &after) {
        panic!(
            "Store::open refused a version-1 database whose emails differ only in case \
             ({text}), but left it changed.\n{change}\nA refused migration must leave \
             the database exactly as it was. Look at migrate in {SCHEMA_RS}."
        );
    }
    // Someone decides: the second of each pair gets another address.
    for (i, email) in [(23, "ann.lee+2@example.com"), (31, "kim+2@example.com")] {
        db.execute(
            "UPDATE accounts SET email = ?1 WHERE id = ?2",
            rusqlite::params![email, v1.accounts[i].id],
        )
        .expect("fix a version-1 email");
    }
    let store = Store::open(&db, &clock).unwrap_or_else(|e| {
        panic!(
            "once the emails that differed only in case were changed, Store::open still \
             failed: {e}. Look at migrate in {SCHEMA_RS}."
        )
    });
    let listed = all_accounts(&store, v1.accounts.len()).len();
    assert_eq!(
        listed,
        v1.accounts.len(),
        "after the clashing emails were fixed and the database opened, the list shows \
         {listed} of {} accounts. Look at migrate in {SCHEMA_RS}.",
        v1.accounts.len()
    );
}

/// A connection with foreign keys enforced (or not), whatever SQLite's default.
fn with_foreign_keys(db: &Connection, on: bool) {
    db.pragma_update(None, "foreign_keys", on)
        .expect("set foreign_keys");
}

#[test]
fn opening_a_database_leaves_foreign_key_enforcement_as_it_was() {
    let v1 = v1_data(36, 20, 40);
    for (what, db) in [
        ("a version-1 database", v1_database(&v1)),
        ("a new database", StepCounter::in_memory().expect("open")),
    ] {
        for on in [true, false] {
            with_foreign_keys(&db, on);
            let clock = ManualClock::at(START);
            {
                let _store = open(&db, &clock);
            }
            let after: bool = db
                .pragma_query_value(None, "foreign_keys", |r| r.get(0))
                .expect("read foreign_keys");
            assert!(
                after == on,
                "the connection had foreign keys {} before Store::open on {what}, and {} \
                 after it. The connection belongs to the application: whatever a \
                 migration switches for its own work, it must switch back. Look at \
                 migrate in {SCHEMA_RS}.",
                if on { "enforced" } else { "off" },
                if after { "enforced" } else { "off" },
            );
        }
    }
}

/// The shape of a database's schema, whatever the names and the text of its
/// CREATE statements: each table's columns (name, type, NOT NULL, key), and
/// each index's table, columns (with collation and order), uniqueness and
/// WHERE.
fn schema_shape(conn: &Connection) -> Vec<String> {
    let names = |kind: &str| -> Vec<(String, String, Option<String>)> {
        conn.prepare(
            "SELECT name, tbl_name, sql FROM sqlite_schema
             WHERE type = ?1 AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .and_then(|mut s| {
            s.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .unwrap_or_default()
    };
    let mut shape = Vec::new();
    for (table, _, _) in names("table") {
        let columns: Vec<String> = conn
            .prepare(&format!("SELECT name, upper(type), \"notnull\", pk FROM pragma_table_info('{table}')"))
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(format!(
                        "{} {} notnull={} pk={}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?
                    ))
                })?
                .collect()
            })
            .unwrap_or_default();
        shape.push(format!("table {table} ({})", columns.join(", ")));
    }
    // Every index, the automatic ones (UNIQUE, PRIMARY KEY) included.
    let mut indexes: Vec<String> = Vec::new();
    let all: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index'")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .unwrap_or_default();
    for (index, table, sql) in all {
        let columns: Vec<String> = conn
            .prepare(&format!(
                "SELECT coalesce(name, '<expression>'), \"desc\", coll FROM pragma_index_xinfo('{index}') WHERE key"
            ))
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(format!(
                        "{}{} {}",
                        r.get::<_, String>(0)?,
                        if r.get::<_, i64>(1)? == 1 { " DESC" } else { "" },
                        r.get::<_, String>(2)?.to_ascii_uppercase()
                    ))
                })?
                .collect()
            })
            .unwrap_or_default();
        let sql = one_line(sql.as_deref().unwrap_or(""));
        let unique = sql.to_ascii_uppercase().starts_with("CREATE UNIQUE")
            || index.starts_with("sqlite_autoindex");
        let filter = sql
            .to_ascii_uppercase()
            .split_once(" WHERE ")
            .map(|(_, w)| w.trim_end_matches(';').to_string())
            .unwrap_or_default();
        indexes.push(format!(
            "{}index on {table} ({}){}",
            if unique { "unique " } else { "" },
            columns.join(", "),
            if filter.is_empty() {
                String::new()
            } else {
                format!(" WHERE {filter}")
            }
        ));
    }
    indexes.sort();
    shape.extend(indexes);
    shape
}

#[test]
fn a_migrated_database_ends_with_the_same_schema_as_a_new_one() {
    let v1 = v1_data(34, 50, 100);
    let old = v1_database(&v1);
    let new = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    {
        let _old = open(&old, &clock);
        let _new = open(&new, &clock);
    }
    let (old_shape, new_shape) = (schema_shape(&old), schema_shape(&new));
    let missing: Vec<&String> = new_shape
        .iter()
        .filter(|l| !old_shape.contains(l))
        .collect();
    let extra: Vec<&String> = old_shape
        .iter()
        .filter(|l| !new_shape.contains(l))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "a version-1 database brought up to date should end with the same tables, \
         columns and indexes as a database created new; they differ.\n  only in the \
         new one: {missing:?}\n  only in the upgraded one: {extra:?}\nWhen the upgrade \
         and a new database take different paths, production (upgraded) runs another \
         schema than the tests (new). Look at migrate in {SCHEMA_RS}."
    );
}

// ---------------------------------------------------------------------------
// Keys and timestamps
// ---------------------------------------------------------------------------

#[test]
fn new_keys_are_uuid_v7_stamped_with_the_clock() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    clock.set(START + 12_345);
    let account = ok(
        "create_account",
        store.create_account("kim@example.com", "Kim"),
    );
    clock.advance(1_001);
    let order = ok("place_order", store.place_order(&account, 500, "{}"));
    for (what, id, at) in [
        ("create_account", &account, START + 12_345),
        ("place_order", &order, START + 13_346),
    ] {
        let Some(uuid) = uuid_of(id) else {
            panic!(
                "Store::{what} returned the key {id}, which is not a UUID. Keys must be \
                 UUIDs version 7: made by the application without asking the database, \
                 and in creation order. Look at {ID_RS} and Store::{what} in {STORE_RS}."
            );
        };
        let version = uuid.get_version_num();
        assert_eq!(
            version, 7,
            "Store::{what} returned {uuid}, a UUID version {version}; expected version 7, \
             whose first 48 bits are the creation time. Look at {ID_RS}."
        );
        let millis = uuid
            .get_timestamp()
            .map(|ts| {
                let (s, ns) = ts.to_unix();
                s as i64 * 1_000 + i64::from(ns / 1_000_000)
            })
            .unwrap_or(-1);
        assert_eq!(
            millis, at,
            "Store::{what} made the key {uuid} with the time {millis} ms; the store's \
             clock said {at} ms. Take the time from the store's Clock, not from the \
             system, so keys and tests agree. Look at {ID_RS} and {STORE_RS}."
        );
    }
}

#[test]
fn keys_sort_by_creation_time_even_within_one_millisecond() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let mut rng = Rng::new(5);
    let mut made: Vec<(String, Id, i64)> = Vec::new();
    let mut account = None;
    for n in 0..300 {
        // Mostly several keys per millisecond; once, the clock steps back 2 ms
        // (as an NTP correction does).
        match rng.below(10) {
            0..=5 => {}
            6..=8 => clock.advance(1),
            _ => clock.advance(7),
        }
        if n == 150 {
            clock.advance(-2);
        }
        let now = clock_now(&clock);
        if let Some(a) = account.as_ref().filter(|_| n % 3 == 2) {
            let id = ok("place_order", store.place_order(a, 100, "{}"));
            made.push((format!("order #{n}"), id, now));
            continue;
        }
        let id = ok(
            "create_account",
            store.create_account(&format!("user{n}@example.com"), "Pat"),
        );
        account = Some(id.clone());
        made.push((format!("account #{n}"), id, now));
    }
    for pair in made.windows(2) {
        let [(a, ida, ta), (b, idb, tb)] = pair else {
            continue;
        };
        assert!(
            ida < idb,
            "{b} was made after {a} but its key sorts before it: {idb} < {ida} \
             (clock {tb} ms, then {ta} ms{}).\nKeys must sort in creation order, also \
             when several are made in one millisecond{}. Look at {ID_RS}.",
            if ta == tb {
                ": the same millisecond"
            } else {
                ""
            },
            if tb < ta {
                " and when the clock steps back"
            } else {
                ""
            },
        );
    }
}

#[test]
fn thousands_of_keys_made_in_one_millisecond_still_sort_in_creation_order() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let account = ok(
        "create_account",
        store.create_account("busy@example.com", "Busy"),
    );
    let mut made: Vec<(Id, i64)> = Vec::new();
    // A burst of 20,000 keys in one millisecond (past any counter of 8, 12 or
    // 14 bits), then a few in each of the next milliseconds.
    for (burst, step) in [(20_000, 1), (3, 1), (3, 0)] {
        let now = clock_now(&clock);
        for _ in 0..burst {
            match store.place_order(&account, 1, "{}") {
                Ok(id) => made.push((id, now)),
                Err(e) => panic!(
                    "Store::place_order failed after {} keys made in one millisecond \
                     ({now} ms): {e}.\nWhen the part of the key that orders keys within \
                     a millisecond runs out and starts over, a new key can repeat an old \
                     one. Keys must stay unique and in creation order however many are \
                     made in one millisecond. Look at {ID_RS}.",
                    made.iter().filter(|(_, t)| *t == now).count()
                ),
            }
        }
        clock.advance(step);
    }
    for (n, pair) in made.windows(2).enumerate() {
        let [(a, ta), (b, tb)] = pair else {
            continue;
        };
        assert!(
            a < b,
            "key #{} (clock {tb} ms) sorts before key #{n} (clock {ta} ms), which was made \
             before it: {b} < {a}.\n{}Keys must sort in creation order however many are \
             made in one millisecond; when the part of the key that orders keys within a \
             millisecond runs out, the next key must still sort after the last. Look at \
             {ID_RS}.",
            n + 1,
            if ta == tb {
                format!(
                    "Both were made in the same millisecond, as key #{}. ",
                    n + 1
                )
            } else {
                String::new()
            },
        );
    }
}

/// How many columns hold the integer `value` in the row (of whatever table)
/// that holds `email`: read straight from the database, since a deleted
/// account is invisible to the store.
fn stamps_in_row(db: &Connection, email: &str, value: i64) -> usize {
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("read sqlite_schema");
    let mut count = 0;
    for t in tables {
        let mut stmt = db
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("read a table");
        let width = stmt.column_count();
        let rows: Vec<Vec<rusqlite::types::Value>> = stmt
            .query_map([], |r| (0..width).map(|i| r.get(i)).collect())
            .and_then(|rows| rows.collect())
            .expect("read a table's rows");
        for row in rows {
            use rusqlite::types::Value;
            let holds_email = row
                .iter()
                .any(|v| matches!(v, Value::Text(s) if s.eq_ignore_ascii_case(email)));
            if holds_email {
                count += row
                    .iter()
                    .filter(|v| matches!(v, Value::Integer(i) if *i == value))
                    .count();
            }
        }
    }
    count
}

fn clock_now(clock: &ManualClock) -> i64 {
    use ch03_data_model::Clock;
    clock.now_millis()
}

#[test]
fn accounts_and_orders_record_when_they_were_created_and_updated() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let t0 = START + 1_000;
    clock.set(t0);
    let id = ok(
        "create_account",
        store.create_account("lee@example.com", "Lee"),
    );
    let order = ok("place_order", store.place_order(&id, 250, "{}"));
    let a = ok("find_account", store.find_account(&id));
    let a =
        a.unwrap_or_else(|| panic!("a new account is missing. Look at {STORE_RS}."));
    assert!(
        a.created_at == Some(t0) && a.updated_at == Some(t0),
        "a new account made at {t0} ms should have created_at = updated_at = Some({t0}); \
         saw created_at = {:?}, updated_at = {:?}. Look at Store::create_account in \
         {STORE_RS}.",
        a.created_at,
        a.updated_at
    );
    let orders = ok("orders_of", store.orders_of(&id));
    let created = orders.iter().find(|o| o.id == order).map(|o| o.created_at);
    assert_eq!(
        created,
        Some(Some(t0)),
        "an order placed at {t0} ms should have created_at = Some({t0}). Look at \
         Store::place_order in {STORE_RS}."
    );
    let (t1, t2) = (t0 + 60_000, t0 + 120_000);
    clock.set(t1);
    let before = stamps_in_row(&db, "lee@example.com", t0);
    ok("delete_account", store.delete_account(&id));
    let after = stamps_in_row(&db, "lee@example.com", t0);
    assert!(
        after < before,
        "an account created at {t0} ms and deleted at {t1} ms: its row holds the value \
         {t0} in {before} columns before the delete and in {after} after. Deleting is a \
         change: updated_at must say {t1}, only created_at keeps {t0}. Look at \
         Store::delete_account in {STORE_RS}."
    );
    clock.set(t2);
    let restored = ok("restore_account", store.restore_account(&id));
    let a = ok("find_account", store.find_account(&id));
    let stamps = a.as_ref().map(|a| (a.created_at, a.updated_at));
    assert!(
        stamps == Some((Some(t0), Some(t2))),
        "an account created at {t0} ms, deleted at {t1} and restored at {t2} should read \
         created_at = Some({t0}), updated_at = Some({t2}); saw {} (restore_account \
         returned {restored}). Look at Store::delete_account and \
         Store::restore_account in {STORE_RS}.",
        match stamps {
            None => "no account at all".to_string(),
            Some((c, u)) => format!("created_at = {c:?}, updated_at = {u:?}"),
        }
    );
}

// ---------------------------------------------------------------------------
// Emails
// ---------------------------------------------------------------------------

#[test]
fn email_lookup_ignores_case() {
    let v1 = V1 {
        accounts: vec![V1Account {
            id: 4,
            email: "Old.Timer@Example.COM".into(),
            name: "Old Timer".into(),
        }],
        orders: vec![],
    };
    let db = v1_database(&v1);
    let clock = ManualClock::at(START);
    let store = open(&db, &clock);
    ok(
        "create_account",
        store.create_account("Ann.Lee@Example.com", "Ann Lee"),
    );
    ok(
        "create_account",
        store.create_account("ann.leeds@example.com", "Ann Leeds"),
    );
    ok(
        "create_account",
        store.create_account("joxng@example.com", "Jo Ng"),
    );
    for (asked, typed) in [
        ("ann.lee@example.com", "Ann.Lee@Example.com"),
        ("ANN.LEE@EXAMPLE.COM", "Ann.Lee@Example.com"),
        ("Ann.Lee@Example.com", "Ann.Lee@Example.com"),
        ("old.timer@example.com", "Old.Timer@Example.COM"),
    ] {
        let found = ok("account_by_email", store.account_by_email(asked));
        let email = found.as_ref().map(|a| a.email.as_str());
        assert!(
            email == Some(typed),
            "account_by_email({asked:?}) should find the account that signed up as \
             {typed:?} (an email's case does not matter, and the account keeps the \
             email as typed); saw {email:?}.{} Look at Store::account_by_email in \
             {STORE_RS}.",
            if typed.starts_with("Old") {
                " That account was made by version 1."
            } else {
                ""
            }
        );
    }
    // "_" and "%" are wildcards for LIKE, not for an email.
    let lookalike = ok(
        "account_by_email",
        store.account_by_email("jo_ng@example.com"),
    );
    assert!(
        lookalike.is_none(),
        "account_by_email(\"jo_ng@example.com\") found {:?}: only \"joxng@example.com\" \
         exists, and an email matches another only when they are equal apart from case \
         (LIKE treats _ and % as wildcards). Look at Store::account_by_email in \
         {STORE_RS}.",
        lookalike.map(|a| a.email)
    );
    let none = ok(
        "account_by_email",
        store.account_by_email("ann.le@example.com"),
    );
    assert!(
        none.is_none(),
        "account_by_email(\"ann.le@example.com\") should find nothing (no such account); \
         saw {:?}. Look at Store::account_by_email in {STORE_RS}.",
        none.map(|a| a.email)
    );
}

#[test]
fn two_live_accounts_cannot_share_an_email_in_any_case() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    ok(
        "create_account",
        store.create_account("bob@example.com", "Bob"),
    );
    for dup in ["bob@example.com", "Bob@Example.COM"] {
        let second = store.create_account(dup, "Bob Again");
        assert!(
            second.is_err(),
            "create_account({dup:?}) succeeded while the live account \
             \"bob@example.com\" exists: two live accounts now share an email (its case \
             does not matter). Look at Store::create_account in {STORE_RS} and the \
             schema in {SCHEMA_RS}."
        );
    }
    for other in ["bobby@example.com", "bob@example.org"] {
        ok(
            "create_account",
            store.create_account(other, "Someone Else"),
        );
    }
}

/// A database file of its own, removed when dropped.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir()
            .join(format!("ch03-{name}-{}.sqlite", std::process::id()));
        let me = Self(path);
        me.remove();
        me
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

#[test]
fn two_connections_signing_up_one_email_at_the_same_moment_make_one_account() {
    let file = TempDb::new("race");
    let conn = Connection::open(&file.0).expect("open a database file");
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .expect("WAL");
    let db = StepCounter::wrap(conn).expect("watch the connection");
    let clock = ManualClock::at(START);
    let store = open(&db, &clock);
    // The other connection signs up "Race@Example.com" at the moment this one
    // starts writing: after whatever this one read to check the email, before
    // its INSERT. A check made in Rust cannot see a row that arrives between
    // the check and the write; only the database can refuse it.
    let other = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let (path, seen) = (file.0.clone(), other.clone());
    db.before_each(move |sql| {
        let upper = sql.to_ascii_uppercase();
        let writes = upper.contains("INSERT") || upper.contains("REPLACE");
        let Ok(mut seen) = seen.lock() else { return };
        if !writes || seen.is_some() {
            return;
        }
        let outcome = (|| {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::ZERO)?;
            let clock = ManualClock::at(START + 5);
            let store = Store::open(&conn, &clock)?;
            store.create_account("Race@Example.com", "Other connection")
        })();
        *seen = Some(match outcome {
            Ok(_) => "signed up".to_string(),
            Err(e) => format!("was refused ({e})"),
        });
    });
    let mine = store.create_account("race@example.com", "This connection");
    db.clear_before_each();
    let other = other.lock().map(|o| o.clone()).unwrap_or_default();
    let Some(other) = other else {
        // create_account wrote nothing this check recognises: no race to run.
        return;
    };
    let live = all_accounts(&store, 10)
        .into_iter()
        .filter(|a| a.email.eq_ignore_ascii_case("race@example.com"))
        .count();
    assert!(
        live == 1,
        "two connections signed up \"race@example.com\" and \"Race@Example.com\" at the \
         same moment: the other connection {other}, this one {}; now {live} live \
         accounts hold the address.\nOne live account per email must be enforced by the \
         database itself: a check in the application reads before it writes, and \
         another connection can sign up in between. Look at the schema in {SCHEMA_RS} \
         and Store::create_account in {STORE_RS}.",
        match &mine {
            Ok(_) => "signed up".to_string(),
            Err(e) => format!("was refused ({e})"),
        }
    );
}

// ---------------------------------------------------------------------------
// Soft deletes
// ---------------------------------------------------------------------------

struct World<'c> {
    store: Store<'c>,
    ids: Vec<Id>,
    orders: HashMap<Id, Vec<Id>>,
}

/// Twelve accounts, each with orders, some with the coupon "SPRING".
fn small_world<'c>(db: &'c Connection, clock: &'c ManualClock) -> World<'c> {
    let store = open(db, clock);
    let mut ids = Vec::new();
    let mut orders = HashMap::new();
    for n in 0..12 {
        clock.advance(10);
        let id = ok(
            "create_account",
            store.create_account(&format!("p{n}@example.com"), NAMES[n % 3]),
        );
        let mut placed = Vec::new();
        for k in 0..3 {
            let meta = METADATA[(n + k) % METADATA.len()];
            placed.push(ok(
                "place_order",
                store.place_order(&id, 100 * (k as i64 + 1), meta),
            ));
        }
        orders.insert(id.clone(), placed);
        ids.push(id);
    }
    World { store, ids, orders }
}

/// Where a deleted account still shows; empty when it is invisible everywhere.
fn where_visible(w: &World<'_>, id: &Id, email: &str) -> Vec<String> {
    let s = &w.store;
    let mut seen = Vec::new();
    if ok("find_account", s.find_account(id)).is_some() {
        seen.push("find_account".to_string());
    }
    if ok("account_by_email", s.account_by_email(email)).is_some() {
        seen.push("account_by_email".to_string());
    }
    for limit in [1_000, 5, 1] {
        // The account may show on a later page only; the paging rules are
        // checked elsewhere, here only what the pages show counts.
        let (accounts, _) = walk_pages(s, limit, 100 / limit + 3);
        if accounts.iter().any(|a| &a.id == id) {
            seen.push(format!("accounts_page ({limit} per page)"));
            break;
        }
    }
    if !ok("orders_of", s.orders_of(id)).is_empty() {
        seen.push("orders_of".to_string());
    }
    let theirs = &w.orders[id];
    let coupon = ok("orders_with_coupon", s.orders_with_coupon("SPRING"));
    if coupon.iter().any(|o| theirs.contains(&o.id)) {
        seen.push("orders_with_coupon (its orders)".to_string());
    }
    seen
}

#[test]
fn a_deleted_account_is_invisible_to_every_named_query() {
    let (db, clock) = fresh();
    let w = small_world(&db, &clock);
    let gone = w.ids[5].clone();
    assert!(
        ok("delete_account", w.store.delete_account(&gone)),
        "delete_account of a live account should return true. Look at {STORE_RS}."
    );
    assert!(
        !ok("delete_account", w.store.delete_account(&gone)),
        "deleting an account that is already deleted should return false. Look at \
         Store::delete_account in {STORE_RS}."
    );
    let order = w.store.place_order(&gone, 100, "{}");
    assert!(
        order.is_err(),
        "place_order for a deleted account succeeded: orders are placed for live \
         accounts only. Look at Store::place_order in {STORE_RS}."
    );
    let seen = where_visible(&w, &gone, "p5@example.com");
    assert!(
        seen.is_empty(),
        "a deleted account still shows in {}. Every named query must leave deleted \
         accounts (and their orders) out: a soft delete is a filter that each query \
         has to apply. Look at those methods in {STORE_RS}.",
        seen.join(", ")
    );
    let others = all_accounts(&w.store, 100);
    assert_eq!(
        others.len(),
        11,
        "after deleting 1 of 12 accounts the list should show 11, saw {}. Look at \
         {STORE_RS}.",
        others.len()
    );
}

#[test]
fn a_deleted_account_can_be_restored_with_its_orders() {
    let (db, clock) = fresh();
    let w = small_world(&db, &clock);
    let id = w.ids[4].clone();
    let before = ok("find_account", w.store.find_account(&id));
    let orders_before = ok("orders_of", w.store.orders_of(&id));
    ok("delete_account", w.store.delete_account(&id));
    clock.advance(1_000);
    let restored = ok("restore_account", w.store.restore_account(&id));
    let after = ok("find_account", w.store.find_account(&id));
    let same = |a: &Option<Account>, b: &Option<Account>| {
        a.as_ref().map(|a| (&a.id, &a.email, &a.name, a.created_at))
            == b.as_ref().map(|b| (&b.id, &b.email, &b.name, b.created_at))
    };
    assert!(
        restored && after.is_some() && same(&before, &after),
        "restore_account of a deleted account should return true and bring it back as \
         it was; it returned {restored} and find_account now gives {:?}.\nA deleted \
         account must be recoverable (mistakes, disputes, \"undo\"): deleting cannot \
         destroy the row. Look at Store::delete_account and Store::restore_account in \
         {STORE_RS}.",
        after.as_ref().map(|a| (&a.email, &a.name))
    );
    let orders_after = ok("orders_of", w.store.orders_of(&id));
    assert!(
        orders_after == orders_before,
        "the restored account had {} orders before it was deleted and {} after it came \
         back: its orders must come back with it. Look at Store::delete_account in \
         {STORE_RS}.",
        orders_before.len(),
        orders_after.len()
    );
    let seen = where_visible(&w, &id, "p4@example.com");
    assert_eq!(
        seen.len(),
        5,
        "the restored account should be visible to every named query again; it shows \
         only in {:?}. Look at {STORE_RS}.",
        seen
    );
    assert!(
        !ok("restore_account", w.store.restore_account(&id)),
        "restore_account of a live account should return false (nothing to restore). \
         Look at Store::restore_account in {STORE_RS}."
    );
}

#[test]
fn a_deleted_email_can_sign_up_again_but_not_be_restored_over_a_live_one() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let first = ok(
        "create_account",
        store.create_account("eve@example.com", "Eve"),
    );
    ok("delete_account", store.delete_account(&first));
    clock.advance(5);
    let second = store.create_account("Eve@Example.com", "Eve Again");
    let second = second.unwrap_or_else(|e| {
        panic!(
            "after \"eve@example.com\" was deleted, signing up again as \
             \"Eve@Example.com\" failed: {e}.\nA deleted account no longer holds its \
             email: only live accounts must have distinct emails. Look at the schema in \
             {SCHEMA_RS} and Store::create_account in {STORE_RS}."
        )
    });
    let back = store.restore_account(&first);
    let live = ok(
        "account_by_email",
        store.account_by_email("eve@example.com"),
    );
    let first_live = ok("find_account", store.find_account(&first)).is_some();
    assert!(
        back.is_err() && !first_live && live.map(|a| a.id) == Some(second.clone()),
        "restoring the deleted \"eve@example.com\" while \"Eve@Example.com\" is live \
         should fail with an error (\"Fails if a live account has taken its email\", \
         says its documentation: false means there was no such deleted account) and \
         leave only the new account live; restore_account gave {back:?} and the old \
         account is {}.\nRestoring puts a row \
         back among the live ones: the rule \"one live account per email\" must hold \
         there too, not only at sign-up. Look at Store::restore_account in {STORE_RS} \
         and the schema in {SCHEMA_RS}.",
        if first_live {
            "live again"
        } else {
            "still deleted"
        }
    );
    ok("delete_account", store.delete_account(&second));
    let back = ok("restore_account", store.restore_account(&first));
    assert!(
        back,
        "once the new \"Eve@Example.com\" was deleted too, restoring the first \
         \"eve@example.com\" should succeed (no live account holds the email); \
         restore_account returned false. Look at Store::restore_account in {STORE_RS}."
    );
}

// ---------------------------------------------------------------------------
// Named queries: answers
// ---------------------------------------------------------------------------

#[test]
fn an_accounts_orders_come_newest_first() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let a = ok(
        "create_account",
        store.create_account("ord@example.com", "Ord"),
    );
    let b = ok(
        "create_account",
        store.create_account("other@example.com", "Other"),
    );
    let mut mine = Vec::new();
    for n in 0..40i64 {
        if n % 4 == 0 {
            clock.advance(1);
        }
        if n == 20 {
            // An NTP correction: the clock steps back 3 ms.
            clock.advance(-3);
        }
        mine.push(ok("place_order", store.place_order(&a, n, "{}")));
        ok("place_order", store.place_order(&b, 1_000 + n, "{}"));
    }
    mine.reverse();
    let got: Vec<Id> = ok("orders_of", store.orders_of(&a))
        .into_iter()
        .map(|o| o.id)
        .collect();
    let totals = |ids: &[Id]| {
        ids.iter()
            .map(|i| mine.iter().position(|m| m == i))
            .collect::<Vec<_>>()
    };
    let first_wrong = (0..got.len().max(mine.len()))
        .find(|&i| got.get(i) != mine.get(i))
        .unwrap_or(0);
    let placed = |i: usize| match totals(&got).get(i) {
        Some(Some(p)) => format!("the order placed {} of 40", 40 - p),
        Some(None) => "an order that is not one of this account's".to_string(),
        None => "nothing (the list ended)".to_string(),
    };
    assert!(
        got == mine,
        "orders_of should list the account's 40 orders newest first, that is in the \
         reverse of the order they were placed (several were placed in the same \
         millisecond, and halfway the clock stepped back 3 ms, so created_at goes down \
         once); saw {} orders, the first out of place at position {}: expected the order \
         placed {} of 40, saw {}. Look at Store::orders_of in {STORE_RS}.",
        got.len(),
        first_wrong + 1,
        40 - first_wrong,
        placed(first_wrong)
    );
}

#[test]
fn orders_with_a_coupon_are_read_from_the_json_metadata() {
    let (db, clock) = fresh();
    let w = small_world(&db, &clock);
    let mut want: Vec<Id> = Vec::new();
    for id in &w.ids {
        for (k, order) in w.orders[id].iter().enumerate() {
            let n = w.ids.iter().position(|i| i == id).unwrap_or(0);
            if METADATA[(n + k) % METADATA.len()].contains(r#""coupon": "SPRING","#) {
                want.push(order.clone());
            }
        }
    }
    want.sort();
    want.reverse();
    let got: Vec<Id> = ok("orders_with_coupon", w.store.orders_with_coupon("SPRING"))
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(
        got == want,
        "orders_with_coupon(\"SPRING\") should give the {} orders whose metadata has \
         \"coupon\": \"SPRING\" at its top level, newest first (not \"spring\", not \
         \"SPRING10\", not a coupon nested deeper); saw {} orders. Look at \
         Store::orders_with_coupon in {STORE_RS}.",
        want.len(),
        got.len()
    );
}

// ---------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------

#[test]
fn pagination_visits_every_live_account_once_in_order_across_ties() {
    let (db, clock) = fresh();
    let store = open(&db, &clock);
    let mut rng = Rng::new(11);
    let mut live: Vec<(String, Id)> = Vec::new();
    let mut deleted = Vec::new();
    for n in 0..150 {
        if rng.chance(50) {
            clock.advance(1);
        }
        // Few names, created in random order: long runs of ties, and rows
        // stored in another order than the list's. One name differs from
        // another only in case: names compare as stored, so it comes last.
        let name = [
            "Ada Lovelace",
            "Alan Turing",
            "Barbara Liskov",
            "ada lovelace",
        ][rng.below(4) as usize];
        let id = ok(
            "create_account",
            store.create_account(&format!("t{n}@example.com"), name),
        );
        if n % 9 == 4 {
            ok("delete_account", store.delete_account(&id));
            deleted.push(id);
        } else {
            live.push((name.to_string(), id));
        }
    }
    // One deleted account comes back.
    if let Some(back) = deleted.first() {
        ok("restore_account", store.restore_account(back));
        let a = ok("find_account", store.find_account(back));
        if let Some(a) = a {
            live.push((a.name, a.id));
        }
    }
    live.sort();
    let want: Vec<Id> = live.iter().map(|(_, id)| id.clone()).collect();
    let names: BTreeMap<Id, String> =
        live.iter().map(|(n, id)| (id.clone(), n.clone())).collect();
    let everything = ok("accounts_page", store.accounts_page(None, usize::MAX));
    assert!(
        everything.accounts.len() == want.len() && everything.next.is_none(),
        "accounts_page(None, usize::MAX) should return all {} live accounts and no \
         cursor; saw {} accounts and {} cursor. Look at Store::accounts_page in \
         {STORE_RS}.",
        want.len(),
        everything.accounts.len(),
        if everything.next.is_some() { "a" } else { "no" }
    );
    for limit in [1, 7, 50, 1_000] {
        let (accounts, broken) = walk_pages(&store, limit, want.len() / limit + 3);
        let got: Vec<Id> = accounts.into_iter().map(|a| a.id).collect();
        if got == want {
            if let Some(rule) = broken.first() {
                panic!("{rule}");
            }
            continue;
        }
        let mut counts: HashMap<&Id, usize> = HashMap::new();
        for id in &got {
            *counts.entry(id).or_default() += 1;
        }
        let repeated = counts.values().filter(|&&c| c > 1).count();
        let missing = want.iter().filter(|id| !counts.contains_key(id)).count();
        let extra = got.iter().filter(|id| !names.contains_key(id)).count();
        let i = (0..want.len().max(got.len()))
            .find(|&i| want.get(i) != got.get(i))
            .unwrap_or(0);
        let mut nocase = live.clone();
        nocase.sort_by_key(|(n, id)| (n.to_ascii_lowercase(), id.clone()));
        let nocase: Vec<Id> = nocase.into_iter().map(|(_, id)| id).collect();
        let why = if extra > 0 {
            let e = got.iter().find(|id| !names.contains_key(id));
            format!(
                "{extra} of the accounts listed are deleted (the first: {}): every page \
                 must leave deleted accounts out, not only the first one.",
                e.map(|id| id.to_string()).unwrap_or_default()
            )
        } else if got == nocase {
            "The list is in order if case is ignored: \"ada lovelace\" among the \
             \"Ada Lovelace\"s. Names are listed as stored, character by character (as \
             Rust compares Strings), so \"ada lovelace\" comes after \"Barbara \
             Liskov\"."
                .to_string()
        } else {
            format!(
                "Many accounts share a name here, so pages end in the middle of a run of \
                 equal names.{}",
                broken.first().map(|b| format!("\n{b}")).unwrap_or_default()
            )
        };
        panic!(
            "walking the account list {limit} per page gave {} accounts; expected {} \
             live accounts, each once, by name then key.\n  repeated: {repeated}, \
             missing: {missing}, not live: {extra}; first difference at position {i}: \
             expected {:?}, saw {:?}.\n{why} Look at Store::accounts_page in \
             {STORE_RS}.",
            got.len(),
            want.len(),
            want.get(i).map(|id| (&names[id], id.to_string())),
            got.get(i).map(|id| (names.get(id), id.to_string())),
        );
    }
}

// ANCHOR: vm_steps
/// The VM steps of every statement one call runs.
fn steps_of<T>(db: &StepCounter, f: impl FnOnce() -> T) -> (T, u64, Vec<String>) {
    let (out, runs) = db.watch(|_| f());
    let sql = runs.iter().map(|r| r.sql.clone()).collect();
    (out, total_steps(&runs), sql)
}
// ANCHOR_END: vm_steps

/// A store holding `n` live accounts (a few deleted ones among them).
fn big_store<'c>(db: &'c StepCounter, clock: &'c ManualClock, n: usize) -> Store<'c> {
    let store = open(db, clock);
    let mut rng = Rng::new(3);
    for i in 0..n {
        if i % 4 == 0 {
            clock.advance(1);
        }
        let name = format!("{} {:03}", NAMES[rng.below(6) as usize], rng.below(500));
        let id = ok(
            "create_account",
            store.create_account(&format!("b{i}@example.com"), &name),
        );
        if i % 50 == 0 {
            ok("delete_account", store.delete_account(&id));
        }
    }
    store
}

#[test]
fn page_1000_costs_no_more_than_twice_page_1_in_vm_steps() {
    const LIMIT: usize = 20;
    const ACCOUNTS: usize = 30_000;
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let store = big_store(&db, &clock, ACCOUNTS);
    let mut cursor: Option<Cursor> = None;
    let mut curve: Vec<(usize, u64)> = Vec::new();
    let mut first_steps = 0;
    for page_number in 1..=1_000 {
        let (page, steps, sql) = steps_of(&db, || {
            ok("accounts_page", store.accounts_page(cursor.as_ref(), LIMIT))
        });
        if page_number == 1 {
            first_steps = steps.max(1);
        }
        if [1, 10, 100, 1_000].contains(&page_number) {
            curve.push((page_number, steps));
            let offset = sql
                .iter()
                .any(|s| s.to_ascii_uppercase().contains("OFFSET"));
            let per_row = steps / LIMIT as u64;
            assert!(
                steps <= 2 * first_steps && per_row <= 200,
                "fetching a page of {LIMIT} accounts out of {ACCOUNTS} should cost about \
                 the same at any depth, and a few dozen VM steps per account returned; \
                 VM steps by page number: {}.\n{}Look at Store::accounts_page in \
                 {STORE_RS} (and, for the cost of page 1, the indexes in {SCHEMA_RS}).",
                curve
                    .iter()
                    .map(|(p, s)| format!("page {p}: {s}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if steps > 2 * first_steps && offset {
                    "The cost grows with the page number: the query uses OFFSET, which \
                     reads every row before the page and throws it away. "
                } else if steps > 2 * first_steps {
                    "The cost grows with the page number: the query reads the rows \
                     before the page to find where it starts. "
                } else {
                    "Even the first page reads far more rows than it returns: sorting \
                     or filtering every account to find the first 20. "
                }
            );
        }
        if page.accounts.len() < LIMIT || page.next.is_none() {
            panic!(
                "page {page_number} of the account list ({LIMIT} per page, {ACCOUNTS} \
                 accounts) held {} accounts and {} cursor: the list ended early. Look at \
                 Store::accounts_page in {STORE_RS}.",
                page.accounts.len(),
                if page.next.is_some() { "a" } else { "no" }
            );
        }
        cursor = page.next;
    }
}

// ---------------------------------------------------------------------------
// Query plans
// ---------------------------------------------------------------------------

/// What SQLite plans for each statement one call ran.
fn plans(db: &StepCounter, sql: &[String]) -> Vec<(String, Vec<String>)> {
    sql.iter()
        .filter(|s| {
            let head = s.trim_start().to_ascii_uppercase();
            ![
                "PRAGMA",
                "BEGIN",
                "COMMIT",
                "END",
                "ROLLBACK",
                "SAVEPOINT",
                "RELEASE",
            ]
            .iter()
            .any(|k| head.starts_with(k))
        })
        .filter_map(|s| query_plan(db, s).ok().map(|p| (s.clone(), p)))
        .collect()
}

/// The indexes of the tables a plan scans, as their CREATE statements.
fn indexes_on(db: &Connection, tables: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tables {
        let Ok(mut stmt) = db.prepare(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1
             AND sql IS NOT NULL ORDER BY name",
        ) else {
            continue;
        };
        let rows: Vec<String> = stmt
            .query_map([t], |r| r.get(0))
            .and_then(|r| r.collect())
            .unwrap_or_default();
        out.extend(
            rows.into_iter()
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")),
        );
    }
    out
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fails unless every statement `what` ran searches an index (or the primary
/// key) and none reads a whole table. `scan_ok` allows reading an index in
/// order under a LIMIT (the first page of a list).
fn assert_searches(db: &StepCounter, what: &str, sql: &[String], scan_ok: bool) {
    let planned = plans(db, sql);
    let mut searched = false;
    for (sql, plan) in &planned {
        let limited = sql.to_ascii_uppercase().contains("LIMIT")
            && !plan.iter().any(|l| l.contains("TEMP B-TREE"));
        let bad: Vec<&String> = plan
            .iter()
            .filter(|l| {
                let l = l.trim_start();
                l.starts_with("SCAN ")
                    && !l.starts_with("SCAN CONSTANT ROW")
                    && !(scan_ok
                        && limited
                        && l.contains(" USING ")
                        && l.contains("INDEX"))
            })
            .collect();
        searched |= plan.iter().any(|l| l.trim_start().starts_with("SEARCH "));
        if bad.is_empty() {
            continue;
        }
        let tables: Vec<String> = bad
            .iter()
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
            .collect();
        let tables: Vec<String> =
            tables.iter().map(|t| real_table(db, sql, t)).collect();
        let indexes = indexes_on(db, &tables);
        let upper = one_line(sql).to_ascii_uppercase();
        let mut notes = Vec::new();
        for ix in &indexes {
            if let Some((_, cond)) = ix.split_once(" WHERE ")
                && !upper.contains(&cond.to_ascii_uppercase())
            {
                notes.push(format!(
                    "The index `{ix}` is partial: SQLite uses it only for a query whose \
                     WHERE contains `{cond}` too, and this query's does not."
                ));
            }
        }
        if indexes.is_empty() {
            notes.push(format!(
                "{} has no index besides its primary key.",
                tables.join(", ")
            ));
        } else {
            notes.push(format!(
                "Indexes on {}: {}. SQLite can search an index only through its leftmost \
                 column(s), and only with the same expression and collation as the query.",
                tables.join(", "),
                indexes.join("; ")
            ));
        }
        let walks_an_index = plan
            .iter()
            .any(|p| p.trim_start().starts_with("SCAN") && p.contains("INDEX"));
        if walks_an_index {
            panic!(
                "Store::{what} walks an index of {} from its first entry instead of \
                 searching it for where the result starts (the plan says SCAN … USING \
                 INDEX): every entry before the rows it returns is read too.\n  SQL:  \
                 {}\n  plan: {}\n{}\nAt a million rows, a call that returns rows from deep \
                 in the order reads everything before them. Look at Store::{what} in \
                 {STORE_RS} (what tells SQLite where to start?) and the indexes in \
                 {SCHEMA_RS}.",
                tables.join(", "),
                one_line(sql),
                plan.join(" / "),
                notes.join("\n")
            );
        }
        panic!(
            "Store::{what} reads every row of {} instead of searching an index.\n  SQL:  \
             {}\n  plan: {}\n{}\nA SCAN costs time in proportion to the table; at a \
             million rows this query would read a million rows on every call. Look at \
             Store::{what} in {STORE_RS} and the indexes in {SCHEMA_RS}.",
            tables.join(", "),
            one_line(sql),
            plan.join(" / "),
            notes.join("\n")
        );
    }
    assert!(
        searched || scan_ok,
        "Store::{what} should search an index or the primary key; its statements' plans \
         show no SEARCH: {:?}. Look at Store::{what} in {STORE_RS}.",
        planned
            .iter()
            .map(|(_, p)| p.join(" / "))
            .collect::<Vec<_>>()
    );
}

/// The table behind a name in a plan (the plan shows aliases).
fn real_table(db: &Connection, sql: &str, name: &str) -> String {
    let is_table = |t: &str| {
        db.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get::<_, i64>(0),
        )
        .unwrap_or(0)
            > 0
    };
    if is_table(name) {
        return name.to_string();
    }
    // "FROM orders o" / "JOIN accounts AS a": the word before the alias.
    let words: Vec<&str> = sql.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        if w.eq_ignore_ascii_case(name) && i > 0 {
            let before = words[i - 1];
            let before = if before.eq_ignore_ascii_case("AS") && i > 1 {
                words[i - 2]
            } else {
                before
            };
            if is_table(before) {
                return before.to_string();
            }
        }
    }
    name.to_string()
}

/// A store of 600 accounts with orders, for the plan checks.
fn planned_world<'c>(
    db: &'c StepCounter,
    clock: &'c ManualClock,
) -> (Store<'c>, Id, String) {
    let store = big_store(db, clock, 600);
    let id = ok(
        "create_account",
        store.create_account("Plan@Example.com", "Plan"),
    );
    for k in 0..5 {
        ok(
            "place_order",
            store.place_order(&id, 100 + k, METADATA[k as usize]),
        );
    }
    (store, id, "plan@example.com".to_string())
}

#[test]
fn finding_an_account_by_key_searches_an_index() {
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let (store, id, _) = planned_world(&db, &clock);
    let (_, _, sql) = steps_of(&db, || ok("find_account", store.find_account(&id)));
    assert_searches(&db, "find_account", &sql, false);
}

#[test]
fn finding_an_account_by_email_searches_an_index() {
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let (store, _, _) = planned_world(&db, &clock);
    let email = "Plan@Example.com";
    let (found, _, sql) = steps_of(&db, || {
        ok("account_by_email", store.account_by_email(email))
    });
    assert_searches(&db, "account_by_email", &sql, false);
    assert!(
        found.is_some(),
        "account_by_email({email:?}) found nothing. Look at {STORE_RS}."
    );
}

#[test]
fn listing_an_accounts_orders_searches_an_index() {
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let (store, id, _) = planned_world(&db, &clock);
    let (_, _, sql) = steps_of(&db, || ok("orders_of", store.orders_of(&id)));
    assert_searches(&db, "orders_of", &sql, false);
}

#[test]
fn finding_orders_by_coupon_searches_an_index() {
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let (store, _, _) = planned_world(&db, &clock);
    let (_, _, sql) = steps_of(&db, || {
        ok("orders_with_coupon", store.orders_with_coupon("SPRING"))
    });
    assert_searches(&db, "orders_with_coupon", &sql, false);
}

#[test]
fn every_page_of_accounts_searches_an_index() {
    let db = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(START);
    let (store, _, _) = planned_world(&db, &clock);
    let (first, _, sql) =
        steps_of(&db, || ok("accounts_page", store.accounts_page(None, 20)));
    // The first page may read an index from its start: it stops after 20.
    assert_searches(&db, "accounts_page", &sql, true);
    let (_, _, sql) = steps_of(&db, || {
        ok(
            "accounts_page",
            store.accounts_page(first.next.as_ref(), 20),
        )
    });
    assert_searches(&db, "accounts_page", &sql, false);
}
