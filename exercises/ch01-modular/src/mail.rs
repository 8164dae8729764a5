//! Email: the mail service's interface, and a mail service in memory.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The mail service did not accept the email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailError {
    pub reason: String,
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the email was not sent: {}", self.reason)
    }
}

impl std::error::Error for MailError {}

/// A mail service. The call crosses the network.
pub trait Mailer {
    fn send(&self, email: Email) -> impl Future<Output = Result<(), MailError>> + Send;
}

/// A mail service that keeps what it sends in memory and waits `latency` on
/// every call, as a request across the network would.
#[derive(Debug)]
pub struct InMemoryMailer {
    latency: Duration,
    sent: Mutex<Vec<Email>>,
}

impl InMemoryMailer {
    pub fn new(latency: Duration) -> Self {
        InMemoryMailer {
            latency,
            sent: Mutex::new(Vec::new()),
        }
    }

    /// Every email sent so far, oldest first.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().unwrap().clone()
    }
}

impl Mailer for InMemoryMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        tokio::time::sleep(self.latency).await;
        self.sent.lock().unwrap().push(email);
        Ok(())
    }
}
