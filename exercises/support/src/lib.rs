//! Tools the checks and benches of several chapters share.
//!
//! Only what more than one chapter needs lives here; everything about one habit
//! stays in that chapter's crate. The learner's code never depends on this crate:
//! it is a dev-dependency of the exercises, used by their checks and benches.
//!
//! - [`db`]: a SQLite connection that counts the statements it runs and can
//!   pretend to be across a network, adding a fixed round trip to each one.
//! - [`rng`]: a tiny seeded random generator whose sequence never changes, so
//!   seeded data is the same on every machine and every version of this course.
//! - [`shop`]: seeded customers, orders and line items, with the awkward cases
//!   (customers without orders, orders without items, ties) built in.
//! - [`telemetry`]: capturing and reading logs (JSON lines, a recording layer
//!   that sees every span and event at every level) and Prometheus' text
//!   exposition format.
//! - [`memory`]: a counting global allocator, to bound memory by a count.
//! - [`steps`]: a SQLite connection that records each statement's text and
//!   the virtual-machine steps it took, and reads query plans.

pub mod db;
pub mod memory;
pub mod rng;
pub mod shop;
pub mod steps;
pub mod telemetry;
