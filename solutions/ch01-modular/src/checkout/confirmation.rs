//! The confirmation email: what it says, and sending it.
//!
//! Two functions with one boundary between them: `confirmation_email` decides
//! the wording and is pure, so a change of template is tested without sending
//! anything; `send_confirmation` only hands the result to the mail service.
//! In the starter the wording was built inside the pricing loop, so touching
//! the email meant editing the code that computes what the customer pays.

use crate::cart::ValidCart;
use crate::mail::{Email, MailError, Mailer};
use crate::payments::ChargeId;

/// The email telling the customer their order is paid and on its way.
pub fn confirmation_email(order: &ValidCart, charge: &ChargeId) -> Email {
    let mut body = String::from("Thank you for your order!\n\n");
    for line in order.lines() {
        let amount = line.unit_price_cents * u64::from(line.quantity);
        body.push_str(&format!(
            "  {:>2} × {:<10} {}\n",
            line.quantity,
            line.sku,
            dollars(amount)
        ));
    }
    body.push_str(&format!(
        "\n  Total charged: {}\n",
        dollars(order.total_cents())
    ));
    Email {
        to: order.customer().to_string(),
        subject: format!("Your order {charge} is confirmed"),
        body,
    }
}

/// Sends the confirmation. Its failure is the caller's to judge: for
/// checkout, a missing email is a follow-up, not a reason to fail the order.
pub async fn send_confirmation(
    mailer: &impl Mailer,
    order: &ValidCart,
    charge: &ChargeId,
) -> Result<(), MailError> {
    mailer.send(confirmation_email(order, charge)).await
}

/// `8350` → `"$83.50"`.
fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}
