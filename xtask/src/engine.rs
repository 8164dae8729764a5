//! The middle layer: what the commands share. Chapters and their cards,
//! building with cargo and reading libtest, running checks into verdicts, the
//! bench gate, scratch crates for solutions and decoys, the learner's progress
//! and the record of each chapter as given, cargo-mutants and soaks.
//!
//! Engine modules use each other (without a circle) and the ground below;
//! they never use a command.

pub mod bench;
pub mod book;
pub mod bundle;
pub mod bundle_trial;
pub mod cargo;
pub mod chapter;
pub mod checks;
pub mod decoy;
pub mod figures;
pub mod known_mutants;
pub mod libtest;
pub mod mutants;
pub mod network;
pub mod pristine;
pub mod progress;
pub mod readiness;
pub mod scratch_lock;
pub mod soak;
pub mod subject;
pub mod variant;
