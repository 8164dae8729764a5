//! Product names for the SKUs that orders record.
//!
//! The merchandising team owns the product list and ships it as the `merch`
//! crate (in `vendor/merch`), with the products on sale and the archive of
//! retired ones. A SKU that neither of them knows is shown as it is.
//!
//! Solution: the starter asked `merch::name_of` for every item. That answers
//! a product on sale from a list kept in memory, and reads the whole archive
//! of retired products (some 600 lines, parsed into a fresh map) to answer any
//! other SKU, on the stated belief that few orders name one. Reading the code
//! cannot say how often that path runs; the data does, and in this shop it is
//! one item in four (a report covers every order ever placed, and years of
//! orders name products withdrawn since). In a shop where half the items name
//! a retired product, each under a SKU of its own (the checks measure one),
//! no cache of names helps: most SKUs come up once. A span around naming the
//! items, or the profile once the round trips were gone, showed it. The
//! archive is now read once, on first use, and kept for the life of the
//! process: it is compiled in and cannot change while the process runs (an
//! archive read from a database or a file would need a way to refresh it,
//! chapter 5), and it costs some tens of kilobytes.

use std::sync::LazyLock;

use merch::ProductList;

/// The archive of retired products, read the first time a SKU not on sale is
/// named.
static RETIRED: LazyLock<ProductList> = LazyLock::new(merch::retired);

/// The name a SKU is sold under: `"SKU-000"` becomes `"Walnut desk lamp"`; a
/// SKU the product list does not know comes back unchanged.
pub fn product_name(sku: &str) -> String {
    merch::listed()
        .name(sku)
        .or_else(|| RETIRED.name(sku))
        .unwrap_or(sku)
        .to_string()
}
