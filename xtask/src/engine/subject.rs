//! The crate whose checks are run: the learner's, or a scratch crate that
//! holds the solution, a decoy or a reviewer's wrong solution (variant.rs).

use std::path::PathBuf;

use crate::engine::chapter::Chapter;
use crate::ground::workspace::Workspace;

pub struct Subject {
    pub manifest: PathBuf,
    pub package: String,
    /// The crate's folder: tests run with it as their working directory.
    pub dir: PathBuf,
}

impl Subject {
    /// The learner's crate, in the root workspace.
    pub fn learner(ws: &Workspace, chapter: &Chapter) -> Self {
        Self {
            manifest: ws.root.join("Cargo.toml"),
            package: chapter.package().to_string(),
            dir: chapter.dir.clone(),
        }
    }
}
