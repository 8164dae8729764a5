//! Chapter 8: design for 10× growth.
//!
//! A small shop service (axum on tokio, SQLite) that works as one instance.
//! The plan is ten instances behind a round-robin load balancer, clients that
//! retry, ten times the users and a read replica. Your task: make it keep its
//! promises there. The chapter's page lists them; `cargo xtask check 8` tells
//! you which it breaks.
//!
//! What the checks call, and so must keep its name and signature:
//! - [`App::open`], [`App::router`] and [`Config`], and the HTTP routes listed
//!   in `App::router` with their JSON bodies;
//! - [`Rollout`] (its two fields) and [`Rollout::is_enabled_for`];
//! - everything in [`db`] and [`payments`], which are the simulated
//!   infrastructure: leave those two files alone;
//! - the binary (`src/main.rs`) and its flags, which the checks start twice.
//!
//! Everything else is yours to change: the session store and its trait, the
//! handlers, private helpers, new modules, new tables in the database.

pub mod app;
pub mod db;
pub mod payment;
pub mod payments;
pub mod profiles;
pub mod rollout;
pub mod sessions;

pub use app::{App, Config};
pub use rollout::Rollout;
