//! Listing the tests in a test binary and running them one at a time.
//!
//! Running each test in its own process costs a few milliseconds and buys a
//! lot: a test that hangs is stopped alone, with the others' verdicts intact;
//! a crash (stack overflow, abort) takes down one verdict, not the run; and
//! each failure's message is read from a run that contains only that test.
//! libtest's plain output is stable and simple; its JSON output is not stable.

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use crate::ground::process::{self, Cmd};
use crate::ground::ui;

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Passed,
    Failed {
        /// `file:line:col` of the panic, when libtest printed one.
        location: Option<String>,
        message: String,
    },
    /// Still running when the timeout came; it was stopped.
    TimedOut(Duration),
}

/// The verdict lines of one check as a learner reads them: ✓ or ✗ and the
/// check's name as a sentence, then for a failure the check's own message
/// (what was expected, what was seen, where to look), indented.
pub fn verdict_lines(name: &str, outcome: &Outcome) -> Vec<String> {
    let sentence = ui::sentence(name);
    let mut lines = vec![format!(
        "  {} {sentence}",
        ui::mark(*outcome == Outcome::Passed)
    )];
    match outcome {
        Outcome::Passed => {}
        Outcome::Failed { location, message } => {
            // A check's own failure panics in tests/ and its message says it
            // all. A panic anywhere else stopped the check before it could judge:
            // say so, and where, before the panic's message.
            if let Some(loc) = location.as_deref().filter(|l| !is_in_checks(l)) {
                let intro = if is_in_library(loc) {
                    format!("a library your code called panicked at {loc}:")
                } else {
                    format!("your code panicked at {loc}:")
                };
                lines.extend(ui::wrap(&intro, 6, ui::WIDTH));
            }
            for paragraph in message.lines() {
                lines.extend(ui::wrap(paragraph, 6, ui::WIDTH));
            }
        }
        Outcome::TimedOut(limit) => {
            let text = format!(
                "did not finish within {} s and was stopped. Look for a loop that never \
                 ends, or a lock or channel that is waited on forever.",
                limit.as_secs()
            );
            lines.extend(ui::wrap(&text, 6, ui::WIDTH));
        }
    }
    lines
}

fn is_in_checks(location: &str) -> bool {
    location.starts_with("tests/")
        || location.contains("/tests/")
        || location.starts_with("benches/")
        || location.contains("/benches/")
}

/// A panic location outside the course: a crate from crates.io or the
/// standard library (which cargo and rustc name by absolute or `/rustc/` paths).
fn is_in_library(location: &str) -> bool {
    location.contains("/.cargo/registry/")
        || location.contains("/rustc/")
        || location.starts_with("library/")
}

/// The test names in a test binary, as libtest lists them.
pub fn list(exe: &Path) -> Result<Vec<String>> {
    let out = Cmd::new(exe)
        .arg("--list")
        .output(Some(Duration::from_secs(30)))?;
    process::expect_success(&out, "listing the checks")?;
    Ok(parse_list(&out.stdout_text()))
}

fn parse_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect()
}

/// Runs the single test `name` of `exe` in `dir`, stopping it after `timeout`.
pub fn run_one(
    exe: &Path,
    name: &str,
    dir: &Path,
    timeout: Duration,
) -> Result<Outcome> {
    let out = Cmd::new(exe)
        .args([name, "--exact", "--test-threads=1"])
        .env("RUST_BACKTRACE", "0")
        .current_dir(dir)
        .output(Some(timeout))?;
    if out.timed_out() {
        return Ok(Outcome::TimedOut(timeout));
    }
    let stdout = out.stdout_text();
    if stdout.contains(&format!("test {name} ... ok")) && out.success() {
        return Ok(Outcome::Passed);
    }
    Ok(parse_failure(&stdout, &out.stderr_text(), out.status))
}

/// Reads the panic message and location from a failed single-test run.
fn parse_failure(
    stdout: &str,
    stderr: &str,
    status: Option<std::process::ExitStatus>,
) -> Outcome {
    let lines: Vec<&str> = stdout.lines().collect();
    let panic_at = lines
        .iter()
        .position(|l| l.starts_with("thread '") && l.contains("panicked at "));
    if let Some(i) = panic_at {
        let location = lines[i]
            .split_once("panicked at ")
            .map(|(_, loc)| loc.trim_end_matches(':').to_string());
        let message: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| {
                !l.starts_with("note: run with `RUST_BACKTRACE")
                    && !l.starts_with("stack backtrace:")
                    && **l != "failures:"
            })
            .copied()
            .collect();
        let message = message.join("\n").trim().to_string();
        return Outcome::Failed { location, message };
    }
    // No panic in the captured output: the process died another way (a stack
    // overflow, an abort, `std::process::exit`). stderr says how.
    let stderr_tail: Vec<&str> =
        stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let how = match status.and_then(|s| s.code()) {
        Some(code) => format!("the test process exited with code {code}"),
        None => "the test process was killed by a signal (it crashed)".to_string(),
    };
    let detail = stderr_tail
        .iter()
        .rev()
        .take(3)
        .rev()
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let message = if detail.is_empty() {
        how
    } else {
        format!("{how}: {detail}")
    };
    Outcome::Failed {
        location: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines as they read with colour off.
    fn plain(name: &str, outcome: &Outcome) -> Vec<String> {
        verdict_lines(name, outcome)
            .iter()
            .map(|l| anstream::adapter::strip_str(l).to_string())
            .collect()
    }

    #[test]
    fn a_failed_check_prints_its_name_then_its_message() {
        let outcome = Outcome::Failed {
            location: Some("tests/checks.rs:9:5".into()),
            message: "expected 2, saw 61.\nLook at src/report.rs.".into(),
        };
        assert_eq!(
            plain("report_uses_two_statements", &outcome),
            vec![
                "  ✗ report uses two statements",
                "      expected 2, saw 61.",
                "      Look at src/report.rs."
            ]
        );
        assert_eq!(plain("tests::it_works", &Outcome::Passed), ["  ✓ it works"]);
    }

    #[test]
    fn a_panic_in_the_learners_code_says_where_then_what() {
        let outcome = Outcome::Failed {
            location: Some("exercises/ch02-measure/src/report.rs:40:9".into()),
            message: "called `Option::unwrap()` on a `None` value".into(),
        };
        assert_eq!(
            plain("report_is_right", &outcome)[1..],
            [
                "      your code panicked at exercises/ch02-measure/src/report.rs:40:9:",
                "      called `Option::unwrap()` on a `None` value"
            ]
        );
    }

    #[test]
    fn a_panic_inside_a_library_is_told_apart_from_one_in_the_learners_code() {
        let outcome = Outcome::Failed {
            location: Some(
                "/root/.cargo/registry/src/x/rusqlite-0.43.0/src/row.rs:9:5".into(),
            ),
            message: "boom".into(),
        };
        let text = plain("t", &outcome).join("\n");
        assert!(
            text.contains("a library your code called panicked at"),
            "{text}"
        );
    }

    #[test]
    fn a_hang_says_it_was_stopped_and_what_to_look_for() {
        let text = plain("t", &Outcome::TimedOut(Duration::from_secs(30))).join(" ");
        assert!(
            text.contains("did not finish within 30 s and was stopped"),
            "{text}"
        );
    }

    #[test]
    fn the_list_keeps_tests_and_drops_benchmarks_and_the_summary() {
        let out = "report_is_right: test\nunique_is_linear: test\nsome_bench: benchmark\n\n\
                   2 tests, 1 benchmark\n";
        assert_eq!(parse_list(out), vec!["report_is_right", "unique_is_linear"]);
    }

    const FAILED: &str = "
running 1 test
test report_runs_at_most_two_statements ... FAILED

failures:

---- report_runs_at_most_two_statements stdout ----

thread 'report_runs_at_most_two_statements' (3704) panicked at tests/checks.rs:95:9:
expected at most 2 SQL statements, saw 61.
Look at src/report.rs.
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    report_runs_at_most_two_statements

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 8 filtered out
";

    #[test]
    fn a_panic_gives_its_location_and_its_whole_message() {
        let outcome = parse_failure(FAILED, "", None);
        assert_eq!(
            outcome,
            Outcome::Failed {
                location: Some("tests/checks.rs:95:9".into()),
                message:
                    "expected at most 2 SQL statements, saw 61.\nLook at src/report.rs."
                        .into()
            }
        );
    }

    #[test]
    fn a_crash_without_a_panic_is_explained_from_stderr() {
        let stderr = "\nthread 'deep' has overflowed its stack\nfatal runtime error: stack overflow\n";
        let Outcome::Failed { location, message } =
            parse_failure("running 1 test\n", stderr, None)
        else {
            panic!("expected a failure")
        };
        assert_eq!(location, None);
        assert!(
            message.starts_with("the test process was killed by a signal"),
            "{message}"
        );
        assert!(message.contains("has overflowed its stack"), "{message}");
    }
}
