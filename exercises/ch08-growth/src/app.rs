//! The service: what one instance holds, its routes, and who is asking.
//!
//! Today the shop runs as one instance. The plan is ten of them behind a load
//! balancer that sends each request to whichever instance is next, and a
//! client that retries whenever it hears nothing back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::db::Database;
use crate::payments::PaymentProvider;
use crate::rollout::Rollout;
use crate::sessions::{MemorySessions, Session, SessionStore};
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
    features: Mutex<HashMap<String, Rollout>>,
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
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                sessions: Box::new(MemorySessions::default()),
                payments,
                features: Mutex::new(HashMap::new()),
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
    let rollout = app.inner.features.lock().unwrap().get(&flag).copied();
    let enabled = rollout.is_some_and(|r| r.is_enabled_for(&flag, &session.user));
    (
        StatusCode::OK,
        Json(json!({ "flag": flag, "enabled": enabled })),
    )
}

/// Sets who gets the flag: `{"percent": 10, "killed": false}`.
async fn set_feature(
    State(app): State<App>,
    Path(flag): Path<String>,
    Json(rollout): Json<Rollout>,
) -> Reply {
    app.inner
        .features
        .lock()
        .unwrap()
        .insert(flag.clone(), rollout);
    (StatusCode::OK, Json(json!({ "flag": flag })))
}
// ANCHOR_END: features
