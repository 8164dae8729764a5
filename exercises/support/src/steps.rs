//! A SQLite connection that records every statement it runs, with its text and
//! the virtual-machine steps it took, and asks SQLite for query plans.
//!
//! SQLite compiles each statement into a program for its virtual machine (the
//! VDBE) and counts the instructions it executes (`SQLITE_STMTSTATUS_VM_STEP`).
//! That count is the work a query did: reading a row, comparing a key, skipping
//! a row for an `OFFSET` are all steps. Unlike a timing it is the same on every
//! machine and every run, so a check can gate on it.
//!
//! The counter belongs to a prepared statement and keeps adding up across runs
//! of a cached statement, so this module does not read it from outside. It
//! installs SQLite's trace hook (`sqlite3_trace_v2`) directly: when a statement
//! starts (`SQLITE_TRACE_STMT`) its counter is set back to zero, and when it
//! ends (`SQLITE_TRACE_PROFILE`, which SQLite sends for every run that started,
//! at its last step, reset or finalize) the counter is read. So every run of
//! every statement is seen, however the code under test issues it (`execute`,
//! `query_row`, a cached statement, a batch, the raw handle), and the steps of
//! the triggers it fires are part of its own count. The tests at the end try
//! each of those.
//!
//! [`support::db::CountingConnection`](crate::db::CountingConnection) counts
//! statements through rusqlite's own trace hook; SQLite keeps one hook per
//! connection, so the two are separate types and a connection uses one of them.

use std::ffi::{CStr, c_int, c_uint, c_void};
use std::ops::Deref;
use std::sync::Mutex;

use rusqlite::Connection;
use rusqlite::ffi;

/// One run of one statement: its SQL text (parameters unexpanded, surrounding
/// whitespace trimmed) and the VM steps it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub sql: String,
    pub vm_steps: u64,
}

/// What the trace hook writes into; boxed so its address stays put.
#[derive(Default)]
struct Recorder {
    runs: Mutex<Vec<Run>>,
    /// Called with a statement's text as it starts, before it reads or writes.
    before: Mutex<Option<BeforeHook>>,
}

type BeforeHook = Box<dyn FnMut(&str) + Send>;

/// An open SQLite connection whose statement runs are recorded.
pub struct StepCounter {
    conn: Connection,
    // Declared after `conn`, so it is freed after the connection that points
    // at it (Drop also removes the hook first).
    recorder: Box<Recorder>,
}

impl StepCounter {
    /// An in-memory database.
    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::wrap(Connection::open_in_memory()?)
    }

    /// Starts recording the statements of an existing connection. Any trace
    /// hook installed before (e.g. by rusqlite's `trace_v2`) is replaced.
    pub fn wrap(conn: Connection) -> rusqlite::Result<Self> {
        let recorder = Box::new(Recorder::default());
        let ctx = &*recorder as *const Recorder as *mut c_void;
        // SAFETY: the handle is valid while `conn` lives; `ctx` points into a
        // box that outlives the hook (Drop removes the hook before freeing it).
        let rc = unsafe {
            ffi::sqlite3_trace_v2(
                conn.handle(),
                (ffi::SQLITE_TRACE_STMT | ffi::SQLITE_TRACE_PROFILE) as c_uint,
                Some(on_trace),
                ctx,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), None));
        }
        Ok(Self { conn, recorder })
    }

    /// Every run recorded since the connection was opened or last cleared.
    pub fn runs(&self) -> Vec<Run> {
        self.recorder
            .runs
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Forgets the runs recorded so far.
    pub fn clear(&self) {
        if let Ok(mut runs) = self.recorder.runs.lock() {
            runs.clear();
        }
    }

    /// Calls `f` with the text of every statement this connection starts,
    /// before the statement takes any lock or reads any row (until
    /// [`StepCounter::clear_before_each`]). Meant for putting another
    /// connection's work exactly between two statements of this one, e.g.
    /// between a check and the write it guards. `f` must not use this
    /// connection; a panic in `f` is caught and ignored.
    pub fn before_each(&self, f: impl FnMut(&str) + Send + 'static) {
        if let Ok(mut before) = self.recorder.before.lock() {
            *before = Some(Box::new(f));
        }
    }

    /// Removes the hook set by [`StepCounter::before_each`].
    pub fn clear_before_each(&self) {
        if let Ok(mut before) = self.recorder.before.lock() {
            *before = None;
        }
    }

    /// Runs `f` and returns its result with the statement runs it caused.
    pub fn watch<T>(&self, f: impl FnOnce(&Connection) -> T) -> (T, Vec<Run>) {
        self.clear();
        let out = f(&self.conn);
        let runs = self.runs();
        self.clear();
        (out, runs)
    }
}

impl Deref for StepCounter {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for StepCounter {
    fn drop(&mut self) {
        // SAFETY: removes the hook, so nothing writes to the recorder once it
        // is freed.
        unsafe {
            ffi::sqlite3_trace_v2(self.conn.handle(), 0, None, std::ptr::null_mut());
        }
    }
}

/// The total VM steps of a list of runs.
pub fn total_steps(runs: &[Run]) -> u64 {
    runs.iter().map(|r| r.vm_steps).sum()
}

/// `EXPLAIN QUERY PLAN` of `sql`, one line per plan node, indented by depth
/// ("SEARCH accounts USING INDEX …", "SCAN orders", …). Parameters are left
/// unbound: the plan does not depend on their values here (no `ANALYZE`
/// statistics). A statement SQLite cannot explain gives its error.
pub fn query_plan(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    // `raw_query` runs with the parameters unbound (NULL), which `query`
    // would refuse.
    let mut rows = stmt.raw_query();
    let mut nodes: Vec<(i64, i64, String)> = Vec::new();
    while let Some(row) = rows.next()? {
        nodes.push((row.get(0)?, row.get(1)?, row.get(3)?));
    }
    // Depth of each node: one more than its parent's.
    let mut lines = Vec::new();
    let mut depth: Vec<(i64, usize)> = Vec::new();
    for (id, parent, detail) in nodes {
        let d = depth
            .iter()
            .find(|(i, _)| *i == parent)
            .map_or(0, |(_, d)| d + 1);
        depth.push((id, d));
        lines.push(format!("{}{detail}", "  ".repeat(d)));
    }
    Ok(lines)
}

/// The trace hook: zero a statement's step counter when it starts, read it
/// when it ends.
unsafe extern "C" fn on_trace(
    mask: c_uint,
    ctx: *mut c_void,
    p: *mut c_void,
    x: *mut c_void,
) -> c_int {
    let stmt = p as *mut ffi::sqlite3_stmt;
    if stmt.is_null() || ctx.is_null() {
        return 0;
    }
    if mask == ffi::SQLITE_TRACE_STMT as c_uint {
        // `x` is the statement's text, or "-- TRIGGER name" when a trigger
        // starts inside it: a trigger's steps belong to the statement that
        // fired it, so only the statement's own start zeroes the counter.
        // SAFETY: SQLite passes a valid statement and a NUL-terminated text.
        unsafe {
            let own = ffi::sqlite3_sql(stmt);
            let text = x as *const std::ffi::c_char;
            if !own.is_null()
                && !text.is_null()
                && CStr::from_ptr(own) == CStr::from_ptr(text)
            {
                ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_VM_STEP, 1);
                let recorder = &*(ctx as *const Recorder);
                if let Ok(mut before) = recorder.before.lock()
                    && let Some(f) = before.as_mut()
                {
                    let sql = CStr::from_ptr(own).to_string_lossy();
                    let _ =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            f(sql.trim())
                        }));
                }
            }
        }
    } else if mask == ffi::SQLITE_TRACE_PROFILE as c_uint {
        // SAFETY: `ctx` is the recorder installed in `wrap`, alive while the
        // hook is; the statement is valid during the callback.
        unsafe {
            let recorder = &*(ctx as *const Recorder);
            let steps =
                ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_VM_STEP, 1);
            let own = ffi::sqlite3_sql(stmt);
            let sql = if own.is_null() {
                String::new()
            } else {
                CStr::from_ptr(own).to_string_lossy().trim().to_owned()
            };
            if let Ok(mut runs) = recorder.runs.lock() {
                runs.push(Run {
                    sql,
                    vm_steps: u64::try_from(steps).unwrap_or(0),
                });
            }
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with `t (x)` holding 0..n, nothing recorded yet.
    fn with_rows(n: i64) -> StepCounter {
        let db = StepCounter::in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let mut insert = db.prepare("INSERT INTO t VALUES (?1)").unwrap();
        for i in 0..n {
            insert.execute([i]).unwrap();
        }
        drop(insert);
        db.clear();
        db
    }

    fn scan_steps(db: &StepCounter) -> u64 {
        let (_, runs) = db.watch(|c| {
            let _: i64 = c
                .query_row("SELECT count(*) FROM t WHERE x >= 0", [], |r| r.get(0))
                .unwrap();
        });
        assert_eq!(runs.len(), 1);
        runs[0].vm_steps
    }

    #[test]
    fn a_scan_costs_steps_in_proportion_to_the_rows() {
        let small = scan_steps(&with_rows(100));
        let big = scan_steps(&with_rows(1_000));
        assert!(small > 100 && big > 1_000, "{small} {big}");
        let ratio = big as f64 / small as f64;
        assert!((8.0..12.0).contains(&ratio), "{small} {big}");
    }

    #[test]
    fn each_run_of_a_cached_statement_counts_only_its_own_steps() {
        let db = with_rows(500);
        let (_, runs) = db.watch(|c| {
            for _ in 0..3 {
                let _: i64 = c
                    .prepare_cached("SELECT count(*) FROM t WHERE x >= 0")
                    .unwrap()
                    .query_row([], |r| r.get(0))
                    .unwrap();
            }
        });
        assert_eq!(runs.len(), 3);
        assert!(
            runs.iter().all(|r| r.vm_steps == runs[0].vm_steps),
            "{runs:?}"
        );
    }

    #[test]
    fn a_statement_abandoned_after_its_first_row_is_still_recorded() {
        let db = with_rows(500);
        let (_, runs) = db.watch(|c| {
            let mut s = c.prepare("SELECT x FROM t").unwrap();
            let mut rows = s.query([]).unwrap();
            rows.next().unwrap();
        });
        assert_eq!(runs.len(), 1);
        assert!(runs[0].vm_steps < 100, "{runs:?}");
    }

    #[test]
    fn records_every_statement_of_a_batch_and_of_the_raw_handle() {
        let db = with_rows(10);
        let (_, runs) = db.watch(|c| {
            c.execute_batch("SELECT 1; INSERT INTO t VALUES (99);")
                .unwrap();
            // SAFETY: valid handle, no callback, no error pointer.
            let rc = unsafe {
                ffi::sqlite3_exec(
                    c.handle(),
                    c"SELECT x FROM t LIMIT 1".as_ptr(),
                    None,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(rc, ffi::SQLITE_OK);
        });
        let sql: Vec<&str> = runs.iter().map(|r| r.sql.as_str()).collect();
        assert_eq!(
            sql,
            [
                "SELECT 1;",
                "INSERT INTO t VALUES (99);",
                "SELECT x FROM t LIMIT 1"
            ]
        );
    }

    #[test]
    fn a_trigger_adds_its_steps_to_the_statement_that_fired_it() {
        let db = with_rows(0);
        db.execute_batch(
            "CREATE TABLE log (x INTEGER);
             CREATE TRIGGER copy AFTER INSERT ON t BEGIN
                 INSERT INTO log SELECT x FROM t;
             END;",
        )
        .unwrap();
        for i in 0..200 {
            db.execute("INSERT INTO t VALUES (?1)", [i]).unwrap();
        }
        let (_, plain) =
            db.watch(|c| c.execute("INSERT INTO log VALUES (1)", []).unwrap());
        let (_, fired) =
            db.watch(|c| c.execute("INSERT INTO t VALUES (1)", []).unwrap());
        assert_eq!((plain.len(), fired.len()), (1, 1));
        assert!(
            fired[0].vm_steps > 200 + plain[0].vm_steps,
            "{plain:?} {fired:?}"
        );
    }

    #[test]
    fn the_before_hook_sees_each_statement_before_it_runs_until_cleared() {
        let db = with_rows(3);
        let seen = std::sync::Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        db.before_each(move |sql| {
            if let Ok(mut l) = log.lock() {
                l.push(sql.to_string());
            }
        });
        db.execute_batch("SELECT count(*) FROM t; DELETE FROM t WHERE x = 1")
            .unwrap();
        db.clear_before_each();
        db.execute_batch("SELECT 1").unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            ["SELECT count(*) FROM t;", "DELETE FROM t WHERE x = 1"],
            "each statement once, in order, none after clearing"
        );
    }

    #[test]
    fn query_plans_name_scans_and_index_searches() {
        let db = with_rows(10);
        let scan = query_plan(&db, "SELECT x FROM t WHERE x = ?1").unwrap();
        assert_eq!(scan, ["SCAN t"]);
        db.execute_batch("CREATE INDEX t_x ON t (x)").unwrap();
        let search = query_plan(&db, "SELECT x FROM t WHERE x = ?1").unwrap();
        assert_eq!(search, ["SEARCH t USING COVERING INDEX t_x (x=?)"]);
    }
}
