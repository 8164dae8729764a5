//! Watch a checkout: when each service is called, and what is left behind
//! when one of them fails.
//!
//! ```text
//! cargo run -p ch01-modular --example timeline
//! ```
//!
//! Runs `checkout` three times against the in-memory services, with the
//! chapter's latencies on tokio's real clock (charge 100 ms, stock 50 ms,
//! email 80 ms, analytics 60 ms):
//!
//! 1. a good day, every service up;
//! 2. the mail relay is down;
//! 3. the last pot sold a moment ago, so the stock runs out after the charge.
//!
//! For each it prints the calls with their start and end, what `checkout`
//! returned, and what the services hold afterwards: the money, the stock, the
//! emails and the sales.
//!
//! The services are wrapped in `Traced`, which times every call. It implements
//! the same traits as what it wraps, so `checkout` cannot tell the difference:
//! that is what a seam buys you.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch01_modular::analytics::InMemoryAnalytics;
use ch01_modular::inventory::InMemoryInventory;
use ch01_modular::mail::InMemoryMailer;
use ch01_modular::payments::InMemoryPayments;
use ch01_modular::{
    Analytics, AnalyticsError, Cart, Catalog, ChargeId, Email, Inventory, MailError,
    Mailer, PaymentError, Payments, SaleEvent, Shop, StockError, StockLine, checkout,
};
use tokio::time::{Instant, sleep};

const CHARGE: Duration = Duration::from_millis(100);
const STOCK: Duration = Duration::from_millis(50);
const EMAIL: Duration = Duration::from_millis(80);
const ANALYTICS: Duration = Duration::from_millis(60);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cart = Cart::new("ada@example.com", [("mug", 2), ("tea", 3), ("pot", 1)]);
    println!(
        "Checkout of 2 mugs, 3 teas and 1 pot ($83.50). Latencies: charge 100 ms, \
         stock 50 ms, email 80 ms, analytics 60 ms."
    );

    println!("\n1. A good day: every service is up.");
    scenario(&cart, Trouble::None).await;

    println!("\n2. The mail relay is down.");
    scenario(&cart, Trouble::MailDown).await;

    println!("\n3. The last pot sold a moment ago: no pot left in stock.");
    scenario(&cart, Trouble::NoPotLeft).await;
}

#[derive(Clone, Copy, PartialEq)]
enum Trouble {
    None,
    MailDown,
    NoPotLeft,
}

async fn scenario(cart: &Cart, trouble: Trouble) {
    let pots = if trouble == Trouble::NoPotLeft { 0 } else { 5 };
    let log = Log::default();
    let shop = Shop {
        catalog: Catalog::new([("mug", 1_200), ("tea", 850), ("pot", 3_400)]),
        payments: Traced::new(InMemoryPayments::new(CHARGE), &log),
        inventory: Traced::new(
            InMemoryInventory::new(STOCK, [("mug", 40), ("tea", 12), ("pot", pots)]),
            &log,
        ),
        mailer: Traced {
            down: trouble == Trouble::MailDown,
            ..Traced::new(InMemoryMailer::new(EMAIL), &log)
        },
        analytics: Traced::new(InMemoryAnalytics::new(ANALYTICS), &log),
    };

    log.start();
    let result = checkout(&shop, cart).await;
    let took = log.elapsed();

    for (name, start, end) in log.calls() {
        println!(
            "  {:>5} → {:>3} ms  {name}",
            start.as_millis(),
            end.as_millis()
        );
    }
    match &result {
        Ok(receipt) if receipt.follow_ups.is_empty() => {
            println!(
                "  checkout: Ok, {} in {} ms",
                receipt.charge,
                took.as_millis()
            )
        }
        Ok(receipt) => println!(
            "  checkout: Ok, {} in {} ms, to follow up: {:?}",
            receipt.charge,
            took.as_millis(),
            receipt.follow_ups
        ),
        Err(e) => println!("  checkout: Err after {} ms: {e}", took.as_millis()),
    }

    let charges: Vec<String> = shop
        .payments
        .inner
        .charges()
        .iter()
        .map(|c| {
            let state = if c.refunded { "refunded" } else { "kept" };
            format!(
                "{} ${}.{:02} {state}",
                c.id,
                c.amount_cents / 100,
                c.amount_cents % 100
            )
        })
        .collect();
    let money = if charges.is_empty() {
        "no charge".to_string()
    } else {
        charges.join(", ")
    };
    let stock = &shop.inventory.inner;
    println!(
        "  left behind: {money}; stock mug {} tea {} pot {}; emails {}; sales {}",
        stock.left("mug"),
        stock.left("tea"),
        stock.left("pot"),
        shop.mailer.inner.sent().len(),
        shop.analytics.inner.events().len(),
    );
}

/// A call to a service: its name, when it started and when it ended.
type Call = (&'static str, Duration, Duration);

/// When each call started and ended, from the moment the checkout began.
#[derive(Clone, Default)]
struct Log {
    began: Arc<Mutex<Option<Instant>>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Log {
    fn start(&self) {
        *self.began.lock().unwrap() = Some(Instant::now());
    }

    fn elapsed(&self) -> Duration {
        self.began.lock().unwrap().expect("started").elapsed()
    }

    /// The calls in the order they started.
    fn calls(&self) -> Vec<Call> {
        let mut calls = self.calls.lock().unwrap().clone();
        calls.sort_by_key(|&(_, start, _)| start);
        calls
    }

    async fn time<T>(&self, name: &'static str, call: impl Future<Output = T>) -> T {
        let start = self.elapsed();
        let out = call.await;
        let end = self.elapsed();
        self.calls.lock().unwrap().push((name, start, end));
        out
    }
}

/// A service, timed: every call is written to the log with its start and end.
/// `down` makes a mailer fail (the other services ignore it).
struct Traced<S> {
    inner: S,
    log: Log,
    down: bool,
}

impl<S> Traced<S> {
    fn new(inner: S, log: &Log) -> Self {
        Traced {
            inner,
            log: log.clone(),
            down: false,
        }
    }
}

impl<S: Payments + Sync> Payments for Traced<S> {
    async fn charge(
        &self,
        customer: &str,
        amount_cents: u64,
    ) -> Result<ChargeId, PaymentError> {
        let call = self.inner.charge(customer, amount_cents);
        self.log.time("payments.charge", call).await
    }

    async fn refund(&self, charge: &ChargeId) -> Result<(), PaymentError> {
        let call = self.inner.refund(charge);
        self.log.time("payments.refund", call).await
    }
}

impl<S: Inventory + Sync> Inventory for Traced<S> {
    async fn take(&self, lines: &[StockLine]) -> Result<(), StockError> {
        let call = self.inner.take(lines);
        self.log.time("inventory.take", call).await
    }
}

impl<S: Mailer + Sync> Mailer for Traced<S> {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        let call = async {
            if self.down {
                // A relay that is down makes you wait for the timeout first.
                sleep(EMAIL).await;
                Err(MailError {
                    reason: "the mail relay timed out".into(),
                })
            } else {
                self.inner.send(email).await
            }
        };
        self.log.time("mailer.send", call).await
    }
}

impl<S: Analytics + Sync> Analytics for Traced<S> {
    async fn record(&self, event: SaleEvent) -> Result<(), AnalyticsError> {
        let call = self.inner.record(event);
        self.log.time("analytics.record", call).await
    }
}
