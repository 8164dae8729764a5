//! The starter's signup, frozen here so that the bench always compares your
//! code with the same coupled version, whatever you change in `src/`.

use std::sync::Mutex;

use ch04_decoupling::email::{EmailService, welcome_email};
use rusqlite::{Connection, params};

/// Writes the user, then waits for the welcome email to be sent.
pub struct CoupledSignup<E> {
    pub db: Mutex<Connection>,
    pub email: E,
}

impl<E: EmailService> CoupledSignup<E> {
    pub async fn signup(&self, name: &str, address: &str) -> Result<i64, String> {
        let user_id = {
            let db = self.db.lock().unwrap();
            db.execute(
                "INSERT INTO users (name, email) VALUES (?1, ?2)",
                params![name, address],
            )
            .map_err(|e| e.to_string())?;
            db.last_insert_rowid()
        };
        self.email
            .send(
                format!("signup-{user_id}"),
                welcome_email(address, Some(name)),
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(user_id)
    }
}
