//! The customer report: every customer, their orders, and each order's items.
//!
//! Rows come in a fixed order, because people compare reports from one day to
//! the next: customers by name (then id), each customer's orders newest first
//! (then the higher order id first, when two orders share a second), and each
//! order's items in the order they were added. Names compare byte by byte, as
//! SQLite compares text by default: `"Zoe"` comes before `"ada"`.

use rusqlite::{Connection, params};

use crate::catalogue::product_name;
use crate::money::format_cents;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerReport {
    pub customer_id: i64,
    pub name: String,
    /// Everything the customer ever spent, formatted: `"$1,234.56"`.
    pub lifetime: String,
    /// Newest first; empty for a customer who never ordered.
    pub orders: Vec<OrderSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSummary {
    pub order_id: i64,
    pub placed_at: i64,
    pub total_cents: i64,
    /// `total_cents` formatted for people: `"$1,234.56"`.
    pub total: String,
    /// In the order they were added; empty for an order without items.
    pub items: Vec<LineItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineItem {
    pub sku: String,
    /// The name the SKU is sold under, from the product list.
    pub name: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

/// Builds the report for every customer in the database.
#[tracing::instrument(skip_all)]
pub fn customer_report(conn: &Connection) -> rusqlite::Result<Vec<CustomerReport>> {
    let mut report = Vec::new();
    let mut customers =
        conn.prepare("SELECT id, name FROM customers ORDER BY name, id")?;
    let rows = customers.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    for row in rows {
        let (customer_id, name): (i64, String) = row?;
        let orders = orders_of(conn, customer_id)?;
        let lifetime_cents: i64 = orders.iter().map(|o| o.total_cents).sum();
        report.push(CustomerReport {
            customer_id,
            name,
            lifetime: format_cents(lifetime_cents),
            orders,
        });
    }
    Ok(report)
}

/// One customer's orders, newest first, each with its items.
fn orders_of(
    conn: &Connection,
    customer_id: i64,
) -> rusqlite::Result<Vec<OrderSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, placed_at FROM orders
         WHERE customer_id = ?1
         ORDER BY placed_at DESC, id DESC",
    )?;
    let rows =
        stmt.query_map(params![customer_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let mut orders = Vec::new();
    for row in rows {
        let (order_id, placed_at) = row?;
        let items = items_of(conn, order_id)?;
        let total_cents = items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
        orders.push(OrderSummary {
            order_id,
            placed_at,
            total_cents,
            total: format_cents(total_cents),
            items,
        });
    }
    Ok(orders)
}

/// One order's line items, in the order they were added.
fn items_of(conn: &Connection, order_id: i64) -> rusqlite::Result<Vec<LineItem>> {
    let mut stmt = conn.prepare_cached(
        "SELECT sku, quantity, unit_price_cents FROM order_items
         WHERE order_id = ?1
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![order_id], |row| {
        let sku: String = row.get(0)?;
        Ok(LineItem {
            name: product_name(&sku),
            sku,
            quantity: row.get(1)?,
            unit_price_cents: row.get(2)?,
        })
    })?;
    rows.collect()
}
