//! A circuit breaker: stops calling a service that keeps failing, so that a
//! caller gets a fast answer instead of a slow failure, and the service gets
//! room to recover.
//!
//! Three states. **Closed**: calls go through; consecutive failures are
//! counted, and a success resets the count. **Open**: after
//! `failures_to_open` failures in a row, no call goes through until the
//! cool-down has passed; callers get `BreakerError::Open` at once (the fast
//! fallback: for the worker, "leave the email in the outbox"). **Half-open**:
//! after the cool-down, exactly one call, the probe, goes through; everyone
//! else is still refused until it answers. A successful probe closes the
//! breaker; a failed one opens it for another full cool-down.
//!
//! Decisions and trade-offs:
//! - The state is looked at and changed under a `std::sync::Mutex` that is
//!   never held across an `.await`, so two callers arriving at the instant the
//!   cool-down ends cannot both become the probe, and nobody waits on a lock
//!   while a call is in flight.
//! - A probe whose caller stops waiting (a timeout around the breaker, a task
//!   aborted) never reports back. A guard notices that on drop and counts it as
//!   a failed probe; without it the breaker would stay half-open, refusing
//!   every call, forever.
//! - The breaker only sees `Ok` or `Err`. What counts as the service failing is
//!   the caller's decision (the worker counts a rejected address as `Ok`: the
//!   provider is healthy, the email is not).
//! - Only consecutive failures are counted. Libraries usually use a failure
//!   *rate* over a sliding window with a minimum number of calls (resilience4j:
//!   50% of the last 100 calls), which copes better with a service that fails
//!   one call in three; for one worker calling one provider, a run of failures
//!   is a clear enough signal.

use std::future::Future;
use std::sync::Mutex;

use tokio::time::Instant;

use crate::policy::BreakerPolicy;

/// Why a call through the breaker did not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerError<E> {
    /// The breaker is open: the call was not made.
    Open,
    /// The call was made and failed.
    Failed(E),
}

#[derive(Clone, Copy, Debug)]
enum State {
    Closed {
        failures: u32,
    },
    /// Refusing calls until `until`; `None`: a cool-down too long to add to an
    /// `Instant` (`Duration::MAX`), which means for good.
    Open {
        until: Option<Instant>,
    },
    /// One probe is in flight.
    HalfOpen,
}

/// A circuit breaker for one downstream service.
#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// The rules this breaker was built with.
    pub fn policy(&self) -> BreakerPolicy {
        self.policy
    }

    /// Runs `call`, unless the breaker is open (then `call` is dropped unrun).
    pub async fn call<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, BreakerError<E>> {
        let probe = self.admit().ok_or(BreakerError::Open)?;
        let mut guard = ProbeGuard {
            breaker: self,
            armed: probe,
        };
        let result = call.await;
        guard.armed = false;
        self.record(probe, result.is_ok());
        result.map_err(BreakerError::Failed)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .expect("the breaker's lock is never poisoned")
    }

    /// `None`: refused. `Some(true)`: this call is the probe.
    fn admit(&self) -> Option<bool> {
        let mut state = self.state();
        match *state {
            State::Closed { .. } => Some(false),
            State::Open { until: Some(until) } if Instant::now() >= until => {
                *state = State::HalfOpen;
                Some(true)
            }
            State::Open { .. } | State::HalfOpen => None,
        }
    }

    fn record(&self, probe: bool, ok: bool) {
        let mut state = self.state();
        *state = match (*state, probe, ok) {
            (_, true, true) => State::Closed { failures: 0 },
            (_, true, false) => self.opened_now(),
            (State::Closed { .. }, false, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false, false) => {
                let failures = failures.saturating_add(1);
                if failures >= self.policy.failures_to_open {
                    self.opened_now()
                } else {
                    State::Closed { failures }
                }
            }
            // A call let through before the breaker opened, answering late:
            // the probe, not this old news, decides what happens next.
            (other, false, _) => other,
        };
    }

    fn opened_now(&self) -> State {
        State::Open {
            until: Instant::now().checked_add(self.policy.cool_down),
        }
    }
}

/// Reopens the breaker if a probe is dropped before it answers.
struct ProbeGuard<'a> {
    breaker: &'a Breaker,
    armed: bool,
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let opened = self.breaker.opened_now();
            *self.breaker.state() = opened;
        }
    }
}
