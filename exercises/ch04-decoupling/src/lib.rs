//! Chapter 4: decouple services.
//!
//! A signup writes the new user to SQLite and sends a welcome email through an
//! email provider across the network ([`email`]). The provider has outages, errors
//! and calls that never answer; today every signup waits for it, and fails or
//! stalls with it ([`service`]).
//!
//! The checks call exactly this public API (`cargo xtask check 4` runs them):
//! - [`Service::open`] with a database path, an [`EmailService`], a [`Policy`]
//!   and a source of random numbers in `[0, 1)` for jitter; then
//!   [`Service::signup`] and [`Service::run_worker`];
//! - [`Breaker::new`] with a [`BreakerPolicy`], and [`Breaker::call`], which
//!   answers `Err(BreakerError::Open)` or `Err(BreakerError::Failed(e))`;
//! - [`email::welcome_email`], the email a new user must receive;
//! - the `users` and `outbox` tables of [`db::open`]: the checks insert an old
//!   (version 1) event with `INSERT INTO outbox (payload) VALUES (?)`, and read
//!   `users` and `outbox` to see what a signup left behind, which rows were sent
//!   and which were set aside (the `set_aside` column `db.rs` describes).
//!
//! The checks run on tokio's paused clock and move it themselves: read time and
//! wait through `tokio::time` (`Instant::now`, `sleep`, `timeout`), never
//! `std::time::Instant` or `std::thread::sleep`, which that clock does not move.
//!
//! Keep those names and signatures. Everything else is yours to change: the
//! bodies, private helpers, new modules, new columns and tables (a column you add
//! needs a default, since old rows and the checks' insert do not set it). Leave
//! [`EmailService`] and [`EmailError`] as they are: they describe the provider,
//! which you do not control.

pub mod breaker;
pub mod db;
pub mod email;
pub mod events;
pub mod policy;
pub mod service;

pub use breaker::{Breaker, BreakerError};
pub use email::{Email, EmailError, EmailService};
pub use policy::{BreakerPolicy, Policy};
pub use service::{Service, SignupError, UserId};
