//! Analytics: the analysts' event collector, and a collector in memory.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::payments::ChargeId;

/// One sale, as the analysts count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleEvent {
    pub charge: ChargeId,
    pub total_cents: u64,
    /// How many items the order holds, over all its lines.
    pub items: u32,
}

/// The collector did not accept the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnalyticsError {
    pub reason: String,
}

impl fmt::Display for AnalyticsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the sale was not recorded: {}", self.reason)
    }
}

impl std::error::Error for AnalyticsError {}

/// An event collector. The call crosses the network.
pub trait Analytics {
    fn record(
        &self,
        event: SaleEvent,
    ) -> impl Future<Output = Result<(), AnalyticsError>> + Send;
}

/// A collector that keeps its events in memory and waits `latency` on every
/// call, as a request across the network would.
#[derive(Debug)]
pub struct InMemoryAnalytics {
    latency: Duration,
    events: Mutex<Vec<SaleEvent>>,
}

impl InMemoryAnalytics {
    pub fn new(latency: Duration) -> Self {
        InMemoryAnalytics {
            latency,
            events: Mutex::new(Vec::new()),
        }
    }

    /// Every event recorded so far, oldest first.
    pub fn events(&self) -> Vec<SaleEvent> {
        self.events.lock().unwrap().clone()
    }
}

impl Analytics for InMemoryAnalytics {
    async fn record(&self, event: SaleEvent) -> Result<(), AnalyticsError> {
        tokio::time::sleep(self.latency).await;
        self.events.lock().unwrap().push(event);
        Ok(())
    }
}
