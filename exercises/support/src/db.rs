//! A SQLite connection that counts statements and can simulate a network.
//!
//! Counting is done inside SQLite, through its trace hook (`trace_v2`), so it sees
//! every statement however the code under test issues it: `execute`, `query_row`,
//! a cached prepared statement run many times, or a `JOIN` that replaces a loop.
//! The learner's code takes a plain `&rusqlite::Connection`; [`CountingConnection`]
//! dereferences to one, so nothing in the code under test knows it is watched.
//!
//! The optional round trip turns an in-process database into one that behaves like
//! a server across a network: each statement waits a fixed time before it runs.
//! That is what makes an N+1 query pattern expensive in production, and what an
//! in-memory SQLite would otherwise hide.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::trace::{TraceEvent, TraceEventCodes};

/// An open SQLite connection whose statements are counted.
pub struct CountingConnection {
    conn: Connection,
    statements: Arc<AtomicU64>,
}

impl CountingConnection {
    /// An in-memory database with no simulated latency.
    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::wrap(Connection::open_in_memory()?, None)
    }

    /// An in-memory database where every statement first waits `round_trip`,
    /// as it would for a database server across a network.
    pub fn in_memory_with_round_trip(round_trip: Duration) -> rusqlite::Result<Self> {
        Self::wrap(Connection::open_in_memory()?, Some(round_trip))
    }

    /// Starts counting the statements of an existing connection.
    pub fn wrap(
        mut conn: Connection,
        round_trip: Option<Duration>,
    ) -> rusqlite::Result<Self> {
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        // ANCHOR: trace_hook
        conn.trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: TraceEvent<'_>| {
                // SQLite also reports the statements run by triggers, prefixed
                // with "--"; they do not cross the network, so they do not count.
                if let TraceEvent::Stmt(_, sql) = event
                    && !sql.starts_with("--")
                {
                    counter.fetch_add(1, Ordering::Relaxed);
                    if let Some(delay) = round_trip {
                        std::thread::sleep(delay);
                    }
                }
            }),
        )?;
        // ANCHOR_END: trace_hook
        Ok(Self { conn, statements })
    }

    /// Statements executed since the connection was opened or last reset.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Sets the statement count back to zero (e.g. after seeding data).
    pub fn reset_count(&self) {
        self.statements.store(0, Ordering::Relaxed);
    }

    /// Runs `f` and returns its result with the number of statements it executed.
    pub fn count<T>(&self, f: impl FnOnce(&Connection) -> T) -> (T, u64) {
        let before = self.statements();
        let out = f(&self.conn);
        (out, self.statements() - before)
    }
}

impl Deref for CountingConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_execution_of_a_cached_statement() {
        let db = CountingConnection::in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let (_, n) = db.count(|c| {
            for i in 0..5 {
                c.prepare_cached("INSERT INTO t VALUES (?1)")
                    .unwrap()
                    .execute([i])
                    .unwrap();
            }
        });
        assert_eq!(n, 5);
    }

    #[test]
    fn a_join_counts_as_one_statement() {
        let db = CountingConnection::in_memory().unwrap();
        db.execute_batch("CREATE TABLE a (id INTEGER); CREATE TABLE b (a_id INTEGER);")
            .unwrap();
        db.reset_count();
        let (rows, n) = db.count(|c| {
            let mut s = c
                .prepare("SELECT a.id FROM a LEFT JOIN b ON b.a_id = a.id")
                .unwrap();
            s.query_map([], |r| r.get::<_, i64>(0)).unwrap().count()
        });
        assert_eq!((rows, n), (0, 1));
    }

    #[test]
    fn round_trip_delays_every_statement() {
        let db =
            CountingConnection::in_memory_with_round_trip(Duration::from_millis(2))
                .unwrap();
        let start = std::time::Instant::now();
        for _ in 0..5 {
            db.execute_batch("SELECT 1").unwrap();
        }
        assert!(start.elapsed() >= Duration::from_millis(10));
    }
}
