//! Where the service's logs go and what they look like.
//!
//! The service's `main` installs this once at start-up, writing to stdout; the
//! checks and the `orders` example call it with an in-memory buffer instead, so
//! they can read back every line that was logged. Anything that implements
//! `MakeWriter` will do as the destination.
//!
//! Today the lines are text for people: a time, a level, a sentence. The
//! operations team's log pipeline reads one JSON object per line and can only
//! search, count and chart what arrives as JSON fields.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;

/// The service's log subscriber, writing to `writer`.
pub fn log_subscriber<W>(writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .finish()
}
