//! Where things are: the repository root, the shared target directory, the
//! scratch area and the learner's own files (progress, backups, pristine copies).
//!
//! Every cargo invocation the runner makes gets `CARGO_TARGET_DIR` set to the
//! one shared target directory, so the exercises, the scratch crates of the
//! solutions and decoys, and the runner itself compile each dependency once.
//!
//! The root is the folder above this crate's manifest, unless `COURSE_ROOT`
//! names another copy of the course: the runner's integration tests point a
//! built runner at a scratch copy that way, so they never touch the real clone.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub struct Workspace {
    pub root: PathBuf,
}

impl Workspace {
    /// The repository root: `COURSE_ROOT` when set, else the folder above this
    /// crate's manifest.
    pub fn locate() -> Result<Self> {
        let root = match std::env::var_os("COURSE_ROOT") {
            Some(root) => PathBuf::from(root),
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .context("the xtask crate has no parent folder")?
                .to_path_buf(),
        };
        if !root.join("exercises").is_dir() {
            bail!(
                "the runner expected the course's exercises/ folder at {}, and it is \
                 missing; run cargo xtask from a complete clone of the course",
                root.display()
            );
        }
        Ok(Self { root })
    }

    pub fn target_dir(&self) -> PathBuf {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// Scratch crates and reports the runner writes; safe to delete.
    ///
    /// When the target directory lies outside this course's folder it may be
    /// shared with another copy (the runner's tests point copies at the real
    /// target directory so dependencies build once): each copy then keeps its
    /// scratch crates in a folder of its own, so a test's verify never
    /// rewrites the real course's scratch crates under a running verify.
    pub fn scratch_dir(&self) -> PathBuf {
        let base = self.target_dir().join("xtask");
        if self.target_dir().starts_with(&self.root) {
            return base;
        }
        let name = self
            .root
            .file_name()
            .map_or_else(|| "course".into(), |n| n.to_string_lossy().into_owned());
        base.join("courses").join(name)
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

    /// Copies of the learner's files taken before `reset` replaced them. Outside
    /// `target/`, so `cargo clean` never deletes them; ignored by git.
    pub fn backups_dir(&self) -> PathBuf {
        self.root.join(".course-backups")
    }

    /// Untouched starter and check files, kept by git blob id the first time
    /// the runner sees them (see `pristine.rs`); ignored by git.
    pub fn pristine_store(&self) -> PathBuf {
        self.root.join(".course-pristine")
    }

    /// The committed record of every chapter's starter and check files.
    pub fn pristine_manifest(&self) -> PathBuf {
        self.root.join("xtask").join("pristine.txt")
    }

    /// A path as the learner should read it: relative to the repository root.
    pub fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}
