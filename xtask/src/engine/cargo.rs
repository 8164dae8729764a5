//! Building a crate's tests or benches with cargo, and reading what it says.
//!
//! The runner asks cargo for JSON messages (`--message-format=json…`) rather
//! than scraping its human output: each line is one message, compiler errors
//! come pre-rendered, and built executables are named in `compiler-artifact`
//! messages, so the runner can run each test binary itself, one test at a time.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::engine::subject::Subject;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// Which targets to build.
pub enum Targets<'a> {
    /// Every integration test (`tests/*.rs`), debug profile.
    Tests,
    /// One bench target, bench profile.
    Bench(&'a str),
    /// The library's unit tests: of the subject's package, or (`all`) of
    /// every member of its workspace.
    LibTests { all: bool },
    /// These examples, debug profile (the book's figure programs).
    Examples(&'a [String]),
}

pub enum Build {
    /// The executables built, with their target names.
    Built(Vec<(String, PathBuf)>),
    Failed(CompileFailure),
}

#[derive(Debug)]
pub struct CompileFailure {
    pub errors: usize,
    /// The first error as rustc renders it (file, line, caret and all).
    pub first: Option<String>,
    /// The file of the first error, relative to the crate.
    pub file: Option<String>,
    /// What cargo printed on stderr (e.g. a manifest problem, no compiler error).
    pub stderr: String,
}

pub fn build(
    ws: &Workspace,
    subject: &Subject,
    targets: Targets<'_>,
    echo: bool,
) -> Result<Build> {
    let mut cmd = command(ws, subject, targets);
    if echo {
        cmd = cmd.echo();
    }
    let out = with_slow_notice(echo, || cmd.output(None))?;
    let messages = parse_messages(&out.stdout_text());
    if out.success() {
        if echo {
            note_warnings(subject, &messages.warnings);
        }
        return Ok(Build::Built(messages.executables));
    }
    let stderr = out.stderr_text();
    if messages.errors.is_empty() && stderr.trim().is_empty() {
        bail!(
            "cargo stopped without saying why (exit status {:?})",
            out.status
        );
    }
    Ok(Build::Failed(failure(&messages.errors, stderr)))
}

/// Test executables (target name, path) keyed by the folder of their package.
pub type ByMember = std::collections::BTreeMap<PathBuf, Vec<(String, PathBuf)>>;

/// Builds the integration tests of every member of the scratch workspace whose
/// manifest is `manifest`, in one cargo invocation (cargo spreads the members
/// over the cores). Returns each member's executables, keyed by the member's
/// folder, or `None` when any member fails to compile (the caller builds them
/// one by one to say which).
pub fn build_members_tests(
    ws: &Workspace,
    manifest: &std::path::Path,
) -> Result<Option<ByMember>> {
    // Its callers (`verify`, `try`) build without incremental compilation
    // (`process::builds_are_built_once`): these copies are built once.
    let out = Cmd::cargo(ws)
        .args(["test", "--test", "*", "--workspace", "--manifest-path"])
        .arg(manifest)
        .args(["--no-run", "--quiet", "--message-format=json"])
        .output(None)?;
    if !out.success() {
        return Ok(None);
    }
    let mut by_member = std::collections::BTreeMap::new();
    for (dir, name, exe) in parse_messages(&out.stdout_text()).owned {
        by_member
            .entry(dir)
            .or_insert_with(Vec::new)
            .push((name, exe));
    }
    Ok(Some(by_member))
}

/// `cargo test --test '*' …` or `cargo bench --bench <name> …`, building only,
/// with JSON messages (diagnostics rendered in colour when the terminal shows it).
fn command(ws: &Workspace, subject: &Subject, targets: Targets<'_>) -> Cmd {
    let format = if ui::color() {
        "json-diagnostic-rendered-ansi"
    } else {
        "json"
    };
    let all = matches!(targets, Targets::LibTests { all: true });
    let mut cmd = match targets {
        Targets::Tests => Cmd::cargo(ws).args(["test", "--test", "*"]),
        Targets::Bench(name) => Cmd::cargo(ws).args(["bench", "--bench", name]),
        Targets::LibTests { .. } => Cmd::cargo(ws).args(["test", "--lib"]),
        Targets::Examples(names) => {
            let mut cmd = Cmd::cargo(ws).arg("build");
            for name in names {
                cmd = cmd.args(["--example", name]);
            }
            cmd
        }
    };
    let building_only = !matches!(targets, Targets::Examples(_));
    // The learner's crate is in the root workspace, where cargo runs anyway:
    // leave the manifest path out so the echoed command is one to retype.
    if subject.manifest != ws.root.join("Cargo.toml") {
        cmd = cmd.arg("--manifest-path").arg(&subject.manifest);
    }
    cmd = if all {
        cmd.arg("--workspace")
    } else {
        cmd.args(["--package", &subject.package])
    };
    if building_only {
        cmd = cmd.arg("--no-run");
    }
    cmd.arg("--quiet").arg(format!("--message-format={format}"))
}

/// One line about the compiler's warnings on the learner's code, if any.
fn note_warnings(subject: &Subject, warnings: &[String]) {
    let Some(file) = warnings.first() else {
        return;
    };
    let count = match warnings.len() {
        1 => "1 warning".to_string(),
        n => format!("{n} warnings"),
    };
    ui::note(&format!(
        "{count} from the compiler, the first in {file}; `cargo build -p {}` shows them.",
        subject.package
    ));
}

/// The failure as the learner should meet it. The error shown first is the one
/// whose cause lies in the learner's own files (src/): rustc may report an
/// error in the checks first (a spawned future that is not Send is flagged
/// where the checks spawn it), while its cause, and the file to open, is the
/// learner's.
fn failure(errors: &[CompileError], stderr: String) -> CompileFailure {
    let shown = errors.iter().find(|e| e.own.is_some()).or(errors.first());
    CompileFailure {
        errors: errors.len(),
        first: shown.map(|e| e.rendered.clone()),
        file: shown.and_then(|e| e.own.clone().or(e.file.clone())),
        stderr,
    }
}

struct CompileError {
    rendered: String,
    /// The file of its primary span.
    file: Option<String>,
    /// `src/<file>:<line>` of the first span, primary or in a note, that lies
    /// in the crate's own `src/` (the learner's code).
    own: Option<String>,
}

#[derive(Default)]
struct Messages {
    executables: Vec<(String, PathBuf)>,
    /// The same executables with the folder of the package that owns each.
    owned: Vec<(PathBuf, String, PathBuf)>,
    errors: Vec<CompileError>,
    /// The file of each warning about code in the workspace (not dependencies).
    warnings: Vec<String>,
}

fn parse_messages(stdout: &str) -> Messages {
    let mut found = Messages::default();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = msg["executable"].as_str() {
                    let name = msg["target"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    if let Some(dir) = msg["manifest_path"]
                        .as_str()
                        .and_then(|m| std::path::Path::new(m).parent())
                    {
                        found.owned.push((
                            dir.to_path_buf(),
                            name.clone(),
                            PathBuf::from(exe),
                        ));
                    }
                    found.executables.push((name, PathBuf::from(exe)));
                }
            }
            Some("compiler-message") if msg["message"]["level"] == "warning" => {
                let spans = msg["message"]["spans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let file = spans
                    .iter()
                    .find(|s| s["is_primary"] == true)
                    .and_then(|s| s["file_name"].as_str());
                // Summaries ("3 warnings emitted") have no span; files outside
                // the workspace (absolute paths) are dependencies' business.
                if let Some(file) = file.filter(|f| !f.starts_with('/')) {
                    found.warnings.push(file.to_string());
                }
            }
            Some("compiler-message") if msg["message"]["level"] == "error" => {
                let m = &msg["message"];
                let rendered = m["rendered"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_end()
                    .to_string();
                // "aborting due to previous error" summaries carry no span.
                let spans = m["spans"].as_array().cloned().unwrap_or_default();
                let file = spans
                    .iter()
                    .find(|s| s["is_primary"] == true)
                    .and_then(|s| s["file_name"].as_str())
                    .map(str::to_string);
                let own = own_span(m);
                if file.is_some() || !rendered.starts_with("error: aborting") {
                    found.errors.push(CompileError {
                        rendered,
                        file,
                        own,
                    });
                }
            }
            _ => {}
        }
    }
    found
}

/// The first span of a diagnostic (its own, then its notes') in `src/`.
fn own_span(message: &Value) -> Option<String> {
    let children = message["children"].as_array().cloned().unwrap_or_default();
    std::iter::once(message)
        .chain(children.iter())
        .flat_map(|m| m["spans"].as_array().cloned().unwrap_or_default())
        .find_map(|span| {
            let file = span["file_name"].as_str()?;
            let line = span["line_start"].as_u64()?;
            file.starts_with("src/").then(|| format!("{file}:{line}"))
        })
}

/// Runs `f`; if it takes longer than a few seconds (a chapter's first build
/// compiles its dependencies), says so once, so a silent terminal is not
/// mistaken for a hang.
fn with_slow_notice<T>(enabled: bool, f: impl FnOnce() -> T) -> T {
    if !enabled {
        return f();
    }
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let notice = std::thread::spawn(move || {
        let timeout = std::time::Duration::from_secs(4);
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            wait.recv_timeout(timeout)
        {
            ui::note(SLOW_BUILD);
        }
    });
    let out = f();
    drop(done);
    let _ = notice.join();
    out
}

/// Measured from an empty target directory on 2 cores: 76 s for chapter 1 and
/// 62 s for chapter 2 with other builds beside it (load about 7); 4 min 28 s
/// (chapter 8), 5 min 10 s (chapter 4) and 6 min (chapter 2) at load 9–19 in
/// the learner trials of 2026-12-01. Shown after 4 s of any build, so it must
/// also fit a rebuild of the learner's own crate.
const SLOW_BUILD: &str = "compiling... A chapter's first build also compiles its \
    dependencies: one to six minutes on a 2-core machine, longer while other builds \
    run. After that, a change to your code rebuilds in seconds.";

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"reason":"compiler-artifact","target":{"name":"support","kind":["lib"]},"executable":null}
{"reason":"compiler-message","message":{"level":"warning","rendered":"warning: unused","spans":[]}}
{"reason":"compiler-message","message":{"level":"error","rendered":"error[E0308]: mismatched types\n --> src/report.rs:4:5\n","spans":[{"file_name":"src/report.rs","is_primary":true}]}}
{"reason":"compiler-message","message":{"level":"error","rendered":"error: aborting due to 1 previous error\n","spans":[]}}
{"reason":"compiler-artifact","target":{"name":"checks","kind":["test"]},"executable":"/t/debug/deps/checks-abc"}
not json at all
{"reason":"build-finished","success":false}"#;

    #[test]
    fn examples_are_built_not_tested_each_named() {
        let ws = Workspace {
            root: PathBuf::from("/course"),
        };
        let subject = Subject {
            manifest: PathBuf::from("/scratch/Cargo.toml"),
            package: "ch02-measure".into(),
            dir: PathBuf::from("/scratch/ch02"),
        };
        let names = ["figures-a".to_string(), "figures-b".to_string()];
        let cmd = command(&ws, &subject, Targets::Examples(&names));
        let shown = cmd.shown();
        assert!(
            shown.starts_with("cargo build --example figures-a --example figures-b"),
            "{shown}"
        );
        assert!(!shown.contains("--no-run"), "{shown}");
        let tests = command(&ws, &subject, Targets::Tests);
        assert!(tests.shown().contains("--no-run"), "{}", tests.shown());
    }

    #[test]
    fn executables_are_read_from_compiler_artifacts() {
        let m = parse_messages(SAMPLE);
        assert_eq!(
            m.executables,
            vec![("checks".into(), PathBuf::from("/t/debug/deps/checks-abc"))]
        );
    }

    #[test]
    fn each_executable_is_kept_with_the_folder_of_its_package() {
        let line = r#"{"reason":"compiler-artifact","manifest_path":"/s/decoys/decoy-a/Cargo.toml","target":{"name":"checks","kind":["test"]},"executable":"/t/debug/deps/checks-1"}"#;
        let m = parse_messages(line);
        assert_eq!(
            m.owned,
            vec![(
                PathBuf::from("/s/decoys/decoy-a"),
                "checks".to_string(),
                PathBuf::from("/t/debug/deps/checks-1")
            )]
        );
    }

    #[test]
    fn only_real_errors_count_and_the_first_keeps_its_file() {
        let m = parse_messages(SAMPLE);
        assert_eq!(
            m.errors.len(),
            1,
            "warnings and the 'aborting' summary are not errors"
        );
        assert!(
            m.errors[0]
                .rendered
                .starts_with("error[E0308]: mismatched types")
        );
        assert_eq!(m.errors[0].file.as_deref(), Some("src/report.rs"));
    }

    #[test]
    fn an_error_flagged_in_the_checks_names_the_learners_file_from_its_notes() {
        let line = r#"{"reason":"compiler-message","message":{"level":"error","rendered":"error: future cannot be sent between threads safely","spans":[{"file_name":"tests/checks.rs","line_start":40,"is_primary":true}],"children":[{"level":"note","spans":[{"file_name":"src/catalogue.rs","line_start":57,"is_primary":true}]}]}}"#;
        let m = parse_messages(line);
        assert_eq!(m.errors[0].file.as_deref(), Some("tests/checks.rs"));
        assert_eq!(m.errors[0].own.as_deref(), Some("src/catalogue.rs:57"));
    }
}
