//! `cargo xtask figures [N…] [--check]`: measure the book's figures and draw
//! them.
//!
//! For each chapter (all of them when none is named) that has figure programs
//! (`solutions/<id>/figures/*.rs`), runs them against the reference solution
//! and writes each figure to `book/src/<id>/figures/<name>.svg` (see
//! engine/figures.rs); a file that already shows the same numbers is left as
//! it is. `--check` writes nothing and fails where the book's figures differ
//! from the measurement, as `verify` does.

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::figures;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn figures_command(
    ws: &Workspace,
    chapters: &[Chapter],
    check: bool,
) -> Result<bool> {
    let mut measured_any = 0;
    let mut all_match = true;
    for chapter in chapters {
        if figures::programs(chapter)?.is_empty() {
            continue;
        }
        ui::heading(&format!("{} · figures", chapter.heading()));
        let measured = figures::measure(ws, chapter, true)?;
        measured_any += measured.len();
        if check {
            let differences = figures::differences(ws, chapter, &measured)?;
            for d in &differences {
                ui::line(format!("  {} {}", ui::mark(false), d.describe(ws, chapter)));
            }
            if differences.is_empty() {
                let what = match measured.len() {
                    1 => "figure shows".to_string(),
                    n => format!("{n} figures show"),
                };
                ui::line(format!(
                    "  {} the book's {what} what was measured",
                    ui::mark(true)
                ));
            }
            all_match &= differences.is_empty();
            continue;
        }
        for (figure, (file, written)) in
            measured.iter().zip(figures::write(ws, chapter, &measured)?)
        {
            let how = if figure.timed { "timed" } else { "counted" };
            let what = if written { "drawn" } else { "unchanged" };
            ui::line(format!(
                "  {} {} ({how}, {what})",
                ui::mark(true),
                ws.show(&file)
            ));
        }
    }
    if measured_any == 0 {
        ui::line(NONE);
        return Ok(false);
    }
    if check && !all_match {
        ui::line(format!("\n{FIX}"));
    } else if !check {
        ui::line(format!("\n{DONE}"));
    }
    Ok(all_match)
}

const DONE: &str = "Look at the figures drawn and commit them with the book; \
    `cargo xtask verify` measures the counted ones again and compares.";

const FIX: &str = "Run `cargo xtask figures` with the chapters named above, look at \
    the new figures and commit them.";

const NONE: &str = "No figure to draw: no chapter named has figure programs in \
    solutions/<id>/figures/.";
