//! How the worker treats the email provider: how long it waits for one call,
//! how it spaces retries, how often it tries, and when it stops calling.
//!
//! The defaults below are decisions, each made against a number in `email.rs`.

use std::time::Duration;

/// The worker's rules for calling the email provider.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// How long one call may take before the worker gives up on it.
    pub timeout: Duration,
    /// The delay before the first retry of an event; each later retry doubles it.
    pub backoff_base: Duration,
    /// No delay between retries is longer than this.
    pub backoff_cap: Duration,
    /// The share of each delay that is random, from 0.0 (none) to 1.0 (the
    /// delay is anywhere between zero and its full length).
    pub jitter: f64,
    /// Calls per event, the first one included, before the event is set aside
    /// for a person to look at.
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

impl Default for Policy {
    fn default() -> Self {
        Self {
            // A healthy call answers within 2 s; waiting longer than that for
            // one that has not only holds the worker up. 5 s leaves room for a
            // slow network on our side without waiting minutes for a call that
            // will never answer. Too short, and healthy calls time out and are
            // sent again (harmless with the idempotency key, but wasteful).
            timeout: Duration::from_secs(5),
            // One second, then 2, 4, 8... up to a minute: a brief error is
            // retried quickly, a long one costs one call a minute per event at
            // most, and a recovered provider is back in use within a minute.
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(60),
            // Half of each delay random: retries of events that failed together
            // spread out instead of arriving together again (the thundering
            // herd), while every delay stays at least half its nominal length.
            jitter: 0.5,
            // While the breaker is open, a pending event is tried only when it
            // is picked as the probe, so attempts must outlast an outage, not a
            // few seconds of errors: at one probe a minute, a single pending
            // email survives about two hours of outage before a person has to
            // replay it. A poison email is still set aside after 120 calls.
            max_attempts: 120,
            breaker: BreakerPolicy {
                // Five failures in a row: one or two errors are ordinary noise,
                // five are an outage.
                failures_to_open: 5,
                // The status page asks for at most one call a minute during an
                // outage; an open breaker lets exactly one probe through per
                // cool-down, and recovery is noticed within a minute.
                cool_down: Duration::from_secs(60),
            },
        }
    }
}

impl Policy {
    /// The delay before retry number `retry` (0 for the first retry), with
    /// `random` in `[0, 1)`: within `[d·(1 − jitter), d]` where
    /// `d = min(base·2^retry, cap)`.
    ///
    /// Every step saturates instead of overflowing: after enough retries
    /// `2^retry` no longer fits any integer, and the cap is the answer anyway.
    pub fn backoff(&self, retry: u32, random: f64) -> Duration {
        let doubling = 2u32.saturating_pow(retry);
        let ceiling = self
            .backoff_base
            .saturating_mul(doubling)
            .min(self.backoff_cap);
        let share = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        // Multiplying by a float goes through f64, which a Duration near
        // `Duration::MAX` does not fit: fall back to the ceiling rather than panic.
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * (1.0 - share))
            .unwrap_or(ceiling)
            .min(ceiling)
    }
}
