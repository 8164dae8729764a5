//! A circuit breaker: stops calling a service that keeps failing, so that a
//! caller gets a fast answer instead of a slow failure, and the service gets
//! room to recover.
//!
//! Release 1.4 put this wrapper around every call so that a breaker could go
//! here one day. Today it only passes calls through.
//!
//! What a breaker with a [`BreakerPolicy`] must do (the checks test each):
//! - closed: every call goes through; `failures_to_open` failures in a row
//!   open it (a success in between starts the count again);
//! - open: no call goes through, and each caller gets `Err(BreakerError::Open)`
//!   at once, until `cool_down` has passed (a cool-down too long to represent
//!   means "open for good");
//! - then exactly one call, the probe, goes through, and everyone else is
//!   refused at once while it is in flight. If it succeeds, the breaker is
//!   closed as a new one is; if it fails, it opens for another full cool-down;
//! - a probe whose caller stops waiting (its future is dropped) has not
//!   answered, so it says nothing about the service: the breaker must not close
//!   on it, and must not stay shut for good either.
//!
//! Keep `call`'s signature: the worker decides what it passes in.

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
