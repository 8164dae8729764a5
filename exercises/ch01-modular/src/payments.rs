//! Taking money: the payment provider's interface, and a provider in memory.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

/// The provider's reference for one charge, needed to refund it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChargeId(pub String);

impl fmt::Display for ChargeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentError {
    /// The card issuer said no: no money moved.
    Declined { reason: String },
    /// The provider could not be reached.
    Unavailable,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentError::Declined { reason } => write!(f, "card declined: {reason}"),
            PaymentError::Unavailable => {
                write!(f, "the payment provider is unavailable")
            }
        }
    }
}

impl std::error::Error for PaymentError {}

// ANCHOR: trait
/// A payment provider. Both calls cross the network.
pub trait Payments {
    /// Charges `amount_cents` to the card the customer keeps on file.
    fn charge(
        &self,
        customer: &str,
        amount_cents: u64,
    ) -> impl Future<Output = Result<ChargeId, PaymentError>> + Send;

    /// Gives back the whole of an earlier charge.
    fn refund(
        &self,
        charge: &ChargeId,
    ) -> impl Future<Output = Result<(), PaymentError>> + Send;
}
// ANCHOR_END: trait

/// One charge as the in-memory provider remembers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargeRecord {
    pub id: ChargeId,
    pub customer: String,
    pub amount_cents: u64,
    pub refunded: bool,
}

/// A provider that keeps its charges in memory and waits `latency` on every
/// call, as a request across the network would.
#[derive(Debug)]
pub struct InMemoryPayments {
    latency: Duration,
    charges: Mutex<Vec<ChargeRecord>>,
}

impl InMemoryPayments {
    pub fn new(latency: Duration) -> Self {
        InMemoryPayments {
            latency,
            charges: Mutex::new(Vec::new()),
        }
    }

    /// Every charge so far, oldest first.
    pub fn charges(&self) -> Vec<ChargeRecord> {
        self.charges.lock().unwrap().clone()
    }
}

impl Payments for InMemoryPayments {
    async fn charge(
        &self,
        customer: &str,
        amount_cents: u64,
    ) -> Result<ChargeId, PaymentError> {
        tokio::time::sleep(self.latency).await;
        let mut charges = self.charges.lock().unwrap();
        let id = ChargeId(format!("ch_{}", charges.len() + 1));
        charges.push(ChargeRecord {
            id: id.clone(),
            customer: customer.to_string(),
            amount_cents,
            refunded: false,
        });
        Ok(id)
    }

    async fn refund(&self, charge: &ChargeId) -> Result<(), PaymentError> {
        tokio::time::sleep(self.latency).await;
        let mut charges = self.charges.lock().unwrap();
        match charges.iter_mut().find(|c| &c.id == charge && !c.refunded) {
            Some(record) => {
                record.refunded = true;
                Ok(())
            }
            None => Err(PaymentError::Declined {
                reason: format!("no refundable charge {charge}"),
            }),
        }
    }
}
