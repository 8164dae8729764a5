//! The merchandising team's product list: every SKU the shop sells, and the
//! name it is sold under.
//!
//! Merchandising owns this crate and publishes the list with each release of
//! the shop (`products.csv`, compiled in). When a product is withdrawn, its
//! line moves to the archive of retired products (`retired.csv`), so that old
//! orders can still show what was bought.
//!
//! ```
//! assert_eq!(merch::name_of("SKU-000").as_deref(), Some("Walnut desk lamp"));
//! assert_eq!(merch::name_of("SKU-153").as_deref(), Some("Steel coaster set"));
//! assert_eq!(merch::name_of("SKU-999"), None);
//! ```

use std::collections::HashMap;
use std::sync::LazyLock;

/// The list as published with this release: a header line, then `sku,name`.
const LISTED_CSV: &str = include_str!("products.csv");

/// Every product withdrawn since the shop opened, with the name it was last
/// sold under: a header line, then `sku,name`.
const RETIRED_CSV: &str = include_str!("retired.csv");

/// Products by SKU, each with the name it is (or was last) sold under.
#[derive(Clone, Debug, Default)]
pub struct ProductList {
    names: HashMap<String, String>,
}

impl ProductList {
    /// Reads `sku,name` lines after a header line.
    fn parse(csv: &str) -> ProductList {
        let names = csv
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(','))
            .map(|(sku, name)| (sku.trim().to_string(), name.trim().to_string()))
            .collect();
        ProductList { names }
    }

    /// The name `sku` is sold under in this list, if the list has it.
    pub fn name(&self, sku: &str) -> Option<&str> {
        self.names.get(sku).map(String::as_str)
    }

    /// How many products the list holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list holds no product.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every `(sku, name)` pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.names.iter().map(|(s, n)| (s.as_str(), n.as_str()))
    }
}

static LISTED: LazyLock<ProductList> = LazyLock::new(|| ProductList::parse(LISTED_CSV));

/// The products on sale in this release.
pub fn listed() -> &'static ProductList {
    &LISTED
}

/// The archive of retired products, read from the archive as shipped.
pub fn retired() -> ProductList {
    ProductList::parse(RETIRED_CSV)
}

/// The name `sku` is sold under, or was last sold under if it has been
/// retired; `None` for a SKU that neither the list nor the archive knows.
pub fn name_of(sku: &str) -> Option<String> {
    if let Some(name) = listed().name(sku) {
        return Some(name.to_string());
    }
    // Few orders name a retired product, so the archive is read only for
    // those, rather than kept in memory by every service that links this.
    retired().name(sku).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sku_is_both_on_sale_and_retired() {
        let retired = retired();
        assert!(listed().len() > 100 && retired.len() > 100);
        for (sku, _) in listed().iter() {
            assert_eq!(retired.name(sku), None, "{sku} is in both lists");
        }
    }
}
