//! Running other programs: cargo, test binaries, bench binaries.
//!
//! Every command can be echoed before it runs (`> cargo test ...`), so whoever
//! reads the output can rerun it by hand. A command with a timeout is stopped
//! when the time is up, and the caller is told so: that is how a learner's
//! infinite loop becomes a sentence instead of a frozen terminal.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// Whether this process's cargo builds are of code that is built once and
/// judged, not edited (`verify`, `try`): those skip incremental compilation,
/// whose caches cost about 40% of a cold build and save nothing for a crate
/// nobody edits next. From cold, chapter 4's 37 decoys built in 56 s instead
/// of 93 s, chapter 3's 28 in 29 s instead of 59 s (ARCHITECTURE.md, "Build
/// settings").
static BUILT_ONCE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// From now on, every `Cmd::cargo` builds without incremental compilation.
pub fn builds_are_built_once() {
    BUILT_ONCE.store(true, std::sync::atomic::Ordering::Relaxed);
}

pub struct Cmd {
    inner: Command,
    shown: String,
}

/// What a finished (or stopped) command left behind. The output is kept as
/// the bytes the command wrote: `git cat-file blob` hands back a file that
/// need not be UTF-8, and it must be restored byte for byte. Text for a person
/// to read is decoded from them where it is read (`stdout_text`).
pub struct Output {
    /// `None` when the command was stopped by its timeout.
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// stdout as text; a byte that is not UTF-8 reads as U+FFFD.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text; a byte that is not UTF-8 reads as U+FFFD.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

impl Cmd {
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let shown = Path::new(program.as_ref())
            .file_name()
            .unwrap_or(program.as_ref())
            .to_string_lossy()
            .into_owned();
        Self {
            inner: Command::new(program),
            shown,
        }
    }

    /// `cargo`, the same one that runs the runner, with the shared target dir.
    pub fn cargo(ws: &Workspace) -> Self {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Self::new(cargo);
        cmd.inner.env("CARGO_TARGET_DIR", ws.target_dir());
        if BUILT_ONCE.load(std::sync::atomic::Ordering::Relaxed) {
            cmd.inner.env("CARGO_INCREMENTAL", "0");
        }
        cmd.inner.current_dir(&ws.root);
        cmd
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        let a = arg.as_ref().to_string_lossy();
        if a.is_empty() || a.contains([' ', '*', '?']) {
            self.shown.push_str(&format!(" '{a}'"));
        } else {
            self.shown.push(' ');
            self.shown.push_str(&a);
        }
        self.inner.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.inner.env(key, value);
        self
    }

    /// Runs without `key` in the environment (e.g. `CARGO_TARGET_DIR`).
    pub fn env_remove(mut self, key: &str) -> Self {
        self.inner.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.inner.current_dir(dir);
        self
    }

    /// Prints `> command args` (dimmed) before the command runs.
    pub fn echo(self) -> Self {
        ui::command(&self.shown);
        self
    }

    #[cfg(test)]
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs with the terminal attached; true when it succeeded.
    pub fn run_attached(mut self) -> Result<bool> {
        let status = self
            .inner
            .status()
            .map_err(|e| spawn_error(&self.shown, e))?;
        Ok(status.success())
    }

    /// Runs to completion (or until `timeout`), capturing both output streams.
    pub fn output(mut self, timeout: Option<Duration>) -> Result<Output> {
        self.inner
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .inner
            .spawn()
            .map_err(|e| spawn_error(&self.shown, e))?;
        // Drain both pipes on their own threads so a chatty child never blocks.
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait(&mut child, timeout)
            .with_context(|| format!("waiting for `{}`", self.shown))?;
        Ok(Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }
}

fn drain<R: Read + Send + 'static>(
    pipe: Option<R>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Waits for the child; kills it and returns `None` when the timeout passes.
fn wait(child: &mut Child, timeout: Option<Duration>) -> Result<Option<ExitStatus>> {
    let Some(timeout) = timeout else {
        return Ok(Some(child.wait()?));
    };
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn_error(shown: &str, err: std::io::Error) -> anyhow::Error {
    let program = shown.split(' ').next().unwrap_or(shown);
    if err.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "could not start `{program}` because it is not installed or not on your PATH; \
             install it (for cargo and rustc: https://rustup.rs) and run the command again"
        )
    } else {
        anyhow::anyhow!("could not start `{shown}`: {err}")
    }
}

/// The first of `names` found in a folder of `path` (a `PATH`-style list), as
/// a shell would find it; `None` when none is installed.
pub fn find_program(
    path: Option<&OsStr>,
    names: &[&str],
) -> Option<std::path::PathBuf> {
    std::env::split_paths(path?)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Fails with the tail of the captured output when a command did not succeed.
pub fn expect_success(out: &Output, what: &str) -> Result<()> {
    if out.success() {
        return Ok(());
    }
    let stderr = out.stderr_text();
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    bail!("{what} failed:\n{}", tail.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_timeout_is_stopped_and_reported_as_timed_out() {
        let start = Instant::now();
        let out = Cmd::new("sleep")
            .arg("5")
            .output(Some(Duration::from_millis(100)))
            .unwrap();
        assert!(out.timed_out());
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_program_is_found_in_the_first_folder_of_the_path_that_has_it() {
        let dir =
            std::env::temp_dir().join(format!("xtask-path-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("chromium"), "").unwrap();
        std::fs::write(a.join("chromedriver"), "").unwrap();
        let path = std::env::join_paths([&a, &b]).unwrap();
        let find = |names: &[&str]| find_program(Some(&path), names);
        assert_eq!(
            find(&["chromium-browser", "chromium"]),
            Some(b.join("chromium"))
        );
        assert_eq!(find(&["chromedriver"]), Some(a.join("chromedriver")));
        assert_eq!(find(&["google-chrome"]), None);
        assert_eq!(find_program(None, &["chromium"]), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_program_is_explained_in_one_sentence() {
        let err = Cmd::new("no-such-tool-xyz")
            .output(None)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("`no-such-tool-xyz` because it is not installed"),
            "{err}"
        );
    }

    #[test]
    fn output_that_is_not_utf8_is_kept_byte_for_byte() {
        let out = Cmd::new("printf")
            .arg("a\\377\\376b\\r\\n")
            .output(None)
            .unwrap();
        assert_eq!(out.stdout, b"a\xff\xfeb\r\n");
        assert_eq!(out.stdout_text(), "a\u{fffd}\u{fffd}b\r\n");
    }

    #[test]
    fn arguments_with_spaces_are_quoted_when_shown() {
        let cmd = Cmd::new("/usr/bin/echo").arg("a b").arg("c");
        assert_eq!(cmd.shown(), "echo 'a b' c");
    }
}
