//! `cargo xtask figures [N…]`: measure the book's figures and draw them.
//!
//! For each chapter (all of them when none is named) that has figure programs
//! (`solutions/<id>/figures/*.rs`), runs them against the reference solution
//! and writes each figure to `book/src/<id>/figures/<name>.svg` (see
//! engine/figures.rs). `verify` draws the figures of counts again and fails
//! when they differ from these files.

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::figures;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn figures_command(ws: &Workspace, chapters: &[Chapter]) -> Result<bool> {
    let mut drawn = 0;
    for chapter in chapters {
        if figures::programs(chapter)?.is_empty() {
            continue;
        }
        ui::heading(&format!("{} · figures", chapter.heading()));
        let measured = figures::measure(ws, chapter, true)?;
        for (figure, file) in
            measured.iter().zip(figures::write(ws, chapter, &measured)?)
        {
            let how = if figure.timed { "timed" } else { "counted" };
            ui::line(format!("  {} {} ({how})", ui::mark(true), ws.show(&file)));
        }
        drawn += measured.len();
    }
    if drawn == 0 {
        ui::line(NONE);
        return Ok(false);
    }
    let drawn = match drawn {
        1 => "1 figure".to_string(),
        n => format!("{n} figures"),
    };
    ui::line(format!(
        "\n{drawn} drawn. Commit them with the book; `cargo xtask verify` \
         measures the counted ones again and compares."
    ));
    Ok(true)
}

const NONE: &str = "No figure to draw: no chapter named has figure programs in \
    solutions/<id>/figures/.";
