//! Placing an order: validate, price, quote shipping, store.
//!
//! The shipping partner is allowed to fail: an order never waits longer than
//! `shipping_timeout` for it, and when it has no price (an error, or no
//! answer in time) the order ships at the flat `FALLBACK_SHIPPING_CENTS`.

use std::sync::Arc;
use std::time::Duration;

use crate::pricing;
use crate::repo::{Order, Orders, StoreError};
use crate::shipping::Shipping;

/// The most items one order may hold.
pub const MAX_QUANTITY: u32 = 1_000;

/// What shipping costs when the partner gives no price.
pub const FALLBACK_SHIPPING_CENTS: u64 = 990;

/// How long an order waits for the partner's quote by default.
pub const SHIPPING_TIMEOUT: Duration = Duration::from_millis(300);

/// Why an order was refused.
#[derive(Debug)]
pub enum OrderError {
    /// Zero items, or more than `MAX_QUANTITY`.
    InvalidQuantity(u32),
    /// A product we do not sell.
    UnknownProduct(String),
    /// The order could not be stored.
    Store(StoreError),
}

impl From<StoreError> for OrderError {
    fn from(e: StoreError) -> Self {
        OrderError::Store(e)
    }
}

pub struct OrderService {
    orders: Arc<dyn Orders>,
    shipping: Arc<dyn Shipping>,
    shipping_timeout: Duration,
}

impl OrderService {
    pub fn new(
        orders: Arc<dyn Orders>,
        shipping: Arc<dyn Shipping>,
        shipping_timeout: Duration,
    ) -> Self {
        Self {
            orders,
            shipping,
            shipping_timeout,
        }
    }

    /// Places an order: the stored order, with its total (goods + shipping).
    pub async fn place(
        &self,
        customer: &str,
        sku: &str,
        quantity: u32,
    ) -> Result<Order, OrderError> {
        if quantity == 0 || quantity > MAX_QUANTITY {
            return Err(OrderError::InvalidQuantity(quantity));
        }
        let unit = pricing::unit_cents(sku)
            .ok_or_else(|| OrderError::UnknownProduct(sku.to_string()))?;
        let goods = pricing::goods_cents(unit, quantity);
        let total = goods + self.shipping(sku, quantity).await;
        let id = self.orders.insert(customer, sku, quantity, total)?;
        Ok(Order {
            id,
            customer: customer.to_string(),
            sku: sku.to_string(),
            quantity,
            total_cents: total,
            cancelled: false,
        })
    }

    /// The customer's open orders.
    pub fn open_orders_of(&self, customer: &str) -> Result<Vec<Order>, OrderError> {
        Ok(self.orders.open_orders_of(customer)?)
    }

    /// Cancels an order; false when there is no such order.
    pub fn cancel(&self, id: i64) -> Result<bool, OrderError> {
        Ok(self.orders.cancel(id)?)
    }

    // ANCHOR: fallback
    /// The partner's shipping price, or the fallback when it has none in time.
    async fn shipping(&self, sku: &str, quantity: u32) -> u64 {
        let quote = self.shipping.quote(sku, quantity);
        match tokio::time::timeout(self.shipping_timeout, quote).await {
            Ok(Ok(cents)) => cents,
            // The partner answered, but with an error.
            Ok(Err(_)) => FALLBACK_SHIPPING_CENTS,
            // No answer in time: stop waiting.
            Err(_elapsed) => FALLBACK_SHIPPING_CENTS,
        }
    }
    // ANCHOR_END: fallback
}
