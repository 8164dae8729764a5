//! A circuit breaker: stops calling a service that keeps failing, so that a
//! caller gets a fast answer instead of a slow failure, and the service gets
//! room to recover.
//!
//! Release 1.4 put this wrapper around every call so that a breaker could go
//! here one day. Today it only passes calls through.

use std::future::Future;

use crate::policy::BreakerPolicy;

/// Why a call through the breaker did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerError<E> {
    /// The breaker is open: the call was not made.
    Open,
    /// The call was made and failed.
    Failed(E),
}

/// A circuit breaker for one downstream service.
#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self { policy }
    }

    /// The rules this breaker was built with.
    pub fn policy(&self) -> BreakerPolicy {
        self.policy
    }

    // ANCHOR: call
    /// Runs `call`, unless the breaker decides it must not be made.
    pub async fn call<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, BreakerError<E>> {
        call.await.map_err(BreakerError::Failed)
    }
    // ANCHOR_END: call
}
