//! The checks for chapter 2. `cargo xtask check 2` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count or an exact comparison, never a timing, so it is the
//! same on a fast laptop and a slow one. Expected answers are computed here in
//! plain Rust from the seeded data, independently of any SQL.

use std::cell::Cell;
use std::hash::{Hash, Hasher};

use ch02_measure::money::format_cents;
use ch02_measure::{
    CustomerReport, LineItem, OrderSummary, customer_report, first_seen_unique,
};
use support::db::CountingConnection;
use support::shop::Shop;

const WHERE_REPORT: &str = "customer_report in exercises/ch02-measure/src/report.rs";
const WHERE_UNIQUE: &str = "first_seen_unique in exercises/ch02-measure/src/unique.rs";

fn seeded(customers: usize, orders: usize) -> (Shop, CountingConnection) {
    let shop = Shop::generate(2024, customers, orders);
    let db =
        CountingConnection::in_memory().expect("open an in-memory SQLite database");
    shop.create_in(&db).expect("seed the shop data");
    db.reset_count();
    (shop, db)
}

fn run_report(db: &CountingConnection) -> (Vec<CustomerReport>, u64) {
    let (report, n) = db.count(customer_report);
    let report =
        report.unwrap_or_else(|e| panic!("customer_report returned an error: {e}"));
    (report, n)
}

/// The report as it must be, built from the in-memory data without SQL.
fn expected_report(shop: &Shop) -> Vec<CustomerReport> {
    let mut customers = shop.customers.clone();
    customers.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    customers
        .into_iter()
        .map(|c| {
            let mut orders: Vec<_> = shop
                .orders
                .iter()
                .filter(|o| o.customer_id == c.id)
                .collect();
            orders.sort_by_key(|o| std::cmp::Reverse((o.placed_at, o.id)));
            let orders: Vec<OrderSummary> = orders
                .into_iter()
                .map(|o| {
                    let items: Vec<LineItem> = shop
                        .items
                        .iter()
                        .filter(|i| i.order_id == o.id)
                        .map(|i| LineItem {
                            sku: i.sku.clone(),
                            quantity: i.quantity,
                            unit_price_cents: i.unit_price_cents,
                        })
                        .collect();
                    let total_cents =
                        items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
                    OrderSummary {
                        order_id: o.id,
                        placed_at: o.placed_at,
                        total_cents,
                        items,
                    }
                })
                .collect();
            let lifetime = format_cents(orders.iter().map(|o| o.total_cents).sum());
            CustomerReport {
                customer_id: c.id,
                name: c.name,
                lifetime,
                orders,
            }
        })
        .collect()
}

fn ids(report: &[CustomerReport]) -> Vec<i64> {
    report.iter().map(|c| c.customer_id).collect()
}

#[test]
fn report_runs_at_most_two_statements_for_any_number_of_orders() {
    let mut seen = Vec::new();
    for (customers, orders) in [(10, 50), (40, 200), (160, 800)] {
        let (_, db) = seeded(customers, orders);
        let (_, statements) = run_report(&db);
        seen.push(format!("{orders} orders: {statements}"));
        assert!(
            statements <= 2,
            "expected at most 2 SQL statements for a report over {orders} orders, \
             saw {statements} (statements per size so far: {}).\n\
             When the count grows with the data, a query runs inside a loop (an N+1): \
             fetch customers, orders and items together with a JOIN.\n\
             Look at {WHERE_REPORT}.",
            seen.join(", ")
        );
    }
}

#[test]
fn report_matches_the_reference_row_for_row() {
    let (shop, db) = seeded(120, 400);
    let (report, _) = run_report(&db);
    let expected = expected_report(&shop);
    if let Some(i) =
        (0..expected.len().min(report.len())).find(|&i| expected[i] != report[i])
    {
        panic!(
            "row {i} (customer {} {:?}) differs from the reference: {}.\n\
             Customers go by name then id; orders newest first, then higher id first; \
             items in the order they were added. Look at {WHERE_REPORT}.",
            expected[i].customer_id,
            expected[i].name,
            first_difference(&expected[i], &report[i])
        );
    }
    assert_eq!(
        report.len(),
        expected.len(),
        "expected {} customers in the report, saw {}. Look at {WHERE_REPORT}.",
        expected.len(),
        report.len()
    );
}

/// Describes the first place where two customer rows differ, down to the item.
fn first_difference(e: &CustomerReport, s: &CustomerReport) -> String {
    if (e.customer_id, &e.name) != (s.customer_id, &s.name) {
        return format!(
            "expected customer {} {:?}, saw customer {} {:?}",
            e.customer_id, e.name, s.customer_id, s.name
        );
    }
    let order_ids =
        |c: &CustomerReport| c.orders.iter().map(|o| o.order_id).collect::<Vec<_>>();
    if order_ids(e) != order_ids(s) {
        return format!(
            "expected order ids {:?}, saw {:?}",
            order_ids(e),
            order_ids(s)
        );
    }
    for (eo, so) in e.orders.iter().zip(&s.orders) {
        if eo.items != so.items {
            let skus = |o: &OrderSummary| {
                o.items.iter().map(|i| i.sku.clone()).collect::<Vec<_>>()
            };
            return format!(
                "order {}: expected items {:?}, saw {:?}",
                eo.order_id,
                skus(eo),
                skus(so)
            );
        }
        if eo != so {
            return format!("order {}: expected {eo:?}, saw {so:?}", eo.order_id);
        }
    }
    format!("expected lifetime {}, saw {}", e.lifetime, s.lifetime)
}

#[test]
fn report_keeps_customers_who_never_ordered() {
    let (shop, db) = seeded(60, 200);
    let (report, _) = run_report(&db);
    let listed = ids(&report);
    for c in &shop.customers {
        let never_ordered = !shop.orders.iter().any(|o| o.customer_id == c.id);
        if never_ordered {
            let row = report.iter().find(|r| r.customer_id == c.id);
            assert!(
                row.is_some(),
                "customer {} ({:?}) never ordered and is missing from the report \
                 ({} customers expected, {} listed).\n\
                 An INNER JOIN drops rows without a match: join orders with LEFT JOIN.\n\
                 Look at {WHERE_REPORT}.",
                c.id,
                c.name,
                shop.customers.len(),
                listed.len()
            );
            let row = row.unwrap();
            assert!(
                row.orders.is_empty() && row.lifetime == "$0.00",
                "customer {} never ordered, so expected no orders and lifetime $0.00; \
                 saw {} orders and {}. A LEFT JOIN gives NULL order columns for them: \
                 skip those instead of making an order from them. Look at {WHERE_REPORT}.",
                c.id,
                row.orders.len(),
                row.lifetime
            );
        }
    }
}

#[test]
fn report_keeps_orders_without_line_items() {
    let (shop, db) = seeded(60, 200);
    let (report, _) = run_report(&db);
    let empty_orders: Vec<i64> = shop
        .orders
        .iter()
        .filter(|o| !shop.items.iter().any(|i| i.order_id == o.id))
        .map(|o| o.id)
        .collect();
    assert!(
        !empty_orders.is_empty(),
        "the seeded data must contain an order without items"
    );
    for id in empty_orders {
        let found = report
            .iter()
            .flat_map(|c| &c.orders)
            .find(|o| o.order_id == id);
        match found {
            None => panic!(
                "order {id} has no line items and is missing from the report.\n\
                 An INNER JOIN with order_items drops it: use LEFT JOIN there too.\n\
                 Look at {WHERE_REPORT}."
            ),
            Some(o) => assert!(
                o.items.is_empty() && o.total_cents == 0,
                "order {id} has no line items, so expected no items and a total of 0; \
                 saw {} items and {}. Skip the NULL item columns a LEFT JOIN gives. \
                 Look at {WHERE_REPORT}.",
                o.items.len(),
                o.total_cents
            ),
        }
    }
}

#[test]
fn orders_placed_in_the_same_second_list_the_higher_id_first() {
    let (shop, db) = seeded(60, 300);
    let (report, _) = run_report(&db);
    for e in expected_report(&shop) {
        // Matched by customer id, not position, so a missing or misplaced
        // customer (another check's business) cannot hide a wrong order here.
        let Some(s) = report.iter().find(|s| s.customer_id == e.customer_id) else {
            continue;
        };
        let want: Vec<i64> = e.orders.iter().map(|o| o.order_id).collect();
        let got: Vec<i64> = s.orders.iter().map(|o| o.order_id).collect();
        let mut same_orders = got.clone();
        same_orders.sort();
        let mut all_orders = want.clone();
        all_orders.sort();
        if want != got && same_orders == all_orders {
            panic!(
                "customer {}'s orders are out of order.\n  expected order ids: {want:?}\n  \
                 saw order ids:      {got:?}\n\
                 Newest first, and when two orders share a second the higher id first \
                 (ORDER BY placed_at DESC, id DESC). Look at {WHERE_REPORT}.",
                e.customer_id
            );
        }
    }
}

#[test]
fn customers_are_listed_by_name_then_id() {
    let (shop, db) = seeded(120, 300);
    let (report, _) = run_report(&db);
    let expected = ids(&expected_report(&shop));
    let got = ids(&report);
    let mut e_sorted = expected.clone();
    let mut g_sorted = got.clone();
    e_sorted.sort();
    g_sorted.sort();
    if e_sorted == g_sorted {
        let i = expected.iter().zip(&got).position(|(a, b)| a != b);
        if let Some(i) = i {
            let name = |id: i64| {
                let c = shop.customers.iter().find(|c| c.id == id);
                c.map_or(String::new(), |c| c.name.clone())
            };
            panic!(
                "the report has every customer, but not in order: position {i} should be \
                 customer {} ({:?}), saw customer {} ({:?}).\n\
                 Customers go by name, then by id when two share a name (ORDER BY name, \
                 id); grouping through a HashMap loses the order. Look at {WHERE_REPORT}.",
                expected[i],
                name(expected[i]),
                got[i],
                name(got[i])
            );
        }
    }
}

#[test]
fn amounts_are_formatted_as_dollars_with_thousands_separators() {
    for (cents, want) in [
        (0, "$0.00"),
        (5, "$0.05"),
        (123_456, "$1,234.56"),
        (100_000_000, "$1,000,000.00"),
        (-250, "-$2.50"),
    ] {
        let got = format_cents(cents);
        assert_eq!(
            got, want,
            "format_cents({cents}) should give {want:?}, saw {got:?}. \
             Look at format_cents in exercises/ch02-measure/src/money.rs."
        );
    }
}

// ANCHOR: probe
thread_local! {
    /// How many times the Probe type below was hashed or compared.
    static OPS: Cell<u64> = const { Cell::new(0) };
}

/// An item that counts every comparison and hash done on it, so the work of
/// `first_seen_unique` can be measured as a number instead of a time.
#[derive(Clone, Debug)]
struct Probe(u64);

fn tick() {
    OPS.with(|n| n.set(n.get() + 1));
}
// ANCHOR_END: probe
impl PartialEq for Probe {
    fn eq(&self, other: &Self) -> bool {
        tick();
        self.0 == other.0
    }
}
impl Eq for Probe {}
impl Hash for Probe {
    fn hash<H: Hasher>(&self, state: &mut H) {
        tick();
        self.0.hash(state);
    }
}
impl PartialOrd for Probe {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Probe {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        tick();
        self.0.cmp(&other.0)
    }
}

/// `n` items where every value appears twice, the repeats scattered.
fn signups(n: u64) -> Vec<Probe> {
    (0..n).map(|i| Probe((i * 7919) % (n / 2))).collect()
}

#[test]
fn first_seen_unique_keeps_each_item_once_in_first_seen_order() {
    let got: Vec<u64> = first_seen_unique(&[3, 1, 3, 2, 1, 4].map(Probe))
        .iter()
        .map(|p| p.0)
        .collect();
    assert!(
        got == [3, 1, 2, 4],
        "first_seen_unique([3, 1, 3, 2, 1, 4]) should give [3, 1, 2, 4], each value once \
         in the order it first appeared; saw {got:?}. Sorting loses that order. Look at \
         {WHERE_UNIQUE}."
    );
    let big = signups(4_000);
    let got = first_seen_unique(&big);
    let mut seen = std::collections::HashSet::new();
    let want: Vec<u64> = big
        .iter()
        .map(|p| p.0)
        .filter(|v| seen.insert(*v))
        .collect();
    let got: Vec<u64> = got.iter().map(|p| p.0).collect();
    if let Some(i) = (0..want.len()).find(|&i| got.get(i) != Some(&want[i])) {
        panic!(
            "on 4,000 signups, position {i} should hold {}, saw {:?} ({} items expected, \
             {} returned). Keep each value once, in first-seen order. Look at \
             {WHERE_UNIQUE}.",
            want[i],
            got.get(i),
            want.len(),
            got.len()
        );
    }
    assert_eq!(
        got.len(),
        want.len(),
        "on 4,000 signups, expected {} distinct values, saw {}. Look at {WHERE_UNIQUE}.",
        want.len(),
        got.len()
    );
}

#[test]
fn first_seen_unique_work_grows_linearly_with_input() {
    let ops = |n| {
        let input = signups(n);
        OPS.with(|c| c.set(0));
        std::hint::black_box(first_seen_unique(&input));
        OPS.with(|c| c.get())
    };
    let sizes = [2_000, 4_000, 8_000];
    let counts: Vec<u64> = sizes.iter().map(|&n| ops(n)).collect();
    let ratio = counts[2] as f64 / counts[1].max(1) as f64;
    assert!(
        ratio < 2.5,
        "doubling the input from 4,000 to 8,000 items multiplied the comparisons and \
         hashes by {ratio:.1} (counts for {sizes:?} items: {counts:?}); linear work \
         doubles (about 2), quadratic work quadruples (about 4).\n\
         Checking `contains` on a Vec inside a loop scans everything seen so far: \
         remember what you have seen in a set. Look at {WHERE_UNIQUE}."
    );
}
