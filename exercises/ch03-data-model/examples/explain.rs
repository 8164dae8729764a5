//! What each of the store's named queries costs, on your code.
//!
//! ```text
//! cargo run -p ch03-data-model --example explain --release [accounts]
//! ```
//!
//! Seeds a store (your `Store`, your schema) with 30,000 accounts by default,
//! three orders for every tenth of them, then runs each named query once and
//! prints what SQLite did: the statements it ran, its query plan for each
//! (`EXPLAIN QUERY PLAN`: SEARCH means it went through an index to the rows it
//! needed, SCAN means it read a whole table or index), and the virtual-machine
//! steps they took (the work, as a count that is the same on every machine).
//! Then it walks the account list 20 per page and prints the steps of pages 1,
//! 10, 100 and 1,000.
//!
//! Run it before you change anything, note what you expect to change, change
//! the schema or a query, and run it again.

use std::time::Instant;

use ch03_data_model::{Id, ManualClock, Store};
use support::steps::{StepCounter, query_plan, total_steps};

const METADATA: [&str; 3] = [
    r#"{"coupon": "SPRING", "channel": "web"}"#,
    r#"{"channel": "app"}"#,
    r#"{}"#,
];

/// One named query, called once; returns how many rows it gave.
type Query<'a> = Box<dyn Fn() -> rusqlite::Result<usize> + 'a>;

fn main() -> rusqlite::Result<()> {
    let accounts: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace(['_', ','], "").parse().ok())
        .unwrap_or(30_000);
    let db = StepCounter::in_memory()?;
    let clock = ManualClock::at(1_764_547_200_000);
    let store = Store::open(&db, &clock)?;
    let started = Instant::now();
    let mut some: Option<(Id, String)> = None;
    for i in 0..accounts {
        if i % 4 == 0 {
            clock.advance(1);
        }
        let email = format!("user{i}@example.com");
        let name = format!("Name {:04}", (i * 7_919) % 5_000);
        let id = store.create_account(&email, &name)?;
        if i % 10 == 0 {
            for (k, metadata) in (1..).zip(METADATA) {
                store.place_order(&id, 100 * k, metadata)?;
            }
        }
        if i == accounts / 2 {
            some = Some((id, email));
        }
    }
    println!(
        "seeded {accounts} accounts and {} orders in {:.1?}\n",
        accounts.div_ceil(10) * 3,
        started.elapsed()
    );
    let Some((id, email)) = some else {
        println!("no accounts: pass a number above 0");
        return Ok(());
    };

    let first = store.accounts_page(None, 20)?;
    let upper = email.to_ascii_uppercase();
    let named: Vec<(&str, Query<'_>)> = vec![
        (
            "find_account",
            Box::new(|| Ok(store.find_account(&id)?.iter().count())),
        ),
        (
            "account_by_email (other case)",
            Box::new(|| Ok(store.account_by_email(&upper)?.iter().count())),
        ),
        (
            "accounts_page, page 1",
            Box::new(|| Ok(store.accounts_page(None, 20)?.accounts.len())),
        ),
        (
            "accounts_page, page 2",
            Box::new(|| {
                Ok(store.accounts_page(first.next.as_ref(), 20)?.accounts.len())
            }),
        ),
        ("orders_of", Box::new(|| Ok(store.orders_of(&id)?.len()))),
        (
            "orders_with_coupon",
            Box::new(|| Ok(store.orders_with_coupon("SPRING")?.len())),
        ),
    ];
    for (what, call) in &named {
        let (rows, runs) = db.watch(|_| call());
        println!("{what}: {} rows, {} VM steps", rows?, total_steps(&runs));
        for run in &runs {
            println!(
                "    {}",
                run.sql.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            for line in query_plan(&db, &run.sql).unwrap_or_default() {
                println!("      plan: {line}");
            }
        }
    }

    println!("\nVM steps per page of 20 accounts:");
    let mut cursor = None;
    for page_number in 1..=1_000 {
        let (page, runs) = db.watch(|_| store.accounts_page(cursor.as_ref(), 20));
        let page = page?;
        if [1, 10, 100, 1_000].contains(&page_number) {
            println!("  page {page_number:>5}: {:>9} steps", total_steps(&runs));
        }
        match page.next {
            Some(next) if !page.accounts.is_empty() => cursor = Some(next),
            _ => {
                println!("  (the list ended at page {page_number})");
                break;
            }
        }
    }
    Ok(())
}
