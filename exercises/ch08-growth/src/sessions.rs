//! Sessions: who is logged in. `POST /login` creates one and answers its token;
//! every other request names it in an `Authorization: Bearer <token>` header.
//!
//! A token must be something only the service could have issued: a token that
//! `POST /login` never handed out (made up from a user's name, say) is a 401.
//!
//! The one thing every instance shares is the database file named in
//! `Config::database` (see src/app.rs). `Database` (src/db.rs) is not `Clone`:
//! a store that needs the file may share the instance's `Database` or open a
//! connection of its own to the same file, as you prefer.

use std::collections::HashMap;
use std::sync::Mutex;

/// A logged-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: String,
}

/// Where sessions are kept.
pub trait SessionStore: Send + Sync {
    /// Starts a session for `user` and returns its token.
    fn create(&self, user: &str) -> anyhow::Result<String>;
    /// The session of `token`, if there is one.
    fn get(&self, token: &str) -> anyhow::Result<Option<Session>>;
}

// ANCHOR: memory
/// Sessions in a map in this instance's memory.
#[derive(Default)]
pub struct MemorySessions {
    by_token: Mutex<HashMap<String, Session>>,
}

impl SessionStore for MemorySessions {
    fn create(&self, user: &str) -> anyhow::Result<String> {
        let token = uuid::Uuid::new_v4().to_string();
        let session = Session {
            user: user.to_string(),
        };
        self.by_token.lock().unwrap().insert(token.clone(), session);
        Ok(token)
    }

    fn get(&self, token: &str) -> anyhow::Result<Option<Session>> {
        Ok(self.by_token.lock().unwrap().get(token).cloned())
    }
}
// ANCHOR_END: memory
