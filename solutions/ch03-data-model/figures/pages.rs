//! Page cost by depth: SQLite's virtual-machine steps for one page of 20
//! accounts, at page 1 to page 1,000 of 20,000 accounts. The starter's
//! `LIMIT … OFFSET` (as the bench freezes it, with and without an index on
//! (name, id)) against the solution's keyset `Store::accounts_page`.
//!
//! ```text
//! cargo xtask figures 3
//! ```
//!
//! VM steps are SQLite's own count of the work a statement did: the same on
//! every machine and every run (`support::steps`).

#[path = "../../figure.rs"]
mod figure;
#[allow(dead_code)] // the bench's other starter queries
#[path = "../../../exercises/ch03-data-model/benches/ch03/starter.rs"]
mod starter;

use ch03_data_model::{ManualClock, Store};
use figure::Figure;
use rusqlite::params;
use support::steps::{StepCounter, total_steps};

const ACCOUNTS: usize = 20_000;
const LIMIT: usize = 20;

/// The bench's names: many accounts share one, so the order needs the id too.
fn name_of(i: usize) -> String {
    format!("Name {:05}", (i * 7_919) % 5_000)
}

fn main() {
    let pages: Vec<usize> = std::iter::once(1)
        .chain((1..=10).map(|k| k * 100))
        .collect();

    let db = StepCounter::in_memory().expect("open");
    db.execute_batch(starter::SCHEMA)
        .expect("the starter's schema");
    {
        let tx = db.unchecked_transaction().expect("begin");
        let mut insert = tx
            .prepare("INSERT INTO accounts (email, name) VALUES (?1, ?2)")
            .expect("prepare");
        for i in 0..ACCOUNTS {
            insert
                .execute(params![format!("user{i}@example.com"), name_of(i)])
                .expect("insert an account");
        }
        drop(insert);
        tx.commit().expect("commit");
    }
    let offset = || -> Vec<(f64, f64)> {
        pages
            .iter()
            .map(|&p| {
                let (_, runs) = db.watch(|_| starter::page_by_offset(&db, p, LIMIT));
                (p as f64, total_steps(&runs) as f64)
            })
            .collect()
    };
    let unindexed = offset();
    db.execute_batch("CREATE INDEX accounts_by_name ON accounts (name, id)")
        .expect("create the index");
    let indexed = offset();

    // The solution's store, walked page by page from the first.
    let yours = StepCounter::in_memory().expect("open");
    let clock = ManualClock::at(1_764_547_200_000);
    let store = Store::open(&yours, &clock).expect("open the store");
    {
        let tx = yours.unchecked_transaction().expect("begin");
        for i in 0..ACCOUNTS {
            store
                .create_account(&format!("user{i}@example.com"), &name_of(i))
                .expect("create an account");
        }
        tx.commit().expect("commit");
    }
    let mut keyset = Vec::new();
    let mut cursor = None;
    for page in 1..=*pages.last().unwrap() {
        let (result, runs) =
            yours.watch(|_| store.accounts_page(cursor.as_ref(), LIMIT));
        let result = result.expect("accounts_page");
        if pages.contains(&page) {
            keyset.push((page as f64, total_steps(&runs) as f64));
        }
        cursor = result.next;
    }

    Figure::new(
        "page-cost",
        "One page of 20 accounts out of 20,000: cost by depth",
        "page number",
        "SQLite VM steps for the page",
    )
    .legend("middle-right")
    .series("starter: OFFSET, no index", &unindexed)
    .series("OFFSET, index on (name, id)", &indexed)
    .series("solution: keyset (Store::accounts_page)", &keyset)
    .print();
}
