//! Stock: the warehouse's interface, and a warehouse in memory.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// One line of a request to the warehouse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockLine {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockError {
    /// Not enough of one SKU left: nothing was taken.
    OutOfStock { sku: String, wanted: u32, left: u32 },
    /// The warehouse could not be reached.
    Unavailable,
}

impl fmt::Display for StockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StockError::OutOfStock { sku, wanted, left } => {
                write!(f, "{sku:?} is out of stock: wanted {wanted}, {left} left")
            }
            StockError::Unavailable => write!(f, "the warehouse is unavailable"),
        }
    }
}

impl std::error::Error for StockError {}

/// A warehouse. The call crosses the network.
pub trait Inventory {
    /// Takes every line out of stock, or none of them when any line is short.
    fn take(
        &self,
        lines: &[StockLine],
    ) -> impl Future<Output = Result<(), StockError>> + Send;
}

/// A warehouse that counts its stock in memory and waits `latency` on every
/// call, as a request across the network would.
#[derive(Debug)]
pub struct InMemoryInventory {
    latency: Duration,
    stock: Mutex<HashMap<String, u32>>,
}

impl InMemoryInventory {
    /// `InMemoryInventory::new(latency, [("mug", 40), ("tea", 12)])`
    pub fn new<'a>(
        latency: Duration,
        stock: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> Self {
        InMemoryInventory {
            latency,
            stock: Mutex::new(
                stock.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
            ),
        }
    }

    /// How many of `sku` are left.
    pub fn left(&self, sku: &str) -> u32 {
        self.stock.lock().unwrap().get(sku).copied().unwrap_or(0)
    }
}

impl Inventory for InMemoryInventory {
    async fn take(&self, lines: &[StockLine]) -> Result<(), StockError> {
        tokio::time::sleep(self.latency).await;
        let mut stock = self.stock.lock().unwrap();
        // Check every line before taking any, so that a short line takes
        // nothing. A SKU on several lines is wanted once, for all of them.
        let mut wanted: HashMap<&str, u32> = HashMap::new();
        for line in lines {
            let total = wanted.entry(line.sku.as_str()).or_default();
            *total = total.saturating_add(line.quantity);
            let left = stock.get(&line.sku).copied().unwrap_or(0);
            if left < *total {
                return Err(StockError::OutOfStock {
                    sku: line.sku.clone(),
                    wanted: *total,
                    left,
                });
            }
        }
        for (sku, total) in wanted {
            *stock.entry(sku.to_string()).or_default() -= total;
        }
        Ok(())
    }
}
