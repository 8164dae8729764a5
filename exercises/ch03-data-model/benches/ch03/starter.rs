//! The starter's schema and queries, frozen here so the bench can put them
//! beside yours whatever your `src/` has become.

use rusqlite::{Connection, params};

pub const SCHEMA: &str = "
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

/// The starter's page query: `LIMIT … OFFSET`. Returns the ids of the page.
pub fn page_by_offset(conn: &Connection, page: usize, limit: usize) -> Vec<i64> {
    let offset = (page - 1) * limit;
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, email, name FROM accounts
             ORDER BY name, id
             LIMIT ?1 OFFSET ?2",
        )
        .expect("prepare the page query");
    stmt.query_map(params![limit as i64, offset as i64], |r| r.get(0))
        .expect("run the page query")
        .map(|r| r.expect("read a row"))
        .collect()
}

/// The same page, reached by keyset: after the (name, id) of the row before.
pub fn page_by_keyset(
    conn: &Connection,
    after: Option<(&str, i64)>,
    limit: usize,
) -> Vec<(String, i64)> {
    let (name, id) = after.unwrap_or(("", i64::MIN));
    let mut stmt = conn
        .prepare_cached(
            "SELECT name, id FROM accounts
             WHERE (name, id) > (?1, ?2)
             ORDER BY name, id
             LIMIT ?3",
        )
        .expect("prepare the keyset query");
    stmt.query_map(params![name, id, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .expect("run the keyset query")
    .map(|r| r.expect("read a row"))
    .collect()
}

/// The starter's `orders_of`.
pub fn orders_of(conn: &Connection, account: i64) -> usize {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, account_id, total_cents, metadata FROM orders
             WHERE account_id = ?1
             ORDER BY id DESC",
        )
        .expect("prepare orders_of");
    stmt.query_map(params![account], |r| r.get::<_, i64>(0))
        .expect("run orders_of")
        .count()
}
