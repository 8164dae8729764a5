//! Where the catalogue gets the time from.
//!
//! Expiry is a rule about time ("a price may be served for 60 seconds after it
//! was read"), and rules about time are only testable when the test owns the
//! clock. The catalogue therefore never calls `Instant::now()` itself: it asks
//! the [`Clock`] it was given. Production code passes [`SystemClock`]; tests and
//! simulations pass a [`ManualClock`] and move it forward by exact amounts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until it is told to move.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Instant>,
}

impl ManualClock {
    pub fn new() -> Self {
        Self {
            now: Mutex::new(Instant::now()),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().expect("the clock's lock is never poisoned") += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.now.lock().expect("the clock's lock is never poisoned")
    }
}

/// A shared clock is a clock: keep an `Arc` to move it after handing it over.
impl<T: Clock> Clock for Arc<T> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}
