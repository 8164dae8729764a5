//! The store: accounts and their orders.
//!
//! Every method that reads is one of the store's *named queries*, the ones the
//! application runs on every request: an account by key, an account by email,
//! a page of the account list, an account's orders, the orders that used a
//! coupon. Each must stay fast when the tables hold hundreds of thousands of
//! rows, and each shows only accounts that are not deleted (with their orders).
//!
//! The rules the application relies on:
//! - An email belongs to at most one account that is not deleted, whatever its
//!   case: `Ann@Example.com` and `ann@example.com` are the same address. An
//!   account keeps the email as it was typed. The rule holds when two
//!   connections sign up at the same moment.
//! - A deleted account (and its orders) can be brought back with
//!   `restore_account`, unless its email has been taken by a live account
//!   meanwhile (then `restore_account` returns an error).
//! - Accounts are listed by name (compared as stored, character by character:
//!   `ada` comes after `Barbara`), then by key when names are equal; pages
//!   follow each other through the `Cursor` a page hands back.
//! - Orders are listed newest first: the reverse of the order they were
//!   placed, even when the clock stepped back in between.
//! - Keys sort in the order the rows were created, however many are made in
//!   one millisecond.
//! - `created_at` and `updated_at` are the clock's milliseconds; every change
//!   (a delete, a restore) moves `updated_at`. Both are `None` for rows that
//!   existed before the store kept them, not the time of an upgrade.
//!
//! Every query below says `deleted_at IS NULL` itself. That is the trap of soft
//! deletes: one query that forgets it shows deleted accounts again, and a
//! partial index (`WHERE deleted_at IS NULL`) is used only by queries that
//! repeat the condition. A view of live accounts would keep the filter in one
//! place; here each query is short enough to read it.

use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::ContextV7;

use crate::clock::Clock;
use crate::id::Id;
use crate::schema;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: Id,
    /// As the account typed it.
    pub email: String,
    pub name: String,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: Id,
    pub account_id: Id,
    pub total_cents: i64,
    /// A JSON object, e.g. `{"coupon": "SPRING", "channel": "web"}`.
    pub metadata: String,
    pub created_at: Option<i64>,
}

/// One page of the account list.
#[derive(Clone, Debug)]
pub struct Page {
    pub accounts: Vec<Account>,
    /// Where the next page starts; `None` exactly when no account follows
    /// this page.
    pub next: Option<Cursor>,
}

// ANCHOR: cursor
/// Where a page of the account list starts: the sort key of the last account
/// of the page before. Both columns: the name alone is not unique, and a
/// cursor on the name alone would skip (with `>`) or repeat (with `>=`) the
/// accounts that share the name of the last one on a page.
#[derive(Clone, Debug)]
pub struct Cursor {
    name: String,
    id: Id,
}
// ANCHOR_END: cursor

pub struct Store<'c> {
    conn: &'c Connection,
    clock: &'c dyn Clock,
    /// Keeps keys made in the same millisecond in order (see id.rs).
    context: ContextV7,
}

const ACCOUNT_COLUMNS: &str = "id, email, name, created_at, updated_at";

impl<'c> Store<'c> {
    /// Opens the store on a database, bringing its schema up to date.
    pub fn open(conn: &'c Connection, clock: &'c dyn Clock) -> rusqlite::Result<Self> {
        let context = ContextV7::new();
        schema::migrate(conn, clock, &context)?;
        Ok(Self {
            conn,
            clock,
            context,
        })
    }

    fn new_id(&self) -> Id {
        Id::new_v7(&self.context, self.clock.now_millis())
    }

    /// Creates an account; fails if a live account already has this email.
    pub fn create_account(&self, email: &str, name: &str) -> rusqlite::Result<Id> {
        let id = self.new_id();
        let now = self.clock.now_millis();
        // The unique partial index refuses a live duplicate in any case; the
        // database says so, not a SELECT before the INSERT that a concurrent
        // signup could slip between.
        self.conn
            .prepare_cached(
                "INSERT INTO accounts (id, email, name, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )?
            .execute(params![id, email, name, now])?;
        Ok(id)
    }

    /// Deletes an account; `false` when there was no such live account.
    pub fn delete_account(&self, id: &Id) -> rusqlite::Result<bool> {
        // A soft delete: the row stays, with its orders, so it can be restored
        // and the orders still add up in the accounts. It costs the space of
        // the row, and a filter in every query.
        let changed = self.conn.execute(
            "UPDATE accounts SET deleted_at = ?2, updated_at = ?2
             WHERE id = ?1 AND deleted_at IS NULL",
            params![id, self.clock.now_millis()],
        )?;
        Ok(changed > 0)
    }

    /// Brings a deleted account back, with its orders; `false` when there was
    /// no such deleted account. Fails if a live account has taken its email.
    pub fn restore_account(&self, id: &Id) -> rusqlite::Result<bool> {
        // Back into the partial unique index: refused if the email is live.
        let changed = self.conn.execute(
            "UPDATE accounts SET deleted_at = NULL, updated_at = ?2
             WHERE id = ?1 AND deleted_at IS NOT NULL",
            params![id, self.clock.now_millis()],
        )?;
        Ok(changed > 0)
    }

    /// Places an order for a live account. `metadata` is a JSON object.
    pub fn place_order(
        &self,
        account: &Id,
        total_cents: i64,
        metadata: &str,
    ) -> rusqlite::Result<Id> {
        let id = self.new_id();
        let changed = self
            .conn
            .prepare_cached(
                "INSERT INTO orders (id, account_id, total_cents, metadata, created_at)
                 SELECT ?1, id, ?3, json(?4), ?5 FROM accounts
                 WHERE id = ?2 AND deleted_at IS NULL",
            )?
            .execute(params![
                id,
                account,
                total_cents,
                metadata,
                self.clock.now_millis()
            ])?;
        if changed == 0 {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        Ok(id)
    }

    // ANCHOR: named_queries
    /// Named query: an account by its key.
    pub fn find_account(&self, id: &Id) -> rusqlite::Result<Option<Account>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts
                 WHERE id = ?1 AND deleted_at IS NULL"
            ))?
            .query_row(params![id], account_from_row)
            .optional()
    }

    /// Named query: an account by its email, whatever its case.
    pub fn account_by_email(&self, email: &str) -> rusqlite::Result<Option<Account>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts
                 WHERE email = ?1 COLLATE NOCASE AND deleted_at IS NULL"
            ))?
            .query_row(params![email], account_from_row)
            .optional()
    }

    /// Named query: up to `limit` accounts by name then key, starting where
    /// `after` says (the first page when `None`).
    pub fn accounts_page(
        &self,
        after: Option<&Cursor>,
        limit: usize,
    ) -> rusqlite::Result<Page> {
        // One row more than the page: if it comes, another page follows.
        let limit_sql = i64::try_from(limit).map_or(i64::MAX, |l| l.saturating_add(1));
        // Keyset pagination: seek to the last row of the page before, then
        // read `limit` rows. The cost is the same at page 1 and page 10,000;
        // OFFSET would read and throw away every row before the page. The
        // price: no jumping to page 500 (only next, from a cursor).
        let mut accounts = match after {
            None => self
                .conn
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts
                     WHERE deleted_at IS NULL
                     ORDER BY name, id LIMIT ?1"
                ))?
                .query_map(params![limit_sql], account_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            Some(c) => self
                .conn
                .prepare_cached(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts
                     WHERE deleted_at IS NULL AND (name, id) > (?1, ?2)
                     ORDER BY name, id LIMIT ?3"
                ))?
                .query_map(params![c.name, c.id, limit_sql], account_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?,
        };
        let more = accounts.len() > limit;
        accounts.truncate(limit);
        let next = match accounts.last() {
            Some(last) if more => Some(Cursor {
                name: last.name.clone(),
                id: last.id,
            }),
            _ => None,
        };
        Ok(Page { accounts, next })
    }

    /// Named query: an account's orders, newest first.
    pub fn orders_of(&self, account: &Id) -> rusqlite::Result<Vec<Order>> {
        // Keys sort by creation time, so `id DESC` is newest first, and the
        // index (account_id, id) hands the rows over already in that order.
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.id, o.account_id, o.total_cents, o.metadata, o.created_at
             FROM accounts a JOIN orders o ON o.account_id = a.id
             WHERE a.id = ?1 AND a.deleted_at IS NULL
             ORDER BY o.id DESC",
        )?;
        let orders = stmt.query_map(params![account], order_from_row)?;
        orders.collect()
    }

    /// Named query: the orders whose metadata names this coupon, newest first.
    pub fn orders_with_coupon(&self, coupon: &str) -> rusqlite::Result<Vec<Order>> {
        // The same expression as the index orders_by_coupon, character for
        // character: SQLite matches expressions, it does not reason about them.
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.id, o.account_id, o.total_cents, o.metadata, o.created_at
             FROM orders o JOIN accounts a ON a.id = o.account_id
             WHERE json_extract(o.metadata, '$.coupon') = ?1
               AND a.deleted_at IS NULL
             ORDER BY o.id DESC",
        )?;
        let orders = stmt.query_map(params![coupon], order_from_row)?;
        orders.collect()
    }
    // ANCHOR_END: named_queries
}

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        created_at: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: row.get(0)?,
        account_id: row.get(1)?,
        total_cents: row.get(2)?,
        metadata: row.get(3)?,
        created_at: row.get(4)?,
    })
}
