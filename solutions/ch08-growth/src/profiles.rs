//! Profiles: `PUT /profile` with `{"address": "..."}` changes the logged-in
//! user's delivery address; `GET /profile/{user}` shows a user's address, to
//! them or to anyone else (a courier, a shop assistant).
//!
//! Reads go to the replica, which may be behind, except for one reader: a
//! user whose own latest write the replica has not applied yet. Their read
//! goes to the primary, so they always see what they just saved; everyone
//! else may see the old address for as long as the replica lags, which for
//! an address shown to a courier is acceptable.
//!
//! Whether the replica has the write is decided by position, not by time:
//! the write's place in the primary's log against how far the replica has
//! applied it. A rule such as "the primary for one second after a write"
//! holds only while the lag stays under a second, and lag has no upper bound
//! (a long query or a network fault on the replica). The position lives with
//! the user's sessions in the shared database, so every instance knows it.

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

pub async fn update(
    State(app): State<App>,
    headers: HeaderMap,
    Json(new): Json<NewAddress>,
) -> Reply {
    let session = match app.authenticate(&headers) {
        Ok(session) => session,
        Err(reply) => return reply,
    };
    let written = match app.db().write_profile(&session.user, &new.address) {
        Ok(position) => position,
        Err(e) => return internal(e),
    };
    if let Err(e) = app.sessions().record_write(&session.user, written) {
        return internal(e);
    }
    (
        StatusCode::OK,
        Json(json!({ "user": session.user, "address": new.address })),
    )
}

pub async fn show(
    State(app): State<App>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Reply {
    // Anyone may look; a session, if there is one, says who is looking.
    let viewer = app.authenticate(&headers).ok();
    let side = match viewer.and_then(|v| v.last_write) {
        None => Side::Replica,
        Some(written) => match app.db().replica_position() {
            Ok(applied) if applied >= written => Side::Replica,
            Ok(_) => Side::Primary,
            Err(e) => return internal(e),
        },
    };
    match app.db().read_profile(side, &user) {
        Ok(Some(address)) => (
            StatusCode::OK,
            Json(json!({ "user": user, "address": address })),
        ),
        Ok(None) => reply(StatusCode::NOT_FOUND, "no address yet"),
        Err(e) => internal(e),
    }
}
