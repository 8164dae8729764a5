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

/// Names as people type them: mostly capitalised, some not (`ada`, `de Vries`),
/// one outside ASCII. Compared byte by byte (SQLite's default, and Rust's),
/// every capital sorts before every lower-case letter; a case-insensitive sort
/// puts `ada Kim` beside `Ada Kim` instead, so the data tells the two apart.
const FIRST: [&str; 10] = [
    "Ada", "Bo", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "ada", "Émile",
];
const LAST: [&str; 6] = ["Kim", "Lopez", "Moreau", "Nowak", "Okafor", "de Vries"];
/// 2026-01-01T00:00:00Z; order times spread over a few hours after it.
const EPOCH: i64 = 1_767_225_600;

impl Shop {
    /// `customers` customers and `orders` orders, the same for the same arguments.
    ///
    /// About one customer in five has no orders, about one order in ten has no
    /// items, names repeat once there are more than 60 customers (and differ
    /// only in case sooner), and order times are drawn from a range small
    /// enough that many orders share a second. SKUs run from `SKU-000` to
    /// `SKU-199`.
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
        self.insert_in_order(conn, |_| {})
    }

    /// The same data in a database that stores it in another order: ids are
    /// ordinary columns (not SQLite's rowid), rows are inserted in a shuffled
    /// order, and the indexes differ from [`SCHEMA`]'s ([`REORDERED_SCHEMA`]).
    /// A query that returns rows in the order the report promises only
    /// because of how SQLite happened to read them gives another order here.
    pub fn create_reordered_in(
        &self,
        conn: &Connection,
        seed: u64,
    ) -> rusqlite::Result<()> {
        conn.execute_batch(REORDERED_SCHEMA)?;
        let mut rng = Rng::new(seed);
        self.insert_in_order(conn, |rows| shuffle(rows, &mut rng))
    }

    /// Inserts customers, orders and items in one transaction, each table's
    /// rows in the order `arrange` leaves a list of their indexes in.
    fn insert_in_order(
        &self,
        conn: &Connection,
        mut arrange: impl FnMut(&mut Vec<usize>),
    ) -> rusqlite::Result<()> {
        let mut order = |n: usize| {
            let mut rows: Vec<usize> = (0..n).collect();
            arrange(&mut rows);
            rows
        };
        conn.execute_batch("BEGIN")?;
        {
            let mut c = conn.prepare(
                "INSERT INTO customers (id, name, email) VALUES (?1, ?2, ?3)",
            )?;
            for k in order(self.customers.len()) {
                let x = &self.customers[k];
                c.execute(params![x.id, x.name, x.email])?;
            }
            let mut o = conn.prepare(
                "INSERT INTO orders (id, customer_id, placed_at) VALUES (?1, ?2, ?3)",
            )?;
            for k in order(self.orders.len()) {
                let x = &self.orders[k];
                o.execute(params![x.id, x.customer_id, x.placed_at])?;
            }
            let mut i = conn.prepare(
                "INSERT INTO order_items (id, order_id, sku, quantity, unit_price_cents)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for k in order(self.items.len()) {
                let x = &self.items[k];
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

/// The tables of [`SCHEMA`] with the same columns, stored differently: `id` is
/// an ordinary unique column, so a table is read in insertion order rather than
/// by id; orders are indexed by customer and time (oldest first), items by
/// order and SKU (descending), so reading an index gives neither the report's
/// order of orders nor that of items.
pub const REORDERED_SCHEMA: &str = "
CREATE TABLE customers (
    id    INTEGER NOT NULL UNIQUE,
    name  TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE orders (
    id          INTEGER NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed_at   INTEGER NOT NULL
);
CREATE INDEX orders_by_customer_oldest_first ON orders(customer_id, placed_at, id);
CREATE TABLE order_items (
    id               INTEGER NOT NULL UNIQUE,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    sku              TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
CREATE INDEX order_items_by_order_and_sku ON order_items(order_id, sku DESC);
";

/// Fisher-Yates with the seeded generator: the same permutation every time.
fn shuffle(rows: &mut [usize], rng: &mut Rng) {
    for i in (1..rows.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_data_contains_the_awkward_cases() {
        let shop = Shop::generate(7, 120, 200);
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
        names.sort_by_key(|n| n.to_ascii_lowercase());
        assert!(
            names
                .windows(2)
                .any(|w| w[0] != w[1] && w[0].eq_ignore_ascii_case(w[1])),
            "two names that differ only in case"
        );
    }

    #[test]
    fn the_reordered_database_holds_the_same_rows_in_another_order() {
        let shop = Shop::generate(3, 40, 120);
        let plain = Connection::open_in_memory().unwrap();
        shop.create_in(&plain).unwrap();
        let other = Connection::open_in_memory().unwrap();
        shop.create_reordered_in(&other, 9).unwrap();
        // Rows as SQLite reads them without ORDER BY, and as a set.
        let read = |c: &Connection, sql: &str| -> Vec<i64> {
            let mut s = c.prepare(sql).unwrap();
            s.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        for table in ["customers", "orders", "order_items"] {
            let sql = format!("SELECT id FROM {table} NOT INDEXED");
            let (a, b) = (read(&plain, &sql), read(&other, &sql));
            assert_ne!(a, b, "{table}: read in the same order");
            let (mut a, mut b) = (a, b);
            a.sort();
            b.sort();
            assert_eq!(a, b, "{table}: different rows");
        }
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
