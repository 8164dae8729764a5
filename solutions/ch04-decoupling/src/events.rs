//! The events a signup publishes, as they are stored in the outbox.
//!
//! Two versions live in the outbox at once: rows that release 1.4 wrote
//! (version 1, no name) and rows written since (version 2, with the name the
//! welcome email greets). An outbox is a queue with a memory: whatever format
//! was ever written may still be read, so a reader must accept every version
//! that can still be waiting, and a writer changes format only by adding a
//! version, never by changing what an old number means.
//!
//! Decision: an explicit `version` number read first, then the body parsed by
//! the shape that version promises. The alternative, one struct whose new field
//! is optional (`#[serde(default)]`), also reads version 1; it is shorter but it
//! blurs "this event has no name" with "this writer forgot the name", and it
//! cannot express a change that is not an addition (a renamed or removed field).
//! Unknown fields are ignored (serde's default), so a later writer may add a
//! field without breaking this reader: the tolerant reader half of the deal.

use serde::{Deserialize, Serialize};

/// "A user signed up", version 1 (release 1.4's format).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSignedUp {
    pub version: u32,
    pub user_id: i64,
    pub email: String,
}

/// "A user signed up", version 2: the name, for a welcome that greets by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSignedUpV2 {
    pub version: u32,
    pub user_id: i64,
    pub email: String,
    pub name: String,
}

/// What the worker needs from an event, whatever version it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    pub user_id: i64,
    pub email: String,
    /// `None` for a version 1 event, which never carried it.
    pub name: Option<String>,
}

/// Just enough of any version to know which one it is.
#[derive(Deserialize)]
struct Version {
    version: u32,
}

/// The payload a signup writes today.
pub fn encode(user_id: i64, email: &str, name: &str) -> String {
    serde_json::to_string(&UserSignedUpV2 {
        version: 2,
        user_id,
        email: email.to_string(),
        name: name.to_string(),
    })
    .expect("a struct of strings and numbers always serialises")
}

/// Reads a payload of any version still in use. An error means the row can
/// never be read by this code (corrupt, or from a newer release than this one).
pub fn decode(payload: &str) -> Result<Welcome, String> {
    let Version { version } =
        serde_json::from_str(payload).map_err(|e| e.to_string())?;
    match version {
        1 => {
            let v1: UserSignedUp =
                serde_json::from_str(payload).map_err(|e| e.to_string())?;
            Ok(Welcome {
                user_id: v1.user_id,
                email: v1.email,
                name: None,
            })
        }
        2 => {
            let v2: UserSignedUpV2 =
                serde_json::from_str(payload).map_err(|e| e.to_string())?;
            Ok(Welcome {
                user_id: v2.user_id,
                email: v2.email,
                name: Some(v2.name),
            })
        }
        other => Err(format!("unknown event version {other}")),
    }
}
