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
