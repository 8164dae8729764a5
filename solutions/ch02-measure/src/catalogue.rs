//! Product names for the SKUs that orders record.
//!
//! The merchandising team keeps the product list in `products.csv`, one
//! `sku,name` line per product, and the service ships with that file compiled
//! in. A product that has left the list (a discontinued SKU) is shown by its
//! SKU.
//!
//! Solution: the starter parsed the whole list into a fresh map for every
//! line item it named, hundreds of allocations to answer one lookup. Nothing
//! in the report's code said so (`product_name` reads like a lookup); the
//! profile did, once the round trips were gone and the report still spent
//! tens of milliseconds with a single statement. The map is now built once,
//! on first use, and kept for the life of the process. That is safe because
//! the list is compiled in and cannot change while the process runs; a list
//! read from a database or a file would need a way to refresh it (chapter 5).

use std::collections::HashMap;
use std::sync::LazyLock;

/// The product list as shipped: a header line, then `sku,name` lines.
const PRODUCTS_CSV: &str = include_str!("products.csv");

/// The parsed list, built the first time a name is asked for.
static PRODUCTS: LazyLock<HashMap<String, String>> = LazyLock::new(products);

/// The name a SKU is sold under: `"SKU-000"` becomes `"Walnut desk lamp"`; a
/// SKU missing from the list comes back unchanged.
pub fn product_name(sku: &str) -> String {
    match PRODUCTS.get(sku) {
        Some(name) => name.clone(),
        None => sku.to_string(),
    }
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
