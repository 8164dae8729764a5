//! The bottom layer: what knows nothing of chapters or checks. Where things
//! are (`workspace`), running programs (`process`), printing (`ui`, a leaf),
//! git blob ids (`blob`), a file lock
//! (`lock`), files written atomically or listed (`files`) and a
//! `.tar.gz` written or unpacked (`archive`).
//!
//! Ground modules use only each other, and `ui` uses none of them.

pub mod archive;
pub mod blob;
pub mod chart;
pub mod disk;
pub mod files;
pub mod lock;
pub mod process;
pub mod ui;
pub mod workspace;
