//! `cargo xtask debrief N`: material for the few minutes after a chapter's
//! exercise. Every decoy (a plausible wrong solution the checks must reject,
//! `solutions/<id>/decoys/*.toml`) carries its mistake in one sentence and the
//! check that catches it; read aloud, they make a debrief ("who wrote this?
//! which check told you?") without showing anyone's code. Read from the decoys
//! themselves, so the list grows as a chapter gains decoys.
//!
//! The list names the mistakes the checks look for, so, like the solution, it
//! opens once the chapter has passed; an instructor preparing a session adds
//! `--force`. Each mistake carries its decoy's name, the file an instructor
//! opens to see the wrong code (`solutions/<id>/decoys/<name>.toml`).

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::decoy;
use crate::engine::progress::{self, State};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask debrief N [--force]`.
pub fn debrief_command(ws: &Workspace, chapter: &Chapter, force: bool) -> Result<bool> {
    ui::heading(&format!("{}: mistakes to debrief", chapter.heading()));
    if !force && progress::state_of(ws, chapter) != State::Passed {
        let n = chapter.card.number.to_string();
        ui::paragraph(&NOT_YET.replace("{n}", &n), 0);
        return Ok(false);
    }
    let decoys = decoy::load_all(chapter)?;
    if decoys.is_empty() {
        ui::line("This chapter has no decoys yet.");
        return Ok(true);
    }
    ui::paragraph(INTRO, 0);
    ui::blank();
    for (i, d) in decoys.iter().enumerate() {
        // A hanging indent: the number, then the sentence wrapped beside it.
        let mut lines = ui::wrap(d.mistake.trim(), 4, ui::WIDTH);
        lines[0].replace_range(..4, &format!("{:>2}. ", i + 1));
        ui::lines(lines);
        ui::aside(
            &format!(
                "caught by: {} (decoy {})",
                ui::sentence(&d.must_fail),
                d.name
            ),
            4,
        );
    }
    Ok(true)
}

const NOT_YET: &str = "The debrief names the mistakes chapter {n}'s checks look \
    for, so it opens once the chapter passes: run `cargo xtask check {n}` until it \
    does. An instructor preparing a session sees it now with `cargo xtask debrief \
    {n} --force`.";

const INTRO: &str = "Plausible wrong solutions the checks reject, each with the \
    check that catches it. Read one aloud, ask who wrote something like it and \
    which ✗ told them, then ask why it is wrong for a real shop.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn a_chapters_decoys_are_read_for_the_debrief() {
        let course = Course::new("debrief");
        let chapter = Chapter::find(&course.ws, "2", "debrief").unwrap();
        assert!(
            !debrief_command(&course.ws, &chapter, false).unwrap(),
            "closed until the chapter passes"
        );
        assert!(debrief_command(&course.ws, &chapter, true).unwrap());
        let decoys = decoy::load_all(&chapter).unwrap();
        assert_eq!(decoys[0].mistake, "Still one statement per order.");
    }
}
