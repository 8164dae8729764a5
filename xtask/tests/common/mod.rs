//! What the runner's integration tests share: where the real course and its
//! target directory are, and how a scratch copy of the course is made.
//!
//! A copy shares the real target directory, so registry dependencies are
//! never compiled again. Cargo names a workspace member's artifacts by its
//! path relative to the workspace root, which a copy shares with the
//! original, so each copy gives its own crates a version of its own
//! (`0.1.0-test.<tag>`, see [`own_version`]): copies and the real course never
//! share an artifact.

use std::path::{Path, PathBuf};

/// The real course: the folder above `xtask/`.
pub fn real_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repository")
        .to_path_buf()
}

/// The target directory this test binary was built in: `<target>/debug/xtask`.
pub fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_xtask"))
        .parent()
        .and_then(Path::parent)
        .expect("the runner is built in <target>/<profile>/")
        .to_path_buf()
}

/// Copies `from` into `to`, leaving out build output: `target/` folders and
/// the built book (`book/book`).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        if name == "target" || (name == "book" && from.ends_with("book")) {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).unwrap();
        }
    }
}

/// Writes a copy of the course at `root`: the folders `dirs` and the files
/// `files` (paths relative to the course), and the root manifest with a
/// version of the copy's own ([`own_version`] with `tag`).
pub fn copy_course(root: &Path, dirs: &[&str], files: &[&str], tag: &str) {
    let real = real_root();
    let _ = std::fs::remove_dir_all(root);
    for dir in dirs {
        copy_tree(&real.join(dir), &root.join(dir));
    }
    for file in files {
        let to = root.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(real.join(file), to).unwrap();
    }
    let manifest = std::fs::read_to_string(real.join("Cargo.toml")).unwrap();
    std::fs::write(root.join("Cargo.toml"), own_version(&manifest, tag)).unwrap();
}

/// The root manifest with `[workspace.package] version` made a copy's own.
pub fn own_version(manifest: &str, tag: &str) -> String {
    let mut in_package = false;
    let mut out = String::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_package = line.trim() == "[workspace.package]";
        }
        match line.split_once('=') {
            Some((key, value)) if in_package && key.trim() == "version" => {
                let v = value.trim().trim_matches('"');
                out.push_str(&format!("version = \"{v}-test.{tag}\"\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}
