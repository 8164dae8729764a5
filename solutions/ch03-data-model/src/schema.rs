//! The database schema, as numbered migrations.
//!
//! SQLite keeps a free integer in every database's header, `PRAGMA
//! user_version`. It records the last migration applied, so opening a database
//! applies only the migrations it has not seen: once each, in order, each
//! inside the same transaction as the version bump. A crash in the middle
//! leaves the database exactly at the previous version, and opening it twice
//! changes nothing the second time.
//!
//! Version 1 is the schema the store shipped with, kept word for word
//! (`IF NOT EXISTS`, because version-1 databases were made without a version
//! number). Never edit a migration that has shipped: add the next one.

use rusqlite::{Connection, params};
use uuid::ContextV7;

use crate::clock::Clock;
use crate::id::Id;

/// The version a database has once `migrate` returns.
pub const LATEST: i64 = 2;

/// Brings the database up to `LATEST`, keeping every row.
pub fn migrate(
    conn: &Connection,
    clock: &dyn Clock,
    context: &ContextV7,
) -> rusqlite::Result<()> {
    // A table rebuild drops a table that others refer to, which an enforced
    // foreign key refuses. SQLite's own recipe: turn enforcement off (it
    // cannot change inside a transaction), rebuild, then check every foreign
    // key before committing, and turn enforcement back on.
    let enforced: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    // IMMEDIATE: take the write lock before reading the version, so that two
    // processes opening one old database cannot both decide to migrate it.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = apply(conn, clock, context).and_then(|()| foreign_keys_hold(conn));
    let ended = match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => conn.execute_batch("ROLLBACK").and(Err(e)),
    };
    conn.pragma_update(None, "foreign_keys", enforced)?;
    ended
}

fn foreign_keys_hold(conn: &Connection) -> rusqlite::Result<()> {
    let broken: i64 =
        conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })?;
    if broken > 0 {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("{broken} rows refer to rows that do not exist")),
        ));
    }
    Ok(())
}

fn apply(
    conn: &Connection,
    clock: &dyn Clock,
    context: &ContextV7,
) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 1 {
        v1_shipped_schema(conn)?;
    }
    if version < 2 {
        v2_keys_timestamps_soft_deletes(conn, clock, context)?;
    }
    if version < LATEST {
        conn.pragma_update(None, "user_version", LATEST)?;
    }
    Ok(())
}

fn v1_shipped_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS accounts (
             id    INTEGER PRIMARY KEY AUTOINCREMENT,
             email TEXT NOT NULL UNIQUE,
             name  TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS orders (
             id          INTEGER PRIMARY KEY AUTOINCREMENT,
             account_id  INTEGER NOT NULL REFERENCES accounts (id),
             total_cents INTEGER NOT NULL,
             -- Free-form JSON: {\"coupon\": \"SPRING\", \"channel\": \"web\"}
             metadata    TEXT NOT NULL DEFAULT '{}'
         );",
    )
}

// ANCHOR: v2_schema
/// Version 2: UUIDv7 keys, audit timestamps, soft deletes, and an index for
/// every named query. SQLite cannot change a column's type or drop a UNIQUE
/// constraint in place, so both tables are rebuilt: create the new table, copy
/// every row, drop the old one, rename the new one.
const V2_TABLES: &str = "
    -- Keys are UUIDv7 as 16-byte BLOBs (see id.rs). WITHOUT ROWID stores the
    -- rows in the primary key's own B-tree: one tree per table instead of a
    -- rowid tree plus a key index, so one write per insert instead of two.
    CREATE TABLE accounts_v2 (
        id         BLOB PRIMARY KEY NOT NULL,
        email      TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at INTEGER,          -- ms; NULL for rows older than version 2
        updated_at INTEGER,
        deleted_at INTEGER           -- NULL while the account is live
    ) WITHOUT ROWID;

    CREATE TABLE orders_v2 (
        id          BLOB PRIMARY KEY NOT NULL,
        account_id  BLOB NOT NULL REFERENCES accounts (id),
        total_cents INTEGER NOT NULL,
        metadata    TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER
    ) WITHOUT ROWID;";

/// Each index below is one more B-tree that every insert, every delete, and
/// every update of an indexed column must write. Each is here because a named
/// query reads through it; none is here \"just in case\".
const V2_INDEXES: &str = "
    -- account_by_email, and the rule that a live email is unique whatever its
    -- case. Partial: deleted accounts are not in it, so a deleted email can
    -- sign up again, and the index stays the size of the live accounts. A query
    -- can use it only when its WHERE says `deleted_at IS NULL` too, and only
    -- with the same collation (NOCASE).
    CREATE UNIQUE INDEX accounts_live_email
        ON accounts (email COLLATE NOCASE) WHERE deleted_at IS NULL;

    -- accounts_page: live accounts in list order (name, then key), so a page
    -- is a seek to the cursor and a read of `limit` entries.
    CREATE INDEX accounts_live_by_name
        ON accounts (name, id) WHERE deleted_at IS NULL;

    -- orders_of: the foreign key first (the equality), then the key (the
    -- order). The other way round, (id, account_id), could not be searched
    -- by account at all.
    CREATE INDEX orders_by_account ON orders (account_id, id);

    -- orders_with_coupon: an index on an expression is used only by a query
    -- that repeats the expression exactly.
    CREATE INDEX orders_by_coupon ON orders (json_extract(metadata, '$.coupon'));";
// ANCHOR_END: v2_schema

fn v2_keys_timestamps_soft_deletes(
    conn: &Connection,
    clock: &dyn Clock,
    context: &ContextV7,
) -> rusqlite::Result<()> {
    refuse_emails_equal_but_for_case(conn)?;
    conn.execute_batch(V2_TABLES)?;
    conn.execute_batch(
        "CREATE TEMP TABLE account_keys (old INTEGER PRIMARY KEY, new BLOB NOT NULL);
         CREATE TEMP TABLE order_keys (old INTEGER PRIMARY KEY, new BLOB NOT NULL);",
    )?;
    // New keys in the order of the old ones, so that the key order still says
    // which row came first. Their time is the migration's: the creation time
    // of a version-1 row was never recorded, so created_at stays NULL rather
    // than a made-up value.
    let now = clock.now_millis();
    for (table, keys) in [("accounts", "account_keys"), ("orders", "order_keys")] {
        let olds: Vec<i64> = conn
            .prepare(&format!("SELECT id FROM {table} ORDER BY id"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut insert = conn.prepare(&format!(
            "INSERT INTO temp.{keys} (old, new) VALUES (?1, ?2)"
        ))?;
        for old in olds {
            insert.execute(params![old, Id::new_v7(context, now)])?;
        }
    }
    conn.execute_batch(
        "INSERT INTO accounts_v2 (id, email, name)
             SELECT k.new, a.email, a.name
             FROM accounts a JOIN temp.account_keys k ON k.old = a.id;
         -- LEFT JOIN: an order whose account is missing gets a NULL account_id,
         -- which NOT NULL refuses, so the migration fails instead of dropping it.
         INSERT INTO orders_v2 (id, account_id, total_cents, metadata)
             SELECT ok.new, ak.new, o.total_cents, o.metadata
             FROM orders o
             JOIN temp.order_keys ok ON ok.old = o.id
             LEFT JOIN temp.account_keys ak ON ak.old = o.account_id;",
    )?;
    // Every row copied, or nothing changes.
    for (old, new) in [("accounts", "accounts_v2"), ("orders", "orders_v2")] {
        let count = |t: &str| -> rusqlite::Result<i64> {
            conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
        };
        if count(old)? != count(new)? {
            let message = format!(
                "migration 2 copied {} of {} rows of {old}",
                count(new)?,
                count(old)?
            );
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some(message),
            ));
        }
    }
    conn.execute_batch(
        "DROP TABLE orders;
         DROP TABLE accounts;
         ALTER TABLE accounts_v2 RENAME TO accounts;
         ALTER TABLE orders_v2 RENAME TO orders;
         DROP TABLE temp.account_keys;
         DROP TABLE temp.order_keys;",
    )?;
    conn.execute_batch(V2_INDEXES)
}

/// Version 1's UNIQUE compared emails byte for byte, so a version-1 database
/// can hold `Ann@Example.com` and `ann@example.com` as two accounts. Version 2
/// says they are one address. Which account keeps it is a person's decision,
/// not the migration's: refuse, name them, and change nothing.
fn refuse_emails_equal_but_for_case(conn: &Connection) -> rusqlite::Result<()> {
    let clashes: Vec<String> = conn
        .prepare(
            "SELECT group_concat(email, ' = ') FROM accounts
             GROUP BY email COLLATE NOCASE HAVING count(*) > 1
             ORDER BY 1",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if clashes.is_empty() {
        return Ok(());
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE),
        Some(format!(
            "migration 2 refused: these accounts' emails differ only in case and \
             version 2 makes them one address; decide which account keeps each \
             email, then open the database again: {}",
            clashes.join("; ")
        )),
    ))
}
