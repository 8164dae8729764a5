//! The starter's approach, kept here so the bench can compare against it after
//! you have changed `src/`. It issues the same statements as the starter did:
//! one for the customers, one per customer for their orders, one per order for
//! its items, and it names and formats everything as the starter did, with its
//! own copies of the starter's helpers: nothing you change in `src/` moves this
//! side of the comparison (only the report's types come from your crate).

use ch02_measure::{CustomerReport, LineItem, OrderSummary};
use rusqlite::Connection;

pub fn customer_report(conn: &Connection) -> Vec<CustomerReport> {
    let customers: Vec<(i64, String)> = query(
        conn,
        "SELECT id, name FROM customers ORDER BY name, id",
        0,
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    customers
        .into_iter()
        .map(|(customer_id, name)| {
            let sql = "SELECT id, placed_at FROM orders WHERE customer_id = ?1 \
                       ORDER BY placed_at DESC, id DESC";
            let orders: Vec<OrderSummary> = query(conn, sql, customer_id, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .into_iter()
            .map(|(order_id, placed_at)| {
                let sql = "SELECT sku, quantity, unit_price_cents FROM order_items \
                               WHERE order_id = ?1 ORDER BY id";
                let items: Vec<LineItem> = query(conn, sql, order_id, |r| {
                    let sku: String = r.get(0)?;
                    Ok(LineItem {
                        name: product_name(&sku),
                        sku,
                        quantity: r.get(1)?,
                        unit_price_cents: r.get(2)?,
                    })
                });
                let total_cents =
                    items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
                OrderSummary {
                    order_id,
                    placed_at,
                    total_cents,
                    total: format_cents(total_cents),
                    items,
                }
            })
            .collect();
            let lifetime = format_cents(orders.iter().map(|o| o.total_cents).sum());
            CustomerReport {
                customer_id,
                name,
                lifetime,
                orders,
            }
        })
        .collect()
}

/// The starter's `catalogue::product_name`, as it was.
fn product_name(sku: &str) -> String {
    merch::name_of(sku).unwrap_or_else(|| sku.to_string())
}

/// The starter's `money::format_cents`, as it was.
#[tracing::instrument(level = "trace")]
fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let dollars = (cents / 100).to_string();
    let mut grouped: Vec<char> = Vec::new();
    for (i, digit) in dollars.chars().rev().enumerate() {
        if i > 0 && i % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let dollars: String = grouped.into_iter().rev().collect();
    format!("{sign}${dollars}.{:02}", cents % 100)
}

fn query<T>(
    conn: &Connection,
    sql: &str,
    key: i64,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = conn.prepare_cached(sql).unwrap();
    let rows = if sql.contains("?1") {
        stmt.query_map([key], row)
    } else {
        stmt.query_map([], row)
    };
    rows.unwrap().map(Result::unwrap).collect()
}

pub fn first_seen_unique<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut seen: Vec<T> = Vec::new();
    for item in items {
        if !seen.contains(item) {
            seen.push(item.clone());
        }
    }
    seen
}
