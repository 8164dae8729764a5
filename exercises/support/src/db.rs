//! A SQLite connection that counts statements and can simulate a network.
//!
//! Counting is done inside SQLite, through its trace hook (`trace_v2`), so it sees
//! every statement however the code under test issues it: `execute`, `query_row`,
//! `execute_batch` (each statement of the batch), a pragma, a cached prepared
//! statement run many times, statements inside a transaction, statements issued
//! through the raw `sqlite3` handle, or a `JOIN` that replaces a loop. The tests
//! at the end of this file try each of those, so a verdict that trusts the count
//! can say so.
//! The learner's code takes a plain `&rusqlite::Connection`; [`CountingConnection`]
//! dereferences to one, so nothing in the code under test knows it is watched.
//!
//! The optional round trip turns an in-process database into one that behaves like
//! a server across a network: each statement waits a fixed time before it runs.
//! That is what makes an N+1 query pattern expensive in production, and what an
//! in-memory SQLite would otherwise hide.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::trace::{TraceEvent, TraceEventCodes};

/// Called as each statement starts, with the statement's number (0 for the
/// first since the count was last reset) and its text.
type BeforeStatement = Box<dyn FnMut(u64, &str) + Send>;

/// An open SQLite connection whose statements are counted.
pub struct CountingConnection {
    conn: Connection,
    statements: Arc<AtomicU64>,
    before: Arc<Mutex<Option<BeforeStatement>>>,
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
        let before: Arc<Mutex<Option<BeforeStatement>>> = Arc::new(Mutex::new(None));
        let hook = Arc::clone(&before);
        // ANCHOR: trace_hook
        conn.trace_v2(
            TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: TraceEvent<'_>| {
                // SQLite also reports each trigger a statement fires, as a
                // comment ("-- TRIGGER name") beside the statement that fired
                // it; triggers run inside the server, so they do not count. A
                // statement of the caller's reports its own text, even when that
                // text starts with a comment, so it always counts.
                if let TraceEvent::Stmt(stmt, sql) = event
                    && stmt.sql() == sql
                {
                    let number = counter.fetch_add(1, Ordering::Relaxed);
                    if let Some(delay) = round_trip {
                        std::thread::sleep(delay);
                    }
                    let mut hook = hook.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(f) = hook.as_mut() {
                        f(number, sql);
                    }
                }
            }),
        )?;
        // ANCHOR_END: trace_hook
        Ok(Self {
            conn,
            statements,
            before,
        })
    }

    /// Runs `f` as each later statement of this connection starts, before
    /// SQLite reads anything for it, with the statement's number since the
    /// count was last reset and its text. A check uses it to change the data
    /// from another connection between two statements of the code under test.
    /// `None` removes it.
    pub fn before_each_statement(&self, f: Option<BeforeStatement>) {
        *self.before.lock().unwrap_or_else(PoisonError::into_inner) = f;
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

    /// A counted database with one table `t (x)` and the count at zero.
    fn with_table() -> CountingConnection {
        let db = CountingConnection::in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        db.reset_count();
        db
    }

    #[test]
    fn counts_each_execution_of_a_cached_statement() {
        let db = with_table();
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
    fn counts_a_prepared_statement_each_time_it_is_queried() {
        let db = with_table();
        let (_, n) = db.count(|c| {
            let mut s = c.prepare("SELECT x FROM t WHERE x > ?1").unwrap();
            for i in 0..3 {
                let rows: Vec<i64> = s
                    .query_map([i], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                assert!(rows.is_empty());
            }
        });
        assert_eq!(n, 3);
    }

    #[test]
    fn a_statement_that_returns_many_rows_counts_once() {
        let db = with_table();
        db.execute_batch("INSERT INTO t VALUES (1), (2), (3)")
            .unwrap();
        db.reset_count();
        let (rows, n) = db.count(|c| {
            let mut s = c.prepare("SELECT x FROM t").unwrap();
            s.query_map([], |r| r.get::<_, i64>(0)).unwrap().count()
        });
        assert_eq!((rows, n), (3, 1));
    }

    #[test]
    fn counts_every_statement_of_a_batch() {
        let db = with_table();
        let (_, n) = db.count(|c| {
            c.execute_batch(
                "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); SELECT * FROM t;",
            )
            .unwrap()
        });
        assert_eq!(n, 3);
    }

    #[test]
    fn counts_query_row_and_pragmas() {
        let db = with_table();
        let (_, n) = db.count(|c| {
            let _: i64 = c
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            let _: i64 = c
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            c.pragma_update(None, "user_version", 7).unwrap();
        });
        assert_eq!(n, 3);
    }

    #[test]
    fn counts_statements_inside_a_transaction_and_its_begin_and_commit() {
        let db = with_table();
        let (_, n) = db.count(|c| {
            let tx = c.unchecked_transaction().unwrap();
            tx.execute("INSERT INTO t VALUES (1)", []).unwrap();
            c.execute("INSERT INTO t VALUES (2)", []).unwrap();
            tx.commit().unwrap();
        });
        assert_eq!(n, 4, "BEGIN, two INSERTs, COMMIT");
    }

    #[test]
    fn counts_a_statement_that_starts_with_a_comment() {
        // Triggers are reported as comments and are not counted; a statement
        // of the caller's that starts with a comment must still count.
        let db = with_table();
        let (_, n) = db.count(|c| {
            let _: i64 = c
                .query_row("-- TRIGGER t\nSELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            c.execute("/* note */ INSERT INTO t VALUES (1)", [])
                .unwrap();
        });
        assert_eq!(n, 2);
    }

    #[test]
    fn counts_statements_issued_through_the_raw_handle() {
        let db = with_table();
        let (rc, n) = db.count(|c| {
            let sql = c"INSERT INTO t VALUES (1); SELECT x FROM t;";
            // SAFETY: the handle is valid while `c` lives; no callback, no
            // error message pointer.
            unsafe {
                rusqlite::ffi::sqlite3_exec(
                    c.handle(),
                    sql.as_ptr(),
                    None,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            }
        });
        assert_eq!((rc, n), (rusqlite::ffi::SQLITE_OK, 2));
    }

    #[test]
    fn a_trigger_does_not_count_as_a_statement_of_its_own() {
        let db = with_table();
        db.execute_batch(
            "CREATE TABLE log (x INTEGER);
             CREATE TRIGGER copy AFTER INSERT ON t BEGIN
                 INSERT INTO log VALUES (new.x);
             END;",
        )
        .unwrap();
        db.reset_count();
        let (_, n) = db.count(|c| c.execute("INSERT INTO t VALUES (1)", []).unwrap());
        let logged: i64 = db
            .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap();
        assert_eq!((n, logged), (1, 1));
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
    fn round_trip_delays_every_statement_however_it_is_issued() {
        // Each of these ten statements must wait 2 ms: a batch of two, a
        // query_row, a pragma, a statement starting with a comment, a raw
        // handle batch of two, and a transaction of three.
        let db =
            CountingConnection::in_memory_with_round_trip(Duration::from_millis(2))
                .unwrap();
        db.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        db.reset_count();
        let start = std::time::Instant::now();
        db.execute_batch("SELECT 1; SELECT 2;").unwrap();
        let _: i64 = db.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
        let _: i64 = db
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        db.execute("-- a comment\nINSERT INTO t VALUES (1)", [])
            .unwrap();
        // SAFETY: as in counts_statements_issued_through_the_raw_handle.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_exec(
                db.handle(),
                c"SELECT 1; SELECT 2;".as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
        let tx = db.unchecked_transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
        tx.commit().unwrap();
        let elapsed = start.elapsed();
        assert_eq!(db.statements(), 10);
        // A sleep never ends early, so this lower bound cannot flake.
        assert!(
            elapsed >= Duration::from_millis(20),
            "ten statements at 2 ms each took only {elapsed:?}"
        );
    }

    #[test]
    fn runs_the_hook_before_each_statement_reads() {
        // A file database in WAL mode, so a second connection can commit while
        // the first is between two statements.
        let path = std::env::temp_dir()
            .join(format!("support-db-hook-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db =
            CountingConnection::wrap(Connection::open(&path).unwrap(), None).unwrap();
        db.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)")
            .unwrap();
        db.reset_count();
        let other = Mutex::new(Connection::open(&path).unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        db.before_each_statement(Some(Box::new(move |n, sql| {
            log.lock().unwrap().push((n, sql.to_string()));
            let other = other.lock().unwrap();
            other
                .execute("INSERT INTO t VALUES (?1)", [n as i64])
                .unwrap();
        })));
        let first: i64 = db
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        let second: i64 = db
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        db.before_each_statement(None);
        let _: i64 = db
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        drop(db);
        let _ = std::fs::remove_file(&path);
        // Each statement saw the row written as it started.
        assert_eq!((first, second), (1, 2));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (0, "SELECT count(*) FROM t".to_string()));
        assert_eq!(seen[1].0, 1);
    }
}
