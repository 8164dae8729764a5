//! Seeded shop data: customers, their orders, and the orders' line items.
//!
//! The generator deliberately produces the cases that wrong queries get wrong:
//! customers who never ordered, orders with no line items, customers who share a
//! name, and orders placed in the same second. A check that compares a report
//! against this data therefore notices an `INNER JOIN` that drops rows or a sort
//! that breaks ties differently.

use rusqlite::{Connection, params};

use crate::rng::Rng;

/// The tables the shop data lives in. Foreign keys are indexed: the chapters that
/// use this data are about query shape, not about missing indexes.
pub const SCHEMA: &str = "
CREATE TABLE customers (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed_at   INTEGER NOT NULL
);
CREATE INDEX orders_by_customer ON orders(customer_id);
CREATE TABLE order_items (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    sku              TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
CREATE INDEX order_items_by_order ON order_items(order_id);
";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub customer_id: i64,
    /// Seconds since the Unix epoch.
    pub placed_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub order_id: i64,
    pub sku: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
}

/// A whole seeded data set, kept in memory so checks can compute the expected
/// answer without SQL and compare it with what the code under test returns.
#[derive(Clone, Debug, Default)]
pub struct Shop {
    pub customers: Vec<Customer>,
    pub orders: Vec<Order>,
    pub items: Vec<Item>,
}

const FIRST: [&str; 8] = [
    "Ada", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana",
];
const LAST: [&str; 6] = ["Kim", "Lopez", "Moreau", "Nowak", "Okafor", "Park"];
/// 2026-01-01T00:00:00Z; order times spread over a few hours after it.
const EPOCH: i64 = 1_767_225_600;

impl Shop {
    /// `customers` customers and `orders` orders, the same for the same arguments.
    ///
    /// About one customer in five has no orders, about one order in ten has no
    /// items, names repeat once there are more than 48 customers, and order times
    /// are drawn from a range small enough that many orders share a second.
    pub fn generate(seed: u64, customers: usize, orders: usize) -> Shop {
        let mut rng = Rng::new(seed);
        let mut shop = Shop::default();
        for i in 0..customers {
            let name = format!(
                "{} {}",
                FIRST[rng.below(FIRST.len() as u64) as usize],
                LAST[rng.below(LAST.len() as u64) as usize]
            );
            let email = format!("customer{}@example.com", i + 1);
            shop.customers.push(Customer {
                id: i as i64 + 1,
                name,
                email,
            });
        }
        // Every fifth customer never orders; the rest share the orders at random.
        let buyers: Vec<i64> = shop
            .customers
            .iter()
            .map(|c| c.id)
            .filter(|id| id % 5 != 0)
            .collect();
        let spread = (orders as u64 / 3).max(1);
        for i in 0..orders {
            if buyers.is_empty() {
                break;
            }
            let order = Order {
                id: i as i64 + 1,
                customer_id: buyers[rng.below(buyers.len() as u64) as usize],
                placed_at: EPOCH + rng.below(spread) as i64,
            };
            let item_count = if rng.chance(10) { 0 } else { 1 + rng.below(4) };
            for _ in 0..item_count {
                shop.items.push(Item {
                    id: shop.items.len() as i64 + 1,
                    order_id: order.id,
                    sku: format!("SKU-{:03}", rng.below(200)),
                    quantity: 1 + rng.below(3) as i64,
                    unit_price_cents: 199 + 50 * rng.below(100) as i64,
                });
            }
            shop.orders.push(order);
        }
        shop
    }

    /// Creates the schema and inserts everything, in one transaction.
    pub fn create_in(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch("BEGIN")?;
        {
            let mut c = conn.prepare("INSERT INTO customers VALUES (?1, ?2, ?3)")?;
            for x in &self.customers {
                c.execute(params![x.id, x.name, x.email])?;
            }
            let mut o = conn.prepare("INSERT INTO orders VALUES (?1, ?2, ?3)")?;
            for x in &self.orders {
                o.execute(params![x.id, x.customer_id, x.placed_at])?;
            }
            let mut i =
                conn.prepare("INSERT INTO order_items VALUES (?1, ?2, ?3, ?4, ?5)")?;
            for x in &self.items {
                i.execute(params![
                    x.id,
                    x.order_id,
                    x.sku,
                    x.quantity,
                    x.unit_price_cents
                ])?;
            }
        }
        conn.execute_batch("COMMIT")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_data_contains_the_awkward_cases() {
        let shop = Shop::generate(7, 60, 200);
        let ordered = |c: &Customer| shop.orders.iter().any(|o| o.customer_id == c.id);
        assert!(
            shop.customers.iter().any(|c| !ordered(c)),
            "a customer without orders"
        );
        let has_items = |o: &Order| shop.items.iter().any(|i| i.order_id == o.id);
        assert!(
            shop.orders.iter().any(|o| !has_items(o)),
            "an order without items"
        );
        let mut times: Vec<i64> = shop.orders.iter().map(|o| o.placed_at).collect();
        times.sort();
        assert!(
            times.windows(2).any(|w| w[0] == w[1]),
            "two orders in one second"
        );
        let mut names: Vec<&str> =
            shop.customers.iter().map(|c| c.name.as_str()).collect();
        names.sort();
        assert!(
            names.windows(2).any(|w| w[0] == w[1]),
            "two customers with one name"
        );
    }

    #[test]
    fn inserts_everything() {
        let shop = Shop::generate(1, 20, 50);
        let conn = Connection::open_in_memory().unwrap();
        shop.create_in(&conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM order_items", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, shop.items.len());
    }
}
