//! Where "now" comes from.
//!
//! The store asks a `Clock` for the time instead of reading the system clock
//! itself, so that tests can say exactly what time it is. Leave this file as it
//! is: the checks drive `ManualClock`.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub trait Clock {
    fn now_millis(&self) -> i64;
}

/// The real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that shows whatever it was last set to.
#[derive(Debug)]
pub struct ManualClock(Cell<i64>);

impl ManualClock {
    pub fn at(millis: i64) -> Self {
        Self(Cell::new(millis))
    }

    pub fn set(&self, millis: i64) {
        self.0.set(millis);
    }

    pub fn advance(&self, millis: i64) {
        self.0.set(self.0.get().saturating_add(millis));
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.get()
    }
}
