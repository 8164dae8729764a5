//! The workshop's offline bundle: one archive from which a room with no
//! network unpacks the course and works through every chapter.
//!
//! It holds, under one folder (`scaling-rust/`):
//! - the repository: every file git tracks, as it is in the working copy,
//!   which must match the last commit (an instructor who solved the chapters
//!   would otherwise hand the room their solutions as starters);
//! - `vendor/`: every crate of `Cargo.lock`, from `cargo vendor --locked`
//!   (for every platform, so Windows and macOS laptops build from it too);
//! - `.cargo/config.toml`: the course's own, plus the source replacement
//!   `cargo vendor` prints, pointed at `vendor` (a relative directory in a
//!   config file is read from the folder holding `.cargo/`), so cargo takes
//!   every crate from the bundle and never asks the network;
//! - `book/book/`: the built book, where `cargo xtask book` puts it, so it
//!   can be read in a browser before anything is compiled.
//!
//! `bundle_trial` unpacks it as a room would and runs the course from it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::book;
use crate::engine::network;
use crate::ground::archive::{self, Content, Entry};
use crate::ground::files;
use crate::ground::process::Cmd;
use crate::ground::workspace::Workspace;

/// The folder the archive unpacks into.
pub const TOP: &str = "scaling-rust";

/// Where `cargo xtask bundle` writes the archive unless told otherwise.
pub fn default_path(ws: &Workspace) -> PathBuf {
    ws.target_dir().join("bundle").join(format!("{TOP}.tar.gz"))
}

/// What was written.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    pub crates: usize,
}

/// Whether tracked files may differ from the last commit (`verify --bundle`
/// tries the working copy, as the rest of `verify` does).
#[derive(Clone, Copy, PartialEq)]
pub enum Changes {
    Refuse,
    Allow,
}

/// Builds the book, vendors the crates and writes the archive at `path`.
pub fn write(ws: &Workspace, path: &Path, changes: Changes) -> Result<Written> {
    if changes == Changes::Refuse {
        let changed = changed_files(ws)?;
        if let Some(first) = changed.first() {
            bail!(
                "{} tracked file(s) differ from the last commit (the first: {first}), \
                 and the bundle would hand them to the room as the course; commit \
                 or stash them (`git stash`), then run `cargo xtask bundle` again",
                changed.len()
            );
        }
    }
    let tracked = tracked_files(ws)?;
    match book::build_quietly(ws)? {
        book::Outcome::Built => {}
        book::Outcome::NeedsNetwork => bail!(
            "the book's builder still has to download crates; {}",
            network::FIX
        ),
        book::Outcome::Failed(said) => bail!(
            "the book did not build, so there is no book to bundle; run `cargo \
             xtask book` to see which page fails and why:\n{said}"
        ),
    }
    let vendor_dir = ws.scratch_dir().join("bundle-vendor");
    let snippet = vendor(ws, &vendor_dir)?;
    let config_path = ws.root.join(".cargo").join("config.toml");
    let original = std::fs::read_to_string(&config_path).unwrap_or_default();
    let config = config_with_vendor(&original, &snippet)?;

    let mut entries: Vec<Entry> = tracked
        .iter()
        .filter(|rel| rel.as_str() != ".cargo/config.toml")
        .map(|rel| Entry {
            name: rel.clone(),
            content: Content::File(ws.root.join(rel)),
        })
        .collect();
    entries.push(Entry {
        name: ".cargo/config.toml".into(),
        content: Content::Text(config),
    });
    let crates = std::fs::read_dir(&vendor_dir).map_or(0, |d| d.count());
    entries.extend(tree("vendor", &vendor_dir)?);
    entries.extend(tree("book/book", &ws.book_dir().join("book"))?);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let bytes = archive::write(path, TOP, &entries)?;
    let _ = std::fs::remove_dir_all(&vendor_dir);
    Ok(Written {
        path: path.to_path_buf(),
        bytes,
        files: entries.len(),
        crates,
    })
}

/// Every file git tracks that is in the working copy, as `/`-separated
/// paths from the root.
pub fn tracked_files(ws: &Workspace) -> Result<Vec<String>> {
    let out = git(ws, &["ls-files", "-z"])?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty() && ws.root.join(p).is_file())
        .map(str::to_string)
        .collect())
}

/// Tracked files whose working copy differs from the last commit.
pub fn changed_files(ws: &Workspace) -> Result<Vec<String>> {
    let out = git(
        ws,
        &["status", "--porcelain=v1", "-z", "--untracked-files=no"],
    )?;
    // Each record is `XY path`; a rename adds the old path as its own record,
    // which has no status letters and is skipped by the length test.
    Ok(out
        .split('\0')
        .filter(|r| r.len() > 3 && r.as_bytes()[2] == b' ')
        .map(|r| r[3..].to_string())
        .collect())
}

fn git(ws: &Workspace, args: &[&str]) -> Result<String> {
    let out = Cmd::new("git")
        .args(args)
        .current_dir(&ws.root)
        .output(None)?;
    if !out.success() {
        bail!(
            "`git {}` failed, and the bundle is made from the course's git \
             repository; run `cargo xtask bundle` in a clone of the course:\n{}",
            args.join(" "),
            out.stderr_text().trim()
        );
    }
    Ok(out.stdout_text())
}

/// `cargo vendor --locked` into `into` (emptied first); returns the source
/// replacement cargo prints, pointed at `vendor` (relative to the root).
pub fn vendor(ws: &Workspace, into: &Path) -> Result<String> {
    let _ = std::fs::remove_dir_all(into);
    let out = Cmd::cargo(ws)
        .args(["vendor", "--locked"])
        .arg(into)
        .echo()
        .output(None)?;
    if !out.success() {
        let stderr = out.stderr_text();
        if network::needs_network(&stderr) {
            bail!(
                "cargo vendor has to download crates this machine never built (those \
                 of other platforms too); connect to the network and run `cargo \
                 xtask bundle` again"
            );
        }
        bail!("cargo vendor failed:\n{}", stderr.trim());
    }
    Ok(relative_directory(&out.stdout_text()))
}

/// The configuration `cargo vendor` prints, with every `directory = "…"`
/// (the absolute folder it wrote) made `vendor`.
fn relative_directory(printed: &str) -> String {
    printed
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("directory =") {
                "directory = \"vendor\"".to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The course's `.cargo/config.toml` with the source replacement added; an
/// error when the course already replaces sources itself.
pub fn config_with_vendor(original: &str, snippet: &str) -> Result<String> {
    let parsed: toml::Table =
        toml::from_str(original).context("parsing .cargo/config.toml")?;
    if parsed.contains_key("source") {
        bail!(
            ".cargo/config.toml already has a [source] table, and the bundle adds \
             its own; remove it from the course's config, then run `cargo xtask \
             bundle` again"
        );
    }
    if snippet.trim().is_empty() {
        return Ok(original.to_string());
    }
    let mut config = original.trim_end().to_string();
    config.push_str(VENDORED_NOTE);
    config.push_str(snippet.trim());
    config.push('\n');
    toml::from_str::<toml::Table>(&config)
        .context("the bundle's .cargo/config.toml")?;
    Ok(config)
}

/// Every file below `dir`, named `<under>/<path below dir>`.
fn tree(under: &str, dir: &Path) -> Result<Vec<Entry>> {
    let files = files::files_under(dir)
        .with_context(|| format!("reading {}", dir.display()))?;
    Ok(files
        .into_iter()
        .map(|file| {
            let rel = file.strip_prefix(dir).unwrap_or(&file);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Entry {
                name: format!("{under}/{}", rel.join("/")),
                content: Content::File(file),
            }
        })
        .collect())
}

const VENDORED_NOTE: &str = "\n\n# Added by `cargo xtask bundle`: every crate comes \
    from vendor/ in this folder,\n# so the course builds with no network.\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    const PRINTED: &str = "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n\
        [source.vendored-sources]\ndirectory = \"/home/me/course/target/xtask/v\"\n";

    #[test]
    fn the_bundles_config_keeps_the_alias_and_takes_every_crate_from_vendor() {
        let original = "[alias]\nxtask = \"run --quiet --package xtask --\"\n";
        let config =
            config_with_vendor(original, &relative_directory(PRINTED)).unwrap();
        let parsed: toml::Table = toml::from_str(&config).unwrap();
        assert_eq!(
            parsed["alias"]["xtask"].as_str(),
            Some("run --quiet --package xtask --")
        );
        assert_eq!(
            parsed["source"]["crates-io"]["replace-with"].as_str(),
            Some("vendored-sources")
        );
        assert_eq!(
            parsed["source"]["vendored-sources"]["directory"].as_str(),
            Some("vendor"),
            "a relative folder, so the unpacked copy works wherever it lies"
        );
        // With nothing vendored, the config stays as it was.
        assert_eq!(config_with_vendor(original, "").unwrap(), original);
    }

    #[test]
    fn a_course_that_already_replaces_sources_is_refused() {
        let original = "[source.crates-io]\nreplace-with = \"mirror\"\n";
        let err = config_with_vendor(original, PRINTED).unwrap_err();
        assert!(err.to_string().contains("[source]"), "{err}");
    }

    fn git(course: &Course, args: &[&str]) {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&course.ws.root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    /// Only tracked files go in, and a working copy that differs from the
    /// last commit is named before anything is built.
    #[test]
    fn tracked_files_are_listed_and_uncommitted_changes_are_refused() {
        let course = Course::new("bundle-git");
        let ws = &course.ws;
        assert!(tracked_files(ws).is_err(), "no repository yet");
        git(&course, &["init", "--quiet"]);
        git(&course, &["add", "Cargo.toml", "exercises"]);
        git(&course, &["commit", "--quiet", "-m", "course"]);
        course.write("notes-of-mine.txt", "untracked");
        let tracked = tracked_files(ws).unwrap();
        assert!(tracked.contains(&"Cargo.toml".to_string()), "{tracked:?}");
        assert!(!tracked.iter().any(|p| p.contains("notes-of-mine")));
        assert!(!tracked.iter().any(|p| p.starts_with("solutions/")));
        assert_eq!(changed_files(ws).unwrap(), Vec::<String>::new());

        let report = "exercises/ch02-measure/src/report.rs";
        course.write(report, "pub fn statements(_: u32) -> u32 {\n    2\n}\n");
        assert_eq!(changed_files(ws).unwrap(), vec![report.to_string()]);
        let archive = ws.root.join("out.tar.gz");
        let err = write(ws, &archive, Changes::Refuse).unwrap_err();
        assert!(err.to_string().contains(report), "{err}");
        assert!(!archive.exists());
    }
}
