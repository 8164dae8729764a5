//! Where things are: the repository root, the shared target directory, the
//! scratch area and the learner's state file.
//!
//! Every cargo invocation the runner makes gets `CARGO_TARGET_DIR` set to the
//! one shared target directory, so the exercises, the scratch crates of the
//! solutions and decoys, and the runner itself compile each dependency once.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    /// The repository root: the folder above this crate's manifest.
    pub fn locate() -> Result<Self> {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = here
            .parent()
            .context("the xtask crate has no parent folder")?;
        if !root.join("exercises").is_dir() {
            bail!(
                "the runner expected the course's exercises/ folder at {}, and it is \
                 missing; run cargo xtask from a complete clone of the course",
                root.display()
            );
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// Scratch crates and reports the runner writes; safe to delete.
    pub fn scratch_dir(&self) -> PathBuf {
        self.target_dir().join("xtask")
    }

    pub fn exercises_dir(&self) -> PathBuf {
        self.root.join("exercises")
    }

    pub fn solutions_dir(&self) -> PathBuf {
        self.root.join("solutions")
    }

    pub fn book_dir(&self) -> PathBuf {
        self.root.join("book")
    }

    /// The learner's progress; ignored by git, kept across `cargo clean`.
    pub fn progress_file(&self) -> PathBuf {
        self.root.join(".course-progress.txt")
    }

    /// A path as the learner should read it: relative to the repository root.
    pub fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
