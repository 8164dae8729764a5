//! Measure before you change anything.
//!
//! ```text
//! cargo run -p ch02-measure --example profile --release
//! ```
//!
//! Seeds a shop of 300 customers and 1,000 orders in SQLite and runs the pieces
//! of this crate that might be slow:
//!
//! - the report with every statement waiting 0.2 ms first, as it would for a
//!   database server across a network, and the report against SQLite in the
//!   same process, where a statement costs only SQLite's own work (five runs
//!   of each; the table shows the middle one);
//! - the mailing list over 60,000 signups;
//! - the formatting of every amount the report shows.
//!
//! Each piece runs inside a `tracing` span, and the subscriber prints how long
//! each span was busy when it closes, so a span you add to the crate
//! (`tracing::info_span!("name").in_scope(|| …)`, or `#[tracing::instrument]` on
//! a function) shows up here too. The statement counter says how many
//! statements each report ran. A table at the end sums it up.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use ch02_measure::{customer_report, first_seen_unique, money::format_cents};
use support::db::CountingConnection;
use support::shop::Shop;
use tracing::info_span;
use tracing_subscriber::fmt::format::FmtSpan;

const ROUND_TRIP: Duration = Duration::from_micros(200);
/// Each report (and the formatting) runs this many times; the table shows the
/// middle time.
const RUNS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let shop = Shop::generate(2, 300, 1_000);
    let mut rows = Vec::new();

    for (label, round_trip) in [
        ("report, 0.2 ms per statement", Some(ROUND_TRIP)),
        ("report, SQLite in process", None),
    ] {
        let conn = rusqlite::Connection::open_in_memory()?;
        shop.create_in(&conn)?;
        let db = CountingConnection::wrap(conn, round_trip)?;
        // Five runs, and the middle time: one run on a busy machine can be
        // slowed by anything else that runs at the same moment. A span of its
        // own for each run, so that each prints its own time.
        let mut runs = Vec::new();
        for run in 1..=RUNS {
            let span = info_span!(
                "report",
                run,
                round_trip_us = round_trip.map_or(0, |d| d.as_micros())
            );
            runs.push(span.in_scope(|| {
                let start = Instant::now();
                let counted = db.count(customer_report);
                (start.elapsed(), counted)
            }));
        }
        runs.sort_by_key(|(took, _)| *took);
        let (took, (report, statements)) = runs.swap_remove(RUNS / 2);
        let report = report?;
        rows.push((label.to_string(), took, Some(statements)));
        // The amounts the report shows: every order's total and every lifetime.
        if round_trip.is_none() {
            let amounts: Vec<i64> = report
                .iter()
                .flat_map(|c| {
                    let lifetime = c.orders.iter().map(|o| o.total_cents).sum();
                    c.orders.iter().map(|o| o.total_cents).chain([lifetime])
                })
                .collect();
            let mut times: Vec<Duration> = (1..=RUNS)
                .map(|run| {
                    info_span!("format_report_amounts", run, n = amounts.len())
                        .in_scope(|| {
                            let start = Instant::now();
                            let formatted: Vec<String> =
                                amounts.iter().map(|&c| format_cents(c)).collect();
                            std::hint::black_box(formatted);
                            start.elapsed()
                        })
                })
                .collect();
            times.sort();
            let format_took = times[RUNS / 2];
            rows.push((
                format!(
                    "formatting its {} amounts ({:.1}% of it)",
                    amounts.len(),
                    100.0 * format_took.as_secs_f64() / took.as_secs_f64()
                ),
                format_took,
                None,
            ));
        }
    }

    // 60,000 signups from 30,000 distinct addresses.
    let signups: Vec<String> = (0..60_000u64)
        .map(|i| format!("user{}@example.com", (i * 7919) % 30_000))
        .collect();
    let start = Instant::now();
    let list = first_seen_unique(&signups);
    rows.push((
        format!("mailing list, {} signups", signups.len()),
        start.elapsed(),
        None,
    ));
    std::hint::black_box(list);

    println!("\n{:<44} {:>10} {:>11}", "what", "time", "statements");
    for (what, took, statements) in rows {
        let statements = statements.map_or("–".to_string(), |n| n.to_string());
        println!("{what:<44} {:>10} {statements:>11}", show(took));
    }
    Ok(())
}

/// A duration with three significant figures in a readable unit.
fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}
