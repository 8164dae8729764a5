//! The chapters as they were given: which starter and check files each one
//! has, and how to get their original text back.
//!
//! `xtask/pristine.txt` is committed with the course. It lists, per chapter,
//! the git blob id of every file in `src/` (the starter), `tests/`, `benches/`
//! and of `exercise.toml` (the checks and the gate), as maintainers last
//! recorded them with `cargo xtask pristine`; `verify` fails when it is out of
//! date. With it the runner can:
//! - tell that a check file was edited or deleted, without git (a verdict from
//!   changed checks would mean nothing, so `check` refuses to give one);
//! - get the original of any of those files back for `reset`.
//!
//! Where the original text comes from, in order:
//! 1. `.course-pristine/<blob id>`: a copy the runner keeps of each file the
//!    first time it sees it untouched (every `cargo xtask` command looks), so a
//!    course downloaded as an archive, without git, can still be reset;
//! 2. `git cat-file blob <id>`: any clone holds the committed blobs, and asking
//!    by id (not `git show HEAD:path`) still works after the learner has
//!    committed their own work over the starter or switched branches.
//!
//! Both are checked against the id before use, so neither can hand back the
//! wrong text. The alternative, a second committed copy of every starter, would
//! double what maintainers edit and could drift; git alone would fail archives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::blob;
use crate::chapter::Chapter;
use crate::process::Cmd;
use crate::workspace::Workspace;

/// One recorded file of a chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub blob: String,
    /// Relative to the chapter's folder, with `/` separators: `src/report.rs`.
    pub path: String,
}

impl Entry {
    /// Starter files are the learner's to edit; every other file is a check.
    pub fn is_starter(&self) -> bool {
        self.path.starts_with("src/")
    }
}

/// Every chapter's recorded files, by chapter id.
pub type Manifest = BTreeMap<String, Vec<Entry>>;

/// How a check file differs from the recorded one.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Edited(String),
    Deleted(String),
}

pub fn load(ws: &Workspace) -> Result<Manifest> {
    let path = ws.pristine_manifest();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Manifest::new());
    };
    parse(&text).with_context(|| format!("reading {}", ws.show(&path)))
}

fn parse(text: &str) -> Result<Manifest> {
    let mut manifest = Manifest::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut words = line.split_whitespace();
        let (Some(id), Some(blob), Some(path)) =
            (words.next(), words.next(), words.next())
        else {
            bail!("the line {line:?} is not `chapter-id blob-id path`");
        };
        manifest.entry(id.to_string()).or_default().push(Entry {
            blob: blob.to_string(),
            path: path.to_string(),
        });
    }
    Ok(manifest)
}

fn render(manifest: &Manifest) -> String {
    let mut text = String::from(HEADER);
    for (id, entries) in manifest {
        for e in entries {
            text.push_str(&format!("{id} {} {}\n", e.blob, e.path));
        }
    }
    text
}

/// The chapter's files as they are on disk now, in the manifest's shape.
pub fn current(chapter: &Chapter) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for rel in recorded_files(&chapter.dir)? {
        let path = chapter.dir.join(&rel);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        entries.push(Entry {
            blob: blob::id(&bytes),
            path: rel,
        });
    }
    Ok(entries)
}

/// `exercise.toml` and every file under `src/`, `tests/` and `benches/`, sorted.
fn recorded_files(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    if dir.join("exercise.toml").is_file() {
        found.push("exercise.toml".to_string());
    }
    for sub in ["src", "tests", "benches"] {
        for path in files_under(&dir.join(sub))? {
            let rel = path.strip_prefix(dir).expect("under the chapter's folder");
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.push(parts.join("/"));
        }
    }
    found.sort();
    Ok(found)
}

/// Every file below `dir` (none when it does not exist).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("listing {}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The check files of `chapter` that differ from the record. Empty when the
/// chapter is not recorded yet (a chapter being written).
pub fn changed_checks(ws: &Workspace, chapter: &Chapter) -> Result<Vec<Change>> {
    let manifest = load(ws)?;
    let Some(entries) = manifest.get(chapter.id()) else {
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    for e in entries.iter().filter(|e| !e.is_starter()) {
        match std::fs::read(chapter.dir.join(&e.path)) {
            Ok(bytes) if blob::matches(&bytes, &e.blob) => {}
            Ok(_) => changes.push(Change::Edited(e.path.clone())),
            Err(_) => changes.push(Change::Deleted(e.path.clone())),
        }
    }
    Ok(changes)
}

/// The original bytes of a recorded file, from the local copy or from git.
/// `None` when neither has it.
pub fn original(ws: &Workspace, entry: &Entry) -> Option<Vec<u8>> {
    let kept = ws.pristine_store().join(&entry.blob);
    if let Ok(bytes) = std::fs::read(&kept)
        && blob::matches(&bytes, &entry.blob)
    {
        return Some(bytes);
    }
    let out = Cmd::new("git")
        .args(["cat-file", "blob", &entry.blob])
        .current_dir(&ws.root)
        .output(Some(std::time::Duration::from_secs(30)))
        .ok()?;
    let bytes = out.stdout.into_bytes();
    (out.status.is_some_and(|s| s.success()) && blob::id(&bytes) == entry.blob)
        .then_some(bytes)
}

/// Keeps a copy of every recorded file that is still untouched and not kept
/// yet. Costs a few file reads on the first run and almost nothing after.
/// Best effort: a copy that cannot be written only means `reset` will ask git.
pub fn remember(ws: &Workspace) {
    let Ok(manifest) = load(ws) else { return };
    let store = ws.pristine_store();
    for (id, entries) in &manifest {
        let dir = ws.exercises_dir().join(id);
        for e in entries {
            let kept = store.join(&e.blob);
            if kept.exists() {
                continue;
            }
            if let Ok(bytes) = std::fs::read(dir.join(&e.path))
                && blob::id(&bytes) == e.blob
            {
                let _ = std::fs::create_dir_all(&store);
                let _ = std::fs::write(&kept, bytes);
            }
        }
    }
}

/// For `verify`: whether the record of `chapter` matches its files, and if not,
/// which files differ.
pub fn is_current(ws: &Workspace, chapter: &Chapter) -> Result<(bool, String)> {
    let manifest = load(ws)?;
    let recorded = manifest.get(chapter.id()).cloned().unwrap_or_default();
    let now = current(chapter)?;
    if recorded == now {
        return Ok((true, String::new()));
    }
    let recorded: BTreeMap<&str, &str> = recorded
        .iter()
        .map(|e| (e.path.as_str(), e.blob.as_str()))
        .collect();
    let mut differ = Vec::new();
    for e in &now {
        match recorded.get(e.path.as_str()) {
            None => differ.push(format!("{} is new", e.path)),
            Some(b) if *b != e.blob => differ.push(format!("{} changed", e.path)),
            Some(_) => {}
        }
    }
    for path in recorded.keys() {
        if !now.iter().any(|e| e.path == *path) {
            differ.push(format!("{path} is gone"));
        }
    }
    Ok((
        false,
        format!(
            "{}: {}. Run `cargo xtask pristine {}` and commit {}.",
            ws.show(&ws.pristine_manifest()),
            differ.join(", "),
            chapter.card.number,
            ws.show(&ws.pristine_manifest())
        ),
    ))
}

/// `cargo xtask pristine [N…]`: records the chapters' files as they are now.
pub fn pristine_command(ws: &Workspace, chapters: &[Chapter]) -> Result<bool> {
    let mut manifest = load(ws)?;
    for chapter in chapters {
        manifest.insert(chapter.id().to_string(), current(chapter)?);
        println!(
            "Recorded {}: {} files.",
            chapter.id(),
            manifest[chapter.id()].len()
        );
    }
    let path = ws.pristine_manifest();
    std::fs::write(&path, render(&manifest))
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "Wrote {}; commit it with the chapters' files.",
        ws.show(&path)
    );
    Ok(true)
}

const HEADER: &str = "\
# The course's starters and checks as given: chapter id, git blob id, file.
# Written by `cargo xtask pristine N` after a starter or check changes on purpose;
# `cargo xtask verify` fails when it is out of date. The runner uses it to detect
# edited checks and to restore starters (`cargo xtask reset N`). See
# xtask/src/pristine.rs.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_survives_a_round_trip_through_its_file() {
        let mut m = Manifest::new();
        m.insert(
            "ch02-measure".into(),
            vec![
                Entry {
                    blob: "ab".repeat(20),
                    path: "exercise.toml".into(),
                },
                Entry {
                    blob: "cd".repeat(20),
                    path: "src/report.rs".into(),
                },
            ],
        );
        assert_eq!(parse(&render(&m)).unwrap(), m);
        assert!(parse("ch02-measure onlytwo\n").is_err());
    }

    #[test]
    fn starters_are_the_files_under_src_and_everything_else_is_a_check() {
        let e = |p: &str| Entry {
            blob: String::new(),
            path: p.into(),
        };
        assert!(e("src/report.rs").is_starter());
        assert!(!e("tests/checks.rs").is_starter());
        assert!(!e("benches/ch02/main.rs").is_starter());
        assert!(!e("exercise.toml").is_starter());
    }

    #[test]
    fn a_chapter_records_its_card_starter_checks_and_benches() {
        let ws = Workspace::locate().unwrap();
        let chapter = Chapter::find(&ws, "2", "check").unwrap();
        let paths: Vec<String> = current(&chapter)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        for want in [
            "exercise.toml",
            "src/report.rs",
            "tests/checks.rs",
            "benches/ch02/main.rs",
        ] {
            assert!(paths.contains(&want.to_string()), "{want} in {paths:?}");
        }
        assert!(
            !paths.iter().any(|p| p.starts_with("examples/")),
            "{paths:?}"
        );
    }
}
