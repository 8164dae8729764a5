//! Profiles: `PUT /profile` with `{"address": "..."}` changes the logged-in
//! user's delivery address; `GET /profile/{user}` shows a user's address, to
//! them or to anyone else (a courier, a shop assistant).
//!
//! Reads outnumber writes by far, and the primary database is the one part
//! that does not grow by adding instances. The database has a read replica
//! (see src/db.rs).
//!
//! Read-your-writes is owed to the user, not to one session: after a user
//! changes their address, every session of theirs (another device, one opened
//! before the change) reads the new address, through any instance.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::app::{App, Reply, internal, reply};
use crate::db::Side;

#[derive(Deserialize)]
pub struct NewAddress {
    pub address: String,
}

// ANCHOR: profiles
pub async fn update(
    State(app): State<App>,
    headers: HeaderMap,
    Json(new): Json<NewAddress>,
) -> Reply {
    let session = match app.authenticate(&headers) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    match app.db().write_profile(&session.user, &new.address) {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({ "user": session.user, "address": new.address })),
        ),
        Err(e) => internal(e),
    }
}

pub async fn show(
    State(app): State<App>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Reply {
    // Anyone may look; a session, if there is one, says who is looking.
    let _viewer = app.authenticate(&headers).ok();
    match app.db().read_profile(Side::Primary, &user) {
        Ok(Some(address)) => (
            StatusCode::OK,
            Json(json!({ "user": user, "address": address })),
        ),
        Ok(None) => reply(StatusCode::NOT_FOUND, "no address yet"),
        Err(e) => internal(e),
    }
}
// ANCHOR_END: profiles
