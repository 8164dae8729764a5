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
//!   and `save`, inside the request's span.
//! - A placed order is one INFO event with the message `order placed` and the
//!   fields `order_id`, `total_cents` and `duration_ms`, all numbers.
//! - Levels mean something: INFO when things went as planned, WARN when
//!   something went wrong and was recovered, ERROR when the request failed,
//!   with its cause, once.
//! - No card number and no email address in any output.
//! - Metrics (`src/metrics.rs`): requests, errors and the latency distribution
//!   (p50, p95, p99), exposed in Prometheus' text format.
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
