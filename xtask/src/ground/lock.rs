//! An exclusive lock on a file, held until it is dropped or the process ends.
//!
//! std's `File::lock` (stable since Rust 1.89; `flock` on Linux): the kernel
//! releases it when its holder exits, however it exits, so a killed run never
//! leaves a stale lock behind, and no crate is needed for it. The holder
//! writes one line about itself into the file, which a waiting run reads to
//! say what it waits for.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// A lock this process holds; released when dropped.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// Takes the exclusive lock on `path` (created, with its folder, if missing),
/// then writes `me` into the file. When another holder has it, first calls
/// `waiting` once with what that holder wrote, then waits for it.
pub fn exclusive(path: &Path, me: &str, waiting: impl FnOnce(&str)) -> Result<Held> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(path).unwrap_or_default();
            waiting(holder.trim());
            file.lock()
                .with_context(|| format!("waiting for the lock {}", path.display()))?;
        }
        Err(TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)
        .and_then(|()| file.write_all(me.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Held { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("xtask-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("sub").join("a.lock")
    }

    #[test]
    fn a_free_lock_is_taken_without_waiting_and_names_its_holder() {
        let path = scratch("free");
        let held = exclusive(&path, "pid 1 (check 7)", |_| panic!("nobody holds it"));
        assert!(held.is_ok());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "pid 1 (check 7)");
    }

    #[test]
    fn a_second_holder_says_whom_it_waits_for_and_gets_the_lock_once_released() {
        let path = scratch("wait");
        let first = exclusive(&path, "pid 1 (verify 7)", |_| panic!("free")).unwrap();
        let (tx, rx) = mpsc::channel();
        let second = {
            let path = path.clone();
            std::thread::spawn(move || {
                let held = exclusive(&path, "pid 2 (try 7)", |holder| {
                    tx.send(holder.to_string()).unwrap();
                });
                held.map(|_| std::fs::read_to_string(&path).unwrap())
            })
        };
        let told = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(told, "pid 1 (verify 7)");
        // Still waiting while the first holds it.
        std::thread::sleep(Duration::from_millis(200));
        assert!(!second.is_finished(), "the second must wait for the first");
        drop(first);
        let now = second.join().unwrap().unwrap();
        assert_eq!(now, "pid 2 (try 7)");
    }

    #[test]
    fn a_lock_in_a_folder_that_cannot_be_made_is_an_error() {
        let path = scratch("bad");
        std::fs::create_dir_all(path.parent().unwrap().parent().unwrap()).unwrap();
        // A file where the folder should be.
        std::fs::write(path.parent().unwrap(), "").unwrap();
        let err = exclusive(&path, "me", |_| {}).unwrap_err();
        assert!(format!("{err:#}").contains("creating"), "{err:#}");
    }
}
