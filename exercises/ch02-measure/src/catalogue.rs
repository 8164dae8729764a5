//! Product names for the SKUs that orders record.
//!
//! The merchandising team keeps the product list in `products.csv`, one
//! `sku,name` line per product, and the service ships with that file compiled
//! in. A product that has left the list (a discontinued SKU) is shown by its
//! SKU.

use std::collections::HashMap;

/// The product list as shipped: a header line, then `sku,name` lines.
const PRODUCTS_CSV: &str = include_str!("products.csv");

/// The name a SKU is sold under: `"SKU-000"` becomes `"Walnut desk lamp"`; a
/// SKU missing from the list comes back unchanged.
pub fn product_name(sku: &str) -> String {
    match products().get(sku) {
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
