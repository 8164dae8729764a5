//! The repository through real SQLite: the SQL's filters are what is tested.

use crate::repo::{Orders, SqliteOrders};

fn store() -> SqliteOrders {
    SqliteOrders::in_memory().unwrap()
}

fn ids(orders: &SqliteOrders, customer: &str) -> Vec<i64> {
    let listed = orders.open_orders_of(customer).unwrap();
    listed.iter().map(|o| o.id).collect()
}

#[test]
fn a_stored_order_reads_back_as_it_was_written() {
    let orders = store();
    let id = orders.insert("ada", "mug", 3, 4_240).unwrap();
    let listed = orders.open_orders_of("ada").unwrap();
    assert_eq!(listed.len(), 1);
    let order = &listed[0];
    assert_eq!(
        (
            order.id,
            order.sku.as_str(),
            order.quantity,
            order.total_cents
        ),
        (id, "mug", 3, 4_240)
    );
    assert!(!order.cancelled);
}

#[test]
fn each_customer_sees_only_their_own_orders() {
    let orders = store();
    let ada = orders.insert("ada", "mug", 1, 100).unwrap();
    orders.insert("bob", "tea", 1, 100).unwrap();
    assert_eq!(ids(&orders, "ada"), [ada]);
}

#[test]
fn a_cancelled_order_leaves_the_customers_open_orders() {
    let orders = store();
    let first = orders.insert("ada", "mug", 1, 100).unwrap();
    let second = orders.insert("ada", "tea", 2, 200).unwrap();
    assert!(orders.cancel(first).unwrap());
    assert_eq!(ids(&orders, "ada"), [second]);
}

#[test]
fn cancelling_one_order_leaves_the_earlier_and_later_ones_open() {
    let orders = store();
    let first = orders.insert("ada", "mug", 1, 100).unwrap();
    let middle = orders.insert("ada", "tea", 2, 200).unwrap();
    let last = orders.insert("ada", "kettle", 1, 4_000).unwrap();
    let other = orders.insert("bob", "kettle", 1, 4_000).unwrap();
    assert!(orders.cancel(middle).unwrap());
    assert_eq!(ids(&orders, "ada"), [first, last]);
    assert_eq!(ids(&orders, "bob"), [other]);
}

#[test]
fn cancelling_an_unknown_order_says_so() {
    let orders = store();
    orders.insert("ada", "mug", 1, 100).unwrap();
    assert!(!orders.cancel(99).unwrap());
    assert_eq!(orders.open_orders_of("ada").unwrap().len(), 1);
}

#[test]
fn a_storage_failure_says_what_failed() {
    let error = crate::repo::StoreError("disk full".into());
    assert_eq!(error.to_string(), "storage failed: disk full");
}
