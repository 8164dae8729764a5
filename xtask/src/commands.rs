//! The top layer: one module per `cargo xtask` command, each a handler that
//! finds what it needs in the engine, decides, and prints through `ui`.
//!
//! Imports point down only: a command uses the engine and the ground, never
//! another command (`watch` is handed `check` by `main` as a closure). See the
//! layers test in main.rs.

pub mod bench;
pub mod book;
pub mod bundle;
pub mod check;
pub mod debrief;
pub mod doctor;
pub mod figures;
pub mod hint;
pub mod list;
pub mod mutants;
pub mod panel;
pub mod pristine;
pub mod report;
pub mod reset;
pub mod soak;
pub mod solution;
pub mod trial;
pub mod verify;
pub mod watch;
