//! The events a signup publishes, as they are stored in the outbox.
//!
//! Release 1.4 wrote this format (version 1), and rows of it are still waiting
//! in production outboxes:
//!
//! ```json
//! {"version":1,"user_id":7,"email":"ada@example.com"}
//! ```
//!
//! It carries no name, which is why 1.4's welcome emails said only "Hello,".
//! Either welcome is accepted for a version 1 event: the one without a name
//! (`welcome_email(address, None)`) or the one greeting the user by the name in
//! their `users` row.
//!
//! A row whose version this code does not know (a later release wrote it) is
//! unreadable, whatever fields it carries, and so is a row that is not an
//! event at all: such a row is never sent (see `db.rs` for what happens to it).

use serde::{Deserialize, Serialize};

// ANCHOR: v1
/// "A user signed up", version 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSignedUp {
    pub version: u32,
    pub user_id: i64,
    pub email: String,
}
// ANCHOR_END: v1
