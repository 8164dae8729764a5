//! The checks for chapter 1. `cargo xtask check 1` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every check that involves a service runs on tokio's paused clock: a fake
//! service "takes" 100 ms by sleeping, and the runtime jumps straight to the
//! moment the sleep ends. So a checkout costs no real time, and the time it
//! reports is exact: 230 ms means 230 ms on every machine.
//!
//! The fakes below stand in for the four services. Each records what it was
//! asked and when, so a failing check can show the whole timeline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch01_modular::{
    Analytics, AnalyticsError, Cart, Catalog, ChargeId, CheckoutError, Email, FollowUp,
    Inventory, MailError, Mailer, PaymentError, Payments, PricedLine, Receipt,
    SaleEvent, Shop, StockError, StockLine, ValidationError, checkout, validate,
};
use tokio::time::{Instant, sleep};

const WHERE_VALIDATE: &str = "validate in exercises/ch01-modular/src/cart.rs";
const WHERE_CHECKOUT: &str = "checkout in exercises/ch01-modular/src/checkout.rs";

// The chapter's latencies: charge 100 ms, stock 50 ms, email 80 ms, analytics
// 60 ms. One after the other they add up to 290 ms; with email and analytics
// running together, to 100 + 50 + 80 = 230 ms.
const CHARGE_MS: u64 = 100;
const STOCK_MS: u64 = 50;
const EMAIL_MS: u64 = 80;
const ANALYTICS_MS: u64 = 60;

const CUSTOMER: &str = "ada@example.com";

fn catalog() -> Catalog {
    Catalog::new([("mug", 1_200), ("tea", 850), ("pot", 3_400)])
}

/// 2 mugs ($24.00) + 3 teas ($25.50) + 1 pot ($34.00) = $83.50, 6 items.
fn good_cart() -> Cart {
    Cart::new(CUSTOMER, [("mug", 2), ("tea", 3), ("pot", 1)])
}
const GOOD_TOTAL: u64 = 8_350;

// ---------------------------------------------------------------------------
// The fakes

/// Everything the fake services were asked, shared by all four of them.
#[derive(Default)]
struct Seen {
    /// Each call: which service, when it started and ended (ms since the
    /// checkout began; no end if it never finished).
    calls: Vec<(&'static str, u64, Option<u64>)>,
    charges: Vec<(String, u64)>,
    refunds: Vec<ChargeId>,
    takes: Vec<Vec<StockLine>>,
    emails: Vec<Email>,
    sales: Vec<SaleEvent>,
}

#[derive(Clone)]
struct Journal {
    began: Instant,
    seen: Arc<Mutex<Seen>>,
}

impl Journal {
    fn new() -> Self {
        Journal {
            began: Instant::now(),
            seen: Arc::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.began.elapsed().as_millis() as u64
    }

    /// Records the start of a call, waits its latency, records its end.
    async fn call(&self, service: &'static str, latency_ms: u64) {
        let i = {
            let mut seen = self.seen.lock().unwrap();
            seen.calls.push((service, self.now_ms(), None));
            seen.calls.len() - 1
        };
        sleep(Duration::from_millis(latency_ms)).await;
        self.seen.lock().unwrap().calls[i].2 = Some(self.now_ms());
    }

    fn with<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.seen.lock().unwrap())
    }

    fn count(&self, service: &str) -> usize {
        self.with(|s| s.calls.iter().filter(|c| c.0 == service).count())
    }

    /// The calls, one a line: `    100 → 150 ms inventory.take`. (The runner keeps
    /// a line's leading spaces and folds the others, so only those align.)
    fn timeline(&self) -> String {
        self.with(|s| {
            if s.calls.is_empty() {
                return "  (no service was called)".to_string();
            }
            s.calls
                .iter()
                .map(|(service, start, end)| match end {
                    Some(end) => format!("{start:>7} → {end} ms {service}"),
                    None => {
                        format!("  {start:>5} → ….. ms  {service} (never finished)")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    /// When `service` first started and ended, if it was called.
    fn span(&self, service: &str) -> Option<(u64, Option<u64>)> {
        self.with(|s| s.calls.iter().find(|c| c.0 == service).map(|c| (c.1, c.2)))
    }
}

/// How each fake behaves in one check.
#[derive(Clone, Copy, Default)]
struct Script {
    decline: bool,
    out_of_stock: bool,
    mail_down: bool,
    analytics_down: bool,
}

struct FakePayments(Journal, Script);
struct FakeInventory(Journal, Script);
struct FakeMailer(Journal, Script);
struct FakeAnalytics(Journal, Script);

impl Payments for FakePayments {
    async fn charge(
        &self,
        customer: &str,
        amount_cents: u64,
    ) -> Result<ChargeId, PaymentError> {
        self.0.call("payments.charge", CHARGE_MS).await;
        if self.1.decline {
            return Err(PaymentError::Declined {
                reason: "insufficient funds".into(),
            });
        }
        let mut seen = self.0.seen.lock().unwrap();
        seen.charges.push((customer.to_string(), amount_cents));
        Ok(ChargeId(format!("ch_{}", seen.charges.len())))
    }

    async fn refund(&self, charge: &ChargeId) -> Result<(), PaymentError> {
        self.0.call("payments.refund", CHARGE_MS).await;
        self.0.seen.lock().unwrap().refunds.push(charge.clone());
        Ok(())
    }
}

impl Inventory for FakeInventory {
    async fn take(&self, lines: &[StockLine]) -> Result<(), StockError> {
        self.0.call("inventory.take", STOCK_MS).await;
        if self.1.out_of_stock {
            return Err(StockError::OutOfStock {
                sku: "pot".into(),
                wanted: 1,
                left: 0,
            });
        }
        self.0.seen.lock().unwrap().takes.push(lines.to_vec());
        Ok(())
    }
}

// ANCHOR: fake_mailer
impl Mailer for FakeMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        self.0.call("mailer.send", EMAIL_MS).await;
        if self.1.mail_down {
            return Err(mail_outage());
        }
        self.0.seen.lock().unwrap().emails.push(email);
        Ok(())
    }
}
// ANCHOR_END: fake_mailer

impl Analytics for FakeAnalytics {
    async fn record(&self, event: SaleEvent) -> Result<(), AnalyticsError> {
        self.0.call("analytics.record", ANALYTICS_MS).await;
        if self.1.analytics_down {
            return Err(analytics_outage());
        }
        self.0.seen.lock().unwrap().sales.push(event);
        Ok(())
    }
}

fn mail_outage() -> MailError {
    MailError {
        reason: "the mail relay timed out".into(),
    }
}

fn analytics_outage() -> AnalyticsError {
    AnalyticsError {
        reason: "the collector answered 503".into(),
    }
}

type FakeShop = Shop<FakePayments, FakeInventory, FakeMailer, FakeAnalytics>;

/// A shop whose services are the fakes above, and the journal they write to.
/// Call it right before `checkout`: the journal's clock starts here.
fn shop(script: Script) -> (FakeShop, Journal) {
    let journal = Journal::new();
    let shop = Shop {
        catalog: catalog(),
        payments: FakePayments(journal.clone(), script),
        inventory: FakeInventory(journal.clone(), script),
        mailer: FakeMailer(journal.clone(), script),
        analytics: FakeAnalytics(journal.clone(), script),
    };
    (shop, journal)
}

/// Runs one checkout of `cart` against fakes that follow `script`.
async fn run(script: Script, cart: &Cart) -> (Result<Receipt, CheckoutError>, Journal) {
    let (shop, journal) = shop(script);
    let result = checkout(&shop, cart).await;
    (result, journal)
}

// ---------------------------------------------------------------------------
// Validation, alone: a pure function, no service involved.

#[test]
fn validate_prices_every_line_from_the_catalog() {
    let order = validate(&good_cart(), &catalog()).unwrap_or_else(|e| {
        panic!(
            "validate rejected a good cart (2 mugs, 3 teas, 1 pot) with {e:?}. \
             Look at {WHERE_VALIDATE}."
        )
    });
    let line = |sku: &str, quantity, unit_price_cents| PricedLine {
        sku: sku.into(),
        quantity,
        unit_price_cents,
    };
    let want = [
        line("mug", 2, 1_200),
        line("tea", 3, 850),
        line("pot", 1, 3_400),
    ];
    assert!(
        order.lines() == want,
        "validate should keep the cart's lines in order, each with its catalog \
         price: expected {want:?}, saw {:?}. Look at {WHERE_VALIDATE}.",
        order.lines()
    );
    assert!(
        (order.customer(), order.total_cents()) == (CUSTOMER, GOOD_TOTAL),
        "validate should keep the customer, {CUSTOMER}, and total the lines \
         (quantity × unit price) to {GOOD_TOTAL} cents; saw {:?} and {} cents. Look at \
         {WHERE_VALIDATE}.",
        order.customer(),
        order.total_cents()
    );
}

#[test]
fn validate_rejects_an_empty_cart() {
    let got = validate(&Cart::new(CUSTOMER, []), &catalog());
    assert!(
        got == Err(ValidationError::EmptyCart),
        "expected Err(ValidationError::EmptyCart) for a cart without lines, saw \
         {got:?}. Look at {WHERE_VALIDATE}."
    );
}

#[test]
fn validate_rejects_a_sku_missing_from_the_catalog() {
    let got = validate(
        &Cart::new(CUSTOMER, [("mug", 1), ("kettle", 1)]),
        &catalog(),
    );
    let want = Err(ValidationError::UnknownSku {
        sku: "kettle".into(),
    });
    assert!(
        got == want,
        "the catalog does not sell \"kettle\": expected \
         Err(ValidationError::UnknownSku {{ sku: \"kettle\" }}), saw {got:?}. \
         Look at {WHERE_VALIDATE}."
    );
}

#[test]
fn validate_rejects_quantities_outside_one_to_ten() {
    for quantity in [0, 11, 500] {
        let got = validate(
            &Cart::new(CUSTOMER, [("mug", 1), ("tea", quantity)]),
            &catalog(),
        );
        let want = Err(ValidationError::BadQuantity {
            sku: "tea".into(),
            quantity,
        });
        assert!(
            got == want,
            "a cart with {quantity} × \"tea\": expected Err(ValidationError::BadQuantity \
             {{ sku: \"tea\", quantity: {quantity} }}), saw {}.\n\
             In the starter this rule (1 to MAX_QUANTITY items a line) lives only \
             inside process_order, which applies it after charging the card. Give each \
             rule one home that every caller goes through. Look at {WHERE_VALIDATE}.",
            match &got {
                Ok(_) => "Ok(…): the cart was accepted".to_string(),
                Err(e) => format!("Err({e:?})"),
            }
        );
    }
    for quantity in [1, 10] {
        let got = validate(&Cart::new(CUSTOMER, [("tea", quantity)]), &catalog());
        assert!(
            got.is_ok(),
            "{quantity} × \"tea\" is allowed (1 to 10 a line), but validate said \
             {got:?}. Look at {WHERE_VALIDATE}."
        );
    }
}

// ---------------------------------------------------------------------------
// The checkout, each step with its own fake.

#[tokio::test(start_paused = true)]
async fn checkout_rejects_an_invalid_cart_before_calling_any_service() {
    let cases = [
        (Cart::new(CUSTOMER, []), ValidationError::EmptyCart),
        (
            Cart::new(CUSTOMER, [("mug", 1), ("kettle", 1)]),
            ValidationError::UnknownSku {
                sku: "kettle".into(),
            },
        ),
        (
            Cart::new(CUSTOMER, [("mug", 1), ("tea", 0)]),
            ValidationError::BadQuantity {
                sku: "tea".into(),
                quantity: 0,
            },
        ),
        (
            Cart::new(CUSTOMER, [("mug", 11)]),
            ValidationError::BadQuantity {
                sku: "mug".into(),
                quantity: 11,
            },
        ),
    ];
    for (cart, problem) in cases {
        let (result, journal) = run(Script::default(), &cart).await;
        let calls = journal.with(|s| s.calls.len());
        assert!(
            calls == 0,
            "checkout called services for an invalid cart ({problem:?}) and returned \
             {result:?}. Expected no call at all; the services saw:\n{}\n\
             A cart that validate refuses must not reach any service: nothing \
             charged, taken or sent for it. Check the whole cart (validate) before the first \
             side effect. Look at {WHERE_CHECKOUT} and {WHERE_VALIDATE}.",
            journal.timeline()
        );
        assert!(
            result == Err(CheckoutError::Invalid(problem.clone())),
            "expected checkout to return Err(CheckoutError::Invalid({problem:?})), \
             saw {result:?}. Look at {WHERE_CHECKOUT}."
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_good_cart_is_charged_once_and_taken_from_stock_once() {
    let (result, journal) = run(Script::default(), &good_cart()).await;
    let receipt = result.unwrap_or_else(|e| {
        panic!(
            "checkout of a good cart, with every service up, returned Err({e:?}); \
             expected Ok(receipt). The services saw:\n{}\nLook at {WHERE_CHECKOUT}.",
            journal.timeline()
        )
    });
    let (charges, takes) = journal.with(|s| (s.charges.clone(), s.takes.clone()));
    assert!(
        charges == [(CUSTOMER.to_string(), GOOD_TOTAL)],
        "expected one charge of {GOOD_TOTAL} cents to {CUSTOMER}; the payment fake saw \
         these charges (customer, cents): {charges:?}. Look at {WHERE_CHECKOUT}."
    );
    let line = |sku: &str, quantity| StockLine {
        sku: sku.into(),
        quantity,
    };
    assert!(
        takes == [vec![line("mug", 2), line("tea", 3), line("pot", 1)]],
        "expected one inventory.take with the cart's three lines; the inventory fake \
         saw these requests: {takes:?}. Look at {WHERE_CHECKOUT}."
    );
    assert!(
        (&receipt.charge, receipt.total_cents, &receipt.follow_ups)
            == (&ChargeId("ch_1".into()), GOOD_TOTAL, &vec![]),
        "expected a receipt for charge ch_1, {GOOD_TOTAL} cents, with nothing to follow \
         up; saw {receipt:?}. Look at {WHERE_CHECKOUT}."
    );
}

#[tokio::test(start_paused = true)]
async fn a_confirmed_order_emails_the_customer_and_records_the_sale() {
    let (result, journal) = run(Script::default(), &good_cart()).await;
    assert!(
        result.is_ok(),
        "checkout of a good cart, with every service up, returned {result:?}; expected \
         Ok(receipt). Look at {WHERE_CHECKOUT}."
    );
    let (emails, sales) = journal.with(|s| (s.emails.clone(), s.sales.clone()));
    assert!(
        emails.len() == 1
            && emails[0].to == CUSTOMER
            && emails[0].body.contains("$83.50"),
        "expected one confirmation email to {CUSTOMER} whose body states the total, \
         $83.50; the mail fake saw: {emails:#?}. Look at {WHERE_CHECKOUT}."
    );
    let want = SaleEvent {
        charge: ChargeId("ch_1".into()),
        total_cents: GOOD_TOTAL,
        items: 6,
    };
    assert!(
        sales == std::slice::from_ref(&want),
        "expected analytics to record one sale, {want:?}; the analytics fake saw \
         {sales:?}. Look at {WHERE_CHECKOUT}."
    );
}

#[tokio::test(start_paused = true)]
async fn a_declined_card_moves_no_stock_and_sends_no_email() {
    let script = Script {
        decline: true,
        ..Script::default()
    };
    let (result, journal) = run(script, &good_cart()).await;
    let after_charge: Vec<&str> = journal.with(|s| {
        s.calls
            .iter()
            .map(|c| c.0)
            .filter(|&c| c != "payments.charge")
            .collect()
    });
    assert!(
        after_charge.is_empty(),
        "the card was declined, yet checkout also called {after_charge:?}. A declined \
         card must leave the stock, the customer's inbox and the sales figures \
         untouched, so nothing may start before the charge has succeeded. The services \
         saw:\n{}\nLook at {WHERE_CHECKOUT}.",
        journal.timeline()
    );
    assert!(
        matches!(
            result,
            Err(CheckoutError::Payment(PaymentError::Declined { .. }))
        ),
        "expected Err(CheckoutError::Payment(PaymentError::Declined {{ .. }})) for a \
         declined card, saw {result:?}. Look at {WHERE_CHECKOUT}."
    );
}

#[tokio::test(start_paused = true)]
async fn stock_running_out_after_the_charge_refunds_it() {
    let script = Script {
        out_of_stock: true,
        ..Script::default()
    };
    let (result, journal) = run(script, &good_cart()).await;
    let refunds = journal.with(|s| s.refunds.clone());
    assert!(
        refunds == [ChargeId("ch_1".into())],
        "the card was charged (ch_1, {GOOD_TOTAL} cents) and then the stock ran out, \
         but {}. Expected exactly one payments.refund of ch_1 once inventory.take \
         failed: the customer must not pay for an order that cannot ship. The services \
         saw:\n{}\nLook at {WHERE_CHECKOUT}.",
        if refunds.is_empty() {
            "no refund was issued".to_string()
        } else {
            format!("the refunds were {refunds:?}")
        },
        journal.timeline()
    );
    let told = journal.count("mailer.send") + journal.count("analytics.record");
    assert!(
        told == 0,
        "the stock ran out, so there is no order, yet checkout sent a confirmation \
         email or recorded a sale. Confirm an order only once its stock is taken. The \
         services saw:\n{}\nLook at {WHERE_CHECKOUT}.",
        journal.timeline()
    );
    assert!(
        matches!(
            result,
            Err(CheckoutError::Stock(StockError::OutOfStock { .. }))
        ),
        "expected Err(CheckoutError::Stock(StockError::OutOfStock {{ .. }})) once the \
         charge is refunded, saw {result:?}. Look at {WHERE_CHECKOUT}."
    );
}

#[tokio::test(start_paused = true)]
async fn an_email_outage_still_confirms_the_order_and_records_the_failure() {
    let script = Script {
        mail_down: true,
        ..Script::default()
    };
    let (result, journal) = run(script, &good_cart()).await;
    let receipt = result.unwrap_or_else(|e| {
        panic!(
            "with the mail service down, checkout returned Err({e:?}), though the card \
             was charged and the stock taken: the customer has paid, and the order \
             exists. An email outage must not fail a paid order. Expected Ok(receipt) \
             with FollowUp::ConfirmationEmail(…) in receipt.follow_ups. The services \
             saw:\n{}\nLook at {WHERE_CHECKOUT}.",
            journal.timeline()
        )
    });
    assert!(
        receipt.follow_ups == [FollowUp::ConfirmationEmail(mail_outage())],
        "the confirmation email failed, so the receipt should say so for support to \
         follow up: expected follow_ups to be [ConfirmationEmail({:?})], saw {:?}. \
         Look at {WHERE_CHECKOUT}.",
        mail_outage(),
        receipt.follow_ups
    );
    let (refunds, sales) = journal.with(|s| (s.refunds.len(), s.sales.len()));
    assert!(
        refunds == 0 && sales == 1,
        "an email outage should change nothing else: expected no refund and one sale \
         recorded, saw {refunds} refunds and {sales} sales. The services saw:\n{}\n\
         Look at {WHERE_CHECKOUT}.",
        journal.timeline()
    );
}

#[tokio::test(start_paused = true)]
async fn an_analytics_outage_still_confirms_the_order_and_records_the_failure() {
    let script = Script {
        analytics_down: true,
        ..Script::default()
    };
    let (result, journal) = run(script, &good_cart()).await;
    let receipt = result.unwrap_or_else(|e| {
        panic!(
            "with analytics down, checkout returned Err({e:?}), though the card was \
             charged and the stock taken. An analytics outage must not fail a paid \
             order. Expected Ok(receipt) with FollowUp::SaleNotRecorded(…) in \
             receipt.follow_ups. Look at {WHERE_CHECKOUT}."
        )
    });
    assert!(
        receipt.follow_ups == [FollowUp::SaleNotRecorded(analytics_outage())],
        "the sale was not recorded, so the receipt should say so (a line on stderr is \
         read by nobody): expected follow_ups to be [SaleNotRecorded({:?})], saw {:?}. \
         Look at {WHERE_CHECKOUT}.",
        analytics_outage(),
        receipt.follow_ups
    );
    let emails = journal.with(|s| s.emails.len());
    assert!(
        emails == 1,
        "an analytics outage should not stop the confirmation email: expected 1 email \
         sent, saw {emails}. Look at {WHERE_CHECKOUT}."
    );
}

#[tokio::test(start_paused = true)]
async fn email_and_analytics_run_together_so_checkout_takes_230_ms() {
    let (shop, journal) = shop(Script::default());
    let began = Instant::now();
    let result = checkout(&shop, &good_cart()).await;
    let took = began.elapsed().as_millis() as u64;
    assert!(
        result.is_ok(),
        "checkout of a good cart returned {result:?}; expected Ok(receipt). Look at \
         {WHERE_CHECKOUT}."
    );
    let email = journal.span("mailer.send");
    let sale = journal.span("analytics.record");
    let stock_done = journal
        .span("inventory.take")
        .and_then(|(_, end)| end)
        .unwrap_or(0);
    let why = match (email, sale) {
        (Some((e0, Some(e1))), Some((a0, Some(a1)))) if a0 >= e1 || e0 >= a1 => {
            let (first, second) = if a0 >= e1 {
                ("mailer.send", "analytics.record")
            } else {
                ("analytics.record", "mailer.send")
            };
            format!(
                "{second} waited for {first}, though neither needs the other: once the \
                 stock is taken, start both and await them together (tokio::join!)."
            )
        }
        (Some((e0, _)), Some((a0, _))) if e0.min(a0) < stock_done => {
            "the email or the sale started before the stock was taken: an order is \
             confirmed only once its stock is taken, so they must wait for it."
                .to_string()
        }
        _ if took < 230 => "checkout returned before the email and the sale finished: \
                            the receipt has to say whether they went through, so await \
                            them before returning."
            .to_string(),
        _ => "charge, then stock, then email and analytics together.".to_string(),
    };
    let sequential = CHARGE_MS + STOCK_MS + EMAIL_MS + ANALYTICS_MS;
    let all_in_a_row = if took == sequential {
        format!(" {sequential} ms is the four called one after the other.")
    } else {
        String::new()
    };
    assert!(
        took == CHARGE_MS + STOCK_MS + EMAIL_MS.max(ANALYTICS_MS),
        "checkout took {took} ms on the paused clock; expected exactly 230 ms: charge \
         {CHARGE_MS} + stock {STOCK_MS} + the longer of email {EMAIL_MS} and analytics \
         {ANALYTICS_MS}.{all_in_a_row}\n\
         The services, in ms since checkout began:\n{}\n{why}\nLook at {WHERE_CHECKOUT}.",
        journal.timeline()
    );
}
