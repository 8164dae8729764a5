//! Measure before you change anything.
//!
//! ```text
//! cargo run -p ch02-measure --example profile --release
//! ```
//!
//! Seeds a shop of 1,000 orders in SQLite, makes every statement wait 0.2 ms as it
//! would across a network, and runs the three pieces of this crate that might be
//! slow. Each piece runs inside a `tracing` span; when a span closes, the
//! subscriber prints how long it was busy. The statement counter says how many
//! round trips the report made.

use std::io::IsTerminal;
use std::time::Duration;

use ch02_measure::{customer_report, first_seen_unique, money::format_cents};
use support::db::CountingConnection;
use support::shop::Shop;
use tracing::info_span;
use tracing_subscriber::fmt::format::FmtSpan;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let conn = rusqlite::Connection::open_in_memory()?;
    let shop = Shop::generate(2, 300, 1_000);
    shop.create_in(&conn)?;
    let db = CountingConnection::wrap(conn, Some(Duration::from_micros(200)))?;

    let (report, statements) = db.count(customer_report);
    let report = report?;
    println!(
        "report: {} customers, {statements} SQL statements",
        report.len()
    );

    // 60,000 signups from 30,000 distinct addresses.
    let signups: Vec<String> = (0..60_000u64)
        .map(|i| format!("user{}@example.com", (i * 7919) % 30_000))
        .collect();
    let list = first_seen_unique(&signups);
    println!(
        "mailing list: {} addresses from {} signups",
        list.len(),
        signups.len()
    );

    let amounts: Vec<i64> = shop
        .items
        .iter()
        .map(|i| i.quantity * i.unit_price_cents)
        .collect();
    let formatted = info_span!("format_every_amount", n = amounts.len())
        .in_scope(|| amounts.iter().map(|&c| format_cents(c)).collect::<Vec<_>>());
    println!("formatted {} amounts", formatted.len());
    Ok(())
}
