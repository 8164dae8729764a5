//! Everything the runner prints goes through here.
//!
//! Plain words first, colour second: every line reads the same with colour off
//! (`NO_COLOR`, a pipe, CI logs), and fits an 80-column terminal. Text is
//! styled with `anstyle` and written through `anstream`, which keeps the styles
//! on a terminal that shows colour and strips them everywhere else (a pipe,
//! `NO_COLOR`, `CLICOLOR=0`, `TERM=dumb`), so no caller has to ask.
//!
//! This module is a leaf: it takes plain values (text, numbers, yes/no) and
//! knows nothing of checks, tests or diffs; the modules that do turn their own
//! types into lines and print them here.

use std::fmt::Display;
use std::io::{IsTerminal, Write};

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};

pub const WIDTH: usize = 80;

/// Honours `FORCE_COLOR` too (`CLICOLOR_FORCE` and `NO_COLOR` are anstream's
/// own); called once at the start of `main`.
pub fn init() {
    let set = |key| std::env::var_os(key).is_some_and(|v| !v.is_empty());
    if set("FORCE_COLOR") && !set("NO_COLOR") {
        ColorChoice::Always.write_global();
    }
}

/// Whether standard output keeps colour (for asking cargo for coloured
/// diagnostics, and for clearing the screen).
pub fn color() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != ColorChoice::Never
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub fn green(text: &str) -> String {
    paint(AnsiColor::Green.on_default(), text)
}
pub fn red(text: &str) -> String {
    paint(AnsiColor::Red.on_default(), text)
}
pub fn yellow(text: &str) -> String {
    paint(AnsiColor::Yellow.on_default(), text)
}
pub fn bold(text: &str) -> String {
    paint(Style::new().bold(), text)
}
pub fn dim(text: &str) -> String {
    paint(Style::new().dimmed(), text)
}

/// ✓ in green when `ok`, else ✗ in red.
pub fn mark(ok: bool) -> String {
    if ok { green("✓") } else { red("✗") }
}

/// One line on standard output.
pub fn line(text: impl Display) {
    anstream::println!("{text}");
}

/// Several lines on standard output.
pub fn lines<T: Display>(lines: impl IntoIterator<Item = T>) {
    for l in lines {
        line(l);
    }
}

/// An empty line.
pub fn blank() {
    anstream::println!();
}

/// `text` wrapped at 80 columns, every line indented by `indent`.
pub fn paragraph(text: &str, indent: usize) {
    lines(wrap(text, indent, WIDTH));
}

/// A remark beside the verdict, wrapped and dimmed.
pub fn aside(text: &str, indent: usize) {
    lines(wrap(text, indent, WIDTH).iter().map(|l| dim(l)));
}

/// A question on the current line, waiting for the answer.
pub fn prompt(question: &str) -> std::io::Result<()> {
    anstream::print!("{question}");
    anstream::stdout().flush()
}

/// Progress on standard error that rewrites its own line (`run 3 of 30`);
/// `done` ends the line.
pub fn progress(text: &str, done: bool) {
    anstream::eprint!("\r{text}");
    if done {
        anstream::eprintln!();
    }
}

/// What another program printed on standard error, passed on as it was.
pub fn passed_on(text: &str) {
    anstream::eprintln!("{}", text.trim_end());
}

/// A side remark, dimmed and wrapped: worth knowing, not a verdict.
pub fn note(text: &str) {
    aside(&format!("note: {text}"), 2);
}

/// `> cargo test …`, printed before a command runs so it can be rerun by hand.
pub fn command(shown: &str) {
    line(dim(&format!("> {shown}")));
}

/// A blank line, then `text` in bold.
pub fn heading(text: &str) {
    blank();
    line(bold(text));
}

/// An error that stopped the runner, never a backtrace: what went wrong first
/// (the innermost cause, a plain sentence), then each step the runner was
/// taking when it happened (the `.context(…)` around it), innermost first.
pub fn error(err: &anyhow::Error) {
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    let (cause, steps) = chain.split_last().expect("an error has at least itself");
    for (i, line) in error_lines(cause).iter().enumerate() {
        match line.strip_prefix("error:") {
            Some(rest) if i == 0 => anstream::eprintln!("{}{rest}", red("error:")),
            _ => anstream::eprintln!("{line}"),
        }
    }
    for step in steps.iter().rev() {
        for line in wrap(&format!("{} {step}", dim("while")), 2, WIDTH) {
            anstream::eprintln!("{line}");
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

/// Clears the terminal for a fresh verdict (`watch`); nothing when piped.
pub fn clear_screen() {
    if color() && std::io::stdout().is_terminal() {
        anstream::print!("\x1b[2J\x1b[H");
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
pub fn visible_len(s: &str) -> usize {
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
    fn colour_is_a_style_around_plain_words() {
        let text = format!("{} ok", red("✗"));
        assert_eq!(anstream::adapter::strip_str(&text).to_string(), "✗ ok");
        assert_eq!(visible_len(&text), 4);
    }

    #[test]
    fn durations_pick_a_readable_unit() {
        assert_eq!(duration_ns(312_400_000.0), "312.4 ms");
        assert_eq!(duration_ns(4_100.0), "4.1 µs");
        assert_eq!(duration_ns(2_500_000_000.0), "2.50 s");
    }
}
