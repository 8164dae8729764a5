//! `cargo xtask watch N`: check again every time the learner saves.
//!
//! Saves are found by polling: every 300 ms the runner reads the chapter's
//! `.rs` and `.toml` files (a few kilobytes) and hashes them. File-event APIs
//! (inotify, FSEvents) are faster to react but miss saves on network drives,
//! container and VM shared folders; polling content, not timestamps, sees every
//! save on every file system and ignores an editor touching a file without
//! changing it. A change is acted on once the files have stayed the same for
//! one more poll (debounce), so an editor that writes in steps, or "save all",
//! triggers one check, not several.
//!
//! Enter checks at once; `q` then Enter, end of input (Ctrl-D) or Ctrl-C stops.
//! `--manual` turns polling off and checks only on Enter, for the rare setup
//! where polling misbehaves. The loop takes its inputs from a channel and its
//! fingerprints from a closure, so tests drive it without files or a terminal.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::scratch_lock;
use crate::ground::workspace::Workspace;
use crate::ground::{files, ui};

const POLL: Duration = Duration::from_millis(300);

/// What the learner typed.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// Enter: check now.
    Enter,
    /// `q` and Enter.
    Quit,
    /// End of input: Ctrl-D, or the pipe feeding the runner closed.
    End,
}

/// Why the loop asked for a check.
#[derive(Debug, PartialEq, Eq)]
pub enum Trigger {
    Start,
    Saved,
    Enter,
}

/// Watches `chapter` and calls `check` at the start, on every settled save
/// and on every Enter. `check` is `check::check_command`, passed in by `main`
/// so that this command does not reach sideways into another.
pub fn watch_command(
    ws: &Workspace,
    chapter: &Chapter,
    manual: bool,
    mut check: impl FnMut() -> Result<bool>,
) -> Result<bool> {
    let inputs = read_stdin();
    let offer = if manual {
        MANUAL_MODE.to_string()
    } else {
        format!(
            "Watching {} for saves; each save checks again. Press Enter to check now, \
             q then Enter to stop. {MANUAL_OFFER}",
            ws.show(&chapter.dir)
        )
    }
    .replace("{n}", &chapter.card.number.to_string());
    let stopped = run_loop(
        &inputs,
        manual,
        POLL,
        || fingerprint(&chapter.dir),
        |trigger| {
            ui::clear_screen();
            if trigger == Trigger::Saved {
                ui::line(ui::dim("A file changed; checking again."));
            }
            if let Err(err) = check() {
                ui::error(&err);
            }
            // Between checks the chapter's scratch crates are free for
            // another run (scratch_lock.rs).
            scratch_lock::release_all();
            ui::blank();
            ui::aside(&offer, 0);
        },
    );
    match stopped {
        Input::End => ui::line("Input closed: stopped watching."),
        _ => ui::line("Stopped watching."),
    }
    Ok(true)
}

/// What the learner types, line by line, on a channel; `End` when input ends.
fn read_stdin() -> Receiver<Input> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let input = match line.trim().to_lowercase().as_str() {
                "q" | "quit" | "exit" => Input::Quit,
                _ => Input::Enter,
            };
            let quit = input == Input::Quit;
            if tx.send(input).is_err() || quit {
                return;
            }
        }
        let _ = tx.send(Input::End);
    });
    rx
}

/// Checks once at the start, then on each debounced change and each Enter,
/// until `Quit` or `End` (returned). A closed channel counts as `End`.
pub fn run_loop(
    inputs: &Receiver<Input>,
    manual: bool,
    poll: Duration,
    mut fingerprint: impl FnMut() -> u64,
    mut check: impl FnMut(Trigger),
) -> Input {
    let mut debounce = Debounce::new(fingerprint());
    check(Trigger::Start);
    loop {
        match inputs.recv_timeout(poll) {
            Ok(Input::Enter) => {
                debounce = Debounce::new(fingerprint());
                check(Trigger::Enter);
            }
            Ok(stop) => return stop,
            Err(RecvTimeoutError::Disconnected) => return Input::End,
            Err(RecvTimeoutError::Timeout) if manual => {}
            Err(RecvTimeoutError::Timeout) => {
                if debounce.observe(fingerprint()) {
                    check(Trigger::Saved);
                }
            }
        }
    }
}

/// Decides when a change has settled: the fingerprint must differ from the
/// one last checked and then stay the same for one more poll.
pub struct Debounce {
    checked: u64,
    pending: Option<u64>,
}

impl Debounce {
    pub fn new(checked: u64) -> Self {
        Self {
            checked,
            pending: None,
        }
    }

    /// Feeds the latest fingerprint; true when it is time to check.
    pub fn observe(&mut self, now: u64) -> bool {
        if now == self.checked {
            self.pending = None; // back to what was checked: nothing to do
            return false;
        }
        if self.pending == Some(now) {
            self.pending = None;
            self.checked = now;
            return true;
        }
        self.pending = Some(now);
        false
    }
}

/// A hash of the names and contents of the chapter's `.rs` and `.toml` files.
/// Hidden files and editor backups (`.x.swp`, `x.rs~`) are left out.
pub fn fingerprint(dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    for path in files::files_under(dir).unwrap_or_default() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let wanted = path.extension().is_some_and(|e| e == "rs" || e == "toml");
        if !wanted || name.starts_with('.') {
            continue;
        }
        path.hash(&mut hasher);
        std::fs::read(&path).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

const MANUAL_MODE: &str = "Manual mode: press Enter to check chapter {n} again, or q \
    then Enter to stop.";

const MANUAL_OFFER: &str = "If saving a file does not start a check (some network \
    drives and shared folders), stop and run `cargo xtask watch {n} --manual`: it \
    checks each time you press Enter.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_checked_once_it_has_settled_for_one_poll() {
        let mut d = Debounce::new(1);
        assert!(!d.observe(1), "nothing changed");
        assert!(!d.observe(2), "changed: wait one poll");
        assert!(!d.observe(3), "still changing: wait again");
        assert!(d.observe(3), "settled: check");
        assert!(!d.observe(3), "checked already");
        assert!(!d.observe(4));
        assert!(
            !d.observe(3),
            "changed back to what was checked: nothing to do"
        );
        assert!(!d.observe(3));
    }

    /// Runs the loop over scripted fingerprints, sending each input just before
    /// the poll it is scheduled for; returns the checks the loop asked for.
    fn drive(prints: Vec<u64>, inputs: Vec<(usize, Input)>) -> Vec<Trigger> {
        let (tx, rx) = mpsc::channel();
        let mut checks = Vec::new();
        let mut polls = 0;
        let mut prints = prints.into_iter();
        let mut last = 0;
        let mut inputs = inputs.into_iter().peekable();
        let stop = run_loop(
            &rx,
            false,
            Duration::from_millis(1),
            || {
                while let Some((_, input)) = inputs.next_if(|(at, _)| *at == polls) {
                    tx.send(input).unwrap();
                }
                polls += 1;
                if let Some(p) = prints.next() {
                    last = p;
                }
                last
            },
            |t| checks.push(t),
        );
        assert_eq!(stop, Input::Quit);
        checks
    }

    #[test]
    fn the_loop_checks_at_start_on_a_settled_save_and_on_enter_until_quit() {
        let got = drive(
            vec![7, 7, 8, 8, 8, 8, 8, 8],
            vec![(6, Input::Enter), (7, Input::Quit)],
        );
        assert_eq!(got, [Trigger::Start, Trigger::Saved, Trigger::Enter]);
    }

    #[test]
    fn manual_mode_ignores_saves_and_checks_on_enter() {
        let (tx, rx) = mpsc::channel();
        tx.send(Input::Enter).unwrap();
        tx.send(Input::End).unwrap();
        let mut prints = [7, 8, 9].into_iter();
        let mut checks = Vec::new();
        let stop = run_loop(
            &rx,
            true,
            Duration::from_millis(1),
            || prints.next().unwrap_or(9),
            |t| checks.push(t),
        );
        assert_eq!(stop, Input::End);
        assert_eq!(checks, [Trigger::Start, Trigger::Enter]);
    }

    #[test]
    fn a_closed_input_stops_the_loop() {
        let (tx, rx) = mpsc::channel::<Input>();
        drop(tx);
        let stop = run_loop(&rx, false, Duration::from_millis(1), || 0, |_| {});
        assert_eq!(stop, Input::End);
    }

    #[test]
    fn the_fingerprint_changes_with_content_and_ignores_editor_files() {
        let dir =
            std::env::temp_dir().join(format!("xtask-watch-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "a").unwrap();
        let first = fingerprint(&dir);
        std::fs::write(dir.join("src/.lib.rs.swp"), "junk").unwrap();
        std::fs::write(dir.join("src/lib.rs~"), "junk").unwrap();
        assert_eq!(fingerprint(&dir), first);
        std::fs::write(dir.join("src/lib.rs"), "b").unwrap();
        assert_ne!(fingerprint(&dir), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
