//! The database: SQLite in a file, shared by signups and the worker.
//!
//! The `outbox` holds one row per event that still has to reach another
//! service. A row is pending while `sent = 0` and `set_aside` is NULL; the
//! worker marks it sent once the provider accepted it, or sets it aside with a
//! reason when it must not be tried again (unreadable, rejected by the
//! provider, out of attempts), so that a person can look at it and replay it.
//! Rows are never deleted here: a clean-up job can remove old sent rows.

use std::path::Path;

use rusqlite::Connection;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS users (
        id    INTEGER PRIMARY KEY,
        name  TEXT NOT NULL,
        email TEXT NOT NULL UNIQUE
    );
    CREATE TABLE IF NOT EXISTS outbox (
        id        INTEGER PRIMARY KEY,
        payload   TEXT NOT NULL,
        sent      INTEGER NOT NULL DEFAULT 0,
        set_aside TEXT
    );
";

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
