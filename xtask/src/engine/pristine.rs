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
//! Both are checked against the id every time they are read, so neither can
//! hand back the wrong bytes: a kept copy that no longer matches is replaced
//! from git (or, while the file is still untouched, from the file itself).
//! Copies are written atomically, and kept as bytes throughout: a starter file
//! need not be UTF-8 to be restored exactly. The alternative, a second committed copy of every starter, would
//! double what maintainers edit and could drift; git alone would fail archives.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::engine::chapter::Chapter;
use crate::ground::blob;
use crate::ground::files;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

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

/// `exercise.toml` and every file under `src/`, `tests/`, `benches/` and
/// `vendor/` (code from another team that the chapter calls), sorted.
fn recorded_files(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    if dir.join("exercise.toml").is_file() {
        found.push("exercise.toml".to_string());
    }
    for sub in ["src", "tests", "benches", "vendor"] {
        for path in files::files_under(&dir.join(sub))? {
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

/// The original bytes of a recorded file, from the kept copy or from git.
/// `None` when neither has it.
///
/// A kept copy is read only after its bytes are hashed again and found to be
/// the blob: a copy that was truncated (the disk filled up, an old runner was
/// stopped mid-write) or edited by hand is never used. It is replaced by git's
/// copy when git has the blob; when git has not, there is no original.
pub fn original(ws: &Workspace, entry: &Entry) -> Option<Vec<u8>> {
    if let Some(bytes) = kept(ws, &entry.blob) {
        return Some(bytes);
    }
    let bytes = from_git(ws, &entry.blob)?;
    keep(ws, &entry.blob, &bytes);
    Some(bytes)
}

/// The kept copy of `blob`, when it is there and still is that blob.
fn kept(ws: &Workspace, blob: &str) -> Option<Vec<u8>> {
    let bytes = std::fs::read(ws.pristine_store().join(blob)).ok()?;
    (blob::id(&bytes) == blob).then_some(bytes)
}

/// `git cat-file blob <id>`, byte for byte, checked against the id.
fn from_git(ws: &Workspace, blob: &str) -> Option<Vec<u8>> {
    let out = Cmd::new("git")
        .args(["cat-file", "blob", blob])
        .current_dir(&ws.root)
        .output(Some(std::time::Duration::from_secs(30)))
        .ok()?;
    (out.success() && blob::id(&out.stdout) == blob).then_some(out.stdout)
}

/// Keeps `bytes` as the copy of `blob`, written atomically (see files.rs), so
/// that no reader ever meets half a copy. Best effort: a copy that cannot be
/// written only means `reset` will ask git.
fn keep(ws: &Workspace, blob: &str, bytes: &[u8]) {
    let store = ws.pristine_store();
    let _ = std::fs::create_dir_all(&store);
    let _ = files::write_atomically(&store.join(blob), bytes);
}

/// Keeps a copy of every recorded file that is still untouched and has no
/// sound copy yet (none, or one that no longer hashes to its id). Costs a few
/// small file reads per command.
pub fn remember(ws: &Workspace) {
    let Ok(manifest) = load(ws) else { return };
    for (id, entries) in &manifest {
        let dir = ws.exercises_dir().join(id);
        for e in entries {
            if kept(ws, &e.blob).is_some() {
                continue;
            }
            if let Ok(bytes) = std::fs::read(dir.join(&e.path))
                && blob::id(&bytes) == e.blob
            {
                keep(ws, &e.blob, &bytes);
            }
        }
    }
}

/// Says so, and is true, when the chapter's checks are not as the course gave
/// them: a verdict (or a bench gate) from changed checks would mean nothing,
/// so `check` and `bench` give none.
pub fn refuse_changed_checks(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    let changes = changed_checks(ws, chapter)?;
    ui::lines(changed_checks_lines(ws, chapter, &changes));
    Ok(!changes.is_empty())
}

/// One sentence per changed check file, and what to do.
fn changed_checks_lines(
    ws: &Workspace,
    chapter: &Chapter,
    changes: &[Change],
) -> Vec<String> {
    if changes.is_empty() {
        return Vec::new();
    }
    let files: Vec<String> = changes
        .iter()
        .map(|c| match c {
            Change::Edited(p) => {
                format!("{} was edited", ws.show(&chapter.dir.join(p)))
            }
            Change::Deleted(p) => {
                format!("{} was deleted", ws.show(&chapter.dir.join(p)))
            }
        })
        .collect();
    let n = chapter.card.number;
    let vendored = changes.iter().any(|c| match c {
        Change::Edited(p) | Change::Deleted(p) => p.starts_with("vendor/"),
    });
    let what = if vendored {
        format!(
            "The checks of chapter {n}, or the code in its vendor/ that they rely on,"
        )
    } else {
        format!("The checks of chapter {n}")
    };
    let text = format!(
        "{} {what} are not as the course gave them: {}. A verdict \
         from changed checks would mean nothing, so none was given. Put them back with \
         `cargo xtask reset {n} --checks` (your code in src/ stays as it is), then run \
         `cargo xtask check {n}` again.",
        ui::red("✗"),
        files.join(", ")
    );
    let mut lines = ui::wrap(&text, 2, ui::WIDTH);
    lines.extend(
        ui::wrap(CHANGED_CHECKS_MAINTAINERS, 2, ui::WIDTH)
            .into_iter()
            .map(|l| ui::dim(&l)),
    );
    lines
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

/// Writes the record (atomically: a reader never meets half of it).
pub fn save(ws: &Workspace, manifest: &Manifest) -> Result<()> {
    let path = ws.pristine_manifest();
    files::write_atomically(&path, render(manifest).as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

const CHANGED_CHECKS_MAINTAINERS: &str = "(Maintainers: after changing a chapter's \
    checks on purpose, record them with `cargo xtask pristine N`.)";

const HEADER: &str = "\
# The course's starters and checks as given: chapter id, git blob id, file.
# Written by `cargo xtask pristine N` after a starter or check changes on purpose;
# `cargo xtask verify` fails when it is out of date. The runner uses it to detect
# edited checks and to restore starters (`cargo xtask reset N`). See
# xtask/src/engine/pristine.rs.
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

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
        assert!(!e("vendor/merch/src/lib.rs").is_starter());
    }

    #[test]
    fn a_chapter_records_its_card_starter_checks_and_benches() {
        let course = Course::new("pristine-current");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let paths: Vec<String> = current(&chapter)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "benches/ch02/main.rs",
                "exercise.toml",
                "src/lib.rs",
                "src/report.rs",
                "tests/checks.rs"
            ],
            "examples/ and Cargo.toml are not recorded"
        );
    }

    /// Bytes that are not UTF-8 (Latin-1, a stray 0xFF) and CRLF line ends:
    /// an original must come back exactly as committed.
    const NOT_UTF8: &[u8] = b"// caf\xe9 au lait\r\n\xff\xfe\n";

    fn git(root: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .expect("git is installed");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn damage_kept_copy(
        ws: &Workspace,
        blob: &str,
        bytes: &[u8],
    ) -> std::path::PathBuf {
        let kept = ws.pristine_store().join(blob);
        std::fs::create_dir_all(ws.pristine_store()).unwrap();
        std::fs::write(&kept, bytes).unwrap();
        kept
    }

    #[test]
    fn a_truncated_kept_copy_is_never_used_and_is_repaired_from_git() {
        let course = Course::new("pristine-repair");
        let root = &course.ws.root;
        git(root, &["init", "--quiet"]);
        std::fs::write(root.join("original.bin"), NOT_UTF8).unwrap();
        let blob = git(root, &["hash-object", "-w", "original.bin"]);
        assert_eq!(blob, blob::id(NOT_UTF8));
        let entry = Entry {
            blob: blob.clone(),
            path: "src/report.rs".into(),
        };
        let kept = damage_kept_copy(&course.ws, &blob, &NOT_UTF8[..5]);
        assert_eq!(
            original(&course.ws, &entry).as_deref(),
            Some(NOT_UTF8),
            "git's bytes, exactly"
        );
        assert_eq!(
            std::fs::read(&kept).unwrap(),
            NOT_UTF8,
            "the kept copy is repaired"
        );
    }

    #[test]
    fn an_altered_kept_copy_without_git_is_refused() {
        let course = Course::new("pristine-refuse");
        let blob = blob::id(NOT_UTF8);
        let entry = Entry {
            blob: blob.clone(),
            path: "src/report.rs".into(),
        };
        let mut altered = NOT_UTF8.to_vec();
        altered[3] = b'X';
        damage_kept_copy(&course.ws, &blob, &altered);
        assert_eq!(original(&course.ws, &entry), None);
    }

    #[test]
    fn an_untouched_file_is_kept_exactly_and_a_damaged_copy_is_kept_again() {
        let course = Course::new("pristine-remember");
        let report = course.path("exercises/ch02-measure/src/report.rs");
        std::fs::write(&report, NOT_UTF8).unwrap();
        let blob = blob::id(NOT_UTF8);
        course.write(
            "xtask/pristine.txt",
            &format!("ch02-measure {blob} src/report.rs\n"),
        );
        remember(&course.ws);
        let kept = course.ws.pristine_store().join(&blob);
        assert_eq!(std::fs::read(&kept).unwrap(), NOT_UTF8);
        std::fs::write(&kept, b"").unwrap();
        remember(&course.ws);
        assert_eq!(std::fs::read(&kept).unwrap(), NOT_UTF8, "kept again");
        // The learner's edit does not reach the copy; the original still comes
        // back byte for byte.
        std::fs::write(&report, "// mine\n").unwrap();
        let entry = Entry {
            blob,
            path: "src/report.rs".into(),
        };
        assert_eq!(original(&course.ws, &entry).as_deref(), Some(NOT_UTF8));
        let left: Vec<_> = std::fs::read_dir(course.ws.pristine_store())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }
}
