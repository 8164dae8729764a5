//! The payment provider, a partner across the network. Leave this file as it
//! is: the checks plug in a provider of their own that fails in every way this
//! trait allows.
//!
//! Like every real card provider's API, it takes a key with each charge and
//! never charges one key twice: a second call with a key it has already
//! charged returns that first charge instead of taking the money again.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// A future that can be sent between threads, as an async trait method in a
/// trait object returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// ANCHOR: provider
/// What the service asks the provider to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The provider charges each key at most once (see the module's comment).
    pub key: String,
    pub user: String,
    pub amount_cents: u64,
}

/// Money taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub amount_cents: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// The card was refused. Nothing was charged, and asking again gets the
    /// same answer.
    Declined(String),
    /// The provider could not take the request. Nothing was charged.
    Unavailable,
    /// No answer in time. The charge may or may not have been made.
    TimedOut,
}

pub trait PaymentProvider: Send + Sync + 'static {
    fn charge(
        &self,
        request: ChargeRequest,
    ) -> BoxFuture<'_, Result<Charge, ProviderError>>;
}
// ANCHOR_END: provider

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Declined(reason) => write!(f, "card declined: {reason}"),
            Self::Unavailable => f.write_str("payment provider unavailable"),
            Self::TimedOut => f.write_str("payment provider timed out"),
        }
    }
}

impl std::error::Error for ProviderError {}

/// An in-memory provider that approves every charge, for the service's
/// binary and the bench.
#[derive(Default)]
pub struct DemoProvider {
    charges: Mutex<HashMap<String, Charge>>,
}

impl PaymentProvider for DemoProvider {
    fn charge(
        &self,
        request: ChargeRequest,
    ) -> BoxFuture<'_, Result<Charge, ProviderError>> {
        Box::pin(async move {
            let mut charges = self.charges.lock().unwrap_or_else(|e| e.into_inner());
            let next = charges.len() + 1;
            let charge = charges.entry(request.key).or_insert_with(|| Charge {
                id: format!("ch_{next}"),
                amount_cents: request.amount_cents,
            });
            Ok(charge.clone())
        })
    }
}
