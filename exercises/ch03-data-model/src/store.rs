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

use rusqlite::{Connection, OptionalExtension, Row, params};

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

/// Where a page of the account list starts. Opaque to callers.
#[derive(Clone, Debug)]
pub struct Cursor {
    offset: i64,
}

pub struct Store<'c> {
    conn: &'c Connection,
    #[allow(dead_code)] // nothing asks for the time yet
    clock: &'c dyn Clock,
}

impl<'c> Store<'c> {
    /// Opens the store on a database, bringing its schema up to date.
    pub fn open(conn: &'c Connection, clock: &'c dyn Clock) -> rusqlite::Result<Self> {
        schema::migrate(conn)?;
        Ok(Self { conn, clock })
    }

    /// Creates an account; fails if a live account already has this email.
    pub fn create_account(&self, email: &str, name: &str) -> rusqlite::Result<Id> {
        self.conn.execute(
            "INSERT INTO accounts (email, name) VALUES (?1, ?2)",
            params![email, name],
        )?;
        Ok(Id::last_inserted(self.conn))
    }

    /// Deletes an account; `false` when there was no such live account.
    pub fn delete_account(&self, id: &Id) -> rusqlite::Result<bool> {
        // An account's orders go with it.
        self.conn
            .execute("DELETE FROM orders WHERE account_id = ?1", params![id])?;
        let deleted = self
            .conn
            .execute("DELETE FROM accounts WHERE id = ?1", params![id])?;
        Ok(deleted > 0)
    }

    /// Brings a deleted account back, with its orders; `false` when there was
    /// no such deleted account. Fails if a live account has taken its email.
    pub fn restore_account(&self, _id: &Id) -> rusqlite::Result<bool> {
        // Deleted rows are gone for good: there is nothing to bring back.
        Ok(false)
    }

    /// Places an order for a live account. `metadata` is a JSON object.
    pub fn place_order(
        &self,
        account: &Id,
        total_cents: i64,
        metadata: &str,
    ) -> rusqlite::Result<Id> {
        self.conn.execute(
            "INSERT INTO orders (account_id, total_cents, metadata)
             SELECT id, ?2, json(?3) FROM accounts WHERE id = ?1",
            params![account, total_cents, metadata],
        )?;
        if self.conn.changes() == 0 {
            return Err(rusqlite::Error::QueryReturnedNoRows);
        }
        Ok(Id::last_inserted(self.conn))
    }

    // ANCHOR: named_queries
    /// Named query: an account by its key.
    pub fn find_account(&self, id: &Id) -> rusqlite::Result<Option<Account>> {
        self.conn
            .query_row(
                "SELECT id, email, name FROM accounts WHERE id = ?1",
                params![id],
                account_from_row,
            )
            .optional()
    }

    /// Named query: an account by its email, whatever its case.
    pub fn account_by_email(&self, email: &str) -> rusqlite::Result<Option<Account>> {
        self.conn
            .query_row(
                "SELECT id, email, name FROM accounts WHERE email = ?1",
                params![email],
                account_from_row,
            )
            .optional()
    }

    /// Named query: up to `limit` accounts by name then key, starting where
    /// `after` says (the first page when `None`).
    pub fn accounts_page(
        &self,
        after: Option<&Cursor>,
        limit: usize,
    ) -> rusqlite::Result<Page> {
        let offset = after.map_or(0, |c| c.offset);
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, email, name FROM accounts
             ORDER BY name, id
             LIMIT ?1 OFFSET ?2",
        )?;
        let accounts = stmt
            .query_map(params![limit as i64, offset], account_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let next = (accounts.len() == limit).then(|| Cursor {
            offset: offset + accounts.len() as i64,
        });
        Ok(Page { accounts, next })
    }

    /// Named query: an account's orders, newest first.
    pub fn orders_of(&self, account: &Id) -> rusqlite::Result<Vec<Order>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, account_id, total_cents, metadata FROM orders
             WHERE account_id = ?1
             ORDER BY id DESC",
        )?;
        let orders = stmt.query_map(params![account], order_from_row)?;
        orders.collect()
    }

    /// Named query: the orders whose metadata names this coupon, newest first.
    pub fn orders_with_coupon(&self, coupon: &str) -> rusqlite::Result<Vec<Order>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, account_id, total_cents, metadata FROM orders
             WHERE json_extract(metadata, '$.coupon') = ?1
             ORDER BY id DESC",
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
        created_at: None,
        updated_at: None,
    })
}

fn order_from_row(row: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: row.get(0)?,
        account_id: row.get(1)?,
        total_cents: row.get(2)?,
        metadata: row.get(3)?,
        created_at: None,
    })
}
