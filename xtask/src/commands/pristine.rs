//! `cargo xtask pristine [N…]`: maintainers record chapters' starters and
//! checks, as they are now, in `xtask/pristine.txt` (see engine/pristine.rs).

use anyhow::Result;

use crate::engine::chapter::Chapter;
use crate::engine::pristine;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn pristine_command(ws: &Workspace, chapters: &[Chapter]) -> Result<bool> {
    let mut manifest = pristine::load(ws)?;
    for chapter in chapters {
        let files = pristine::current(chapter)?;
        ui::line(format!("Recorded {}: {} files.", chapter.id(), files.len()));
        manifest.insert(chapter.id().to_string(), files);
    }
    pristine::save(ws, &manifest)?;
    ui::line(format!(
        "Wrote {}; commit it with the chapters' files.",
        ws.show(&ws.pristine_manifest())
    ));
    Ok(true)
}
