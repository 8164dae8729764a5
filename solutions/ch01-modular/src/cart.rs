//! The cart a customer submits, the catalog that prices it, and the rules a
//! cart must follow before anyone is charged.

use std::collections::HashMap;
use std::fmt;

/// The most of one item a single order may hold: the warehouse packs at most
/// ten of a kind in one parcel.
pub const MAX_QUANTITY: u32 = 10;

/// What the customer asked for, as the web page sent it: nothing here has
/// been checked yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cart {
    /// The customer's email address, where the confirmation goes.
    pub customer: String,
    pub lines: Vec<CartLine>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartLine {
    pub sku: String,
    pub quantity: u32,
}

impl Cart {
    /// `Cart::new("ada@example.com", [("mug", 2), ("tea", 1)])`
    pub fn new<'a>(
        customer: &str,
        lines: impl IntoIterator<Item = (&'a str, u32)>,
    ) -> Cart {
        Cart {
            customer: customer.to_string(),
            lines: lines
                .into_iter()
                .map(|(sku, quantity)| CartLine {
                    sku: sku.to_string(),
                    quantity,
                })
                .collect(),
        }
    }
}

/// The shop's prices, in cents, by SKU.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    prices: HashMap<String, u64>,
}

impl Catalog {
    /// `Catalog::new([("mug", 1_200), ("tea", 850)])`
    pub fn new<'a>(prices: impl IntoIterator<Item = (&'a str, u64)>) -> Catalog {
        Catalog {
            prices: prices
                .into_iter()
                .map(|(sku, cents)| (sku.to_string(), cents))
                .collect(),
        }
    }

    pub fn price_cents(&self, sku: &str) -> Option<u64> {
        self.prices.get(sku).copied()
    }
}

/// A cart that passed [`validate`], each line with its price. Its fields are
/// private, so the only way to get one is through `validate`: a function that
/// takes a `&ValidCart` never has to check the cart again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidCart {
    customer: String,
    lines: Vec<PricedLine>,
    total_cents: u64,
}

impl ValidCart {
    pub fn customer(&self) -> &str {
        &self.customer
    }

    pub fn lines(&self) -> &[PricedLine] {
        &self.lines
    }

    /// What the customer pays: the sum of every line's quantity × unit price.
    pub fn total_cents(&self) -> u64 {
        self.total_cents
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedLine {
    pub sku: String,
    pub quantity: u32,
    pub unit_price_cents: u64,
}

/// Why a cart cannot become an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationError {
    /// The cart has no lines.
    EmptyCart,
    /// A line names a SKU the catalog does not sell.
    UnknownSku { sku: String },
    /// A line asks for zero items, or more than [`MAX_QUANTITY`].
    BadQuantity { sku: String, quantity: u32 },
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationError::EmptyCart => write!(f, "the cart is empty"),
            ValidationError::UnknownSku { sku } => {
                write!(f, "{sku:?} is not in the catalog")
            }
            ValidationError::BadQuantity { sku, quantity } => write!(
                f,
                "{quantity} × {sku:?}: a line holds 1 to {MAX_QUANTITY} items"
            ),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Checks a cart against the catalog and prices every line.
///
/// This is the one home of the rules a cart must follow. The cart page calls
/// it while the customer shops, and `checkout` calls it before anything else,
/// so a rule added here holds everywhere at once. (In the starter the quantity
/// rule lived inside `process_order`, after the charge, and the cart page never
/// saw it: two copies of the rules had already drifted apart.)
///
/// It is a pure function: no service, no clock, no I/O. That is the boundary
/// worth drawing first, because everything inside it is decided before any
/// money moves, and it can be tested with nothing but a cart and a catalog.
/// It stops at the first problem, in line order, which is what the page shows.
pub fn validate(cart: &Cart, catalog: &Catalog) -> Result<ValidCart, ValidationError> {
    if cart.lines.is_empty() {
        return Err(ValidationError::EmptyCart);
    }
    let mut lines = Vec::with_capacity(cart.lines.len());
    for line in &cart.lines {
        let unit_price_cents = catalog.price_cents(&line.sku).ok_or_else(|| {
            ValidationError::UnknownSku {
                sku: line.sku.clone(),
            }
        })?;
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(ValidationError::BadQuantity {
                sku: line.sku.clone(),
                quantity: line.quantity,
            });
        }
        lines.push(PricedLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_cents,
        });
    }
    let total_cents = lines
        .iter()
        .map(|l| l.unit_price_cents * u64::from(l.quantity))
        .sum();
    Ok(ValidCart {
        customer: cart.customer.clone(),
        lines,
        total_cents,
    })
}
