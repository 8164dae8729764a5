//! One run of `cargo xtask` at a time per chapter on its scratch folders.
//!
//! Every scratch crate of a chapter lives under
//! `target/xtask/variants/<chapter>/` (variant.rs), and two runs writing and
//! building the same copies at once (`try 7` beside `verify 7`) judge each
//! other's files. So the first time a run touches a chapter's scratch folders
//! it takes that chapter's lock, `variants/<chapter>.lock`, and keeps it until
//! it exits (or `release_all`). A second run waits, after one line saying
//! for what: both runs are legitimate, and waiting gives each its true
//! verdict, where failing would only make the learner start it again by hand.
//! Runs on different chapters do not wait for each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::ground::lock::{self, Held};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// The locks this process holds, by lock file.
static HELD: Mutex<BTreeMap<PathBuf, Held>> = Mutex::new(BTreeMap::new());

/// The lock file of `chapter`'s scratch folders.
pub fn path(ws: &Workspace, chapter: &Chapter) -> PathBuf {
    ws.scratch_dir()
        .join("variants")
        .join(format!("{}.lock", chapter.id()))
}

/// Takes `chapter`'s lock unless this process holds it already; waits (after
/// saying so) while another run holds it.
pub fn hold(ws: &Workspace, chapter: &Chapter) -> Result<()> {
    let path = path(ws, chapter);
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    if held.contains_key(&path) {
        return Ok(());
    }
    let folder = ws.show(&path.with_extension(""));
    let lock = take(&path, chapter.id(), &folder, &me())?;
    held.insert(path, lock);
    Ok(())
}

/// Lets go of every chapter's lock (a long-lived run, `watch`, between checks).
pub fn release_all() {
    HELD.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

fn take(path: &Path, id: &str, folder: &str, me: &str) -> Result<Held> {
    lock::exclusive(path, me, |holder| {
        let who = if holder.is_empty() {
            "another `cargo xtask` run".to_string()
        } else {
            format!("another `cargo xtask` run ({holder})")
        };
        ui::line(ui::dim(&format!(
            "Waiting for {who} to finish with {id}'s scratch crates ({folder}/); it \
             goes on by itself then."
        )));
    })
}

/// This run, as a waiting run names it: `pid 1234: cargo xtask verify 7`.
fn me() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("pid {}: cargo xtask {}", std::process::id(), args.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn a_run_holds_its_chapters_lock_once_and_lets_go_of_it() {
        let course = Course::new("scratch-lock");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        hold(&course.ws, &chapter).unwrap();
        // Held by this process: a second call does not wait for itself.
        hold(&course.ws, &chapter).unwrap();
        let file = path(&course.ws, &chapter);
        assert!(std::fs::read_to_string(&file).unwrap().starts_with("pid "));
        // Another holder (another open file) is refused while it is held.
        let other = std::fs::File::open(&file).unwrap();
        assert!(other.try_lock().is_err(), "the lock is held");
        release_all();
        assert!(other.try_lock().is_ok(), "released");
    }
}
