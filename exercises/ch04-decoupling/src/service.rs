//! The signup service: accounts in SQLite, and a welcome email for each.
//!
//! Release 1.5 (this code) sends the welcome email inside `signup`, because
//! release 1.4's outbox worker (`run_worker`, still below) caused an incident:
//! during a provider outage it hung on a call that never answered, and once
//! un-stuck it retried in a tight loop until the provider blocked us. Since 1.5,
//! every signup waits for the provider, and fails or stalls when it does.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, params};

use crate::breaker::Breaker;
use crate::email::{EmailError, EmailService, welcome_email};
use crate::events::UserSignedUp;
use crate::policy::Policy;

/// A user's id (the `users.id` column).
pub type UserId = i64;

/// Why a signup did not complete.
#[derive(Debug)]
pub enum SignupError {
    /// The database refused or failed.
    Database(rusqlite::Error),
    /// The welcome email could not be sent.
    Email(EmailError),
}

impl From<rusqlite::Error> for SignupError {
    fn from(e: rusqlite::Error) -> Self {
        SignupError::Database(e)
    }
}

/// Signups, and the worker that sends what they leave in the outbox.
pub struct Service<E> {
    db: Mutex<Connection>,
    email: E,
    policy: Policy,
    /// Random numbers in `[0, 1)`, for jitter (the checks pass a seeded source).
    random: Mutex<Box<dyn FnMut() -> f64 + Send>>,
    calls: AtomicU64,
}

impl<E: EmailService> Service<E> {
    /// Opens the database at `path` (see `db.rs`).
    pub fn open(
        path: &Path,
        email: E,
        policy: Policy,
        random: impl FnMut() -> f64 + Send + 'static,
    ) -> rusqlite::Result<Self> {
        Ok(Self {
            db: Mutex::new(crate::db::open(path)?),
            email,
            policy,
            random: Mutex::new(Box::new(random)),
            calls: AtomicU64::new(0),
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().expect("the database lock is never poisoned")
    }

    // ANCHOR: signup
    /// Creates the account and sends the welcome email.
    pub async fn signup(
        &self,
        name: &str,
        address: &str,
    ) -> Result<UserId, SignupError> {
        let user_id = {
            let db = self.db();
            db.execute(
                "INSERT INTO users (name, email) VALUES (?1, ?2)",
                params![name, address],
            )?;
            db.last_insert_rowid()
        };
        let key = format!("call-{}", self.calls.fetch_add(1, Ordering::Relaxed));
        self.email
            .send(key, welcome_email(address, Some(name)))
            .await
            .map_err(SignupError::Email)?;
        Ok(user_id)
    }
    // ANCHOR_END: signup

    // ANCHOR: worker
    /// Release 1.4's worker: sends every unsent outbox row, forever.
    pub async fn run_worker(&self) {
        let breaker = Breaker::new(self.policy.breaker);
        loop {
            let rows: Vec<(i64, String)> = {
                let db = self.db();
                let mut stmt = db
                    .prepare(
                        "SELECT id, payload FROM outbox WHERE sent = 0 ORDER BY id",
                    )
                    .expect("the outbox query is valid");
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                    .and_then(|rows| rows.collect())
                    .expect("the outbox is readable")
            };
            let mut sent = 0;
            for (id, payload) in rows {
                let Ok(event) = serde_json::from_str::<UserSignedUp>(&payload) else {
                    continue;
                };
                let key =
                    format!("call-{}", self.calls.fetch_add(1, Ordering::Relaxed));
                let email = welcome_email(&event.email, None);
                match breaker.call(self.email.send(key, email)).await {
                    Ok(()) => {
                        self.db()
                            .execute("UPDATE outbox SET sent = 1 WHERE id = ?1", [id])
                            .expect("the outbox is writable");
                        sent += 1;
                    }
                    Err(_) => {
                        let random = (self.random.lock().expect("never poisoned"))();
                        let pause = self
                            .policy
                            .backoff_base
                            .mul_f64(1.0 - self.policy.jitter * random);
                        tokio::time::sleep(pause).await;
                    }
                }
            }
            if sent == 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    // ANCHOR_END: worker
}
