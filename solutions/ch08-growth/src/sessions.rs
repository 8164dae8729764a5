//! Sessions: who is logged in. `POST /login` creates one and answers its token;
//! every other request names it in an `Authorization: Bearer <token>` header.
//!
//! A load balancer sends each request to whichever instance is next, and
//! every deploy restarts instances, so a session must outlive the instance
//! that created it and be found by every other one: sessions live in the
//! shared database, not in the instance's memory. The cost is one indexed
//! read on the primary per request; at a far larger scale that read moves to
//! a store built for it (Redis, or a signed token the client carries), behind
//! the same trait.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::db::Position;

/// A logged-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub token: String,
    pub user: String,
    /// Where the user's latest write sits in the primary's log, if they ever
    /// wrote: what a replica must have applied before it may answer them.
    pub last_write: Option<Position>,
}

/// Where sessions are kept.
pub trait SessionStore: Send + Sync {
    /// Starts a session for `user` and returns its token.
    fn create(&self, user: &str) -> anyhow::Result<String>;
    /// The session of `token`, if there is one.
    fn get(&self, token: &str) -> anyhow::Result<Option<Session>>;
    /// Notes that `user` wrote at `at`, for every session they have or will
    /// have: read-your-writes holds across their devices too.
    fn record_write(&self, user: &str, at: Position) -> anyhow::Result<()>;
}

/// Sessions in the shared SQLite database: any instance finds any session.
pub struct SqliteSessions {
    conn: Mutex<Connection>,
}

impl SqliteSessions {
    /// Opens the session tables in the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path).context("opening the session store")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sessions (
                 token_hash TEXT PRIMARY KEY,
                 user TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS last_writes (
                 user TEXT PRIMARY KEY,
                 position INTEGER NOT NULL
             );",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Only a hash of each token is stored, so a copy of the database (a backup,
/// a replica) does not hand out working sessions.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SessionStore for SqliteSessions {
    fn create(&self, user: &str) -> anyhow::Result<String> {
        let token = uuid::Uuid::new_v4().to_string();
        self.conn().execute(
            "INSERT INTO sessions (token_hash, user) VALUES (?1, ?2)",
            params![token_hash(&token), user],
        )?;
        Ok(token)
    }

    fn get(&self, token: &str) -> anyhow::Result<Option<Session>> {
        let found = self
            .conn()
            .query_row(
                "SELECT s.user, w.position FROM sessions s
                 LEFT JOIN last_writes w ON w.user = s.user
                 WHERE s.token_hash = ?1",
                params![token_hash(token)],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?)),
            )
            .optional()?;
        Ok(found.map(|(user, position)| Session {
            token: token.to_string(),
            user,
            last_write: position.map(|p| Position(p as u64)),
        }))
    }

    fn record_write(&self, user: &str, at: Position) -> anyhow::Result<()> {
        // Positions only grow, but two instances may record out of order:
        // keep the larger one.
        self.conn().execute(
            "INSERT INTO last_writes (user, position) VALUES (?1, ?2)
             ON CONFLICT (user) DO UPDATE SET position = MAX(position, excluded.position)",
            params![user, at.0 as i64],
        )?;
        Ok(())
    }
}
