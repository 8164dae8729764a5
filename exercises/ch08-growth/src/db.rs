//! The database: a primary that takes every write, and a read replica that
//! serves the same data a little later. Both are real SQLite, in one file.
//!
//! Leave this file as it is: it is the simulated infrastructure, like the
//! network between the machines, and the checks and the bench measure through
//! it.
//!
//! A real replica is another server that replays the primary's log of
//! changes. Here the log is a table (`replication_log`) and the replica
//! "applies" an entry `lag` after it was committed: a read on the replica sees
//! every write up to [`Database::replica_position`] and nothing newer. A
//! position is the log's sequence number, like PostgreSQL's LSN or MySQL's
//! GTID: it only grows.
//!
//! Time is tokio's clock (`tokio::time::Instant`), so checks that pause it
//! decide exactly when the replica catches up. Several instances in one
//! process, or in several processes, can open the same file: the log and the
//! replica's state live in it.
//!
//! Besides the profiles, the primary holds whatever else the service keeps
//! in SQLite: [`Database::primary`] hands out its connection.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A place in the primary's log of writes. Larger is later.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
pub struct Position(pub u64);

/// Which copy of the data a read goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Always current; every instance's writes land here, so it is the part
    /// that does not grow by adding machines.
    Primary,
    /// Behind the primary by the replication lag; add more of these as reads
    /// grow.
    Replica,
}

/// Profile reads so far in this process, by side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub primary: u64,
    pub replica: u64,
}

static PRIMARY_READS: AtomicU64 = AtomicU64::new(0);
static REPLICA_READS: AtomicU64 = AtomicU64::new(0);

/// Profile reads made through every [`Database`] of this process.
pub fn reads() -> Reads {
    Reads {
        primary: PRIMARY_READS.load(Ordering::SeqCst),
        replica: REPLICA_READS.load(Ordering::SeqCst),
    }
}

/// One instance's handle on the primary and the replica.
pub struct Database {
    primary: Mutex<Connection>,
    replica: Mutex<Connection>,
    lag_ms: u64,
}

// ANCHOR: database_api
impl Database {
    /// Opens (or creates) the database file at `path`, whose replica lags
    /// `lag` behind the primary.
    pub fn open(path: &Path, lag: Duration) -> rusqlite::Result<Self> {
        let primary = connect(path)?;
        primary.execute_batch(
            "CREATE TABLE IF NOT EXISTS replication_log (
                 pos INTEGER PRIMARY KEY AUTOINCREMENT,
                 committed_at_ms INTEGER NOT NULL,
                 user TEXT NOT NULL,
                 address TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS replica_stall (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 upto INTEGER NOT NULL
             );",
        )?;
        let replica = connect(path)?;
        let lag_ms = u64::try_from(lag.as_millis()).unwrap_or(u64::MAX);
        Ok(Self {
            primary: Mutex::new(primary),
            replica: Mutex::new(replica),
            lag_ms,
        })
    }

    /// The primary's connection, for everything else the service stores.
    pub fn primary(&self) -> MutexGuard<'_, Connection> {
        self.primary.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `user`'s address on the primary; returns the write's position.
    pub fn write_profile(
        &self,
        user: &str,
        address: &str,
    ) -> rusqlite::Result<Position> {
        let conn = self.primary();
        conn.execute(
            "INSERT INTO replication_log (committed_at_ms, user, address)
             VALUES (?1, ?2, ?3)",
            params![now_ms() as i64, user, address],
        )?;
        Ok(Position(conn.last_insert_rowid() as u64))
    }

    /// `user`'s address as `side` has it (`None`: no address yet).
    pub fn read_profile(
        &self,
        side: Side,
        user: &str,
    ) -> rusqlite::Result<Option<String>> {
        let upto = match side {
            Side::Primary => {
                PRIMARY_READS.fetch_add(1, Ordering::SeqCst);
                i64::MAX
            }
            Side::Replica => {
                REPLICA_READS.fetch_add(1, Ordering::SeqCst);
                self.replica_position()?.0 as i64
            }
        };
        let conn = match side {
            Side::Primary => self.primary(),
            Side::Replica => self.replica.lock().unwrap_or_else(|e| e.into_inner()),
        };
        conn.query_row(
            "SELECT address FROM replication_log
             WHERE user = ?1 AND pos <= ?2 ORDER BY pos DESC LIMIT 1",
            params![user, upto],
            |row| row.get(0),
        )
        .optional()
    }

    /// How far the replica has applied the primary's log: every write at or
    /// before this position is visible on it, none after.
    pub fn replica_position(&self) -> rusqlite::Result<Position> {
        let conn = self.replica.lock().unwrap_or_else(|e| e.into_inner());
        let horizon = now_ms().saturating_sub(self.lag_ms) as i64;
        // The log is applied in order: the first entry not yet old enough
        // holds back everything after it.
        let applied: i64 = conn.query_row(
            "SELECT COALESCE(
                 (SELECT MIN(pos) - 1 FROM replication_log WHERE committed_at_ms > ?1),
                 (SELECT MAX(pos) FROM replication_log),
                 0)",
            params![horizon],
            |row| row.get(0),
        )?;
        let stalled: Option<i64> = conn
            .query_row("SELECT upto FROM replica_stall WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(Position(
            stalled.map_or(applied, |s| s.min(applied)).max(0) as u64
        ))
    }

    /// Stops the replica where it is now, as a replica that falls behind
    /// (a long query on it, a network partition) does: from now on its lag
    /// grows without bound.
    pub fn stall_replica(&self) -> rusqlite::Result<()> {
        let at = self.replica_position()?;
        self.primary().execute(
            "INSERT OR REPLACE INTO replica_stall (id, upto) VALUES (1, ?1)",
            params![at.0 as i64],
        )?;
        Ok(())
    }
}
// ANCHOR_END: database_api

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // Several connections (and processes) share the file: let readers run
    // beside a writer, and wait rather than fail when another one writes.
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    Ok(conn)
}

/// The database's clock: milliseconds since 1970 on tokio's clock, so real
/// time in a normal process and the paused clock in a check that pauses it.
/// Every process starts from the real time, so instances in different
/// processes agree (as far as their machines' clocks do).
pub fn now_ms() -> u64 {
    static START: OnceLock<(u64, tokio::time::Instant)> = OnceLock::new();
    let (unix_ms, at) = *START.get_or_init(|| {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (unix.as_millis() as u64, tokio::time::Instant::now())
    });
    unix_ms + tokio::time::Instant::now().duration_since(at).as_millis() as u64
}
