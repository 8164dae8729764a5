//! Stock: taking a paid order's items out of the warehouse.
//!
//! Translates the order into the warehouse's request. Quantity limits are not
//! checked here: they are a rule of the shop, and rules live in `validate`;
//! this step only speaks the warehouse's language.

use crate::cart::ValidCart;
use crate::inventory::{Inventory, StockError, StockLine};

/// Takes every line of the order out of stock in one request, all or nothing.
pub async fn take_stock(
    inventory: &impl Inventory,
    order: &ValidCart,
) -> Result<(), StockError> {
    let request: Vec<StockLine> = order
        .lines()
        .iter()
        .map(|line| StockLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
        })
        .collect();
    inventory.take(&request).await
}
