//! The database: SQLite in a file, shared by signups and the worker.
//!
//! Release 1.4 added the `outbox` table: one row per event that still has to
//! reach another service, its payload as JSON ([`crate::events`]). Its worker was
//! switched off (see `service.rs`), but production databases still hold rows
//! it wrote and never sent.
//!
//! What operations (and the checks) expect of the outbox:
//! - `sent = 1` once the provider has accepted the row's email, and only then;
//! - a row the worker will never send (it cannot be read, the provider
//!   rejected it, or it ran out of attempts) is **set aside**: it stays in the
//!   table, not sent, with the reason in a `set_aside` text column, which is
//!   NULL while the row is pending. That column does not exist yet. A person
//!   finds those rows with
//!   `SELECT id, payload, set_aside FROM outbox WHERE set_aside IS NOT NULL`,
//!   and so do the checks.

use std::path::Path;

use rusqlite::Connection;

// ANCHOR: schema
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS users (
        id    INTEGER PRIMARY KEY,
        name  TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE IF NOT EXISTS outbox (
        id      INTEGER PRIMARY KEY,
        payload TEXT NOT NULL,
        sent    INTEGER NOT NULL DEFAULT 0
    );
";
// ANCHOR_END: schema

/// Opens (and creates, if needed) the database at `path`.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // Write-ahead logging lets a reader and a writer work at once; NORMAL
    // syncs the log at checkpoints, not at every commit.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}
