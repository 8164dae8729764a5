//! The email provider: a service across the network that you do not control.
//!
//! What its documentation and status page promise, and ask of its clients
//! (the numbers the checks hold the default [`crate::Policy`] to):
//! - A healthy call answers within **2 seconds** (their 99.9th percentile; most
//!   answer in a few milliseconds, and the slowest healthy answers they have
//!   seen took 2.5 s).
//! - Every send carries an **idempotency key**. The provider remembers the keys it
//!   has accepted and answers `Ok` to a second send with an accepted key without
//!   sending the email again. A call that you gave up on may still have been
//!   accepted: you cannot tell from the outside.
//! - Outages happen a few times a year and last up to about an hour. While it is
//!   down, a call may fail at once, fail after a while, or never answer at all,
//!   and its status page asks clients to send **at most one call a minute** until
//!   it recovers.
//! - When it answers `RateLimited`, it asks your client (every call, whatever
//!   the email) not to call again before `retry_after` has passed. It says
//!   nothing about the email in that call: the provider did not look at it.
//!
//! And what the product asks: a welcome email that could not be sent during an
//! outage must go out within **5 minutes** of the provider's recovery.
//!
//! Leave [`EmailService`] and [`EmailError`] as they are: the checks bring their
//! own provider, which fails in every way this trait allows.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// One email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Why the provider did not accept an email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmailError {
    /// The provider is down or overloaded (an HTTP 503, a reset connection).
    Unavailable,
    /// Too many calls: the provider asks for none before `retry_after`.
    RateLimited { retry_after: Duration },
    /// The provider refuses this email for good (the address does not exist,
    /// or bounced before): sending it again gives the same answer.
    Rejected { reason: String },
}

// ANCHOR: trait
/// The provider's API.
pub trait EmailService: Send + Sync + 'static {
    /// Sends `email`. `key` is the idempotency key: the provider answers `Ok`
    /// without sending again when it has already accepted a send with this key.
    fn send(
        &self,
        key: String,
        email: Email,
    ) -> impl Future<Output = Result<(), EmailError>> + Send;
}
// ANCHOR_END: trait

/// A shared provider is a provider: keep an `Arc` to look at it afterwards.
impl<T: EmailService> EmailService for Arc<T> {
    fn send(
        &self,
        key: String,
        email: Email,
    ) -> impl Future<Output = Result<(), EmailError>> + Send {
        (**self).send(key, email)
    }
}

/// The welcome email, as the product wants it: greeting the user by name when
/// the name is known.
pub fn welcome_email(address: &str, name: Option<&str>) -> Email {
    let greeting = match name {
        Some(name) => format!("Hello {name},"),
        None => "Hello,".to_string(),
    };
    Email {
        to: address.to_string(),
        subject: "Welcome to Scaling Rust".to_string(),
        body: format!("{greeting}\n\nyour account is ready. Happy scaling!\n"),
    }
}
