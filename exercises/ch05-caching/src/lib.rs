//! Chapter 5: cache strategically.
//!
//! A product catalogue answers "what does this product cost?" thousands of times
//! a second. The prices live in a store across the network ([`store`]): every call
//! takes milliseconds, and the store can only serve a few calls at once. The
//! catalogue ([`catalogue`]) keeps prices in memory so that most reads never
//! reach the store. Time comes from a [`clock`] passed in, so that tests can move
//! it by hand.
//!
//! The checks call exactly this public API: [`Catalogue::new`] with a
//! [`CacheConfig`], `price`, `update_price`, `stats` (and [`Stats::hit_ratio`]),
//! `len` and `is_empty`, over their own [`Store`] and [`Clock`] (the top of
//! `catalogue.rs` says what you may change). Run them with `cargo xtask check 5`.

pub mod catalogue;
pub mod clock;
pub mod store;

pub use catalogue::{CacheConfig, Catalogue, Stats};
pub use clock::{Clock, ManualClock, SystemClock};
pub use store::{Cents, Sku, SlowStore, Store};
