//! `cargo xtask reset N`: the chapter as the course gave it, without losing
//! a line of the learner's.
//!
//! Order matters, so that nothing is lost even if the runner is stopped half
//! way: find every original first (and refuse, touching nothing, when one
//! cannot be found); ask; copy the learner's whole `src/` and every check file
//! about to be replaced into `.course-backups/<id>-<UTC time>/`; only then
//! write the originals and remove the files the starter does not have. The
//! originals come from `pristine` (the runner's kept copies, or git by blob id).
//!
//! `--checks` puts back only the check files (`tests/`, `benches/`,
//! `exercise.toml`) and leaves `src/` alone: the way back after `check` has
//! refused to judge edited checks.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::chapter::Chapter;
use crate::engine::pristine::{self, Entry};
use crate::engine::progress;
use crate::ground::workspace::Workspace;
use crate::ground::{blob, files, ui};

/// What a reset will do, worked out before anything is touched.
#[derive(Default)]
struct Plan {
    /// Files to write back, relative to the chapter's folder, with their text.
    restore: Vec<(String, Vec<u8>)>,
    /// The learner's files in `src/` that the starter does not have.
    remove: Vec<String>,
    /// Recorded files whose original could not be found.
    missing: Vec<String>,
}

pub fn reset_command(
    ws: &Workspace,
    chapter: &Chapter,
    yes: bool,
    checks_only: bool,
) -> Result<bool> {
    ui::heading(&format!("{} · reset", chapter.heading()));
    let n = chapter.card.number;
    let manifest = pristine::load(ws)?;
    let Some(entries) = manifest.get(chapter.id()) else {
        bail!(
            "the runner has no record of how chapter {n} was given ({} has no {} \
             lines), so it cannot restore it; {NOT_RECORDED}",
            ws.show(&ws.pristine_manifest()),
            chapter.id()
        );
    };
    let plan = plan(ws, chapter, entries, checks_only)?;
    refuse_missing(ws, chapter, &plan)?;
    let what = if checks_only {
        format!("the checks of chapter {n}")
    } else {
        format!("chapter {n}'s starter")
    };
    if plan.restore.is_empty() && plan.remove.is_empty() {
        let (are, them) = if checks_only {
            ("are", "them")
        } else {
            ("is", "it")
        };
        ui::line(format!(
            "{} {are} already as the course gave {them}; nothing to do.",
            capital(&what)
        ));
        return Ok(true);
    }
    let backup = backup_dir(ws, chapter.id());
    let saved = files_to_save(chapter, &plan, checks_only)?;
    describe(ws, chapter, &plan, &what, &backup, saved.is_empty());
    if !yes && !confirm(&format!("Reset {what}? Type y and press Enter: "))? {
        ui::paragraph(NOT_CONFIRMED, 0);
        return Ok(false);
    }
    save_backup(chapter, &saved, &backup)?;
    apply(chapter, &plan)?;
    if !checks_only {
        progress::record_reset(ws, chapter)?;
    }
    let saved_in = (!saved.is_empty()).then(|| ws.show(&backup));
    say_done(n, &what, checks_only, saved_in);
    Ok(true)
}

/// Refuses, having touched nothing, when an original is missing.
fn refuse_missing(ws: &Workspace, chapter: &Chapter, plan: &Plan) -> Result<()> {
    if plan.missing.is_empty() {
        return Ok(());
    }
    let files: Vec<String> = plan
        .missing
        .iter()
        .map(|p| ws.show(&chapter.dir.join(p)))
        .collect();
    bail!(
        "nothing was changed: the runner could not find the original of {}, \
         because git has no copy of it here and the runner kept none \
         (.course-pristine/); {NO_ORIGINAL}",
        files.join(", ")
    )
}

fn say_done(n: u32, what: &str, plural: bool, saved_in: Option<String>) {
    let are = if plural { "are" } else { "is" };
    let mut text = format!("{} {} {are} back.", ui::green("✓"), capital(what));
    if let Some(backup) = saved_in {
        text.push_str(&format!(
            " Your files are saved in {backup}; copy from there anything you want to keep."
        ));
    }
    text.push_str(&format!(" Next: `cargo xtask check {n}`."));
    ui::blank();
    ui::paragraph(&text, 0);
}

fn plan(
    ws: &Workspace,
    chapter: &Chapter,
    entries: &[Entry],
    checks_only: bool,
) -> Result<Plan> {
    let mut plan = Plan::default();
    for e in entries.iter().filter(|e| !(checks_only && e.is_starter())) {
        if let Ok(bytes) = std::fs::read(chapter.dir.join(&e.path))
            && blob::matches(&bytes, &e.blob)
        {
            continue;
        }
        match pristine::original(ws, e) {
            Some(bytes) => plan.restore.push((e.path.clone(), bytes)),
            None => plan.missing.push(e.path.clone()),
        }
    }
    if !checks_only {
        for path in files::files_under(&chapter.dir.join("src"))? {
            let rel = relative(&chapter.dir, &path);
            if !entries.iter().any(|e| e.path == rel) {
                plan.remove.push(rel);
            }
        }
    }
    Ok(plan)
}

/// The files the backup holds: all of `src/` (the learner's work, whole) for
/// a full reset, and every existing file that is about to be replaced.
fn files_to_save(
    chapter: &Chapter,
    plan: &Plan,
    checks_only: bool,
) -> Result<Vec<String>> {
    let mut files: Vec<String> = Vec::new();
    if !checks_only {
        for path in files::files_under(&chapter.dir.join("src"))? {
            files.push(relative(&chapter.dir, &path));
        }
    }
    for (rel, _) in &plan.restore {
        if chapter.dir.join(rel).is_file() && !files.contains(rel) {
            files.push(rel.clone());
        }
    }
    files.sort();
    Ok(files)
}

fn describe(
    ws: &Workspace,
    chapter: &Chapter,
    plan: &Plan,
    what: &str,
    backup: &Path,
    nothing_to_save: bool,
) {
    let show = |rel: &String| ws.show(&chapter.dir.join(rel));
    let mut text = format!("This puts back {what}.");
    if !plan.restore.is_empty() {
        let files: Vec<String> = plan.restore.iter().map(|(p, _)| show(p)).collect();
        text.push_str(&format!(" Restored: {}.", files.join(", ")));
    }
    if !plan.remove.is_empty() {
        let files: Vec<String> = plan.remove.iter().map(show).collect();
        text.push_str(&format!(
            " Removed (the starter does not have them): {}.",
            files.join(", ")
        ));
    }
    if !nothing_to_save {
        text.push_str(&format!(
            " First, your files are saved in {}.",
            ws.show(backup)
        ));
    }
    ui::paragraph(&text, 0);
}

/// Asks on the terminal; no answer (end of input) is a no.
fn confirm(question: &str) -> Result<bool> {
    ui::blank();
    ui::prompt(question).context("writing the question")?;
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    // A typed answer ends its line on the terminal; from a pipe or at the end
    // of input nothing did.
    if read == 0 || !std::io::stdin().is_terminal() {
        ui::blank();
    }
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `.course-backups/<id>-<YYYYMMDD-HHMMSS>` (UTC), with `-2`, `-3`… when two
/// resets share a second.
fn backup_dir(ws: &Workspace, id: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{id}-{}", timestamp(secs));
    let mut dir = ws.backups_dir().join(&base);
    let mut n = 2;
    while dir.exists() {
        dir = ws.backups_dir().join(format!("{base}-{n}"));
        n += 1;
    }
    dir
}

fn save_backup(chapter: &Chapter, files: &[String], backup: &Path) -> Result<()> {
    for rel in files {
        let to = backup.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).with_context(|| {
                format!("creating the backup folder {}", parent.display())
            })?;
        }
        std::fs::copy(chapter.dir.join(rel), &to).with_context(|| {
            format!("saving {rel} to the backup {}", backup.display())
        })?;
    }
    Ok(())
}

fn apply(chapter: &Chapter, plan: &Plan) -> Result<()> {
    for (rel, bytes) in &plan.restore {
        let path = chapter.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .with_context(|| format!("restoring {}", path.display()))?;
    }
    let src = chapter.dir.join("src");
    for rel in &plan.remove {
        let path = chapter.dir.join(rel);
        std::fs::remove_file(&path)
            .with_context(|| format!("removing {}", path.display()))?;
        // Folders the learner added and that are now empty go too.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != src && d.starts_with(&src)) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(())
}

/// `src/report.rs`: a path below the chapter's folder, with `/` separators.
fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Seconds since 1970 as `YYYYMMDD-HHMMSS` in UTC (Howard Hinnant's
/// days-to-civil algorithm; the standard library has no calendar).
fn timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

const NOT_RECORDED: &str = "this happens only while a chapter is being written: a \
    maintainer records it with `cargo xtask pristine N`.";

const NO_ORIGINAL: &str = "get the course again (`git clone`, or a fresh download) \
    into another folder and copy the file from there.";

const NOT_CONFIRMED: &str = "Nothing was changed. Reset asks before it replaces your \
    files: answer y, or run it with --yes.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn a_starter_that_is_not_utf8_is_restored_byte_for_byte() {
        const NOT_UTF8: &[u8] = b"// caf\xe9\r\n\xff\xfe\n";
        let course = Course::new("reset-bytes");
        let report = course.path("exercises/ch02-measure/src/report.rs");
        std::fs::write(&report, NOT_UTF8).unwrap();
        let chapter = Chapter::find(&course.ws, "2", "reset").unwrap();
        let mut manifest = pristine::Manifest::new();
        manifest.insert(chapter.id().into(), pristine::current(&chapter).unwrap());
        pristine::save(&course.ws, &manifest).unwrap();
        pristine::remember(&course.ws);
        std::fs::write(&report, "// mine\n").unwrap();
        assert!(reset_command(&course.ws, &chapter, true, false).unwrap());
        assert_eq!(std::fs::read(&report).unwrap(), NOT_UTF8);
        let backups: Vec<_> = std::fs::read_dir(course.ws.backups_dir())
            .unwrap()
            .collect();
        assert_eq!(backups.len(), 1, "the learner's file was saved first");
    }

    #[test]
    fn backup_folders_are_named_by_utc_time() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_798_421_400), "20261228-013000");
    }

    #[test]
    fn paths_below_a_chapter_use_forward_slashes() {
        let dir = Path::new("/x/exercises/ch02");
        assert_eq!(relative(dir, &dir.join("src").join("a.rs")), "src/a.rs");
    }
}
