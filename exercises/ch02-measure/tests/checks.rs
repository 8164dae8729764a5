//! The checks for chapter 2. `cargo xtask check 2` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count or an exact comparison, never a timing, so it is the
//! same on a fast laptop and a slow one: SQL statements are counted by SQLite's
//! trace hook (`support::db`), memory allocations by the counting allocator
//! below, comparisons, hashes and copies by the `Probe` type. Expected answers are
//! computed here in plain Rust from the seeded data, independently of any SQL
//! and of the crate's own helpers.
//!
//! A failing check says what it measured and where; it leaves the diagnosis to
//! you. `cargo xtask hint 2` gives one hint at a time when you want one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use ch02_measure::money::format_cents;
use ch02_measure::{
    CustomerReport, LineItem, OrderSummary, customer_report, first_seen_unique,
};
use rusqlite::params;
use support::db::CountingConnection;
use support::shop::{Customer, Item, Order, Shop};

const WHERE_REPORT: &str = "customer_report in exercises/ch02-measure/src/report.rs";
const WHERE_UNIQUE: &str = "first_seen_unique in exercises/ch02-measure/src/unique.rs";
const WHERE_MONEY: &str = "format_cents in exercises/ch02-measure/src/money.rs";
const PROFILE: &str = "cargo run -p ch02-measure --example profile --release";

// ---------------------------------------------------------------------------
// Instruments

thread_local! {
    /// Allocations (and reallocations) made by this thread so far.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes those allocations asked for.
    static BYTES: Cell<u64> = const { Cell::new(0) };
    /// Bytes allocated by this thread and not yet freed (by any thread).
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

/// The system allocator, counting each allocation of the calling thread, so a
/// check can say how much memory work a call did without timing it.
struct CountingAllocator;

fn note_allocation(bytes: usize) {
    // `try_with`: a thread being torn down has no counter left, and an
    // allocator must never panic.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    let _ = BYTES.try_with(|n| n.set(n.get().saturating_add(bytes as u64)));
}

fn note_live(change: i64) {
    let _ = LIVE.try_with(|n| n.set(n.get().saturating_add(change)));
}

// SAFETY: every method forwards to `System` with the same arguments; the
// counting touches only a thread-local `Cell` and never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        note_live(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        note_live(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation(new_size);
        note_live(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_live(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result with the allocations it made on this thread
/// and the bytes they asked for.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    let (a, b) = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    let out = f();
    (
        out,
        ALLOCATIONS.with(Cell::get) - a,
        BYTES.with(Cell::get) - b,
    )
}

// ---------------------------------------------------------------------------
// Data and the reference answer

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
    let report = report.unwrap_or_else(|e| {
        panic!("customer_report returned an error: {e}. Look at {WHERE_REPORT}.")
    });
    (report, n)
}

/// Every name the product list knows, on sale or retired, by SKU: read here
/// from the `merch` crate's two lists, independently of the crate's lookup.
fn product_names() -> HashMap<String, String> {
    let retired = merch::retired();
    let mut names: HashMap<String, String> = retired
        .iter()
        .map(|(sku, name)| (sku.to_string(), name.to_string()))
        .collect();
    for (sku, name) in merch::listed().iter() {
        names.insert(sku.to_string(), name.to_string());
    }
    names
}

/// Dollars with thousands separators, written independently of `format_cents`.
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(d);
    }
    format!("{sign}${grouped}.{:02}", abs % 100)
}

/// The report as it must be, built from the in-memory data without SQL.
fn expected_report(shop: &Shop) -> Vec<CustomerReport> {
    let names = product_names();
    let mut customers = shop.customers.clone();
    // String's order is byte by byte, like SQLite's default BINARY collation.
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
                    let mut items: Vec<&Item> =
                        shop.items.iter().filter(|i| i.order_id == o.id).collect();
                    items.sort_by_key(|i| i.id);
                    let items: Vec<LineItem> = items
                        .into_iter()
                        .map(|i| LineItem {
                            sku: i.sku.clone(),
                            name: names
                                .get(&i.sku)
                                .map_or(i.sku.clone(), |n| n.clone()),
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
                        total: dollars(total_cents),
                        items,
                    }
                })
                .collect();
            let lifetime = dollars(orders.iter().map(|o| o.total_cents).sum());
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

/// The first row where `report` differs from `expected`, described down to
/// the item, or `None` when they are equal.
fn first_row_difference(
    expected: &[CustomerReport],
    report: &[CustomerReport],
) -> Option<String> {
    if let Some(i) =
        (0..expected.len().min(report.len())).find(|&i| expected[i] != report[i])
    {
        return Some(format!(
            "row {i} (customer {} {:?}): {}",
            expected[i].customer_id,
            expected[i].name,
            first_difference(&expected[i], &report[i])
        ));
    }
    (report.len() != expected.len()).then(|| {
        format!(
            "expected {} customers in the report, saw {}",
            expected.len(),
            report.len()
        )
    })
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
            let k = (0..eo.items.len().min(so.items.len()))
                .find(|&k| eo.items[k] != so.items[k]);
            return match k {
                Some(k) => format!(
                    "order {}, item {k}: expected {:?}, saw {:?}",
                    eo.order_id, eo.items[k], so.items[k]
                ),
                None => format!(
                    "order {}: expected {} items, saw {}",
                    eo.order_id,
                    eo.items.len(),
                    so.items.len()
                ),
            };
        }
        if eo != so {
            return format!(
                "order {}: expected total {} ({:?}), saw {} ({:?})",
                eo.order_id, eo.total_cents, eo.total, so.total_cents, so.total
            );
        }
    }
    format!("expected lifetime {:?}, saw {:?}", e.lifetime, s.lifetime)
}

// ---------------------------------------------------------------------------
// The report

#[test]
fn report_runs_at_most_two_statements_for_any_number_of_orders() {
    let mut seen = Vec::new();
    let mut most = 0;
    for (customers, orders) in [(10, 30), (20, 60), (40, 120)] {
        let (_, db) = seeded(customers, orders);
        let (_, statements) = run_report(&db);
        most = most.max(statements);
        seen.push(format!(
            "{customers} customers and {orders} orders: {statements}"
        ));
    }
    assert!(
        most <= 2,
        "expected at most 2 SQL statements per report, whatever the size of the \
         data; the count grows with the data: {}. Across a network each statement is a round trip. Find where \
         the statements come from: run `{PROFILE}`, and look at {WHERE_REPORT}.",
        seen.join("; ")
    );
}

#[test]
fn report_matches_the_reference_row_for_row() {
    let (shop, db) = seeded(120, 250);
    let (report, _) = run_report(&db);
    if let Some(difference) = first_row_difference(&expected_report(&shop), &report) {
        panic!(
            "the report differs from the reference, computed from the same data \
             without SQL: {difference}.\n\
             Customers go by name (byte by byte) then id; orders newest first, then \
             higher id first; items in the order they were added, each with its \
             product's name (its SKU when the product list lacks it); totals and \
             lifetime formatted as dollars. Look at {WHERE_REPORT}."
        );
    }
}

#[test]
fn report_keeps_customers_who_never_ordered() {
    let (shop, db) = seeded(60, 150);
    let (report, _) = run_report(&db);
    for c in &shop.customers {
        let never_ordered = !shop.orders.iter().any(|o| o.customer_id == c.id);
        if !never_ordered {
            continue;
        }
        let row = report.iter().find(|r| r.customer_id == c.id);
        let Some(row) = row else {
            panic!(
                "customer {} ({:?}) never ordered and is missing from the report \
                 ({} customers expected, {} listed). Every customer belongs in the \
                 report, with or without orders. Look at {WHERE_REPORT}.",
                c.id,
                c.name,
                shop.customers.len(),
                report.len()
            );
        };
        assert!(
            row.orders.is_empty() && row.lifetime == "$0.00",
            "customer {} never ordered, so expected no orders and lifetime $0.00; \
             saw {} orders ({:?}) and {}: an order was made up from a customer \
             without one. Look at {WHERE_REPORT}.",
            c.id,
            row.orders.len(),
            row.orders.first(),
            row.lifetime
        );
    }
}

#[test]
fn report_keeps_orders_without_line_items() {
    let (shop, db) = seeded(60, 150);
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
                "order {id} has no line items and is missing from the report. Every \
                 order belongs in it, with or without items. Look at {WHERE_REPORT}."
            ),
            Some(o) => assert!(
                o.items.is_empty() && o.total_cents == 0,
                "order {id} has no line items, so expected no items and a total of 0; \
                 saw {} items ({:?}) and {}: an item was made up from an order \
                 without one. Look at {WHERE_REPORT}.",
                o.items.len(),
                o.items.first(),
                o.total_cents
            ),
        }
    }
}

#[test]
fn orders_placed_in_the_same_second_list_the_higher_id_first() {
    let (shop, db) = seeded(60, 200);
    let (report, _) = run_report(&db);
    for e in expected_report(&shop) {
        // Matched by customer id, not position, so a missing or misplaced
        // customer (another check's business) cannot hide a wrong order here.
        let Some(s) = report.iter().find(|s| s.customer_id == e.customer_id) else {
            continue;
        };
        let want: Vec<(i64, i64)> =
            e.orders.iter().map(|o| (o.order_id, o.placed_at)).collect();
        let got: Vec<(i64, i64)> =
            s.orders.iter().map(|o| (o.order_id, o.placed_at)).collect();
        let (mut a, mut b) = (want.clone(), got.clone());
        a.sort();
        b.sort();
        if want != got && a == b {
            panic!(
                "customer {}'s orders are out of order.\n  expected (order id, placed \
                 at): {want:?}\n  saw:                          {got:?}\n\
                 Newest first; orders placed in the same second go higher id first. \
                 Look at {WHERE_REPORT}.",
                e.customer_id
            );
        }
    }
}

#[test]
fn customers_are_listed_by_name_then_id_comparing_names_byte_by_byte() {
    let (shop, db) = seeded(120, 150);
    let names: Vec<&str> = shop.customers.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|a| names.iter().any(|b| a != b && a.eq_ignore_ascii_case(b))),
        "the seeded data must contain names that differ only in case"
    );
    let (report, _) = run_report(&db);
    let expected = ids(&expected_report(&shop));
    let got = ids(&report);
    let (mut e_sorted, mut g_sorted) = (expected.clone(), got.clone());
    e_sorted.sort();
    g_sorted.sort();
    if e_sorted != g_sorted {
        return; // missing or extra customers: the checks above say which
    }
    if let Some(i) = expected.iter().zip(&got).position(|(a, b)| a != b) {
        let name = |id: i64| {
            let c = shop.customers.iter().find(|c| c.id == id);
            c.map_or(String::new(), |c| c.name.clone())
        };
        panic!(
            "the report has every customer, but not in order: position {i} should be \
             customer {} ({:?}), saw customer {} ({:?}).\n\
             Customers go by name, then by id when two share a name. Names compare \
             byte by byte (SQLite's default for text, and Rust's for strings): every \
             capital letter before every lower-case one, so \"Zoe\" before \"ada\". \
             Look at {WHERE_REPORT}.",
            expected[i],
            name(expected[i]),
            got[i],
            name(got[i])
        );
    }
}

#[test]
fn report_gives_the_same_rows_however_the_database_stores_them() {
    let shop = Shop::generate(2024, 60, 180);
    let db =
        CountingConnection::in_memory().expect("open an in-memory SQLite database");
    shop.create_reordered_in(&db, 17)
        .expect("seed the shop data in another order");
    let expected = expected_report(&shop);
    // On the course's usual database first: a report that is wrong there is
    // the business of the checks above, not a question of storage order.
    let (_, usual) = seeded(60, 180);
    if first_row_difference(&expected, &run_report(&usual).0).is_some() {
        return;
    }
    let (report, _) = run_report(&db);
    if let Some(difference) = first_row_difference(&expected, &report) {
        panic!(
            "on a database with the same rows stored in another order (ids are not \
             the storage order, rows were inserted shuffled, and other indexes exist), \
             the report differs from the reference: {difference}.\n\
             The report's order held only because of the order SQLite happened to read \
             rows in on the first database; every order the report promises has to be \
             asked for. Look at {WHERE_REPORT}."
        );
    }
}

#[test]
fn report_reflects_changes_made_between_two_calls() {
    let (mut shop, db) = seeded(60, 150);
    let first = run_report(&db).0;
    if first_row_difference(&expected_report(&shop), &first).is_some() {
        return; // already wrong before any change: the checks above say how
    }
    // Change the data the way a working shop does between two reports: a
    // customer renames, a new customer orders, a customer who never ordered
    // orders, an order gains an item.
    let renamed = shop.customers[0].id;
    shop.customers[0].name = "Aaron Abbot".into();
    let newcomer = Customer {
        id: 10_000,
        name: "Zed Zeta".into(),
        email: "zed@example.com".into(),
    };
    let idle = shop
        .customers
        .iter()
        .find(|c| !shop.orders.iter().any(|o| o.customer_id == c.id))
        .map(|c| c.id)
        .expect("the seeded data must contain a customer without orders");
    let placed_at = shop.orders.iter().map(|o| o.placed_at).max().unwrap_or(0) + 60;
    let new_orders = [
        Order {
            id: 20_000,
            customer_id: newcomer.id,
            placed_at,
        },
        Order {
            id: 20_001,
            customer_id: idle,
            placed_at,
        },
    ];
    let new_items = [
        Item {
            id: 30_000,
            order_id: 20_000,
            sku: "SKU-042".into(),
            quantity: 2,
            unit_price_cents: 1_999,
        },
        Item {
            id: 30_001,
            order_id: shop.orders[0].id,
            sku: "SKU-197".into(),
            quantity: 1,
            unit_price_cents: 250,
        },
    ];
    db.execute(
        "UPDATE customers SET name = ?1 WHERE id = ?2",
        params![shop.customers[0].name, renamed],
    )
    .expect("rename a customer");
    db.execute(
        "INSERT INTO customers (id, name, email) VALUES (?1, ?2, ?3)",
        params![newcomer.id, newcomer.name, newcomer.email],
    )
    .expect("add a customer");
    for o in &new_orders {
        db.execute(
            "INSERT INTO orders (id, customer_id, placed_at) VALUES (?1, ?2, ?3)",
            params![o.id, o.customer_id, o.placed_at],
        )
        .expect("add an order");
    }
    for i in &new_items {
        db.execute(
            "INSERT INTO order_items (id, order_id, sku, quantity, unit_price_cents) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![i.id, i.order_id, i.sku, i.quantity, i.unit_price_cents],
        )
        .expect("add an item");
    }
    shop.customers.push(newcomer);
    shop.orders.extend(new_orders);
    shop.items.extend(new_items);

    let second = run_report(&db).0;
    if let Some(difference) = first_row_difference(&expected_report(&shop), &second) {
        let same = if second == first {
            "The second report is identical to the first: the data was not read again."
        } else {
            "The second report differs from the first, but not as the data did."
        };
        panic!(
            "the database changed between two calls (a customer renamed, a new \
             customer with an order, a first order for a customer who had none, an \
             item added to an order), and the second report does not show it: \
             {difference}. {same}\n\
             A report must show the data as it is when it is called. Look at \
             {WHERE_REPORT}."
        );
    }
}

/// A database file of its own in the temporary folder, removed (with its
/// write-ahead log) when dropped, so a second connection can open it too.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> TempDb {
        let path = std::env::temp_dir()
            .join(format!("ch02-{name}-{}.sqlite", std::process::id()));
        let db = TempDb(path);
        db.remove();
        db
    }
    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    /// A counted connection to the file, in WAL mode (so another connection
    /// can commit while this one reads), seeded with `shop`.
    fn seeded(&self, shop: &Shop) -> CountingConnection {
        let conn = rusqlite::Connection::open(&self.0).expect("open a database file");
        conn.execute_batch("PRAGMA journal_mode = WAL")
            .expect("switch the database file to WAL");
        shop.create_in(&conn).expect("seed the shop data");
        let db = CountingConnection::wrap(conn, None).expect("count statements");
        db.reset_count();
        db
    }
    fn other(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.0).expect("open a second connection")
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Runs the report, turning a panic inside it into a ✗ that says when it
/// happened.
fn run_report_catching(db: &CountingConnection, when: &str) -> Vec<CustomerReport> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_report(db)));
    std::panic::set_hook(previous_hook);
    match got {
        Ok((report, _)) => report,
        Err(e) => {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("customer_report panicked {when}: {msg}. Look at {WHERE_REPORT}.")
        }
    }
}

#[test]
fn report_reads_its_data_through_the_connection_it_is_given() {
    let (shop, db) = seeded(30, 90);
    let _ = run_report(&db);
    let (report, statements) = run_report(&db);
    if first_row_difference(&expected_report(&shop), &report).is_some() {
        return; // wrong rows: the checks above say how
    }
    assert!(
        statements >= 1,
        "on its second call, customer_report returned all {} customers and ran \
         {statements} SQL statements on the connection it was given (counted by \
         SQLite's own trace hook, which sees every statement however it is issued). \
         A report shows the database as it is when called, read through the \
         connection it is given; data read any other way is neither counted nor \
         delayed like a statement across a network. Look at {WHERE_REPORT}.",
        report.len()
    );
}

/// Makes `change` in the database with `sql`, the same change in `shop`, and
/// requires the next report to show it.
fn assert_report_shows(db: &CountingConnection, shop: &Shop, change: &str) {
    let report = run_report(db).0;
    if let Some(difference) = first_row_difference(&expected_report(shop), &report) {
        panic!(
            "after {change}, the next report does not show it: {difference}.\n\
             A report must show the data as it is when it is called, whatever \
             changed and however. Look at {WHERE_REPORT}."
        );
    }
}

#[test]
fn report_reflects_an_update_that_adds_no_rows() {
    let (mut shop, db) = seeded(60, 150);
    if first_row_difference(&expected_report(&shop), &run_report(&db).0).is_some() {
        return; // already wrong before any change: the checks above say how
    }
    let id = shop.customers[3].id;
    shop.customers[3].name = "Aaron Abbot".into();
    db.execute(
        "UPDATE customers SET name = 'Aaron Abbot' WHERE id = ?1",
        [id],
    )
    .expect("rename a customer");
    assert_report_shows(
        &db,
        &shop,
        &format!("an UPDATE alone (customer {id} renamed; no row added or removed)"),
    );
    let item = shop.items[0].id;
    shop.items[0].quantity += 5;
    db.execute(
        "UPDATE order_items SET quantity = quantity + 5 WHERE id = ?1",
        [item],
    )
    .expect("change a quantity");
    assert_report_shows(
        &db,
        &shop,
        &format!(
            "an UPDATE alone (item {item}'s quantity raised by 5; no row added or removed)"
        ),
    );
}

#[test]
fn report_reflects_changes_written_through_another_connection() {
    let file = TempDb::new("other-connection");
    let mut shop = Shop::generate(2024, 60, 150);
    let db = file.seeded(&shop);
    if first_row_difference(&expected_report(&shop), &run_report(&db).0).is_some() {
        return; // already wrong before any change: the checks above say how
    }
    let other = file.other();
    let id = shop.customers[5].id;
    shop.customers[5].name = "Zelda Zorn".into();
    other
        .execute(
            "UPDATE customers SET name = 'Zelda Zorn' WHERE id = ?1",
            [id],
        )
        .expect("rename a customer through another connection");
    let item = shop.items[1].id;
    shop.items[1].unit_price_cents += 100;
    other
        .execute(
            "UPDATE order_items SET unit_price_cents = unit_price_cents + 100 \
             WHERE id = ?1",
            [item],
        )
        .expect("change a price through another connection");
    assert_report_shows(
        &db,
        &shop,
        &format!(
            "a change written through another connection to the same database \
             file (customer {id} renamed, item {item}'s price raised by $1.00)"
        ),
    );
}

/// One change another connection commits: a new customer with an order and
/// an item, an existing customer renamed, and an item's quantity raised.
fn apply_change(
    shop: &mut Shop,
    k: usize,
) -> Vec<(String, Vec<rusqlite::types::Value>)> {
    use rusqlite::types::Value::{Integer, Text};
    let cid = 10_000 + k as i64;
    let oid = 20_000 + k as i64;
    let iid = 30_000 + k as i64;
    let placed_at = shop.orders.iter().map(|o| o.placed_at).max().unwrap_or(0) + 60;
    let name = format!("Snap {k}");
    shop.customers.push(Customer {
        id: cid,
        name: name.clone(),
        email: format!("snap{k}@example.com"),
    });
    shop.orders.push(Order {
        id: oid,
        customer_id: cid,
        placed_at,
    });
    shop.items.push(Item {
        id: iid,
        order_id: oid,
        sku: "SKU-007".into(),
        quantity: 1,
        unit_price_cents: 1_000,
    });
    let renamed = shop.customers[k].id;
    let new_name = format!("Moved {k}");
    shop.customers[k].name = new_name.clone();
    let item = shop.items[k].id;
    shop.items[k].quantity += 1;
    vec![
        (
            "INSERT INTO customers (id, name, email) VALUES (?1, ?2, ?3)".into(),
            vec![
                Integer(cid),
                Text(name),
                Text(format!("snap{k}@example.com")),
            ],
        ),
        (
            "INSERT INTO orders (id, customer_id, placed_at) VALUES (?1, ?2, ?3)"
                .into(),
            vec![Integer(oid), Integer(cid), Integer(placed_at)],
        ),
        (
            "INSERT INTO order_items (id, order_id, sku, quantity, unit_price_cents) \
             VALUES (?1, ?2, 'SKU-007', 1, 1000)"
                .into(),
            vec![Integer(iid), Integer(oid)],
        ),
        (
            "UPDATE customers SET name = ?1 WHERE id = ?2".into(),
            vec![Text(new_name), Integer(renamed)],
        ),
        (
            "UPDATE order_items SET quantity = quantity + 1 WHERE id = ?1".into(),
            vec![Integer(item)],
        ),
    ]
}

#[test]
fn report_shows_the_data_as_it_was_at_one_moment() {
    let file = TempDb::new("one-moment");
    let shop = Shop::generate(2024, 60, 150);
    let db = file.seeded(&shop);
    if first_row_difference(&expected_report(&shop), &run_report(&db).0).is_some() {
        return; // wrong rows: the checks above say how
    }
    // The database after 0, 1, 2 and 3 changes; change k is committed by
    // another connection as the report's statement number k starts (before
    // that statement reads anything).
    let mut states = vec![shop.clone()];
    let mut changes = Vec::new();
    for k in 1..=3 {
        let mut next = states[k - 1].clone();
        changes.push(apply_change(&mut next, k));
        states.push(next);
    }
    let other = std::sync::Mutex::new(file.other());
    let applied =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, String)>::new()));
    let log = std::sync::Arc::clone(&applied);
    db.reset_count();
    db.before_each_statement(Some(Box::new(move |n, sql| {
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        let k = log.len();
        if n == 0 || k >= changes.len() {
            return;
        }
        let other = other.lock().unwrap_or_else(|e| e.into_inner());
        // Never panics here (inside SQLite's callback): a change that cannot be
        // committed (the report holds the write lock) is simply not made.
        let ok = other.execute_batch("BEGIN IMMEDIATE").is_ok()
            && changes[k].iter().all(|(q, p)| {
                other
                    .execute(q, rusqlite::params_from_iter(p.iter()))
                    .is_ok()
            })
            && other.execute_batch("COMMIT").is_ok();
        if ok {
            log.push((n, sql.to_string()));
        } else {
            let _ = other.execute_batch("ROLLBACK");
        }
    })));
    let report = run_report_catching(
        &db,
        "when another connection committed a change (a new customer with an order, \
         a rename, a quantity) between two of its statements",
    );
    db.before_each_statement(None);
    let applied = applied.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let moments = applied.len();
    if (0..=moments)
        .any(|k| first_row_difference(&expected_report(&states[k]), &report).is_none())
    {
        return;
    }
    let when: Vec<String> = applied
        .iter()
        .enumerate()
        .map(|(k, (n, sql))| {
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let sql: String = sql.chars().take(60).collect();
            format!("change {} as statement {n} started ({sql}…)", k + 1)
        })
        .collect();
    let difference = first_row_difference(&expected_report(&states[moments]), &report)
        .unwrap_or_default();
    panic!(
        "another connection committed {moments} change(s) while the report ran \
         ({}), each a new customer with an order, a rename and a quantity raised. \
         The report matches the data at none of the {} moments (before, between or \
         after the changes); against the data after them all: {difference}.\n\
         A report shows the data as it was at one moment, even when others write \
         while it runs. Look at {WHERE_REPORT}.",
        when.join("; "),
        moments + 1
    );
}

/// `shop` as it looks after years of trading: half of its line items (those
/// with an even id) name products that are no longer on sale, each under a
/// SKU of its own that the product list has forgotten too, so the report names
/// them by their SKU. `tag` keeps one such shop's SKUs apart from another's.
fn with_retired_products(mut shop: Shop, tag: i64) -> Shop {
    for item in &mut shop.items {
        if item.id % 2 == 0 {
            item.sku = format!("SKU-{}", 10_000 * tag + item.id);
        }
    }
    shop
}

/// `shop` with every line item naming the same listed product.
fn with_one_product(mut shop: Shop) -> Shop {
    for item in &mut shop.items {
        item.sku = "SKU-000".into();
    }
    shop
}

/// The allocations, bytes and most statements of one report over each shop,
/// in turn, each in a database of its own.
fn report_allocations(shops: &[Shop]) -> (Vec<u64>, Vec<u64>, u64) {
    let (mut counts, mut bytes, mut statements) = (Vec::new(), Vec::new(), 0);
    for shop in shops {
        let db =
            CountingConnection::in_memory().expect("open an in-memory SQLite database");
        shop.create_in(&db).expect("seed the shop data");
        db.reset_count();
        let ((_, n), allocs, size) = allocations(|| run_report(&db));
        statements = statements.max(n);
        counts.push(allocs);
        bytes.push(size);
    }
    (counts, bytes, statements)
}

#[test]
fn report_allocations_grow_in_step_with_the_data() {
    // Once on a tiny shop first, so that anything built once per process (and
    // the first call's own setup) is not counted against the sizes below.
    let (_, warm) = seeded(5, 10);
    run_report(&warm);

    let sizes = [(15, 60), (30, 120), (60, 240)];
    let shops: Vec<Shop> = sizes
        .iter()
        .zip(1..)
        .map(|(&(c, o), tag)| with_retired_products(Shop::generate(2024, c, o), tag))
        .collect();
    let (counts, bytes, statements) = report_allocations(&shops);
    // How much more the second doubling cost than the first: about 2 for work
    // in step with the data, about 4 for work that grows with its square.
    let growth = |v: &[u64]| {
        v[2].saturating_sub(v[1]) as f64 / v[1].saturating_sub(v[0]).max(1) as f64
    };
    let extra_orders = (sizes[2].1 - sizes[1].1) as u64;
    let per_order = |v: &[u64]| v[2].saturating_sub(v[1]) / extra_orders;
    let measured = format!(
        "customer_report made {} memory allocations ({} bytes) for {} orders, {} \
         ({} bytes) for {} and {} ({} bytes) for {}, in shops where half the line \
         items name products no longer on sale, each under a SKU of its own",
        counts[0],
        bytes[0],
        sizes[0].1,
        counts[1],
        bytes[1],
        sizes[1].1,
        counts[2],
        bytes[2],
        sizes[2].1
    );
    let note = if statements > 2 {
        format!(
            " (it also ran as many as {statements} statements in one of those reports; \
             the check on statements above comes first, and each statement allocates \
             too)"
        )
    } else {
        String::new()
    };
    let (by_count, by_size) = (growth(&counts), growth(&bytes));
    assert!(
        by_count < 2.5 && by_size < 2.5,
        "{measured}{note}: doubling the data multiplied the extra allocations by \
         {by_count:.1} and the extra bytes by {by_size:.1}, where work in step with \
         the data doubles them (about 2). Something in the report does more work \
         per row the more rows there are. Measure where customer_report spends its \
         time (run `{PROFILE}` and put spans of your own around its parts), and \
         look at {WHERE_REPORT}."
    );
    let (allocs_per_order, bytes_per_order) = (per_order(&counts), per_order(&bytes));
    if allocs_per_order <= MAX_ALLOCATIONS_PER_ORDER
        && bytes_per_order <= MAX_BYTES_PER_ORDER
    {
        return;
    }
    // Where the extra work comes from: the same orders again, with every item
    // naming one listed product. What disappears is work that depends on the
    // products the items name.
    let one: Vec<Shop> = shops[1..].iter().cloned().map(with_one_product).collect();
    let (one_counts, one_bytes, _) = report_allocations(&one);
    let one_per_order = |v: &[u64]| v[1].saturating_sub(v[0]) / extra_orders;
    let (one_allocs, one_bytes) =
        (one_per_order(&one_counts), one_per_order(&one_bytes));
    let from_naming = (allocs_per_order > MAX_ALLOCATIONS_PER_ORDER
        && one_allocs <= MAX_ALLOCATIONS_PER_ORDER)
        || (bytes_per_order > MAX_BYTES_PER_ORDER && one_bytes <= MAX_BYTES_PER_ORDER);
    let look = if from_naming {
        format!(
            " The same orders with every item naming one listed product (SKU-000) \
             made about {one_allocs} allocations ({one_bytes} bytes) per extra order: \
             the extra work depends on which products the items name. Find which \
             part of the report's work per item does it by measuring: run \
             `{PROFILE}` and put a span or a counter of your own around each part \
             of that work, before you change any of it."
        )
    } else {
        format!(
            " Measure where customer_report spends its time (run `{PROFILE}` and put \
             spans of your own around its parts), and look at {WHERE_REPORT}."
        )
    };
    assert!(
        allocs_per_order <= MAX_ALLOCATIONS_PER_ORDER,
        "{measured}{note}: about {allocs_per_order} allocations for each extra order, \
         where an order and its few items need a few dozen at most (their strings \
         and their places in the report's lists; the check allows \
         {MAX_ALLOCATIONS_PER_ORDER}).{look}"
    );
    assert!(
        bytes_per_order <= MAX_BYTES_PER_ORDER,
        "{measured}{note}: about {bytes_per_order} bytes asked for each extra order, \
         where an order and its few items need well under a kilobyte (the check \
         allows {MAX_BYTES_PER_ORDER}).{look}"
    );
}

/// Bytes per order: the reference solution asks for about 510. A structure
/// rebuilt for every row costs kilobytes per order however it is stored, so it
/// shows here even when it takes a single allocation.
const MAX_BYTES_PER_ORDER: u64 = 4_096;

/// An order has about 2.2 items, each with a SKU and a name (two strings); the
/// order adds its formatted total and its share of the lists' growth. The
/// reference solution makes about 10 per order, and a straightforward one that
/// copies the rows before grouping them about twice that. Rebuilding a
/// structure (a lookup table, a compiled pattern, a formatter) for every row
/// makes hundreds per order.
const MAX_ALLOCATIONS_PER_ORDER: u64 = 60;

// ---------------------------------------------------------------------------
// Money

#[test]
fn amounts_are_formatted_as_dollars_with_thousands_separators() {
    for (cents, want) in [
        (0, "$0.00"),
        (1, "$0.01"),
        (5, "$0.05"),
        (99, "$0.99"),
        (100, "$1.00"),
        (99_999, "$999.99"),
        (100_000, "$1,000.00"),
        (123_456, "$1,234.56"),
        (100_000_000, "$1,000,000.00"),
        (-5, "-$0.05"),
        (-250, "-$2.50"),
        (-100_000, "-$1,000.00"),
        (i64::MAX, "$92,233,720,368,547,758.07"),
        (i64::MIN, "-$92,233,720,368,547,758.08"),
    ] {
        assert_formats(cents, want);
    }
    // Every count of dollar digits, both signs, with and without a full group.
    for digits in 1..=17u32 {
        for dollars_part in [10i64.pow(digits - 1), 10i64.pow(digits) - 1] {
            // The largest 17-digit amounts do not fit in i64 cents.
            let Some(cents) = dollars_part.checked_mul(100).map(|c| c + 7) else {
                continue;
            };
            for cents in [cents, -cents] {
                assert_formats(cents, &dollars(cents));
            }
        }
    }
}

fn assert_formats(cents: i64, want: &str) {
    // The formatter's own panic (an overflow at i64::MIN, say) is caught
    // and reported here, so the verdict names the value that caused it.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let got = std::panic::catch_unwind(|| format_cents(cents));
    std::panic::set_hook(previous_hook);
    let got = got.unwrap_or_else(|_| {
        panic!(
            "format_cents({cents}) panicked instead of giving {want:?} (an \
             arithmetic overflow at the edge of i64?). Look at {WHERE_MONEY}."
        )
    });
    assert_eq!(
        got, want,
        "format_cents({cents}) should give {want:?}, saw {got:?}. Look at \
         {WHERE_MONEY}."
    );
}

#[test]
fn formatting_amounts_keeps_no_memory_once_the_results_are_dropped() {
    for cents in 0..1_000 {
        drop(format_cents(cents));
    }
    const AMOUNTS: i64 = 100_000;
    let before = LIVE.with(Cell::get);
    for i in 0..AMOUNTS {
        drop(std::hint::black_box(format_cents(i * 7_919 + 13)));
    }
    let kept = LIVE.with(Cell::get) - before;
    assert!(
        kept <= 16 * 1024,
        "formatting {AMOUNTS} different amounts one after another, each result \
         dropped at once, left {kept} bytes allocated that were never freed (about \
         {} bytes per amount); a formatter keeps nothing once its result is gone, \
         or memory grows with every amount a long-running service ever formats. \
         Look at {WHERE_MONEY}.",
        kept / AMOUNTS
    );
}

// ---------------------------------------------------------------------------
// The mailing list

// ANCHOR: probe
thread_local! {
    /// How many times the Probe type below was hashed or compared.
    static OPS: Cell<u64> = const { Cell::new(0) };
}

/// An item that counts every comparison and hash done on it, so the work of
/// `first_seen_unique` can be measured as a number instead of a time. It has no
/// order and no `Debug`: the only ways to tell two probes apart are `==` and
/// hashing, and both are counted.
struct Probe(u64);

fn tick() {
    OPS.with(|n| n.set(n.get() + 1));
}
// ANCHOR_END: probe
thread_local! {
    /// How many times a Probe was copied (cloned).
    static CLONES: Cell<u64> = const { Cell::new(0) };
}
impl Clone for Probe {
    fn clone(&self) -> Self {
        CLONES.with(|n| n.set(n.get() + 1));
        Probe(self.0)
    }
}
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

/// A value whose hash is shared with many others: only `==` tells them apart.
#[derive(Clone, PartialEq, Eq)]
struct Colliding(u64);

impl Hash for Colliding {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0 % 4).hash(state);
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
         in the order it first appeared; saw {got:?}. Look at {WHERE_UNIQUE}."
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
            "on 4,000 signups, position {i} should hold {} (each value once, in the \
             order it first appeared), saw {:?} ({} items expected, {} returned). \
             Look at {WHERE_UNIQUE}.",
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
fn first_seen_unique_tells_apart_items_whose_hashes_collide() {
    // 40 distinct values, each twice, that share only 4 hashes between them.
    let items: Vec<Colliding> = (0..80).map(|i| Colliding((i * 7) % 40)).collect();
    let got: Vec<u64> = first_seen_unique(&items).iter().map(|c| c.0).collect();
    let mut seen = std::collections::HashSet::new();
    let want: Vec<u64> = items
        .iter()
        .map(|c| c.0)
        .filter(|v| seen.insert(*v))
        .collect();
    assert!(
        got == want,
        "on 80 items holding 40 distinct values whose hashes collide (4 hashes for 40 \
         values), expected the 40 values once each in first-seen order: {want:?}; saw \
         {} items: {got:?}. Two items with the same hash are not the same item. Look \
         at {WHERE_UNIQUE}.",
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
    let sizes = [1_000, 2_000, 4_000];
    let counts: Vec<u64> = sizes.iter().map(|&n| ops(n)).collect();
    let ratio = counts[2] as f64 / counts[1].max(1) as f64;
    assert!(
        ratio < 2.5,
        "doubling the input from {} to {} items multiplied the comparisons and \
         hashes by {ratio:.1} (counts for {sizes:?} items: {counts:?}); work in step \
         with the input doubles (about 2), work that compares each item with \
         everything before it quadruples (about 4). Look at {WHERE_UNIQUE}.",
        sizes[1],
        sizes[2]
    );
}

#[test]
fn first_seen_unique_copies_only_what_it_keeps() {
    // 4,000 signups holding 1,000 distinct values, each four times.
    let n: u64 = 4_000;
    let input: Vec<Probe> = (0..n).map(|i| Probe((i * 7919) % (n / 4))).collect();
    CLONES.with(|c| c.set(0));
    let out = std::hint::black_box(first_seen_unique(&input));
    let clones = CLONES.with(|c| c.get());
    let distinct = out.len() as u64;
    if distinct != n / 4 {
        return; // wrong content: the first check on the mailing list says how
    }
    assert!(
        clones <= 2 * distinct,
        "on {n} signups holding {distinct} distinct values (each four times), \
         first_seen_unique copied (cloned) items {clones} times: at most two copies \
         per distinct value ({}) are needed, so the repeats were copied too, and \
         whatever is done with those copies afterwards is work the counts of \
         comparisons and hashes above do not see. Look at {WHERE_UNIQUE}.",
        2 * distinct
    );
}
