//! Where the service's logs go and what they look like.
//!
//! The service's `main` installs this once at start-up, writing to stdout; the
//! checks and the `orders` example call it with an in-memory buffer instead, so
//! they can read back every line that was logged. Anything that implements
//! `MakeWriter` will do as the destination.
//!
//! Solution: tracing-subscriber's JSON format, one object per event and line.
//!
//! - `flatten_event(true)` puts the event's own fields at the top of the
//!   object, beside `level` and `timestamp`: a query asks for `total_cents`,
//!   not `fields.total_cents`.
//! - `with_current_span` and `with_span_list` are on by default; they are
//!   spelled out because the request id depends on them. Each line carries the
//!   fields of every span it was logged in: the request's `request_id` and
//!   `user_id`, the step it was in. That is how an event from the payments
//!   client, which knows nothing about requests, still names its request.
//! - The level is fixed at INFO here, so that what is logged does not depend
//!   on the environment a check runs in. A real `main` would put an
//!   `EnvFilter` in front, defaulting to INFO, to turn DEBUG on for one module
//!   while investigating.
//! - No ANSI colours: escape codes inside JSON strings are noise to a parser.

use tracing::{Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;

/// The service's log subscriber, writing JSON lines to `writer`.
pub fn log_subscriber<W>(writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(Level::INFO)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}
