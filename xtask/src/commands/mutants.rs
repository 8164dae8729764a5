//! `cargo xtask mutants N`: cargo-mutants over the chapter's solution with its
//! checks as the tests; every survivor must be listed with a reason (see
//! engine/mutants.rs).

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::mutants;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn mutants_command(
    ws: &Workspace,
    chapter: &Chapter,
    jobs: usize,
    re: Option<&str>,
) -> Result<bool> {
    ui::heading(&format!("{} · mutants of the solution", chapter.heading()));
    let (verdict, outcomes, listed) = mutants::run(ws, chapter, jobs, re, true)?;
    ui::blank();
    ui::paragraph(
        &format!(
            "{} mutants: {} caught, {} timed out (caught: a check hung), {} did not \
             compile, {} survived ({listed} listed with a reason).",
            outcomes.total(),
            outcomes.caught.len(),
            outcomes.timeout.len(),
            outcomes.unviable.len(),
            outcomes.missed.len(),
        ),
        0,
    );
    ui::lines(mutants::hang_lines(chapter, &outcomes));
    ui::lines(mutants::verdict_lines(chapter, &verdict));
    Ok(verdict.holds())
}
