//! Prices: the catalogue's unit prices and the volume discount.
//!
//! Money is in whole cents (`u64`): no rounding surprises from floats.

/// Orders whose goods come to this much or more get the volume discount.
pub const DISCOUNT_FROM_CENTS: u64 = 10_000;

/// The volume discount, in percent of the goods' price.
pub const DISCOUNT_PERCENT: u64 = 10;

/// The unit price of a product, in cents; `None` for a product we do not sell.
pub fn unit_cents(sku: &str) -> Option<u64> {
    match sku {
        "mug" => Some(1_250),
        "tea" => Some(500),
        "kettle" => Some(4_000),
        _ => None,
    }
}

/// The price of `quantity` units at `unit` cents each, discount included.
pub fn goods_cents(unit: u64, quantity: u32) -> u64 {
    let subtotal = unit.saturating_mul(u64::from(quantity));
    if subtotal >= DISCOUNT_FROM_CENTS {
        // In u128, so that no quantity can overflow the product.
        let discount = u128::from(subtotal) * u128::from(DISCOUNT_PERCENT) / 100;
        subtotal - discount as u64
    } else {
        subtotal
    }
}
