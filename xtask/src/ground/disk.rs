//! Disk space: how much is free on the file system that holds a folder, and
//! how much a folder already takes.
//!
//! Free space is asked of `df -Pk` (the POSIX output format, in KiB), which
//! every Unix and macOS have: reading it through the C library would mean an
//! unsafe, platform-specific struct for one number. Where `df` is missing
//! (Windows without a Unix toolset) the caller says it could not measure.

use std::path::Path;

use anyhow::{Context, Result};

use crate::ground::process::Cmd;

/// Bytes free for an ordinary user on the file system holding `path` (or its
/// closest existing ancestor).
pub fn free_bytes(path: &Path) -> Result<u64> {
    let existing = path
        .ancestors()
        .find(|p| p.exists())
        .context("no folder of that path exists")?;
    let out = Cmd::new("df")
        .arg("-Pk")
        .arg(existing)
        .output(Some(std::time::Duration::from_secs(20)))?;
    if !out.success() {
        anyhow::bail!("`df -Pk` failed: {}", out.stderr_text().trim());
    }
    parse_df(&out.stdout_text()).context("reading what `df -Pk` printed")
}

/// The "Available" column (KiB) of `df -P`'s second line, in bytes.
fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().nth(1)?;
    let kib: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(kib * 1024)
}

/// The bytes the files below `dir` take (their lengths; 0 when it is missing).
pub fn used_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// `1.4 GB`, `350 MB`: decimal units, as file managers and `df -H` show them,
/// with a no-break space so that wrapping never parts number and unit.
pub fn shown(bytes: u64) -> String {
    const GB: f64 = 1e9;
    const MB: f64 = 1e6;
    let b = bytes as f64;
    if b >= GB {
        format!("{:.1}\u{a0}GB", b / GB)
    } else {
        format!("{:.0}\u{a0}MB", b / MB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_available_column_of_df_is_read_in_bytes() {
        let text = "Filesystem 1024-blocks Used Available Capacity Mounted on\n\
                    /dev/vda 264212084 31832052 63453836 34% /\n";
        assert_eq!(parse_df(text), Some(63453836 * 1024));
        assert_eq!(parse_df("garbage"), None);
    }

    #[test]
    fn free_space_is_measured_for_a_folder_that_does_not_exist_yet() {
        let missing = std::env::temp_dir().join("xtask-no-such-folder/target");
        assert!(free_bytes(&missing).unwrap() > 0);
    }

    #[test]
    fn sizes_read_as_a_person_says_them() {
        assert_eq!(shown(1_100_000_000), "1.1\u{a0}GB");
        assert_eq!(shown(350_000_000), "350\u{a0}MB");
    }
}
