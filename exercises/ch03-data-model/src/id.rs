//! The key of a row.
//!
//! Today a key is the integer SQLite hands out when a row is inserted: 1, 2,
//! 3, … The checks use an `Id` only through its traits (`Display`, `Ord`,
//! `Eq`, `Hash`, `Clone`, `Debug`); what it holds and how it is stored is
//! yours to decide. One rule ties them together: `Ord` must put keys in the
//! same order as the database sorts the stored key, because "by name, then by
//! key" is computed by SQLite and checked in Rust.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(i64);

impl Id {
    /// The key SQLite gave the row just inserted.
    pub(crate) fn last_inserted(conn: &rusqlite::Connection) -> Self {
        Self(conn.last_insert_rowid())
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl ToSql for Id {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for Id {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(Self)
    }
}
