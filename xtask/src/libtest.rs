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

use crate::process::Cmd;

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

/// The test names in a test binary, as libtest lists them.
pub fn list(exe: &Path) -> Result<Vec<String>> {
    let out = Cmd::new(exe)
        .arg("--list")
        .output(Some(Duration::from_secs(30)))?;
    crate::process::expect_success(&out, "listing the checks")?;
    Ok(parse_list(&out.stdout))
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
    if out.stdout.contains(&format!("test {name} ... ok")) && out.success() {
        return Ok(Outcome::Passed);
    }
    Ok(parse_failure(&out.stdout, &out.stderr, out.status))
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
