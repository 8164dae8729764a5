//! Chapter 3: a data model that survives growth.
//!
//! A small store of accounts and their orders in SQLite. It works on the few
//! hundred rows it was written against. It has to keep working at a few
//! hundred thousand, for data that already exists, with accounts that are
//! deleted and come back. Before you change anything, look at what each query
//! costs today (see the book's chapter 3):
//!
//! ```text
//! cargo run -p ch03-data-model --example explain --release
//! ```
//!
//! The contract with the checks: they call `Store::open` and the methods of
//! `Store`, read the fields of `Account`, `Order` and `Page`, use `Id` through
//! `Display`, `Ord`, `Eq`, `Hash`, `Clone` and `Debug`, treat `Cursor` as an
//! opaque value handed back to `accounts_page`, and drive time through
//! `clock::ManualClock`. Keep those signatures. Everything else is yours to
//! change: the tables, their keys and indexes, the SQL, what `Id` and `Cursor`
//! hold, private helpers and new modules.

pub mod clock;
pub mod id;
pub mod schema;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use id::Id;
pub use store::{Account, Cursor, Order, Page, Store};
