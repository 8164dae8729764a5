//! Chapter 6: observability from day one.
//!
//! An order service: `place_order` loads the user, prices the cart, charges the
//! card and saves the order, calling four services that live across a network
//! (simulated in `deps.rs`, with their delays). It works. When it is slow or
//! failing in production, though, nobody can say which request, which step or
//! how often: it logs sentences and measures nothing.
//!
//! What the operations team asked for (the checks verify each point):
//!
//! - Logs are JSON, one object per line (`src/telemetry.rs`).
//! - Every event logged while handling a request carries that request's
//!   `request_id` and `user_id`, including events from code you call (the
//!   payments client logs its own) and when requests run concurrently.
//! - Each step runs in its own span, named `load_user`, `price_cart`, `charge`
//!   and `save`, inside the request's span, and the span lasts as long as the
//!   step's work.
//! - A placed order is one INFO event with the message `order placed` and the
//!   fields `order_id`, `total_cents` and `duration_ms`, all numbers.
//! - A request that fails is logged once, where its outcome is known, with
//!   the cause in a field named `error` (the message stays the same for every
//!   failure of a kind). Levels mean something: an ERROR pages whoever is on
//!   call tonight, and the error rate on the dashboard is what the alerts
//!   watch. Decide which failures deserve that.
//! - No card number and no email address in any output, at any level.
//! - Metrics (`src/metrics.rs`): requests, errors and the latency distribution
//!   (p50, p95, p99), exposed in Prometheus' text format.
//!
//! The contract with the checks. They call, and so you keep as they are:
//! `place_order(&Deps, OrderRequest)`, `log_subscriber(writer)`,
//! `Metrics::{new, record, snapshot, render_prometheus}`, `Outcome`,
//! `MetricsSnapshot`'s fields, `CardNumber::{new, expose, last_four}` and the
//! public types of `model.rs` and `deps.rs` with their fields. Everything else
//! is yours to change: the bodies of those functions, private helpers, new
//! private fields and modules, the `Debug` and `Display` of the types, which
//! derives they have. Leave `deps.rs` as it is (it stands for services you do
//! not own).
//!
//! See it for yourself:
//!
//! ```text
//! cargo run -p ch06-observability --example orders
//! ```

pub mod deps;
pub mod handler;
pub mod metrics;
pub mod model;
pub mod telemetry;

pub use deps::{Deps, Latency};
pub use handler::place_order;
pub use metrics::{Metrics, MetricsSnapshot, Outcome};
pub use model::{
    CardNumber, CartLine, OrderConfirmation, OrderError, OrderRequest, User,
};
pub use telemetry::log_subscriber;
