//! Product names for the SKUs that orders record.
//!
//! The merchandising team keeps the product list in `products.csv`, one
//! `sku,name` line per product, and the service ships with that file compiled
//! in. A product that has left the list (a discontinued SKU) is shown by its
//! SKU.
//!
//! Solution: the starter kept the 64 names used last in a cache, and a SKU
//! not in it sent the lookup to `products()`, which parses the whole list into
//! a fresh map, hundreds of allocations to answer one lookup. Reading the code
//! says "cached"; how often the cache answers depends on the data, and on this
//! shop's data it mostly does not: orders name some 200 products in no
//! particular order, so a cache of 64 recent names misses about two lookups in
//! three. In a shop with years of orders, where many items name products that
//! have left the list, most SKUs come up once or twice, and no cache size
//! helps (the checks measure such a shop). A count of hits and misses, or the
//! profile once the round trips were gone, showed it. The map is now built once, on
//! first use, and kept for the life of the process: a missing SKU is then one
//! more lookup in it, not a reason to rebuild it. That is safe because the
//! list is compiled in and cannot change while the process runs; a list read
//! from a database or a file would need a way to refresh it (chapter 5).

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
