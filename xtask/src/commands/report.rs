//! `cargo xtask report [--short] [--markdown FILE]`: a participant's progress
//! over every chapter, for the instructor of a workshop.
//!
//! Everything comes from the progress file (`engine::progress`), which `check`,
//! `hint` and `reset` keep up to date: the state, the latest check's count of
//! passing checks, the hints seen and the latest quick bench's ratio. Nothing
//! is built or run, so it answers at once on every machine of the room.
//!
//! Three shapes of the same rows: a table for the terminal, one line to paste
//! into the room's shared sheet (`--short`), and a Markdown table
//! (`--markdown FILE`) to hand in or attach to an issue.

use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::chapter::Chapter;
use crate::engine::progress::{self, Entry, State, Tally};
use crate::ground::files;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// One chapter as the report shows it.
struct Row {
    number: u32,
    id: String,
    title: String,
    entry: Entry,
    hints_total: usize,
    /// The bench gate's `min_ratio`, when the chapter has a gate.
    gate: Option<f64>,
}

/// Where a chapter stands, in the words a room reads.
#[derive(Debug, PartialEq)]
enum Standing {
    NotStarted,
    Started,
    /// The latest check failed to compile.
    DoesNotCompile,
    Counted(Tally),
    Passed,
    /// Passed once; the latest check failed.
    FailingNow(Option<Tally>),
}

impl Row {
    fn standing(&self) -> Standing {
        let e = &self.entry;
        let counted = e.checks.filter(|t| t.total > 0);
        let broken = e.checks.is_some_and(|t| t.total == 0);
        match e.state {
            State::Passed if e.last_check == Some(false) => {
                Standing::FailingNow(counted)
            }
            State::Passed => Standing::Passed,
            State::NotStarted => Standing::NotStarted,
            State::InProgress if broken && e.last_check == Some(false) => {
                Standing::DoesNotCompile
            }
            State::InProgress => counted.map_or(Standing::Started, Standing::Counted),
        }
    }

    /// The state column: plain words, as `cargo xtask` lists chapters.
    fn state_words(&self) -> &'static str {
        match self.standing() {
            Standing::NotStarted => "not started",
            Standing::Started | Standing::Counted(_) => "in progress",
            Standing::DoesNotCompile => "does not compile",
            Standing::Passed => "passed",
            Standing::FailingNow(_) => "passed earlier, failing now",
        }
    }

    /// `7/9` from the latest check, `-` when never counted.
    fn checks_words(&self) -> String {
        match self.entry.checks {
            Some(t) if t.total == 0 => "no build".to_string(),
            Some(t) => format!("{}/{}", t.passed, t.total),
            None => "-".to_string(),
        }
    }

    fn hints_words(&self) -> String {
        if self.hints_total == 0 {
            return "-".to_string();
        }
        format!("{}/{}", self.entry.hints_seen, self.hints_total)
    }

    /// `154.7×`, `-` without a measurement; blank for a chapter without gate.
    fn ratio_words(&self) -> String {
        match (self.gate, self.entry.ratio) {
            (None, _) => String::new(),
            (Some(_), Some(r)) => format!("{r:.1}×"),
            (Some(_), None) => "-".to_string(),
        }
    }

    /// The chapter's word on the shared sheet's line.
    fn short_word(&self) -> String {
        let count = |t: Tally| format!("{}/{}", t.passed, t.total);
        match self.standing() {
            Standing::NotStarted => "-".to_string(),
            Standing::Started => "started".to_string(),
            Standing::DoesNotCompile => "✗build".to_string(),
            Standing::Counted(t) => count(t),
            Standing::Passed => "✓".to_string(),
            Standing::FailingNow(t) => format!("✓→{}", t.map_or("✗".into(), count)),
        }
    }
}

/// `cargo xtask report`.
pub fn report_command(
    ws: &Workspace,
    short: bool,
    markdown: Option<&Path>,
) -> Result<bool> {
    let rows = rows(ws)?;
    if let Some(path) = markdown {
        files::write_atomically(path, markdown_text(&rows).as_bytes())
            .with_context(|| format!("writing the report to {}", path.display()))?;
    }
    if short {
        ui::line(short_line(&rows));
        return Ok(true);
    }
    ui::heading("Scaling Rust: your progress");
    ui::blank();
    ui::lines(table_lines(&rows));
    ui::blank();
    ui::paragraph(LEGEND, 0);
    ui::blank();
    ui::line("For the room's sheet (`cargo xtask report --short`):");
    ui::line(format!("  {}", short_line(&rows)));
    if let Some(path) = markdown {
        ui::line(format!("The same as Markdown: {}", path.display()));
    }
    Ok(true)
}

/// Every chapter with its progress, in order of number.
fn rows(ws: &Workspace) -> Result<Vec<Row>> {
    let progress = progress::load(ws);
    Chapter::all(ws)?
        .into_iter()
        .map(|c| {
            Ok(Row {
                number: c.card.number,
                id: c.id().to_string(),
                title: c.card.title.clone(),
                entry: progress.get(c.id()).cloned().unwrap_or_default(),
                hints_total: c.hints()?.len(),
                gate: c.card.bench.as_ref().map(|b| b.min_ratio),
            })
        })
        .collect()
}

/// `ch01 ✓ ch02 9/9 ch05 7/10 …`: every chapter, so that the sheet's columns
/// line up from one participant to the next.
fn short_line(rows: &[Row]) -> String {
    rows.iter()
        .map(|r| format!("ch{:02} {}", r.number, r.short_word()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The terminal's table: fits 80 columns; the state is coloured after it is
/// padded, so colour codes never shift a column.
fn table_lines(rows: &[Row]) -> Vec<String> {
    let mut lines = vec![ui::dim(&format!(
        "  {:<20} {:<27} {:>7} {:>6} {:>8}",
        "chapter", "state", "checks", "hints", "bench"
    ))];
    for r in rows {
        let words = format!("{:<27}", r.state_words());
        let state = match r.standing() {
            Standing::Passed => ui::green(&words),
            Standing::FailingNow(_) | Standing::DoesNotCompile => ui::red(&words),
            Standing::Started | Standing::Counted(_) => ui::yellow(&words),
            Standing::NotStarted => words,
        };
        lines.push(format!(
            "  {:<20} {state} {:>7} {:>6} {:>8}",
            r.id,
            r.checks_words(),
            r.hints_words(),
            r.ratio_words()
        ));
    }
    lines
}

fn markdown_text(rows: &[Row]) -> String {
    let mut text = String::from(
        "# Course progress\n\n\
         | chapter | state | checks passing | hints seen | bench (gate) |\n\
         |---|---|---:|---:|---:|\n",
    );
    for r in rows {
        let bench = match r.gate {
            Some(gate) => format!("{} ({gate}×)", r.ratio_words()),
            None => "no gate".to_string(),
        };
        text.push_str(&format!(
            "| {}. {} (`{}`) | {} | {} | {} | {} |\n",
            r.number,
            r.title,
            r.id,
            r.state_words(),
            r.checks_words(),
            r.hints_words(),
            bench
        ));
    }
    text.push_str(&format!(
        "\nFor the room's sheet: `{}`\n\n{LEGEND}\n",
        short_line(rows)
    ));
    text
}

const LEGEND: &str = "checks: passing/total in the latest `cargo xtask check` (\"no \
    build\": it did not compile). hints: seen/available. bench: the latest quick \
    bench, times faster than the starter in the same run (it varies with the \
    machine and its load; the gate is what counts). On the sheet's line, ✓ is a \
    passed chapter, ✓→7/9 one that passed earlier and now fails 2 of 9 checks, \
    and - one not started.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    fn course_with(name: &str, progress: &str) -> Course {
        let course = Course::new(name);
        course.write(".course-progress.txt", progress);
        course
    }

    #[test]
    fn the_short_line_names_every_chapter_with_one_word() {
        let course =
            course_with("report-short", "ch02-measure in-progress 1 fail 7/9 -\n");
        let rows = rows(&course.ws).unwrap();
        assert_eq!(short_line(&rows), "ch02 7/9 ch05 -");
    }

    #[test]
    fn a_chapter_passed_earlier_and_failing_now_says_both() {
        let course = course_with(
            "report-failing-now",
            "ch02-measure passed 2 fail 5/9 154.7\nch05-caching passed 0 pass 4/4 -\n",
        );
        let rows = rows(&course.ws).unwrap();
        assert_eq!(short_line(&rows), "ch02 ✓→5/9 ch05 ✓");
        assert_eq!(rows[0].state_words(), "passed earlier, failing now");
        let table = table_lines(&rows).join("\n");
        assert!(table.contains("passed earlier, failing now"), "{table}");
        assert!(table.contains("154.7×"), "{table}");
        assert!(
            table.contains("2/2"),
            "hints seen of the fixture's two: {table}"
        );
    }

    #[test]
    fn code_that_did_not_compile_is_told_apart_from_failing_checks() {
        let course =
            course_with("report-no-build", "ch02-measure in-progress 0 fail 0/0 -\n");
        let rows = rows(&course.ws).unwrap();
        assert_eq!(rows[0].standing(), Standing::DoesNotCompile);
        assert_eq!(short_line(&rows), "ch02 ✗build ch05 -");
    }

    /// A progress file from before the counts were kept still reports.
    #[test]
    fn an_old_progress_file_reports_what_it_knows() {
        let course = course_with("report-old-file", "ch02-measure in-progress 1\n");
        let rows = rows(&course.ws).unwrap();
        assert_eq!(short_line(&rows), "ch02 started ch05 -");
        assert_eq!(rows[0].checks_words(), "-");
    }

    #[test]
    fn the_markdown_report_is_a_table_with_the_gate_and_the_short_line() {
        let course =
            course_with("report-markdown", "ch02-measure passed 1 pass 9/9 83.6\n");
        let out = course.path("report.md");
        assert!(report_command(&course.ws, true, Some(&out)).unwrap());
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains(
                "| 2. Measure before you optimize (`ch02-measure`) | passed | 9/9 | 1/2 \
                 | 83.6× (10×) |"
            ),
            "{text}"
        );
        assert!(text.contains("| no gate |"), "{text}");
        assert!(text.contains("`ch02 ✓ ch05 -`"), "{text}");
    }

    #[test]
    fn every_table_line_fits_80_columns() {
        let course = course_with(
            "report-width",
            "ch02-measure passed 2 fail 123/456 12345.6\n",
        );
        for line in table_lines(&rows(&course.ws).unwrap()) {
            assert!(ui::visible_len(&line) <= ui::WIDTH, "too wide: {line}");
        }
    }
}
