//! The orders' storage: a trait the service talks to, and its SQLite version.
//!
//! The service only sees `Orders`, so a test can hand it anything that
//! implements the trait. `SqliteOrders` is the one that runs in production,
//! and its SQL is code like any other.

use std::sync::Mutex;

use rusqlite::{Connection, params};

/// Why the storage could not do what was asked.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage failed: {}", self.0)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: i64,
    pub customer: String,
    pub sku: String,
    pub quantity: u32,
    pub total_cents: u64,
    pub cancelled: bool,
}

// ANCHOR: trait
/// What the service needs from storage.
pub trait Orders: Send + Sync {
    /// Stores a new order and returns its id.
    fn insert(
        &self,
        customer: &str,
        sku: &str,
        quantity: u32,
        total_cents: u64,
    ) -> Result<i64, StoreError>;

    /// The customer's orders that are not cancelled, oldest first.
    fn open_orders_of(&self, customer: &str) -> Result<Vec<Order>, StoreError>;

    /// Cancels one order; false when there is no such order.
    fn cancel(&self, id: i64) -> Result<bool, StoreError>;
}
// ANCHOR_END: trait

/// Orders in a SQLite database.
pub struct SqliteOrders {
    conn: Mutex<Connection>,
}

impl SqliteOrders {
    /// A fresh, empty database in memory.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    /// Uses `conn`, creating the table if it is not there yet.
    pub fn with_connection(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves no half-done SQL behind
        // (each statement is atomic), so the connection is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS orders (
    id          INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,
    sku         TEXT NOT NULL,
    quantity    INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    cancelled   INTEGER NOT NULL DEFAULT 0
)";

impl Orders for SqliteOrders {
    fn insert(
        &self,
        customer: &str,
        sku: &str,
        quantity: u32,
        total_cents: u64,
    ) -> Result<i64, StoreError> {
        let total = i64::try_from(total_cents)
            .map_err(|_| StoreError(format!("total {total_cents} is out of range")))?;
        let conn = self.conn();
        conn.execute(
            "INSERT INTO orders (customer, sku, quantity, total_cents) \
             VALUES (?1, ?2, ?3, ?4)",
            params![customer, sku, quantity, total],
        )?;
        Ok(conn.last_insert_rowid())
    }

    fn open_orders_of(&self, customer: &str) -> Result<Vec<Order>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, customer, sku, quantity, total_cents, cancelled FROM orders \
             WHERE customer = ?1 AND cancelled = 0 ORDER BY id",
        )?;
        let rows = stmt.query_map([customer], |row| {
            Ok(Order {
                id: row.get(0)?,
                customer: row.get(1)?,
                sku: row.get(2)?,
                quantity: row.get(3)?,
                total_cents: row.get::<_, i64>(4)?.max(0) as u64,
                cancelled: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn cancel(&self, id: i64) -> Result<bool, StoreError> {
        let changed = self
            .conn()
            .execute("UPDATE orders SET cancelled = 1 WHERE id = ?1", [id])?;
        Ok(changed > 0)
    }
}
