//! The signup service: accounts in SQLite, and a welcome email for each,
//! decoupled.
//!
//! A signup no longer talks to the email provider. It writes the user and a
//! "user signed up" event into the outbox **in one transaction**: either both
//! exist or neither does, so no user is ever left without their email and no
//! email goes to a user who does not exist. A signup therefore succeeds
//! whenever the database does, and takes as long as one local transaction,
//! whatever the provider is doing. The price: the email arrives a little later
//! (the worker's next poll), and there is now a worker to run and watch.
//!
//! The worker (`run_worker`) drains the outbox. For each event it makes one
//! call at a time, through a circuit breaker, under a timeout:
//! - sent: marked sent;
//! - rejected by the provider (a bad address): retrying cannot help, so the
//!   event is set aside at once, and the breaker hears "the provider is fine";
//! - unreadable (corrupt, or a version this code does not know): set aside,
//!   never sent, never blocking the events behind it;
//! - failed or timed out: tried again after a capped, jittered exponential
//!   backoff, until `max_attempts` calls, then set aside;
//! - rate limited: like a failure, and in addition the worker makes no call at
//!   all, for any event, until `retry_after` has passed (the provider limits
//!   the client, not one email);
//! - breaker open: not called at all, and looked at again after a cool-down.
//!
//! Delivery is at least once: the worker marks an event sent only after the
//! provider said yes, so a crash (or an abort) between the two sends it again
//! after the restart, and a call that timed out may have been accepted anyway.
//! The effect is exactly once because every call for one event carries the
//! same idempotency key (the outbox row's id), which the provider remembers.
//! A key made per call, or per attempt, would turn each of those cases into a
//! second email.
//!
//! The retry schedule lives in the worker's memory, not in the table: after a
//! restart every pending event is due at once and its attempt count starts
//! again. That keeps the table simple; the cost is a burst after a restart
//! during an outage, which the breaker absorbs after `failures_to_open` calls.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::time::Instant;

use crate::breaker::{Breaker, BreakerError};
use crate::email::{EmailError, EmailService, welcome_email};
use crate::events;
use crate::policy::Policy;

/// A user's id (the `users.id` column).
pub type UserId = i64;

/// Why a signup did not complete.
#[derive(Debug)]
pub enum SignupError {
    /// The database refused or failed: neither the user nor the event exists.
    Database(rusqlite::Error),
}

impl From<rusqlite::Error> for SignupError {
    fn from(e: rusqlite::Error) -> Self {
        SignupError::Database(e)
    }
}

/// How often an idle worker looks for new events. A signup's email leaves at
/// most this long after the signup when the provider is healthy.
const POLL: Duration = Duration::from_secs(1);

/// Signups, and the worker that sends what they leave in the outbox.
pub struct Service<E> {
    db: Mutex<Connection>,
    email: E,
    policy: Policy,
    /// Random numbers in `[0, 1)`, for jitter (the checks pass a seeded source).
    random: Mutex<Box<dyn FnMut() -> f64 + Send>>,
}

/// An event the worker has read and not yet finished with.
struct Pending {
    id: i64,
    payload: String,
    /// Calls made for it by this worker.
    attempts: u32,
}

/// What one call's answer means for its event.
enum Answer {
    Sent,
    Rejected(String),
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
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().expect("the database lock is never poisoned")
    }

    /// Creates the account and queues its welcome email, in one transaction.
    pub async fn signup(
        &self,
        name: &str,
        address: &str,
    ) -> Result<UserId, SignupError> {
        let mut db = self.db();
        let tx = db.transaction()?;
        tx.execute(
            "INSERT INTO users (name, email) VALUES (?1, ?2)",
            params![name, address],
        )?;
        let user_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO outbox (payload) VALUES (?1)",
            [events::encode(user_id, address, name)],
        )?;
        tx.commit()?;
        Ok(user_id)
    }

    /// Sends every pending outbox event, forever. Safe to abort at any point,
    /// and to start again on the same database.
    pub async fn run_worker(&self) {
        let breaker = Breaker::new(self.policy.breaker);
        // Events by the time they are due, then by id (oldest first).
        let mut due: BTreeMap<(Instant, i64), Pending> = BTreeMap::new();
        let mut last_read = 0;
        // No call to anyone before this instant (a rate limit).
        let mut quiet_until = Instant::now();
        loop {
            let now = Instant::now();
            for pending in self.unread(last_read) {
                last_read = pending.id;
                due.insert((now, pending.id), pending);
            }
            let Some(first) = due.first_entry() else {
                tokio::time::sleep(POLL).await;
                continue;
            };
            let at = first.key().0.max(quiet_until);
            if at > now {
                // Sleep until the next retry is due, but look for new events
                // in the meantime.
                tokio::time::sleep_until(at.min(now + POLL)).await;
                continue;
            }
            let pending = first.remove();
            let retry = self.attempt(&breaker, pending, &mut quiet_until).await;
            if let Some((at, pending)) = retry {
                due.insert((at, pending.id), pending);
            }
        }
    }

    /// Pending events with an id above `after`, oldest first.
    fn unread(&self, after: i64) -> Vec<Pending> {
        let db = self.db();
        let mut stmt = db
            .prepare_cached(
                "SELECT id, payload FROM outbox
                 WHERE sent = 0 AND set_aside IS NULL AND id > ?1
                 ORDER BY id LIMIT 1000",
            )
            .expect("the outbox query is valid");
        stmt.query_map([after], |row| {
            Ok(Pending {
                id: row.get(0)?,
                payload: row.get(1)?,
                attempts: 0,
            })
        })
        .and_then(|rows| rows.collect())
        .expect("the outbox is readable")
    }

    /// One call for `pending`; `Some` when it must be tried again, and when.
    /// A rate limit moves `quiet_until`, before which no call may be made.
    async fn attempt(
        &self,
        breaker: &Breaker,
        mut pending: Pending,
        quiet_until: &mut Instant,
    ) -> Option<(Instant, Pending)> {
        let event = match events::decode(&pending.payload) {
            Ok(event) => event,
            Err(why) => {
                self.set_aside(pending.id, &format!("unreadable: {why}"));
                return None;
            }
        };
        // A version 1 event has no name: the user's row still does.
        let name = event.name.or_else(|| self.name_of(event.user_id));
        let email = welcome_email(&event.email, name.as_deref());
        // One key per event, the same for every attempt and after a restart.
        let key = format!("outbox-{}", pending.id);
        let timeout = self.policy.timeout;
        let answer = breaker
            .call(async {
                match tokio::time::timeout(timeout, self.email.send(key, email)).await {
                    Ok(Ok(())) => Ok(Answer::Sent),
                    // The provider is healthy; this email is not.
                    Ok(Err(EmailError::Rejected { reason })) => {
                        Ok(Answer::Rejected(reason))
                    }
                    Ok(Err(error)) => Err(Some(error)),
                    Err(_elapsed) => Err(None),
                }
            })
            .await;
        let now = Instant::now();
        match answer {
            Ok(Answer::Sent) => {
                self.mark_sent(pending.id);
                None
            }
            Ok(Answer::Rejected(reason)) => {
                self.set_aside(pending.id, &format!("rejected: {reason}"));
                None
            }
            Err(BreakerError::Open) => {
                Some((later(now, breaker.policy().cool_down), pending))
            }
            Err(BreakerError::Failed(error)) => {
                pending.attempts = pending.attempts.saturating_add(1);
                if let Some(EmailError::RateLimited { retry_after }) = error {
                    *quiet_until = later(now, retry_after);
                }
                if pending.attempts >= self.policy.max_attempts {
                    self.set_aside(pending.id, "out of attempts");
                    return None;
                }
                let random = (self.random.lock().expect("never poisoned"))();
                let delay = self.policy.backoff(pending.attempts - 1, random);
                Some((later(now, delay), pending))
            }
        }
    }

    fn name_of(&self, user_id: i64) -> Option<String> {
        self.db()
            .query_row("SELECT name FROM users WHERE id = ?1", [user_id], |row| {
                row.get(0)
            })
            .optional()
            .expect("the users table is readable")
    }

    fn mark_sent(&self, id: i64) {
        self.db()
            .execute("UPDATE outbox SET sent = 1 WHERE id = ?1", [id])
            .expect("the outbox is writable");
    }

    fn set_aside(&self, id: i64, why: &str) {
        self.db()
            .execute(
                "UPDATE outbox SET set_aside = ?2 WHERE id = ?1",
                params![id, why],
            )
            .expect("the outbox is writable");
    }
}

/// The longest the worker puts an event away for. A longer delay (a policy
/// with a cool-down or cap of `Duration::MAX`) would not fit in an `Instant`;
/// looking at the event again after a day costs one glance at the breaker.
const LONGEST_WAIT: Duration = Duration::from_secs(86_400);

/// `now + by`, waiting at most a day.
fn later(now: Instant, by: Duration) -> Instant {
    now + by.min(LONGEST_WAIT)
}
