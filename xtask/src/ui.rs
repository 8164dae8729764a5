//! Everything the runner prints goes through here.
//!
//! Plain words first, colour second: every line reads the same with colour off
//! (`NO_COLOR`, a pipe, CI logs), and fits an 80-column terminal. A verdict is
//! one line per check: ✓ or ✗, then the check's name read as a sentence, then
//! (for ✗) the check's own message: what was expected, what was seen, where to
//! look.

use std::io::IsTerminal;
use std::sync::OnceLock;

use crate::libtest::Outcome;

pub const WIDTH: usize = 80;

pub fn color() -> bool {
    static COLOR: OnceLock<bool> = OnceLock::new();
    *COLOR.get_or_init(|| {
        std::env::var_os("NO_COLOR").is_none()
            && (std::io::stdout().is_terminal()
                || std::env::var_os("FORCE_COLOR").is_some())
    })
}

fn paint(code: &str, text: &str) -> String {
    if color() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn green(text: &str) -> String {
    paint("32", text)
}
pub fn red(text: &str) -> String {
    paint("31", text)
}
pub fn yellow(text: &str) -> String {
    paint("33", text)
}
pub fn bold(text: &str) -> String {
    paint("1", text)
}
pub fn dim(text: &str) -> String {
    paint("2", text)
}

/// `> cargo test …`, printed before a command runs so it can be rerun by hand.
pub fn command(shown: &str) {
    println!("{}", dim(&format!("> {shown}")));
}

pub fn heading(text: &str) {
    println!("\n{}", bold(text));
}

/// An error that stopped the runner: one plain sentence first, the chain of
/// causes after it (each step the runner was taking), never a backtrace.
pub fn error(err: &anyhow::Error) {
    let mut chain = err.chain();
    let first = chain.next().map(|e| e.to_string()).unwrap_or_default();
    eprintln!("{} {}", red("error:"), capitalize(&first));
    for cause in chain {
        eprintln!("  {} {cause}", dim("while"));
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `report_keeps_customers_who_never_ordered` → "report keeps customers who never ordered"
pub fn sentence(test_name: &str) -> String {
    let last = test_name.rsplit("::").next().unwrap_or(test_name);
    last.replace('_', " ")
}

/// The verdict line of one check, and for a failure its message, indented.
pub fn verdict_lines(name: &str, outcome: &Outcome) -> Vec<String> {
    let mut lines = Vec::new();
    match outcome {
        Outcome::Passed => lines.push(format!("  {} {}", green("✓"), sentence(name))),
        Outcome::Failed { location, message } => {
            lines.push(format!("  {} {}", red("✗"), sentence(name)));
            for paragraph in message.lines() {
                lines.extend(wrap(paragraph, 6, WIDTH));
            }
            if let Some(loc) = location.as_deref().filter(|l| !l.contains("tests/")) {
                // A panic outside the checks: it happened in the learner's code.
                lines.push(format!("      {}", dim(&format!("(panicked at {loc})"))));
            }
        }
        Outcome::TimedOut(limit) => {
            lines.push(format!("  {} {}", red("✗"), sentence(name)));
            let text = format!(
                "did not finish within {} s and was stopped. Look for a loop that never \
                 ends, or a lock or channel that is waited on forever.",
                limit.as_secs()
            );
            lines.extend(wrap(&text, 6, WIDTH));
        }
    }
    lines
}

/// Wraps `text` at word boundaries to `width` columns, indenting every line.
pub fn wrap(text: &str, indent: usize, width: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    let leading = text.len() - text.trim_start().len();
    let pad_first = format!("{pad}{}", &text[..leading]);
    let mut lines = Vec::new();
    let mut line = pad_first.clone();
    for word in text.split_whitespace() {
        let fresh = line.len() == pad_first.len();
        if !fresh && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(
                &mut line,
                format!("{pad}{}", &text[..leading]),
            ));
        }
        if line.len() > pad_first.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.trim().is_empty() && !lines.is_empty() {
        return lines;
    }
    lines.push(line);
    lines
}

/// A duration in the unit that reads best.
pub fn duration_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_name_reads_as_a_sentence() {
        assert_eq!(
            sentence("report_keeps_customers_who_never_ordered"),
            "report keeps customers who never ordered"
        );
        assert_eq!(sentence("tests::unique_is_linear"), "unique is linear");
    }

    #[test]
    fn wrapping_keeps_every_line_within_the_width_and_indented() {
        let text = "expected at most 2 SQL statements for a report over 50 orders, saw 61 \
                    (statements per size so far: 50 orders: 61).";
        let lines = wrap(text, 6, 40);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(l.chars().count() <= 40, "{l:?}");
            assert!(
                l.starts_with("      ") && !l.starts_with("       "),
                "{l:?}"
            );
        }
        assert_eq!(
            lines
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text
        );
    }

    #[test]
    fn wrapping_keeps_the_indent_of_an_indented_paragraph() {
        let lines = wrap("  expected: customer 3", 6, 80);
        assert_eq!(lines, vec!["        expected: customer 3"]);
    }

    #[test]
    fn a_failed_check_prints_its_name_then_its_message() {
        let outcome = Outcome::Failed {
            location: Some("tests/checks.rs:9:5".into()),
            message: "expected 2, saw 61.\nLook at src/report.rs.".into(),
        };
        let lines = verdict_lines("report_uses_two_statements", &outcome);
        assert_eq!(
            lines,
            vec![
                "  ✗ report uses two statements",
                "      expected 2, saw 61.",
                "      Look at src/report.rs."
            ]
        );
    }

    #[test]
    fn a_panic_in_the_learners_code_says_where() {
        let outcome = Outcome::Failed {
            location: Some("exercises/ch02-measure/src/report.rs:40:9".into()),
            message: "called `Option::unwrap()` on a `None` value".into(),
        };
        let lines = verdict_lines("report_is_right", &outcome);
        assert!(
            lines
                .last()
                .unwrap()
                .contains("(panicked at exercises/ch02-measure/src/report.rs:40:9)")
        );
    }

    #[test]
    fn a_hang_says_it_was_stopped_and_what_to_look_for() {
        let lines =
            verdict_lines("t", &Outcome::TimedOut(std::time::Duration::from_secs(30)));
        let text = lines.join(" ");
        assert!(
            text.contains("did not finish within 30 s and was stopped"),
            "{text}"
        );
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration_ns(312_400_000.0), "312.4 ms");
        assert_eq!(duration_ns(4_100.0), "4.1 µs");
        assert_eq!(duration_ns(2_500_000_000.0), "2.50 s");
    }
}
