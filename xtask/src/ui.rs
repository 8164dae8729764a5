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

/// A side remark, dimmed and wrapped: worth knowing, not a verdict.
pub fn note(text: &str) {
    for line in wrap(&format!("note: {text}"), 2, WIDTH) {
        println!("{}", dim(&line));
    }
}

/// `> cargo test …`, printed before a command runs so it can be rerun by hand.
pub fn command(shown: &str) {
    println!("{}", dim(&format!("> {shown}")));
}

pub fn heading(text: &str) {
    println!("\n{}", bold(text));
}

/// An error that stopped the runner, never a backtrace: what went wrong first
/// (the innermost cause, a plain sentence), then each step the runner was
/// taking when it happened (the `.context(…)` around it), innermost first.
pub fn error(err: &anyhow::Error) {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    let (cause, steps) = chain.split_last().expect("an error has at least itself");
    for (i, line) in error_lines(cause).iter().enumerate() {
        match line.strip_prefix("error:") {
            Some(rest) if i == 0 => eprintln!("{}{rest}", red("error:")),
            _ => eprintln!("{line}"),
        }
    }
    for step in steps.iter().rev() {
        for line in wrap(&format!("{} {step}", dim("while")), 2, WIDTH) {
            eprintln!("{line}");
        }
    }
}

/// `error: ` and the message, wrapped at 80 columns. A message of several
/// lines (a compiler's, a command's output) keeps its own lines.
fn error_lines(message: &str) -> Vec<String> {
    let text = format!("error: {}", capitalize(message));
    let mut lines = Vec::new();
    for (i, paragraph) in text.lines().enumerate() {
        if i == 0 {
            lines.extend(wrap(paragraph, 0, WIDTH));
        } else {
            lines.push(format!("  {paragraph}"));
        }
    }
    lines
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
            // A check's own failure panics in tests/ and its message says it
            // all. A panic anywhere else stopped the check before it could judge:
            // say so, and where, before the panic's message.
            if let Some(loc) = location.as_deref().filter(|l| !is_in_checks(l)) {
                let intro = if is_in_library(loc) {
                    format!("a library your code called panicked at {loc}:")
                } else {
                    format!("your code panicked at {loc}:")
                };
                lines.extend(wrap(&intro, 6, WIDTH));
            }
            for paragraph in message.lines() {
                lines.extend(wrap(paragraph, 6, WIDTH));
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

/// Clears the terminal for a fresh verdict (`watch`); nothing when piped.
pub fn clear_screen() {
    if color() && std::io::stdout().is_terminal() {
        print!("\x1b[2J\x1b[H");
    }
}

/// One line of a diff: removed (the learner's) in red, added (the reference's)
/// in green, headers dimmed.
pub fn diff_line(op: crate::diff::Op, text: &str) -> String {
    match op {
        crate::diff::Op::Same => format!(" {text}"),
        crate::diff::Op::Removed => red(&format!("-{text}")),
        crate::diff::Op::Added => green(&format!("+{text}")),
    }
}

/// Wraps `text` at word boundaries to `width` columns, indenting every line.
/// A command in backticks (`cargo xtask watch 2`) is never split across lines,
/// and colour codes take no room.
pub fn wrap(text: &str, indent: usize, width: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    // A line that fits is printed as written: runs of spaces inside it (a
    // padded table, a quoted email body) can be what the message is about.
    if indent + visible_len(text.trim_end()) <= width {
        return vec![format!("{pad}{}", text.trim_end())];
    }
    let leading = text.len() - text.trim_start().len();
    let pad_first = format!("{pad}{}", &text[..leading]);
    let mut lines = Vec::new();
    let mut line = pad_first.clone();
    for word in words(text) {
        let fresh = line.len() == pad_first.len();
        if !fresh && visible_len(&line) + 1 + visible_len(&word) > width {
            lines.push(std::mem::replace(
                &mut line,
                format!("{pad}{}", &text[..leading]),
            ));
        }
        if line.len() > pad_first.len() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if line.trim().is_empty() && !lines.is_empty() {
        return lines;
    }
    lines.push(line);
    lines
}

/// The words of `text`, with a backtick span kept as one word.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    words
}

/// Characters on screen: colour escape sequences (`ESC [ … m`) take none.
fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut in_escape = false;
    for c in s.chars() {
        match c {
            '\x1b' => in_escape = true,
            'm' if in_escape => in_escape = false,
            _ if in_escape => {}
            _ => n += 1,
        }
    }
    n
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
    fn wrapping_never_splits_a_command_in_backticks() {
        let text =
            "Edit the files, then check your work; `cargo xtask watch 1` checks again";
        let lines = wrap(text, 2, 50);
        assert!(
            lines.iter().any(|l| l.contains("`cargo xtask watch 1`")),
            "{lines:?}"
        );
        assert_eq!(visible_len("\x1b[31m✗\x1b[0m ok"), 4);
    }

    #[test]
    fn a_line_that_fits_keeps_its_inner_spacing() {
        assert_eq!(
            wrap("saw \" 2 × mug    $24.00\"", 4, 80),
            vec!["    saw \" 2 × mug    $24.00\""]
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
    fn a_panic_in_the_learners_code_says_where_then_what() {
        let outcome = Outcome::Failed {
            location: Some("exercises/ch02-measure/src/report.rs:40:9".into()),
            message: "called `Option::unwrap()` on a `None` value".into(),
        };
        let lines = verdict_lines("report_is_right", &outcome);
        assert_eq!(
            lines[1..],
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
        let text = verdict_lines("t", &outcome).join("\n");
        assert!(
            text.contains("a library your code called panicked at"),
            "{text}"
        );
    }

    #[test]
    fn a_long_error_is_wrapped_at_80_columns() {
        let lines =
            error_lines(&"there is no chapter \"9\"; the chapters are ".repeat(5));
        assert!(lines[0].starts_with("error: There is no chapter"));
        assert!(lines.len() > 2);
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{lines:?}"
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
