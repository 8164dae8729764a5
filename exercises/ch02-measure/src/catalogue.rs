//! Product names for the SKUs that orders record.
//!
//! The merchandising team keeps the product list in `products.csv`, one
//! `sku,name` line per product, and the service ships with that file compiled
//! in. A product that has left the list (a discontinued SKU) is shown by its
//! SKU.
//!
//! Names are memoized: the most recently used ones stay in a cache, and only a
//! SKU that is not there is looked up in the list. The cache is bounded, so a
//! service that runs for months does not grow it without limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The product list as shipped: a header line, then `sku,name` lines.
const PRODUCTS_CSV: &str = include_str!("products.csv");

/// How many names the cache keeps.
const CACHE_CAPACITY: usize = 64;

/// `(sku, name)` pairs, the most recently used last.
static RECENT: Mutex<VecDeque<(String, String)>> = Mutex::new(VecDeque::new());

/// The name a SKU is sold under: `"SKU-000"` becomes `"Walnut desk lamp"`; a
/// SKU missing from the list comes back unchanged.
pub fn product_name(sku: &str) -> String {
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(i) = recent.iter().position(|(s, _)| s == sku) {
        // Move it to the back: used just now.
        let entry = recent.remove(i).expect("found above");
        let name = entry.1.clone();
        recent.push_back(entry);
        return name;
    }
    let name = products().remove(sku).unwrap_or_else(|| sku.to_string());
    if recent.len() == CACHE_CAPACITY {
        recent.pop_front();
    }
    recent.push_back((sku.to_string(), name.clone()));
    name
}

/// Every listed product's name, by SKU.
pub fn products() -> HashMap<String, String> {
    PRODUCTS_CSV
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(','))
        .map(|(sku, name)| (sku.trim().to_string(), name.trim().to_string()))
        .collect()
}
