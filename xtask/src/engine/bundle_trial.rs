//! The offline bundle tried as a room would: unpacked into a fresh folder,
//! with an empty cargo home (no registry cache, no downloads, no config of
//! the machine's) and cargo's offline mode, then `cargo xtask`, `check 1`,
//! `check 2` and `book` run in it, each judged by what it printed.
//!
//! The unpacked copy builds into its own `target/`: nothing is shared with
//! the course it came from. Sharing would not save the compile anyway: cargo
//! fingerprints a crate by the path of its source too, and the vendored copy
//! lies elsewhere than `~/.cargo/registry`, so every dependency is compiled
//! again (measured: `PathToSourceChanged`, the same artifact name rebuilt in
//! place, which would then make the original rebuild it too). So this is a
//! cold build of the runner, chapters 1 and 2 and the book's builder: minutes,
//! which is why it runs in `verify --bundle` and `verify --full` only.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::engine::bundle;
use crate::engine::network;
use crate::ground::archive;
use crate::ground::process::Cmd;
use crate::ground::workspace::Workspace;

/// One command run in the unpacked copy.
pub struct Step {
    pub command: String,
    pub ok: bool,
    pub took: Duration,
    /// The last lines it printed, when it failed.
    pub said: String,
}

/// The folder the trial unpacks into (emptied first; removed after a trial
/// that passed, kept after one that failed so it can be looked into).
pub fn folder(ws: &Workspace) -> PathBuf {
    ws.scratch_dir().join("bundle-trial")
}

/// Unpacks `archive` and runs the room's first commands in it, in order;
/// stops at the first that fails (the later ones would only fail with it).
pub fn run(ws: &Workspace, archive_path: &Path) -> Result<Vec<Step>> {
    let folder = folder(ws);
    let _ = std::fs::remove_dir_all(&folder);
    let home = folder.join("empty-cargo-home");
    std::fs::create_dir_all(&home)?;
    archive::unpack(archive_path, &folder.join("unpacked"))?;
    let root = folder.join("unpacked").join(bundle::TOP);
    let mut steps = Vec::new();
    for args in [
        &["xtask"][..],
        &["xtask", "check", "1"],
        &["xtask", "check", "2"],
        &["xtask", "book"],
    ] {
        let step = run_one(&root, &home, args)?;
        let ok = step.ok;
        steps.push(step);
        if !ok {
            return Ok(steps);
        }
    }
    let _ = std::fs::remove_dir_all(&folder);
    Ok(steps)
}

fn run_one(root: &Path, home: &Path, args: &[&str]) -> Result<Step> {
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Cmd::new(cargo)
        .args(args)
        .current_dir(root)
        .env("CARGO_HOME", home)
        .env("CARGO_NET_OFFLINE", "true")
        // Belt and braces: were anything to reach for the network, it
        // would meet a closed port and fail at once.
        .env("CARGO_HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_COLOR", "1")
        // What would make the copy use something of the course it came from.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("COURSE_ROOT")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .echo()
        .output(None)?;
    let printed = format!("{}{}", out.stdout_text(), out.stderr_text());
    let ok = judge(args, out.success(), &printed);
    let said = if ok {
        String::new()
    } else {
        let lines: Vec<&str> = printed.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    Ok(Step {
        command: format!("cargo {}", args.join(" ")),
        ok,
        took: started.elapsed(),
        said,
    })
}

/// Whether a command did its job. `check` on an untouched starter fails its
/// checks, and that is its job: it must have run them and counted them
/// (`N of M checks pass`), not stopped at a download or a compile error.
fn judge(args: &[&str], success: bool, printed: &str) -> bool {
    if network::needs_network(printed) {
        return false;
    }
    let flat = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    match args {
        ["xtask", "check", _] => flat.contains("checks pass."),
        ["xtask"] => success && flat.contains("cargo xtask check"),
        _ => success,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_counts_when_it_ran_the_checks_not_when_it_stopped_early() {
        let check = ["xtask", "check", "1"];
        assert!(judge(
            &check,
            false,
            "✗ a\n\n0 of 12 checks pass. Read the\nfirst ✗"
        ));
        assert!(!judge(
            &check,
            false,
            "error: failed to download `bytes v1.12.2`\n"
        ));
        assert!(!judge(
            &check,
            false,
            "✗ chapter 1 does not compile (3 errors)"
        ));
        assert!(judge(&["xtask", "book"], true, "built"));
        assert!(!judge(&["xtask", "book"], false, "mdBook failed"));
        assert!(!judge(&["xtask"], true, "error: no such command"));
    }
}
