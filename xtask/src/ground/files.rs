//! Files: writing one so that no reader ever sees half of it, and listing
//! the files below a folder.
//!
//! The runner keeps state of the learner's (progress, kept copies of the
//! starter) that a Ctrl-C, a crash or a second runner in another terminal must
//! never leave half written. Each write goes to a temporary file of its own,
//! beside the target and named by process id and a counter, and is then
//! renamed over the target: a rename within one folder replaces the file in
//! one step, so the target is either the old file or the new one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every file below `dir`, sorted (none when `dir` does not exist). Symbolic
/// links are listed, not followed.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        match entry {
            Ok(e) if !e.file_type().is_dir() => files.push(e.into_path()),
            Ok(_) => {}
            Err(err) if err.depth() == 0 && !dir.exists() => break,
            Err(err) => return Err(err.into()),
        }
    }
    Ok(files)
}

/// Writes `bytes` to `path` through a temporary file of this call's own.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = partial_name(path);
    let written =
        std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// `<name>.<pid>-<n>.partial` beside `path`: no two writers, in one process or
/// in two, ever share one.
fn partial_name(path: &Path) -> PathBuf {
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!("{name}.{}-{n}.partial", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_temporary_file() {
        let dir =
            std::env::temp_dir().join(format!("xtask-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.txt");
        std::fs::write(&path, "a much longer old text").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.txt"], "only the target is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_files_below_a_folder_are_listed_in_order_and_a_missing_one_is_empty() {
        let dir =
            std::env::temp_dir().join(format!("xtask-list-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        for f in ["z.rs", "b/c/y.rs", "b/a.rs"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let found: Vec<_> = files_under(&dir)
            .unwrap()
            .into_iter()
            .map(|p| {
                p.strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        assert_eq!(found, ["b/a.rs", "b/c/y.rs", "z.rs"]);
        assert!(files_under(&dir.join("missing")).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn two_writes_never_share_a_temporary_file() {
        let path = Path::new("/x/.course-progress.txt");
        assert_ne!(partial_name(path), partial_name(path));
        assert!(
            partial_name(path)
                .to_string_lossy()
                .starts_with("/x/.course-progress.txt.")
        );
    }
}
