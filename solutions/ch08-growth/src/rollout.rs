//! Who sees a feature that is being rolled out.
//!
//! Each (feature, user) pair gets a fixed bucket from 0 to 9,999, and a
//! rollout at p% reaches the buckets below p × 100. That gives the three
//! properties a rollout needs:
//! - sticky: a user's bucket never changes, so their answer does not flicker
//!   between requests, instances or deploys;
//! - monotonic: raising p only adds buckets, so nobody who had the feature
//!   loses it;
//! - independent: the feature's name is hashed with the user, so each
//!   feature picks its own users instead of the same 10% getting every
//!   experiment.
//!
//! The bucket comes from SHA-256 (the `sha2` crate), whose output is fixed
//! by its specification (FIPS 180-4): the same in every process, on every
//! machine, in every release of Rust or of the crate. `std`'s `DefaultHasher`
//! promises none of that (its algorithm may change between releases) and
//! `RandomState` is seeded afresh in each process. A cryptographic hash is
//! more than this needs (a non-cryptographic one with fixed keys, such as
//! SipHash from `siphasher` or xxHash, would do, and is faster), but it was
//! already a dependency, and a rollout asks one hash per request: see the
//! bench (`cargo xtask bench 8`) for what it costs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A feature's rollout: the share of users who get it, and a kill switch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// From 0 (nobody) to 100 (everybody); more than 100 counts as 100.
    pub percent: u32,
    /// Off for everybody, whatever the percentage.
    pub killed: bool,
}

const BUCKETS: u64 = 10_000;

impl Rollout {
    /// Whether `user` gets `flag`.
    pub fn is_enabled_for(&self, flag: &str, user: &str) -> bool {
        if self.killed {
            return false;
        }
        let reached = u64::from(self.percent.min(100)) * (BUCKETS / 100);
        bucket(flag, user) < reached
    }
}

/// The pair's fixed place among `BUCKETS`. The flag's length goes first, so
/// that ("ab", "c") and ("a", "bc") are different inputs.
fn bucket(flag: &str, user: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update((flag.len() as u64).to_be_bytes())
        .chain_update(flag.as_bytes())
        .chain_update(user.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 2^64 is not a multiple of 10,000, so the low buckets are favoured by
    // about one part in 10^15: far below anything a rollout could notice.
    u64::from_be_bytes(first) % BUCKETS
}
