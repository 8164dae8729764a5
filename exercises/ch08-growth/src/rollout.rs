//! Who sees a feature that is being rolled out.

use serde::{Deserialize, Serialize};

/// A feature's rollout: the share of users who get it, and a kill switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// From 0 (nobody) to 100 (everybody).
    pub percent: u32,
    /// Off for everybody, whatever the percentage.
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
