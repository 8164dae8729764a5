//! `cargo xtask bench N`: criterion's full run of the chapter's benches, with
//! its HTML report, for a learner who wants to look closer than the quick
//! gate does. Refuses on changed checks, as `check` does. Records what the
//! bench reported for the live panel (chapter 5's hit ratios), as `check` does.

use anyhow::Result;

use crate::engine::bench;
use crate::engine::chapter::Chapter;
use crate::engine::pristine;
use crate::engine::progress;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

pub fn bench_command(ws: &Workspace, chapter: &Chapter) -> Result<bool> {
    ui::heading(&format!("{} · full bench", chapter.heading()));
    if pristine::refuse_changed_checks(ws, chapter)? {
        return Ok(false);
    }
    let home = ws.target_dir().join("criterion");
    // The bench's readings for the live panel (chapter 5's hit ratios) go to a
    // file, not to the learner's screen.
    let readings = bench::readings_file(&home);
    let _ = std::fs::remove_file(&readings);
    let _ = std::fs::create_dir_all(&home);
    let ok = Cmd::cargo(ws)
        .args(["bench", "--package", chapter.package()])
        .env(bench::READINGS_ENV, &readings)
        .echo()
        .run_attached()?;
    progress::record_readings(ws, chapter, bench::read_readings(&readings))?;
    if !ok {
        ui::blank();
        ui::paragraph(
            &NOT_FINISHED.replace("{n}", &chapter.card.number.to_string()),
            0,
        );
        return Ok(false);
    }
    let report = home.join("report").join("index.html");
    ui::blank();
    ui::line(format!("The HTML report: {}", report.display()));
    if let Some(gate) = &chapter.card.bench {
        let b = bench::median_ns(&home, &gate.group, &gate.baseline)?;
        let c = bench::median_ns(&home, &gate.group, &gate.candidate)?;
        ui::line(format!(
            "{}: {} is {:.1}× faster than {}.",
            gate.group,
            gate.candidate,
            b / c,
            gate.baseline
        ));
    }
    Ok(true)
}

const NOT_FINISHED: &str = "The bench did not finish. If the message above is a \
    compile error, run `cargo xtask check {n}` first: it explains compile errors \
    more briefly.";
