//! What an order request carries, what it returns and how it can fail.
//!
//! Solution: the secrets (the card number, the email address) live in types
//! whose `Debug` hides them. The handler does not log them on purpose, but a
//! `?req` in a log line, a `#[derive(Debug)]` on a struct that holds one, or an
//! error that carries the request would print them anyway: a type that cannot
//! print its secret makes all of those safe at once. The last four digits of a
//! card stay visible, because they are what support asks a customer for, and
//! they cannot be used to pay.

use std::fmt;

/// One request to place an order, as the HTTP layer hands it to the handler.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    /// Set by the load balancer, different for every request: the key that
    /// ties together everything one request did.
    pub request_id: String,
    pub user_id: u64,
    pub card: CardNumber,
    pub lines: Vec<CartLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLine {
    pub sku: String,
    pub quantity: u32,
}

/// A payment card number, as the customer typed it: `"4242 4242 4242 4242"`.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

/// `CardNumber(**** 4242)`: enough to tell two cards apart, not to use one.
impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(**** {})", self.last_four())
    }
}

impl CardNumber {
    pub fn new(number: impl Into<String>) -> Self {
        Self(number.into())
    }

    /// The number as typed, for the payment gateway and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four digits: what a receipt or a support agent may show.
    pub fn last_four(&self) -> String {
        let digits: Vec<char> = self.0.chars().filter(char::is_ascii_digit).collect();
        digits[digits.len().saturating_sub(4)..].iter().collect()
    }
}

/// A customer, as the users service returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

/// Everything but the email address, which identifies a person outside this
/// system (the id identifies them inside it).
impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("email", &"<redacted>")
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderConfirmation {
    pub order_id: u64,
    pub total_cents: u64,
    pub charge_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderError {
    UnknownUser(u64),
    UnknownSku(String),
    /// The card issuer said no; the reason is the issuer's.
    PaymentDeclined(String),
    /// The payment gateway did not answer, even after a retry.
    PaymentUnavailable,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownUser(id) => write!(f, "user {id} does not exist"),
            Self::UnknownSku(sku) => write!(f, "no product has the SKU {sku:?}"),
            Self::PaymentDeclined(reason) => write!(f, "payment declined: {reason}"),
            Self::PaymentUnavailable => {
                write!(f, "the payment gateway did not answer, even after a retry")
            }
        }
    }
}

impl std::error::Error for OrderError {}
