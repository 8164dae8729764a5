//! Whether a machine is ready for a workshop day: the toolchain against the
//! course's `rust-version`, free disk against what a full build takes, every
//! chapter's targets built, and the same builds again with cargo's offline
//! mode. `cargo xtask doctor` prints each as a line; the pieces that decide
//! take plain values, so the runner's tests can feed them a failing case
//! (an old compiler, a full disk) without finding such a machine.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::engine::chapter::Chapter;
use crate::engine::network;
use crate::ground::disk;
use crate::ground::process::Cmd;
use crate::ground::workspace::Workspace;

/// The whole target directory after the runner, every chapter's checks,
/// benches and examples, and the book's builder were built once into an empty
/// CARGO_TARGET_DIR (what `doctor` builds): 1.72 GB of files (`du -sb`: debug
/// 1.05 GB, release 0.67 GB) with chapters 1 to 8 on 2026-12-01, then 1.90 GB
/// (debug 1.22 GB, release 0.67 GB) in an instructor's trial on a fresh clone
/// the same day, after the figures and the book's server were added; Linux
/// x86_64, Rust 1.95. Rounded up for the scratch crates, the file system's
/// blocks and the next chapter's growth.
pub const FULL_BUILD_BYTES: u64 = 2_200_000_000;

/// The crates cargo downloads (`~/.cargo/registry`: 49 MB of `.crate` files,
/// 360 MB unpacked, on a machine that also holds other projects' crates, so an
/// upper bound); counted only while that cache is empty.
pub const CARGO_CACHE_BYTES: u64 = 410_000_000;

/// One line of the doctor's verdict: what was found and, when it is not
/// fine, the fix in one sentence.
#[derive(Debug)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
    pub fix: String,
    /// What a program printed that explains a failure (the last lines).
    pub said: String,
}

impl Finding {
    pub fn pass(what: String) -> Self {
        Self {
            ok: true,
            what,
            fix: String::new(),
            said: String::new(),
        }
    }

    pub fn fail(what: String, fix: &str) -> Self {
        Self {
            ok: false,
            what,
            fix: fix.to_string(),
            said: String::new(),
        }
    }
}

/// `rust-version` of the root manifest's `[workspace.package]`, when declared.
pub fn declared_rust_version(ws: &Workspace) -> Result<Option<String>> {
    let path = ws.root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(manifest
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("rust-version"))
        .and_then(|v| v.as_str())
        .map(str::to_string))
}

/// What `rustc --version` prints, e.g. `rustc 1.91.0 (f8297e351 2025-10-28)`.
pub fn rustc_version() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Cmd::new(rustc)
        .arg("--version")
        .output(Some(Duration::from_secs(30)))?;
    Ok(out.stdout_text().trim().to_string())
}

/// `1.89` or `1.89.0` as (major, minor, patch).
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let patch = parts.next().unwrap_or(Some(0))?;
    Some((major, minor, patch))
}

/// The compiler against the course's minimum.
pub fn toolchain(declared: Option<&str>, rustc: &str) -> Finding {
    let Some(declared) = declared else {
        return Finding::fail(
            "the course declares no minimum Rust (rust-version in Cargo.toml)".into(),
            NO_RUST_VERSION,
        );
    };
    let Some(needed) = version(declared) else {
        return Finding::fail(
            format!("the course's rust-version {declared:?} is not a version"),
            NO_RUST_VERSION,
        );
    };
    // `rustc 1.91.0 (…)`, `rustc 1.92.0-nightly (…)`: the second word's
    // numbers before any `-`.
    let found = rustc
        .split_whitespace()
        .nth(1)
        .map(|w| w.split('-').next().unwrap_or(w));
    match found.and_then(version) {
        Some(have) if have >= needed => Finding::pass(format!(
            "Rust {}, the course needs {declared} or newer",
            found.unwrap_or_default()
        )),
        Some(_) => Finding::fail(
            format!(
                "Rust {} is older than the {declared} the course needs",
                found.unwrap_or_default()
            ),
            UPDATE_RUST,
        ),
        None => Finding::fail(
            format!("could not read the Rust version from {rustc:?}"),
            UPDATE_RUST,
        ),
    }
}

/// Free disk against what is still to be built: a full build less what the
/// target directory already holds, plus cargo's download cache while it is
/// missing.
pub fn disk(free: Option<u64>, built: u64, cache_missing: bool, full: u64) -> Finding {
    let mut need = full.saturating_sub(built);
    if cache_missing {
        need += CARGO_CACHE_BYTES;
    }
    match free {
        Some(free) if need == 0 => Finding::pass(format!(
            "{} free where the build goes; a full build is already there",
            disk::shown(free)
        )),
        Some(free) if free >= need => Finding::pass(format!(
            "{} free where the build goes; the rest of a full build needs about {}",
            disk::shown(free),
            disk::shown(need)
        )),
        Some(free) => Finding::fail(
            format!(
                "{} free where the build goes, and a full build needs about {} more",
                disk::shown(free),
                disk::shown(need)
            ),
            &FREE_DISK.replace("{need}", &disk::shown(need)),
        ),
        None => Finding::fail(
            "could not measure the free disk space (no `df` here)".into(),
            &FREE_DISK.replace("{need}", &disk::shown(need)),
        ),
    }
}

/// Whether cargo's download cache (`$CARGO_HOME/registry/cache`) holds
/// nothing yet (cargo makes the folders before it downloads anything).
pub fn cargo_cache_missing() -> bool {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let Some(cache) = home.map(|h| h.join("registry").join("cache")) else {
        return true;
    };
    // One folder per registry, each holding the downloaded `.crate` files.
    let downloaded = std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .any(|registry| {
            std::fs::read_dir(registry.path()).is_ok_and(|mut d| d.next().is_some())
        });
    !downloaded
}

/// The cargo commands that build what a chapter's day needs: the checks
/// (`cargo xtask check` builds exactly these), every bench, and the examples
/// the page asks to run with `--release`.
pub fn chapter_builds(chapter: &Chapter) -> Vec<Vec<String>> {
    let p = chapter.package();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
    vec![
        words(&["test", "--no-run", "--quiet", "--package", p, "--test", "*"]),
        words(&["bench", "--no-run", "--quiet", "--package", p]),
        words(&[
            "build",
            "--release",
            "--examples",
            "--quiet",
            "--package",
            p,
        ]),
    ]
}

/// What `cargo xtask book` and the runner itself build.
pub fn runner_builds() -> Vec<Vec<String>> {
    vec![
        ["build", "--quiet", "--package", "xtask"]
            .map(String::from)
            .to_vec(),
        ["build", "--quiet", "--package", "book-builder"]
            .map(String::from)
            .to_vec(),
    ]
}

/// How one build went.
pub enum Built {
    Yes,
    /// cargo had to download something and could not.
    NeedsNetwork,
    /// Anything else: the last lines cargo printed.
    No(String),
}

/// Runs one cargo build; with `offline`, under `CARGO_NET_OFFLINE=true`.
pub fn build(ws: &Workspace, args: &[String], offline: bool) -> Result<Built> {
    let mut cmd = Cmd::cargo(ws).args(args);
    if offline {
        cmd = cmd.env("CARGO_NET_OFFLINE", "true");
    }
    let out = cmd.output(None)?;
    if out.success() {
        return Ok(Built::Yes);
    }
    let stderr = out.stderr_text();
    if network::needs_network(&stderr) {
        return Ok(Built::NeedsNetwork);
    }
    Ok(Built::No(first_error(&stderr)))
}

/// cargo's first error and the lines that follow it (where and why), at most
/// ten: enough to name the file, short enough for a room's screen.
fn first_error(stderr: &str) -> String {
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = said
        .iter()
        .position(|l| l.starts_with("error"))
        .unwrap_or(said.len().saturating_sub(10));
    said[start..]
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

pub const UPDATE_RUST: &str = "run `rustup update stable` (or install Rust from \
    https://rustup.rs), then `cargo xtask doctor` again";

const NO_RUST_VERSION: &str = "maintainers: declare `rust-version` under \
    [workspace.package] in the root Cargo.toml";

const FREE_DISK: &str = "free about {need} on this disk (or point CARGO_TARGET_DIR at \
    a disk that has it), then run `cargo xtask doctor` again";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn a_compiler_at_or_above_the_minimum_passes_and_an_older_one_fails() {
        let rustc = |v: &str| format!("rustc {v} (f8297e351 2025-10-28)");
        assert!(toolchain(Some("1.89"), &rustc("1.89.0")).ok);
        assert!(toolchain(Some("1.89"), &rustc("1.92.0-nightly")).ok);
        let old = toolchain(Some("1.89"), &rustc("1.88.1"));
        assert!(!old.ok);
        assert!(
            old.what.contains("1.88.1 is older than the 1.89"),
            "{old:?}"
        );
        assert!(old.fix.contains("rustup update stable"), "{old:?}");
        assert!(!toolchain(Some("1.89"), "").ok);
    }

    /// The fixture's manifest declares no rust-version, as the real one once
    /// did: the doctor names it instead of passing any compiler.
    #[test]
    fn a_course_without_rust_version_fails_the_toolchain_line() {
        let course = Course::new("readiness-rust-version");
        let declared = declared_rust_version(&course.ws).unwrap();
        assert_eq!(declared, None);
        let finding = toolchain(declared.as_deref(), "rustc 1.91.0 (x 2025-10-28)");
        assert!(!finding.ok);
        assert!(finding.fix.contains("rust-version"), "{finding:?}");
        course.write(
            "Cargo.toml",
            "[workspace]\nmembers = []\n[workspace.package]\nrust-version = \"soon\"\n",
        );
        let declared = declared_rust_version(&course.ws).unwrap();
        assert!(!toolchain(declared.as_deref(), "rustc 1.91.0 (x)").ok);
    }

    #[test]
    fn too_little_free_disk_fails_with_the_size_to_free() {
        let full = FULL_BUILD_BYTES;
        let low = disk(Some(500_000_000), 0, false, full);
        assert!(!low.ok);
        assert!(low.fix.contains("2.2\u{a0}GB"), "{low:?}");
        // What is already built no longer needs room.
        assert!(disk(Some(500_000_000), 1_800_000_000, false, full).ok);
        // Without cargo's cache, its downloads need room too.
        let cache = disk(Some(2_000_000_000), 0, true, full);
        assert!(!cache.ok, "{cache:?}");
        assert!(!disk(None, 0, false, full).ok);
    }

    /// A chapter that does not compile fails its build with cargo's words; a
    /// dependency missing from the cache with no network is told apart.
    #[test]
    fn a_chapter_that_does_not_build_is_reported_and_so_is_a_missing_download() {
        let course = Course::new("readiness-build");
        let ws = &course.ws;
        // No registry dependency, so nothing here needs the network.
        course.write(
            "exercises/ch02-measure/Cargo.toml",
            "[package]\nname = \"ch02-measure\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
        );
        course.write(
            "exercises/ch02-measure/src/report.rs",
            "pub fn broken( {}\n",
        );
        let manifest = |name: &str, deps: &str| {
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 \n[dependencies]\n{deps}"
            )
        };
        course.write(
            "exercises/ch05-caching/Cargo.toml",
            &manifest("ch05-caching", ""),
        );
        course.write("exercises/ch05-caching/src/lib.rs", "\n");
        course.write("exercises/support/Cargo.toml", &manifest("support", ""));
        let check = ["check", "--quiet", "--package", "ch02-measure"].map(String::from);
        match build(ws, &check, true).unwrap() {
            Built::No(said) => assert!(said.contains("report.rs"), "{said}"),
            _ => panic!("a chapter with a syntax error must not build"),
        }
        // A crate cargo has never downloaded, with the network switched off.
        let missing = "no-such-crate-for-xtask-tests = \"1\"\n";
        course.write(
            "exercises/ch05-caching/Cargo.toml",
            &manifest("ch05-caching", missing),
        );
        let fetch = ["check", "--quiet", "--package", "ch05-caching"].map(String::from);
        assert!(matches!(
            build(ws, &fetch, true).unwrap(),
            Built::NeedsNetwork
        ));
    }
}
