//! The database schema.
//!
//! This is the schema the store shipped with (call it version 1), applied by
//! hand every time the store opens. Databases created by that version are out
//! there, full of accounts and orders: whatever the schema becomes, opening
//! one of them must bring it up to date without losing a row, and opening it
//! again must change nothing.
//!
//! An upgrade is all or nothing: if it fails halfway (a full disk, say), the
//! database must be exactly as it was before, and `Store::open` must leave
//! the connection's settings (such as `PRAGMA foreign_keys`) as it found them.
//! Version 1's `UNIQUE` compares emails byte for byte, so a version-1
//! database may hold `Ann@Example.com` and `ann@example.com` as two accounts.
//! Opening such a database must fail with an error that names those emails,
//! and change nothing: which account keeps the address is for a person to
//! decide.

use rusqlite::Connection;

/// Makes sure the tables exist.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS accounts (
             id    INTEGER PRIMARY KEY AUTOINCREMENT,
             email TEXT NOT NULL UNIQUE,
             name  TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS orders (
             id          INTEGER PRIMARY KEY AUTOINCREMENT,
             account_id  INTEGER NOT NULL REFERENCES accounts (id),
             total_cents INTEGER NOT NULL,
             -- Free-form JSON: {\"coupon\": \"SPRING\", \"channel\": \"web\"}
             metadata    TEXT NOT NULL DEFAULT '{}'
         );",
    )
}
