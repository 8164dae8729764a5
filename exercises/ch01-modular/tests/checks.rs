//! The checks for chapter 1. `cargo xtask check 1` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every check that involves a service runs on tokio's paused clock: a fake
//! service "takes" 100 ms by sleeping, and the runtime jumps straight to the
//! moment the sleep ends. So a checkout costs no real time, and the time it
//! reports is exact: 230 ms means 230 ms on every machine.
//!
//! The fakes below stand in for the four services. Each records what it was
//! asked and when, so a failing check can show the whole timeline, and each can
//! be told to return any error its trait allows: the later checks try every
//! combination of every answer and count every fake's calls.
//!
//! The last check reads the crate's own source (every `.rs` file under `src/`)
//! to see that no function still talks to several services itself.

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
    Catalog::new([
        ("mug", 1_200),
        ("tea", 850),
        ("pot", 3_400),
        // For the email's edge cases: a price under a dollar, a free item and
        // a name longer than the email's column.
        ("sticker", 5),
        ("sample", 0),
        ("espresso-machine", 129_999),
    ])
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
    /// The charges that went through: (customer, cents).
    charges: Vec<(String, u64)>,
    /// Every refund asked for, whether or not it went through.
    refunds: Vec<ChargeId>,
    /// The rest: only what the service accepted.
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

    /// Records the start of a call, waits its latency, records its end. A
    /// latency of [`NEVER`] waits forever: the call never answers.
    async fn call(&self, service: &'static str, latency_ms: u64) {
        let i = {
            let mut seen = self.seen.lock().unwrap();
            seen.calls.push((service, self.now_ms(), None));
            seen.calls.len() - 1
        };
        if latency_ms == NEVER {
            std::future::pending::<()>().await;
        }
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

/// How each fake answers in one check: `None` is success, `Some(e)` the error
/// it returns. Every error each trait can return is one of these, so a check
/// can fail any service in any way, alone or together with others.
#[derive(Clone, Default)]
struct Script {
    charge: Option<PaymentError>,
    take: Option<StockError>,
    refund: Option<PaymentError>,
    mail: Option<MailError>,
    analytics: Option<AnalyticsError>,
    /// How long the mail and analytics fakes take, when not the chapter's
    /// latency: a slow service, or one that never answers ([`NEVER`]).
    mail_ms: Option<u64>,
    analytics_ms: Option<u64>,
}

/// A latency that never ends: the call hangs, as a request to a service that
/// accepted the connection and never answers does.
const NEVER: u64 = u64::MAX;

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
        if let Some(e) = &self.1.charge {
            return Err(e.clone());
        }
        let mut seen = self.0.seen.lock().unwrap();
        seen.charges.push((customer.to_string(), amount_cents));
        Ok(ChargeId(format!("ch_{}", seen.charges.len())))
    }

    async fn refund(&self, charge: &ChargeId) -> Result<(), PaymentError> {
        self.0.call("payments.refund", CHARGE_MS).await;
        self.0.seen.lock().unwrap().refunds.push(charge.clone());
        match &self.1.refund {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

impl Inventory for FakeInventory {
    async fn take(&self, lines: &[StockLine]) -> Result<(), StockError> {
        self.0.call("inventory.take", STOCK_MS).await;
        if let Some(e) = &self.1.take {
            return Err(e.clone());
        }
        self.0.seen.lock().unwrap().takes.push(lines.to_vec());
        Ok(())
    }
}

// ANCHOR: fake_mailer
impl Mailer for FakeMailer {
    async fn send(&self, email: Email) -> Result<(), MailError> {
        self.0
            .call("mailer.send", self.1.mail_ms.unwrap_or(EMAIL_MS))
            .await;
        if let Some(e) = &self.1.mail {
            return Err(e.clone());
        }
        self.0.seen.lock().unwrap().emails.push(email);
        Ok(())
    }
}
// ANCHOR_END: fake_mailer

impl Analytics for FakeAnalytics {
    async fn record(&self, event: SaleEvent) -> Result<(), AnalyticsError> {
        self.0
            .call(
                "analytics.record",
                self.1.analytics_ms.unwrap_or(ANALYTICS_MS),
            )
            .await;
        if let Some(e) = &self.1.analytics {
            return Err(e.clone());
        }
        self.0.seen.lock().unwrap().sales.push(event);
        Ok(())
    }
}

fn declined() -> PaymentError {
    PaymentError::Declined {
        reason: "insufficient funds".into(),
    }
}

fn refund_declined() -> PaymentError {
    PaymentError::Declined {
        reason: "the charge is disputed".into(),
    }
}

fn out_of_stock() -> StockError {
    StockError::OutOfStock {
        sku: "pot".into(),
        wanted: 1,
        left: 0,
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

// Every answer each service can give: success, or each of its errors.
fn charge_answers() -> [Option<PaymentError>; 3] {
    [None, Some(declined()), Some(PaymentError::Unavailable)]
}
fn take_answers() -> [Option<StockError>; 3] {
    [None, Some(out_of_stock()), Some(StockError::Unavailable)]
}
fn refund_answers() -> [Option<PaymentError>; 3] {
    [
        None,
        Some(refund_declined()),
        Some(PaymentError::Unavailable),
    ]
}
fn mail_answers() -> [Option<MailError>; 2] {
    [None, Some(mail_outage())]
}
fn analytics_answers() -> [Option<AnalyticsError>; 2] {
    [None, Some(analytics_outage())]
}

type FakeShop = Shop<FakePayments, FakeInventory, FakeMailer, FakeAnalytics>;

/// A shop whose services are the fakes above, and the journal they write to.
/// Call it right before `checkout`: the journal's clock starts here.
fn shop(script: Script) -> (FakeShop, Journal) {
    let journal = Journal::new();
    let shop = Shop {
        catalog: catalog(),
        payments: FakePayments(journal.clone(), script.clone()),
        inventory: FakeInventory(journal.clone(), script.clone()),
        mailer: FakeMailer(journal.clone(), script.clone()),
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

    // A SKU on two lines, and an address as the web page sent it, spaces and
    // capitals included: the starter charged, emailed and listed exactly that.
    let padded = " Grace.Hopper@Example.com ";
    let cart = Cart::new(padded, [("mug", 6), ("tea", 1), ("mug", 6)]);
    let order = validate(&cart, &catalog()).unwrap_or_else(|e| {
        panic!(
            "validate rejected 6 × mug, 1 × tea, 6 × mug with {e:?}. Each line holds 1 \
             to 10 items, so the starter accepted this cart (the limit is per line). \
             Look at {WHERE_VALIDATE}."
        )
    });
    let want = [
        line("mug", 6, 1_200),
        line("tea", 1, 850),
        line("mug", 6, 1_200),
    ];
    assert!(
        order.lines() == want,
        "a cart that names \"mug\" on two lines (6 × mug, 1 × tea, 6 × mug): \
         expected validate to keep its three lines as the customer entered them, \
         {want:?}, saw {:?}. The starter charged, took and listed in the email each \
         line as entered; a refactor keeps that (merging or reordering lines changes \
         the email and what the warehouse is asked). Look at {WHERE_VALIDATE}.",
        order.lines()
    );
    assert!(
        (order.customer(), order.total_cents()) == (padded, 15_250),
        "for customer {padded:?} (with its spaces) and 6 × mug, 1 × tea, 6 × mug, \
         expected validate to keep the address byte for byte, {padded:?}, and a total \
         of 15250 cents; saw {:?} and {} cents. The starter charged and emailed the \
         address exactly as the cart gave it; changing it (trimming, lower-casing) \
         changes who is charged and where the email goes. Look at {WHERE_VALIDATE}.",
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
    // A SKU is an exact key: the starter refused these, and so must a refactor.
    for sku in ["Mug", "MUG", " mug", "mug "] {
        let got = validate(&Cart::new(CUSTOMER, [("tea", 1), (sku, 1)]), &catalog());
        let want = Err(ValidationError::UnknownSku { sku: sku.into() });
        assert!(
            got == want,
            "the catalog sells \"mug\", not {sku:?}: expected \
             Err(ValidationError::UnknownSku {{ sku: {sku:?} }}), as the starter \
             answered, saw {}. A SKU is matched exactly, case and spaces included; \
             matching it loosely decides for the customer which product they meant and \
             changes what the email lists. Look at {WHERE_VALIDATE}.",
            match &got {
                Ok(order) => format!("Ok with lines {:?}", order.lines()),
                Err(e) => format!("Err({e:?})"),
            }
        );
    }
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
             charged, taken or sent for it, so no service may be called before the whole \
             cart is known to be valid. Look at {WHERE_CHECKOUT} and {WHERE_VALIDATE}.",
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
async fn the_confirmation_email_reads_word_for_word_as_before_for_every_cart() {
    // What the starter sends for each cart, byte for byte. Customers read this
    // text, and support's mail filters and templates match it: a refactor
    // changes the code's shape, never what the customer receives.
    let email = |to: &str, body: &str| Email {
        to: to.into(),
        subject: "Your order ch_1 is confirmed".into(),
        body: body.into(),
    };
    let cases = [
        (
            good_cart(),
            email(
                CUSTOMER,
                "Thank you for your order!\n\n   2 × mug        $24.00\n   3 × tea        \
                 $25.50\n   1 × pot        $34.00\n\n  Total charged: $83.50\n",
            ),
        ),
        (
            Cart::new("Grace.Hopper@Example.com", [("tea", 1)]),
            email(
                "Grace.Hopper@Example.com",
                "Thank you for your order!\n\n   1 × tea        $8.50\n\n  Total charged: \
                 $8.50\n",
            ),
        ),
        (
            Cart::new(
                CUSTOMER,
                [("sticker", 10), ("espresso-machine", 1), ("sample", 1)],
            ),
            email(
                CUSTOMER,
                "Thank you for your order!\n\n  10 × sticker    $0.50\n   1 × \
                 espresso-machine $1299.99\n   1 × sample     $0.00\n\n  Total charged: \
                 $1300.49\n",
            ),
        ),
        (
            Cart::new(CUSTOMER, [("sticker", 1)]),
            email(
                CUSTOMER,
                "Thank you for your order!\n\n   1 × sticker    $0.05\n\n  Total charged: \
                 $0.05\n",
            ),
        ),
        // A SKU on two lines, and an address with spaces around it: the
        // starter lists each line as entered and writes to the address as given.
        (
            Cart::new(" ada@example.com ", [("mug", 6), ("tea", 1), ("mug", 6)]),
            email(
                " ada@example.com ",
                "Thank you for your order!\n\n   6 × mug        $72.00\n   1 × tea        \
                 $8.50\n   6 × mug        $72.00\n\n  Total charged: $152.50\n",
            ),
        ),
    ];
    for (cart, want) in cases {
        let (result, journal) = run(Script::default(), &cart).await;
        let lines: Vec<String> = cart
            .lines
            .iter()
            .map(|l| format!("{} × {}", l.quantity, l.sku))
            .collect();
        let cart_text = format!("{} for {:?}", lines.join(", "), cart.customer);
        assert!(
            result.is_ok(),
            "checkout of {cart_text}, every service up, returned {result:?}; expected \
             Ok(receipt). Look at {WHERE_CHECKOUT}."
        );
        let emails = journal.with(|s| s.emails.clone());
        assert!(
            emails.len() == 1,
            "checkout of {cart_text} sent {} emails; expected exactly one confirmation. \
             Look at {WHERE_CHECKOUT}.",
            emails.len()
        );
        if let Some((n, expected, seen)) = first_different_line(&want, &emails[0]) {
            panic!(
                "the confirmation email for {cart_text} is not the one the starter \
                 sends: line {n} (line 1 is `to`, 2 the subject, then the body) should \
                 be\n    {expected:?}\nbut is\n    {seen:?}\nThe whole email expected, \
                 line by line:\n{}\nCustomers read this text and support's filters \
                 match it: the refactor must leave its wording, spacing, alignment and \
                 amounts exactly as they were. Look at the code that writes the email \
                 (process_order in the starter).",
                email_lines(&want)
                    .iter()
                    .map(|l| format!("    {l:?}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// An email as lines: `to`, the subject, then each line of the body with its
/// newline, so that a missing or extra `\n` shows.
fn email_lines(email: &Email) -> Vec<String> {
    let mut lines = vec![
        format!("to: {}", email.to),
        format!("subject: {}", email.subject),
    ];
    lines.extend(email.body.split_inclusive('\n').map(str::to_string));
    lines
}

/// The first line (counting from 1) where two emails differ, with both lines.
fn first_different_line(want: &Email, seen: &Email) -> Option<(usize, String, String)> {
    let (want, seen) = (email_lines(want), email_lines(seen));
    let gone = || "(no such line)".to_string();
    (0..want.len().max(seen.len())).find_map(|i| {
        let w = want.get(i).cloned().unwrap_or_else(gone);
        let s = seen.get(i).cloned().unwrap_or_else(gone);
        (w != s).then_some((i + 1, w, s))
    })
}

#[tokio::test(start_paused = true)]
async fn a_declined_card_moves_no_stock_and_sends_no_email() {
    let script = Script {
        charge: Some(declined()),
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
        take: Some(out_of_stock()),
        ..Script::default()
    };
    let (result, journal) = run(script, &good_cart()).await;
    let (refunds, charges) = journal.with(|s| (s.refunds.clone(), s.charges.clone()));
    // Say what the fakes saw, not what the contract expected to happen.
    let charge = journal.span("payments.charge");
    let take = journal.span("inventory.take");
    let seen = match (charge, take) {
        (None, Some(_)) => "inventory.take answered out of stock and payments.charge was \
                           never called, so nothing was charged and there was nothing to \
                           refund. This exercise keeps the starter's order, the charge and \
                           then the stock (the page's \"Which step goes first\" says why, \
                           and what real shops do instead), so a stock-out comes after a \
                           charge that must then be given back"
            .to_string(),
        (Some((c0, _)), Some((t0, _))) if t0 < c0 => format!(
            "inventory.take was called first (at {t0} ms) and payments.charge after it \
             (at {c0} ms). This exercise keeps the starter's order, the charge and then \
             the stock (the page's \"Which step goes first\" says why), and a stock-out \
             after the charge must give the money back; the refunds asked for were \
             {refunds:?}"
        ),
        (_, None) => format!(
            "inventory.take was never called (charges made: {charges:?}), so the \
             stock-out this check scripts never happened"
        ),
        (Some(_), Some(_)) if charges.is_empty() => {
            "payments.charge was called but did not finish, then the stock ran out"
                .to_string()
        }
        (Some(_), Some(_)) => format!(
            "the card was charged ({}) and then the stock ran out, but {}",
            charges
                .iter()
                .map(|(to, cents)| format!("{cents} cents to {to}"))
                .collect::<Vec<_>>()
                .join(", "),
            if refunds.is_empty() {
                "no refund was issued".to_string()
            } else {
                format!("the refunds asked for were {refunds:?}")
            }
        ),
    };
    assert!(
        refunds == [ChargeId("ch_1".into())],
        "{seen}. Expected payments.charge (ch_1, {GOOD_TOTAL} cents), then \
         inventory.take, then exactly one payments.refund of ch_1 once inventory.take \
         failed: the customer must not pay for an order that cannot ship. The services \
         saw:\n{}\nLook at {WHERE_CHECKOUT}.",
        journal.timeline()
    );
    let told = journal.count("mailer.send") + journal.count("analytics.record");
    assert!(
        told == 0,
        "the stock ran out, so there is no order, yet checkout called mailer.send or \
         analytics.record ({told} calls): the customer or the analysts heard of an \
         order that does not exist. Confirm an order only once its stock is taken. \
         The services saw:\n{}\nLook at {WHERE_CHECKOUT}.",
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
        mail: Some(mail_outage()),
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
        analytics: Some(analytics_outage()),
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
                "{second} waited for {first}, though neither needs the other's result: \
                 the checkout pays for both latencies where the longer one would do."
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

#[tokio::test(start_paused = true)]
async fn a_slow_or_silent_email_or_sale_is_never_reported_as_done() {
    // The mail relay or the collector takes ten seconds, or never answers.
    // `checkout` may wait for them (then it returns when they do, or not at
    // all while one hangs), or stop waiting; but a step still running when
    // the receipt is written has not happened, so the receipt must not read
    // as if it had.
    let slow = 10_000;
    let cases = [
        (Some(slow), None, None),
        (None, Some(slow), None),
        (Some(NEVER), None, None),
        (None, Some(NEVER), None),
        (Some(NEVER), Some(NEVER), None),
        (Some(NEVER), None, Some(analytics_outage())),
    ];
    for (mail_ms, analytics_ms, analytics) in cases {
        let script = Script {
            mail_ms,
            analytics_ms,
            analytics,
            ..Script::default()
        };
        let (shop, journal) = shop(script.clone());
        // An hour of the paused clock: longer than any latency here but
        // NEVER. A checkout still waiting then is waiting for a service that
        // never answers, which the contract allows.
        let waited = tokio::time::timeout(
            Duration::from_secs(3_600),
            checkout(&shop, &good_cart()),
        )
        .await;
        let returned_at = journal.now_ms();
        let hangs = mail_ms == Some(NEVER) || analytics_ms == Some(NEVER);
        let receipt = match waited {
            Err(_) if hangs => continue,
            Err(_) => panic!(
                "With {}:\ncheckout had not returned after an hour on the paused \
                 clock, though every service answered within {slow} ms. The \
                 services saw:\n{}\nLook at {WHERE_CHECKOUT}.",
                describe(&script),
                journal.timeline()
            ),
            Ok(Err(e)) => panic!(
                "With {}:\nthe card was charged and the stock taken, so the order \
                 exists, yet checkout returned Err({e:?}). A slow mail relay or \
                 collector does not undo a paid order. The services saw:\n{}\nLook at \
                 {WHERE_CHECKOUT}.",
                describe(&script),
                journal.timeline()
            ),
            Ok(Ok(receipt)) => receipt,
        };
        let steps = [
            ("mailer.send", "the confirmation email", "ConfirmationEmail"),
            ("analytics.record", "the sale", "SaleNotRecorded"),
        ];
        for (service, what, variant) in steps {
            let listed = receipt.follow_ups.iter().any(|f| {
                matches!(
                    (f, variant),
                    (FollowUp::ConfirmationEmail(_), "ConfirmationEmail")
                        | (FollowUp::SaleNotRecorded(_), "SaleNotRecorded")
                )
            });
            let done = match journal.span(service) {
                None => continue, // never called: the contract checks say so
                Some((_, None)) => None,
                Some((_, Some(end))) => Some(end),
            };
            let failed = service == "analytics.record" && script.analytics.is_some();
            let problem = match done {
                None if !listed => Some(format!(
                    "checkout returned a receipt at {returned_at} ms while {service} \
                     had not finished (it started at {} ms and never answered before \
                     the receipt was written), and receipt.follow_ups {:?} does not \
                     mention it: the receipt reports {what} as done though nobody \
                     knows whether it happened. A step still running when checkout \
                     returns has not succeeded; if checkout stops waiting for it, it \
                     is something for a person (or a job) to follow up, as \
                     FollowUp::{variant}",
                    journal.span(service).map_or(0, |s| s.0),
                    receipt.follow_ups
                )),
                Some(end) if listed && !failed => Some(format!(
                    "{service} finished at {end} ms and went through, yet \
                     receipt.follow_ups {:?} lists FollowUp::{variant}: support would \
                     follow up {what} that already happened",
                    receipt.follow_ups
                )),
                _ => None,
            };
            if let Some(problem) = problem {
                panic!(
                    "With {}:\n{problem}.\nThe services saw:\n{}\nLook at \
                     {WHERE_CHECKOUT}.",
                    describe(&script),
                    journal.timeline()
                );
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn checkout_runs_as_a_task_that_may_move_between_threads() {
    // A web server (axum, or any handler on tokio's multi-threaded runtime)
    // runs each request as a task that may move from one thread to another
    // at every `.await`. `tokio::spawn` asks for exactly that, so this check
    // compiles only when everything checkout holds across an `.await` may
    // cross threads (is `Send`). If it does not compile, the compiler's
    // notes name the value in src/ that may not.
    let (shop, journal) = shop(Script::default());
    let shop = Arc::new(shop);
    let task = tokio::spawn({
        // As a web server runs a request: a task that may move to another
        // thread at any `.await`, so what checkout holds across one must be Send.
        let shop = Arc::clone(&shop);
        async move { checkout(&*shop, &good_cart()).await }
    });
    let result = task.await;
    assert!(
        matches!(result, Ok(Ok(_))),
        "checkout of a good cart, run as a spawned task with every service up, \
         ended with {result:?}; expected Ok(receipt). The services saw:\n{}\nLook at \
         {WHERE_CHECKOUT}.",
        journal.timeline()
    );
}

// ---------------------------------------------------------------------------
// Every way the services can fail, alone and together.
//
// The shop's contract for one checkout of the good cart, whatever the services
// answer (each service is asked at most once; retrying is chapter 4's subject,
// where it comes with idempotency keys and backoff):
//
// - the charge fails → Err(Payment(that error)); nothing else is called;
// - the stock step fails after the charge → one refund of that charge, no
//   email, no sale; Err(Stock(the stock error)) when the refund went through,
//   Err(RefundFailed { charge, stock, refund }) when it did not, so that a
//   person settles the charge by hand: never a confirmed order, never silence;
// - the stock is taken → the order exists: Ok(receipt), one email and one
//   sale attempted, each failure of those two on `receipt.follow_ups`.

/// The calls the contract counts, in the order a checkout makes them.
const SERVICES: [&str; 5] = [
    "payments.charge",
    "inventory.take",
    "payments.refund",
    "mailer.send",
    "analytics.record",
];

/// What the contract above requires when the services answer as `s` says:
/// how often each of `SERVICES` is called, and what `checkout` returns.
fn contract(s: &Script) -> ([usize; 5], Result<Receipt, CheckoutError>) {
    let charge = ChargeId("ch_1".into());
    if let Some(e) = &s.charge {
        return ([1, 0, 0, 0, 0], Err(CheckoutError::Payment(e.clone())));
    }
    if let Some(stock) = &s.take {
        let result = match &s.refund {
            None => CheckoutError::Stock(stock.clone()),
            Some(refund) => CheckoutError::RefundFailed {
                charge,
                stock: stock.clone(),
                refund: refund.clone(),
            },
        };
        return ([1, 1, 1, 0, 0], Err(result));
    }
    let mut follow_ups = Vec::new();
    if let Some(e) = &s.mail {
        follow_ups.push(FollowUp::ConfirmationEmail(e.clone()));
    }
    if let Some(e) = &s.analytics {
        follow_ups.push(FollowUp::SaleNotRecorded(e.clone()));
    }
    let receipt = Receipt {
        charge,
        total_cents: GOOD_TOTAL,
        follow_ups,
    };
    ([1, 1, 0, 1, 1], Ok(receipt))
}

fn answer<E: std::fmt::Debug>(a: &Option<E>) -> String {
    match a {
        None => "Ok".to_string(),
        Some(e) => format!("Err({e:?})"),
    }
}

/// `s` in words: what each service answers.
fn describe(s: &Script) -> String {
    let after = |ms: Option<u64>| match ms {
        None => String::new(),
        Some(NEVER) => " (it never answers)".to_string(),
        Some(ms) => format!(" after {ms} ms"),
    };
    format!(
        "payments.charge → {}, inventory.take → {}, payments.refund → {}, mailer.send → \
         {}{}, analytics.record → {}{}",
        answer(&s.charge),
        answer(&s.take),
        answer(&s.refund),
        answer(&s.mail),
        after(s.mail_ms),
        answer(&s.analytics),
        after(s.analytics_ms)
    )
}

/// Every combination of every answer of every service: 3 × 3 × 3 × 2 × 2.
fn every_combination() -> Vec<Script> {
    let mut all = Vec::new();
    for charge in charge_answers() {
        for take in take_answers() {
            for refund in refund_answers() {
                for mail in mail_answers() {
                    for analytics in analytics_answers() {
                        all.push(Script {
                            charge: charge.clone(),
                            take: take.clone(),
                            refund: refund.clone(),
                            mail: mail.clone(),
                            analytics: analytics.clone(),
                            ..Script::default()
                        });
                    }
                }
            }
        }
    }
    all
}

/// A service asked more than once in one checkout, and why that is wrong
/// given what it answered the first time.
fn retried(s: &Script, journal: &Journal) -> Option<String> {
    let calls = SERVICES.map(|service| journal.count(service));
    let (i, &n) = calls.iter().enumerate().find(|&(_, &n)| n > 1)?;
    let service = SERVICES[i];
    let why = match (i, &s.charge, &s.refund) {
        (0, Some(PaymentError::Declined { .. }), _) => {
            "a decline is the card issuer's answer, not a fault: asking again gets the \
             same answer, and issuers treat repeated attempts as card testing"
        }
        (0, Some(PaymentError::Unavailable), _) => {
            "a charge whose answer was lost may have gone through: asked again without \
             an idempotency key, the provider can take the money twice"
        }
        (0, None, _) => "the charge went through: a second one takes the money twice",
        (2, _, Some(PaymentError::Declined { .. })) => {
            "the provider refused the refund: asking again in a loop will not change \
             that; the charge is for a person to settle (CheckoutError::RefundFailed)"
        }
        (2, _, Some(PaymentError::Unavailable)) => {
            "a failed refund is reported for a person (or a job that can wait) to \
             settle, not retried while the customer's page waits"
        }
        (2, _, None) => {
            "the refund went through: a second one gives the money back twice"
        }
        (1, ..) => "the warehouse answered; asking again may take the items twice",
        _ => {
            "a failed email or sale goes on the receipt's follow_ups for a job that can \
             wait; the checkout does not retry it while the customer's page waits"
        }
    };
    let mut why = why.chars();
    let first = why
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    Some(format!(
        "{service} was called {n} times in one checkout; the contract asks each \
         service at most once. {first}{}.",
        why.as_str()
    ))
}

/// What is wrong with one checkout against the contract, if anything: the
/// first wrong call count (every fake is counted), then the result.
fn breach(
    s: &Script,
    result: &Result<Receipt, CheckoutError>,
    journal: &Journal,
) -> Option<String> {
    if let Some(problem) = retried(s, journal) {
        return Some(problem);
    }
    let (want_calls, want) = contract(s);
    let calls = SERVICES.map(|service| journal.count(service));
    let stock_error = || answer(&s.take);
    for i in 0..SERVICES.len() {
        if calls[i] == want_calls[i] {
            continue;
        }
        let service = SERVICES[i];
        let problem = match (i, want_calls[i]) {
            (1, 0) => format!(
                "inventory.take was called though payments.charge answered {}: the \
                 stock moved for a card that was not charged",
                answer(&s.charge)
            ),
            (2, 1) => format!(
                "inventory.take answered {} after the card was charged, and no refund \
                 was asked for. Every error the warehouse can return leaves the customer \
                 paying for an order that cannot ship, not only the one the timeline \
                 shows",
                stock_error()
            ),
            (2, 0) if s.charge.is_some() => format!(
                "payments.refund was called though the charge itself failed ({}): there \
                 was nothing to give back",
                answer(&s.charge)
            ),
            (2, 0) => {
                "payments.refund was called though the stock was taken: the order \
                       exists, and its charge must stand"
                    .to_string()
            }
            (3 | 4, 0) => format!(
                "{service} was called, though there is no order: {}. The customer and \
                 the analysts hear only of orders whose stock is taken",
                if s.charge.is_some() {
                    format!("the charge failed ({})", answer(&s.charge))
                } else {
                    format!("the stock step failed ({})", stock_error())
                }
            ),
            (3 | 4, _) => format!(
                "the order went through, but {service} was never called{}",
                if s.mail.is_some() || s.analytics.is_some() {
                    ": a failure of the other follow-up step must not skip this one"
                } else {
                    ""
                }
            ),
            _ => format!(
                "{service} was called {} times; the contract expects {}",
                calls[i], want_calls[i]
            ),
        };
        return Some(problem);
    }
    let refunded = journal.with(|seen| seen.refunds.clone());
    if want_calls[2] == 1 && refunded != [ChargeId("ch_1".into())] {
        return Some(format!(
            "the refund was asked for {refunded:?}; expected [ChargeId(\"ch_1\")], the \
             charge this checkout made"
        ));
    }
    match (&want, result) {
        (Ok(w), Ok(r)) => {
            let missing: Vec<&FollowUp> = w
                .follow_ups
                .iter()
                .filter(|f| !r.follow_ups.contains(f))
                .collect();
            if !missing.is_empty() || r.follow_ups.len() != w.follow_ups.len() {
                let both = if w.follow_ups.len() == 2 {
                    "mailer.send and analytics.record both failed, and each failure \
                     belongs on the receipt. "
                } else {
                    ""
                };
                return Some(format!(
                    "{both}receipt.follow_ups should hold {:?} (in any order), but holds \
                     {:?}",
                    w.follow_ups, r.follow_ups
                ));
            }
            if (&r.charge, r.total_cents) != (&w.charge, w.total_cents) {
                return Some(format!(
                    "expected a receipt for ch_1 of {GOOD_TOTAL} cents, saw {r:?}"
                ));
            }
            None
        }
        (Ok(w), Err(e)) => Some(format!(
            "the card was charged and the stock taken, so the order exists, yet \
             checkout returned Err({e:?}). Only the steps before the stock decide \
             whether there is an order; expected Ok with follow_ups {:?}",
            w.follow_ups
        )),
        (Err(CheckoutError::RefundFailed { refund, .. }), seen)
            if seen.as_ref().err() != want.as_ref().err() =>
        {
            let told = match seen {
                Ok(_) => "a confirmed order".to_string(),
                Err(CheckoutError::Stock(_)) => {
                    "Err(CheckoutError::Stock(…)), which tells \
                                                  the caller the charge was refunded"
                        .to_string()
                }
                Err(e) => format!("Err({e:?})"),
            };
            Some(format!(
                "the stock step failed and then the refund failed too ({refund:?}), yet \
                 checkout reported {told}: the customer's money stays taken and nobody is \
                 told to give it back. Expected {want:?}, which names the charge for a \
                 person to settle"
            ))
        }
        (Err(w), seen) if seen.as_ref().err() != Some(w) => Some(format!(
            "expected checkout to return Err({w:?}), saw {seen:?}"
        )),
        _ => None,
    }
}

/// Runs every scripted checkout and fails on the first breach of the contract.
async fn hold_to_contract(cases: Vec<Script>, what: &str) {
    for script in cases {
        let (result, journal) = run(script.clone(), &good_cart()).await;
        if let Some(problem) = breach(&script, &result, &journal) {
            panic!(
                "{what}\nWith {}:\n{problem}.\nThe services saw:\n{}\nLook at \
                 {WHERE_CHECKOUT}.",
                describe(&script),
                journal.timeline()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn every_error_a_service_can_return_ends_the_checkout_as_the_contract_says() {
    let mut alone = Vec::new();
    for charge in charge_answers().into_iter().flatten() {
        alone.push(Script {
            charge: Some(charge),
            ..Script::default()
        });
    }
    for take in take_answers().into_iter().flatten() {
        alone.push(Script {
            take: Some(take),
            ..Script::default()
        });
    }
    alone.push(Script {
        mail: Some(mail_outage()),
        ..Script::default()
    });
    alone.push(Script {
        analytics: Some(analytics_outage()),
        ..Script::default()
    });
    hold_to_contract(
        alone,
        "Each service failing alone, in each way its trait allows (the timeline \
         shows only some of them):",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_refund_that_fails_is_reported_for_a_person_to_settle_never_as_an_order() {
    let mut cases = Vec::new();
    for take in take_answers().into_iter().flatten() {
        for refund in refund_answers().into_iter().flatten() {
            cases.push(Script {
                take: Some(take.clone()),
                refund: Some(refund),
                ..Script::default()
            });
        }
    }
    hold_to_contract(
        cases,
        "The stock step fails after the charge, and the refund that should undo the \
         charge fails too:",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn no_service_is_asked_twice_in_one_checkout_whatever_it_answers() {
    for script in every_combination() {
        let (_, journal) = run(script.clone(), &good_cart()).await;
        if let Some(problem) = retried(&script, &journal) {
            panic!(
                "With {}:\n{problem}\nThe services saw:\n{}\nLook at {WHERE_CHECKOUT}.",
                describe(&script),
                journal.timeline()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn several_services_failing_in_one_checkout_still_end_as_the_contract_says() {
    hold_to_contract(
        every_combination(),
        "Several services failing in the same checkout (all 108 combinations of \
         every answer of every service):",
    )
    .await;
}

// ---------------------------------------------------------------------------
// The structure itself.

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("the checks could not list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The code with every comment, string and character literal blanked out
/// (newlines kept), so that only code is searched. A string literal that
/// holds the confirmation email's wording (its greeting, its total line, its
/// subject or a dollar amount, `"${…"`) leaves the word `EMAIL_TEXT` behind.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied().unwrap_or(' ');
        let start = i;
        if c[i] == '/' && next == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == '"' || next == '#')
            && (i == 0 || !ident(c[i - 1]))
            && c[i + 1..].iter().find(|&&ch| ch != '#') == Some(&'"')
        {
            let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
            i += 2 + hashes;
            while i < c.len() {
                if c[i] == '"'
                    && c[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes
                {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && next == '\\' {
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let end = i.min(c.len());
        out.extend(c[start..end].iter().map(|&ch| blank(ch)));
        let literal: String = c[start..end].iter().collect();
        let quoted = literal.starts_with('"') || literal.starts_with('r');
        if quoted
            && ["Thank you", "Total charged", "is confirmed", "${"]
                .iter()
                .any(|w| literal.contains(w))
        {
            out.push_str(" EMAIL_TEXT ");
        }
        i = end;
    }
    out
}

/// One function found in the source.
struct Function<'a> {
    name: String,
    /// Where it is, as `src/checkout.rs (line 12)`.
    place: String,
    /// From `fn` to the opening brace: generics, parameters, return type.
    signature: &'a str,
    body: &'a str,
}

/// Each function with a body in `code`: its name, its line, its signature and
/// its body.
fn functions(code: &str) -> Vec<(String, usize, &str, &str)> {
    let bytes = code.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("fn ").map(|k| from + k) {
        from = at + 3;
        if at > 0 && ident(bytes[at - 1]) {
            continue;
        }
        let name: String = code[from..]
            .trim_start()
            .chars()
            .take_while(|&ch| ch.is_alphanumeric() || ch == '_')
            .collect();
        let Some(open) = code[from..].find(['{', ';']).map(|k| from + k) else {
            break;
        };
        if bytes[open] == b';' {
            continue;
        }
        let mut depth = 0;
        let mut close = code.len();
        for (k, &b) in bytes.iter().enumerate().skip(open) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let line = code[..at].matches('\n').count() + 1;
        found.push((name, line, &code[at..open], &code[open..close]));
    }
    found
}

/// The four services: the `Shop` field that holds each, its trait, and the
/// methods of that trait.
const SERVICE_FIELDS: [(&str, &str, &[&str]); 4] = [
    ("payments", "Payments", &["charge", "refund"]),
    ("inventory", "Inventory", &["take"]),
    ("mailer", "Mailer", &["send"]),
    ("analytics", "Analytics", &["record"]),
];

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The identifiers in `text` that are not a field or method after a `.`.
fn words(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = None;
    for (k, ch) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, is_ident(ch)) {
            (None, true) => start = Some(k),
            (Some(from), false) => {
                if !text[..from].ends_with('.') {
                    found.push(&text[from..k]);
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// `text` cut at `sep` where no bracket is open (`->` is not a bracket).
fn split_top(text: &str, sep: char) -> Vec<String> {
    let text = text.replace("->", "~~");
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut part = String::new();
    for ch in text.chars() {
        match ch {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            _ => {}
        }
        if ch == sep && depth == 0 {
            parts.push(std::mem::take(&mut part));
        } else {
            part.push(ch);
        }
    }
    parts.push(part);
    parts
}

/// Which services an expression or a type names: a `Shop` field reached
/// through a path (`shop.payments`, `self.mailer`), a service trait
/// (`impl Payments`, `P: Payments`), or a name already bound to a service.
fn services_named(
    text: &str,
    known: &std::collections::HashMap<String, &'static str>,
) -> std::collections::BTreeSet<&'static str> {
    let mut found = std::collections::BTreeSet::new();
    for (field, tr, _) in SERVICE_FIELDS {
        let dotted = format!(".{field}");
        let by_path = text
            .match_indices(&dotted)
            .any(|(at, _)| !text[at + dotted.len()..].starts_with(is_ident));
        if by_path || words(text).contains(&tr) {
            found.insert(field);
        }
    }
    for word in words(text) {
        if let Some(&field) = known.get(word) {
            found.insert(field);
        }
    }
    found
}

/// Which names in one function stand for a service: its parameters whose
/// type is one service (`payments: &impl Payments`, `p: &P` with
/// `P: Payments`), and the `let` bindings that give a service another name
/// (`let bank = &shop.payments;`, `let (bank, post) = (&shop.payments,
/// &shop.mailer);`, `let Shop { payments: bank, .. } = shop;`, and so on down
/// a chain of such bindings).
fn service_names(
    signature: &str,
    body: &str,
) -> std::collections::HashMap<String, &'static str> {
    let mut names = std::collections::HashMap::new();
    let one = |text: &str, names: &std::collections::HashMap<String, &'static str>| {
        let found = services_named(text, names);
        (found.len() == 1).then(|| *found.iter().next().unwrap_or(&""))
    };
    // Generic parameters and function parameters alike read `name: bound`.
    let sig = signature.split_whitespace().collect::<Vec<_>>().join(" ");
    let sig = sig.replace(" where ", ", ").replace("->", "~~");
    for _ in 0..2 {
        for (at, _) in sig.match_indices(':') {
            if sig[..at].ends_with(':') || sig[at + 1..].starts_with(':') {
                continue;
            }
            let name: String = sig[..at]
                .trim_end()
                .chars()
                .rev()
                .take_while(|&ch| is_ident(ch))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let bound = split_top(&sig[at + 1..], ',')
                .into_iter()
                .next()
                .unwrap_or_default();
            let bound = split_top(&bound, ')')
                .into_iter()
                .next()
                .unwrap_or_default();
            if let (false, Some(field)) = (name.is_empty(), one(&bound, &names)) {
                names.insert(name, field);
            }
        }
    }
    // A plain reference: a path, perhaps borrowed, cloned or called with
    // no argument (`&shop.payments`, `self.mailer()`, `shop.mailer.clone()`).
    let plain = |e: &str| {
        e.chars()
            .all(|ch| is_ident(ch) || matches!(ch, '.' | '&' | '*' | '(' | ')'))
            && !e.contains("()(")
            && e.match_indices('(')
                .all(|(k, _)| e[k + 1..].starts_with(')'))
    };
    let compact: String = body.chars().filter(|ch| !ch.is_whitespace()).collect();
    let lets: Vec<(String, String)> = compact
        .match_indices("let")
        .filter(|&(at, _)| at == 0 || !compact[..at].ends_with(is_ident))
        .filter_map(|(at, _)| {
            let rest = &compact[at + 3..];
            let eq = rest.char_indices().find(|&(k, ch)| {
                ch == '='
                    && !rest[k + 1..].starts_with(['=', '>'])
                    && !rest[..k].ends_with(['=', '!', '<', '>'])
            })?;
            let init = split_top(&rest[eq.0 + 1..], ';').into_iter().next()?;
            Some((rest[..eq.0].to_string(), init))
        })
        .collect();
    for _ in 0..3 {
        for (pattern, init) in &lets {
            let pattern = pattern.trim_start_matches("mut");
            let pattern = split_top(pattern, ':')
                .into_iter()
                .next()
                .unwrap_or_default();
            let mut bind = |name: &str, expr: &str| {
                let name = name.trim_start_matches("ref").trim_start_matches("mut");
                if !name.is_empty()
                    && name.chars().all(is_ident)
                    && plain(expr)
                    && let Some(field) = one(expr, &names)
                {
                    names.insert(name.to_string(), field);
                }
            };
            if let Some(open) = pattern.find('{') {
                // `Shop { payments: bank, mailer, .. }`
                let inner = pattern[open + 1..].trim_end_matches('}');
                for entry in split_top(inner, ',') {
                    let (field, name) =
                        entry.split_once(':').unwrap_or((&entry, &entry));
                    let name = name.trim_start_matches("ref").trim_start_matches("mut");
                    if let Some((f, ..)) = SERVICE_FIELDS.iter().find(|s| s.0 == field)
                    {
                        names.insert(name.trim_start_matches('&').to_string(), f);
                    }
                }
            } else if pattern.starts_with('(') && init.starts_with('(') {
                // `(bank, post) = (&shop.payments, &shop.mailer)`
                let strip =
                    |t: &str| t[1..t.len().saturating_sub(1).max(1)].to_string();
                let (names_in, exprs) = (
                    split_top(&strip(&pattern), ','),
                    split_top(&strip(init), ','),
                );
                for (name, expr) in names_in.iter().zip(&exprs) {
                    bind(name, expr);
                }
            } else {
                bind(&pattern, init);
            }
        }
    }
    names
}

/// The service calls a function makes itself, as `service.method`: a call of
/// a service method (`charge`, `refund`, `take`, `send`, `record`) on a path
/// to a `Shop` field or on something named after that service
/// (`shop.payments.charge(…)`, `self.mailer().send(…)`), on a parameter or a
/// `let` binding that stands for that service (see [`service_names`]), or
/// through its trait (`Payments::charge(…)`).
fn service_calls(signature: &str, body: &str) -> Vec<&'static str> {
    let names = service_names(signature, body);
    let compact: String = body.chars().filter(|ch| !ch.is_whitespace()).collect();
    let methods: [(&str, &str, &[&str], &'static str); 5] = [
        (".charge(", "Payments", &["pay"], "payments.charge"),
        (".refund(", "Payments", &["pay"], "payments.refund"),
        (
            ".take(",
            "Inventory",
            &["invent", "stock", "warehouse"],
            "inventory.take",
        ),
        (".send(", "Mailer", &["mail"], "mailer.send"),
        (".record(", "Analytics", &["analytic"], "analytics.record"),
    ];
    let mut calls = Vec::new();
    for (dot_method, tr, words, name) in methods {
        let method = &dot_method[1..];
        let field = name.split('.').next().unwrap_or(name);
        let by_trait = compact.contains(&format!("{tr}::{method}"))
            || compact.contains(&format!("{tr}>::{method}"));
        let on_receiver = compact.match_indices(dot_method).any(|(at, _)| {
            let before = compact[..at].trim_end_matches("()");
            let reversed: String = before
                .chars()
                .rev()
                .take_while(|&ch| ch.is_alphanumeric() || ch == '_')
                .collect();
            let receiver: String = reversed.chars().rev().collect();
            let lower = receiver.to_lowercase();
            words.iter().any(|w| lower.contains(w))
                || names.get(&receiver) == Some(&field)
        });
        if by_trait || on_receiver {
            calls.push(name);
        }
    }
    calls
}

/// A function as [`functions`] finds it, owned: name, line, signature, body.
type Found = (String, usize, String, String);

/// Every function under the crate's `src/`, with its code (comments and
/// strings blanked, see [`code_only`]).
fn crate_functions() -> Vec<(String, Vec<Found>)> {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&crate_dir.join("src"), &mut files);
    files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| {
                panic!("the checks could not read {}: {e}", file.display())
            });
            let shown = file
                .strip_prefix(crate_dir)
                .unwrap_or(file)
                .display()
                .to_string();
            let code = code_only(&text);
            let found = functions(&code)
                .into_iter()
                .map(|(n, l, sig, body)| (n, l, sig.to_string(), body.to_string()))
                .collect();
            (shown, found)
        })
        .collect()
}

/// Every function of the crate, flattened.
fn all_functions(files: &[(String, Vec<Found>)]) -> Vec<Function<'_>> {
    files
        .iter()
        .flat_map(|(shown, found)| {
            found
                .iter()
                .map(move |(name, line, signature, body)| Function {
                    name: name.clone(),
                    place: format!("{shown} (line {line})"),
                    signature,
                    body,
                })
        })
        .collect()
}

/// The names of the functions `start` calls, directly or through the
/// functions it calls (by name: every function of that name counts), itself
/// included.
fn reach(functions: &[Function], start: &str) -> std::collections::BTreeSet<String> {
    let defined: std::collections::BTreeSet<&str> =
        functions.iter().map(|f| f.name.as_str()).collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![start.to_string()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        for f in functions.iter().filter(|f| f.name == name) {
            let compact: String =
                f.body.chars().filter(|ch| !ch.is_whitespace()).collect();
            for (at, _) in compact.match_indices(['(', '<']) {
                let before = compact[..at].trim_end_matches("::");
                let callee: String = before
                    .chars()
                    .rev()
                    .take_while(|&ch| is_ident(ch))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                // `Vec::new(…)`, `String::from(…)`: a type's own function, not
                // one of the crate's functions that happens to share its name.
                let of_a_type = before[..before.len() - callee.len()]
                    .strip_suffix("::")
                    .and_then(|q| q.rsplit(|ch: char| !is_ident(ch)).next())
                    .is_some_and(|q| q.starts_with(char::is_uppercase));
                if of_a_type {
                    continue;
                }
                if defined.contains(callee.as_str()) && !seen.contains(&callee) {
                    todo.push(callee);
                }
            }
        }
    }
    seen
}

#[test]
fn no_function_calls_more_than_one_service_itself() {
    let files = crate_functions();
    let mut tangled = Vec::new();
    for f in all_functions(&files) {
        let calls = service_calls(f.signature, f.body);
        let services: std::collections::BTreeSet<&str> = calls
            .iter()
            .map(|c| c.split('.').next().unwrap_or(c))
            .collect();
        if services.len() > 1 {
            tangled.push(format!(
                "  fn {} in {} talks to {} services itself: {}",
                f.name,
                f.place,
                services.len(),
                calls.join(", ")
            ));
        }
    }
    assert!(
        tangled.is_empty(),
        "{} function(s) under src/ still talk to more than one service:\n{}\n\
         Expected each function that calls a service to call only that one, so each \
         responsibility can be changed and tested with one fake, and some other \
         function to decide the order of things. Moving a long function to another \
         file, or splitting it into pieces that each still call several services, \
         keeps the tangle. (The checks read every .rs file under src/ and look for \
         calls such as shop.payments.charge(…) or Mailer::send(…).)",
        tangled.len(),
        tangled.join("\n")
    );
}

#[test]
fn checkout_goes_through_validate_and_nothing_else_applies_the_cart_rules() {
    let files = crate_functions();
    let functions = all_functions(&files);
    let from_checkout = reach(&functions, "checkout");
    let from_validate = reach(&functions, "validate");
    let mut problems = Vec::new();
    if !from_checkout.contains("validate") {
        problems.push(
            "  checkout never calls validate, neither itself nor through the \
             functions it calls: the cart reaches the services without passing through \
             the rules the cart page uses"
                .to_string(),
        );
    }
    for f in &functions {
        if from_validate.contains(&f.name) {
            continue;
        }
        let code: String = f.body.chars().filter(|ch| !ch.is_whitespace()).collect();
        let rules: Vec<&str> = [
            ("price_cents(", "prices lines"),
            ("MAX_QUANTITY", "limits quantities"),
        ]
        .iter()
        .filter(|(token, _)| code.contains(token))
        .map(|&(_, what)| what)
        .collect();
        if !rules.is_empty() {
            problems.push(format!(
                "  fn {} in {} {} itself (Catalog::price_cents, MAX_QUANTITY), outside \
                 validate and the functions validate calls",
                f.name,
                f.place,
                rules.join(" and ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the cart's rules should have one home, validate, and checkout should go \
         through it:\n{}\nA second copy of the rules agrees with the first only until \
         one of them changes; in the starter the quantity rule had already drifted \
         that way. (The checks follow calls by name from checkout and from validate \
         through every .rs file under src/.) Look at {WHERE_CHECKOUT} and \
         {WHERE_VALIDATE}.",
        problems.join("\n")
    );
}

#[test]
fn validate_and_what_it_calls_write_none_of_the_email() {
    let files = crate_functions();
    let functions = all_functions(&files);
    let from_validate = reach(&functions, "validate");
    let writers: Vec<String> = functions
        .iter()
        .filter(|f| from_validate.contains(&f.name) && f.body.contains("EMAIL_TEXT"))
        .map(|f| format!("  fn {} in {}", f.name, f.place))
        .collect();
    assert!(
        writers.is_empty(),
        "validate, or a function it calls, writes text of the confirmation email (a \
         dollar amount, its greeting, subject or total line):\n{}\nThe cart's rules \
         and the email's wording change for different reasons and are tested apart: \
         validate should decide whether a cart is an order and what it costs, and \
         leave to another function how the email reads. (The checks look for the \
         email's wording in string literals of validate and of every function it \
         calls, by name, under src/.) Look at {WHERE_VALIDATE}.",
        writers.join("\n")
    );
}
