//! The starter's approach, kept here so the bench can compare against it after
//! you have changed `src/`. It calls the services in the same order as the
//! starter's `process_order`, each waiting for the one before: charge, stock,
//! email, analytics.

use ch01_modular::{
    Analytics, Cart, ChargeId, Email, Inventory, Mailer, Payments, SaleEvent, Shop,
    StockLine,
};

pub async fn process_order<P, I, M, A>(
    shop: &Shop<P, I, M, A>,
    cart: &Cart,
) -> Result<ChargeId, String>
where
    P: Payments,
    I: Inventory,
    M: Mailer,
    A: Analytics,
{
    let mut total_cents = 0;
    let mut request = Vec::new();
    for line in &cart.lines {
        let price = shop.catalog.price_cents(&line.sku).ok_or("unknown SKU")?;
        total_cents += price * u64::from(line.quantity);
        request.push(StockLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
        });
    }
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let charge = shop
        .payments
        .charge(&cart.customer, total_cents)
        .await
        .map_err(|e| err(&e))?;
    shop.inventory.take(&request).await.map_err(|e| err(&e))?;
    let email = Email {
        to: cart.customer.clone(),
        subject: format!("Your order {charge} is confirmed"),
        body: format!(
            "Total charged: ${}.{:02}",
            total_cents / 100,
            total_cents % 100
        ),
    };
    shop.mailer.send(email).await.map_err(|e| err(&e))?;
    let items = cart.lines.iter().map(|l| l.quantity).sum();
    let event = SaleEvent {
        charge: charge.clone(),
        total_cents,
        items,
    };
    shop.analytics.record(event).await.map_err(|e| err(&e))?;
    Ok(charge)
}
