//! How the worker treats the email provider: how long it waits for one call,
//! how it spaces retries, how often it tries, and when it stops calling.
//!
//! The checks set every field themselves to test the mechanism, and also run
//! your [`Default`] values against what `email.rs` says the provider promises and
//! asks. Choosing those values is part of the exercise.

use std::time::Duration;

/// The worker's rules for calling the email provider.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// How long one call may take before the worker gives up on it.
    pub timeout: Duration,
    /// The delay before the first retry of an event; each later retry doubles it.
    /// Delays are counted from the end of the failed call to the start of the
    /// next call for the same event: the delay before retry `k` (0 for the first
    /// retry) lies within `[d·(1 − jitter), d]`, where
    /// `d = min(backoff_base·2^k, backoff_cap)`.
    pub backoff_base: Duration,
    /// No delay between retries is longer than this.
    pub backoff_cap: Duration,
    /// The share of each delay that is random, from 0.0 (none) to 1.0 (the
    /// delay is anywhere between zero and its full length).
    pub jitter: f64,
    /// Calls per event, the first one included, before the event is set aside
    /// for a person to look at (see `db.rs`). Every call the provider received
    /// counts, whatever it answered and even if the worker stopped waiting for
    /// the answer; a call the breaker refused was never made and does not count.
    /// This is a limit per event; no budget across events is asked of you (across
    /// events, the breaker is what stops the calls).
    pub max_attempts: u32,
    /// When the worker stops calling a provider that keeps failing.
    pub breaker: BreakerPolicy,
}

/// When a [`crate::Breaker`] opens, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures in a row that open the breaker.
    pub failures_to_open: u32,
    /// How long it stays open before it lets one call through to test the water.
    pub cool_down: Duration,
}

// ANCHOR: default
impl Default for Policy {
    /// Release 1.4's behaviour: wait as long as it takes, retry at once, never
    /// give up, never stop calling. TODO: choose each value, with `email.rs` open.
    fn default() -> Self {
        Self {
            timeout: Duration::MAX,
            backoff_base: Duration::ZERO,
            backoff_cap: Duration::ZERO,
            jitter: 0.0,
            max_attempts: u32::MAX,
            breaker: BreakerPolicy {
                failures_to_open: u32::MAX,
                cool_down: Duration::ZERO,
            },
        }
    }
}
// ANCHOR_END: default
