//! The service when its dependencies fail: fakes that fail in every way their
//! trait allows, on tokio's paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::time::Instant;

use super::{FixedQuote, TIMEOUT, service};
use crate::repo::{Order, Orders, SqliteOrders, StoreError};
use crate::service::{FALLBACK_SHIPPING_CENTS, MAX_QUANTITY, OrderError, OrderService};
use crate::shipping::{Quote, Shipping, ShippingError};

/// A partner that fails as told, and counts the quotes it was asked for.
struct Failing {
    how: Option<ShippingError>,
    calls: AtomicUsize,
}

impl Failing {
    /// Answers every quote with `how`; `None` never answers at all.
    fn new(how: Option<ShippingError>) -> Arc<Self> {
        Arc::new(Self {
            how,
            calls: AtomicUsize::new(0),
        })
    }
}

impl Shipping for Failing {
    fn quote<'a>(&'a self, _sku: &'a str, _quantity: u32) -> Quote<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match &self.how {
                Some(e) => Err(e.clone()),
                None => std::future::pending().await,
            }
        })
    }
}

fn with_partner(partner: Arc<Failing>) -> OrderService {
    OrderService::new(
        Arc::new(SqliteOrders::in_memory().unwrap()),
        partner,
        TIMEOUT,
    )
}

#[tokio::test(start_paused = true)]
async fn a_partner_error_ships_at_the_fallback_rate() {
    for error in [ShippingError::Status(500), ShippingError::Unreachable] {
        let partner = Failing::new(Some(error.clone()));
        let order = with_partner(Arc::clone(&partner))
            .place("ada", "tea", 1)
            .await;
        let order = order.expect("a partner error must not fail the order");
        assert_eq!(
            order.total_cents,
            500 + FALLBACK_SHIPPING_CENTS,
            "{error:?}"
        );
        assert_eq!(partner.calls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_partner_that_never_answers_is_cut_off_at_the_timeout() {
    let partner = Failing::new(None);
    let service = with_partner(Arc::clone(&partner));
    let started = Instant::now();
    let order = service.place("ada", "tea", 1).await.unwrap();
    assert_eq!(
        started.elapsed(),
        TIMEOUT,
        "the order waited exactly the timeout"
    );
    assert_eq!(order.total_cents, 500 + FALLBACK_SHIPPING_CENTS);
}

#[tokio::test(start_paused = true)]
async fn a_partner_that_answers_is_charged_as_quoted() {
    let order = service().place("ada", "kettle", 3).await.unwrap();
    // 3 × 40.00 = 120.00, minus 10%, plus the partner's 5.00.
    assert_eq!(order.total_cents, 10_800 + 500);
}

/// Storage that fails every call.
struct BrokenStore;

impl Orders for BrokenStore {
    fn insert(&self, _: &str, _: &str, _: u32, _: u64) -> Result<i64, StoreError> {
        Err(StoreError("disk full".into()))
    }
    fn open_orders_of(&self, _: &str) -> Result<Vec<Order>, StoreError> {
        Err(StoreError("disk full".into()))
    }
    fn cancel(&self, _: i64) -> Result<bool, StoreError> {
        Err(StoreError("disk full".into()))
    }
}

#[tokio::test(start_paused = true)]
async fn an_order_that_could_not_be_stored_is_not_confirmed() {
    let service =
        OrderService::new(Arc::new(BrokenStore), Arc::new(FixedQuote(500)), TIMEOUT);
    let placed = service.place("ada", "mug", 1).await;
    assert!(matches!(placed, Err(OrderError::Store(_))), "{placed:?}");
    assert!(matches!(service.cancel(1), Err(OrderError::Store(_))));
    assert!(matches!(
        service.open_orders_of("ada"),
        Err(OrderError::Store(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn quantities_outside_one_to_the_maximum_are_refused() {
    let service = service();
    for bad in [0, MAX_QUANTITY + 1, u32::MAX] {
        let placed = service.place("ada", "tea", bad).await;
        assert!(
            matches!(placed, Err(OrderError::InvalidQuantity(q)) if q == bad),
            "{bad}"
        );
    }
    for good in [1, MAX_QUANTITY] {
        assert!(service.place("ada", "tea", good).await.is_ok(), "{good}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_demo_partner_quotes_per_parcel_of_ten_after_its_latency() {
    let latency = std::time::Duration::from_millis(7);
    let partner = crate::shipping::SlowPartner { latency };
    let started = Instant::now();
    assert_eq!(partner.quote("tea", 10).await, Ok(490));
    assert_eq!(started.elapsed(), latency);
    assert_eq!(partner.quote("tea", 11).await, Ok(980));
}

/// The timeout the service ships with is a promise to whoever runs it: with
/// the default settings, a silent partner holds an order up for 300 ms, no
/// more. Pinned here as a number, not through the constant, so that a change
/// of the default shows up as a failing test, not as a test that follows it.
#[tokio::test(start_paused = true)]
async fn with_the_default_timeout_a_silent_partner_holds_an_order_300_ms() {
    let service = OrderService::new(
        Arc::new(SqliteOrders::in_memory().unwrap()),
        Failing::new(None),
        crate::service::SHIPPING_TIMEOUT,
    );
    let started = Instant::now();
    let order = service.place("ada", "tea", 1).await.unwrap();
    assert_eq!(started.elapsed(), std::time::Duration::from_millis(300));
    assert_eq!(order.total_cents, 500 + FALLBACK_SHIPPING_CENTS);
}
