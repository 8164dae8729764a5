//! The service: what one instance holds, its routes, and who is asking.
//!
//! An instance holds nothing that another instance would need to answer a
//! request: sessions, feature rollouts, idempotency records and the last
//! write of each user all live in the shared database. What is left in
//! memory (connections, the provider's client) can be rebuilt at any start.
//! So any instance can answer any request, a restart logs nobody out, and
//! adding an instance is starting one more process.
//!
//! The database is now the one shared part, and the part to watch as traffic
//! grows: the replica takes the reads that may be a little late, and what is
//! left on the primary is small, indexed reads and writes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::db::Database;
use crate::payments::PaymentProvider;
use crate::rollout::Rollout;
use crate::sessions::{Session, SessionStore, SqliteSessions};
use crate::{payment, profiles};

/// Where an instance finds the shared database, and how far its replica lags.
#[derive(Clone, Debug)]
pub struct Config {
    pub database: PathBuf,
    pub replica_lag: Duration,
}

/// One instance of the service. Cloning it is cheap: clones share everything.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    sessions: Box<dyn SessionStore>,
    payments: Arc<dyn PaymentProvider>,
}

/// What every handler answers: a status and a JSON body.
pub type Reply = (StatusCode, Json<Value>);

// ANCHOR: open
impl App {
    /// Opens an instance on the database at `config.database`.
    pub fn open(
        config: &Config,
        payments: Arc<dyn PaymentProvider>,
    ) -> anyhow::Result<Self> {
        let db = Database::open(&config.database, config.replica_lag)?;
        db.primary().execute_batch(
            "CREATE TABLE IF NOT EXISTS features (
                 flag TEXT PRIMARY KEY,
                 percent INTEGER NOT NULL,
                 killed INTEGER NOT NULL
             );",
        )?;
        payment::prepare(&db.primary())?;
        let sessions = Box::new(SqliteSessions::open(&config.database)?);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                sessions,
                payments,
            }),
        })
    }
    // ANCHOR_END: open

    /// The instance's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/login", post(login))
            .route("/me", get(me))
            .route("/payments", post(payment::pay))
            .route("/profile", put(profiles::update))
            .route("/profile/{user}", get(profiles::show))
            .route("/features/{flag}", get(feature))
            .route("/admin/features/{flag}", put(set_feature))
            .with_state(self.clone())
    }

    pub(crate) fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn sessions(&self) -> &dyn SessionStore {
        self.inner.sessions.as_ref()
    }

    pub(crate) fn payments(&self) -> &dyn PaymentProvider {
        self.inner.payments.as_ref()
    }

    /// The session named by the request's `Authorization: Bearer <token>`
    /// header, or the 401 to answer.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Session, Reply> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| reply(StatusCode::UNAUTHORIZED, "log in first"))?;
        match self.sessions().get(token) {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(reply(StatusCode::UNAUTHORIZED, "unknown session")),
            Err(e) => Err(internal(e)),
        }
    }
}

/// A reply with an `error` field.
pub(crate) fn reply(status: StatusCode, error: &str) -> Reply {
    (status, Json(json!({ "error": error })))
}

/// A 500 for a failure of the service itself.
pub(crate) fn internal(error: impl std::fmt::Display) -> Reply {
    reply(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string())
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

async fn login(State(app): State<App>, Json(login): Json<Login>) -> Reply {
    if login.user.is_empty() {
        return reply(StatusCode::BAD_REQUEST, "user must not be empty");
    }
    match app.sessions().create(&login.user) {
        Ok(token) => (StatusCode::OK, Json(json!({ "session": token }))),
        Err(e) => internal(e),
    }
}

async fn me(State(app): State<App>, headers: HeaderMap) -> Reply {
    match app.authenticate(&headers) {
        Ok(session) => (StatusCode::OK, Json(json!({ "user": session.user }))),
        Err(reply) => reply,
    }
}

// ANCHOR: features
/// Whether the flag is on for the user asking.
async fn feature(
    State(app): State<App>,
    Path(flag): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let session = match app.authenticate(&headers) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    // Read on every request, so a change made through any instance (the kill
    // switch above all) holds from the very next request. One small indexed
    // read; a cache here would have to be invalidated on every instance.
    let rollout = match rollout_of(&app, &flag) {
        Ok(rollout) => rollout,
        Err(e) => return internal(e),
    };
    let enabled = rollout.is_some_and(|r| r.is_enabled_for(&flag, &session.user));
    (
        StatusCode::OK,
        Json(json!({ "flag": flag, "enabled": enabled })),
    )
}

fn rollout_of(app: &App, flag: &str) -> rusqlite::Result<Option<Rollout>> {
    app.db()
        .primary()
        .query_row(
            "SELECT percent, killed FROM features WHERE flag = ?1",
            params![flag],
            |row| {
                Ok(Rollout {
                    percent: row.get(0)?,
                    killed: row.get(1)?,
                })
            },
        )
        .optional()
}

/// Sets who gets the flag: `{"percent": 10, "killed": false}`.
async fn set_feature(
    State(app): State<App>,
    Path(flag): Path<String>,
    Json(rollout): Json<Rollout>,
) -> Reply {
    let saved = app.db().primary().execute(
        "INSERT INTO features (flag, percent, killed) VALUES (?1, ?2, ?3)
         ON CONFLICT (flag) DO UPDATE
         SET percent = excluded.percent, killed = excluded.killed",
        params![flag, rollout.percent, rollout.killed],
    );
    match saved {
        Ok(_) => (StatusCode::OK, Json(json!({ "flag": flag }))),
        Err(e) => internal(e),
    }
}
// ANCHOR_END: features
