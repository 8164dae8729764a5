//! Product names for the SKUs that orders record.
//!
//! The merchandising team owns the product list and ships it as the `merch`
//! crate (in `vendor/merch`), with the products on sale and the archive of
//! retired ones. A SKU that neither of them knows is shown as it is.

/// The name a SKU is sold under: `"SKU-000"` becomes `"Walnut desk lamp"`; a
/// SKU the product list does not know comes back unchanged.
pub fn product_name(sku: &str) -> String {
    merch::name_of(sku).unwrap_or_else(|| sku.to_string())
}
