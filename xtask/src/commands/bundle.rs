//! `cargo xtask bundle`: the offline archive for a workshop room.
//!
//! One `.tar.gz` with the repository, every crate vendored and the built
//! book (see `engine/bundle.rs` for what and why). An instructor makes it
//! once on a machine with a network; each participant unpacks it and works
//! with no network at all. It prints where the archive is, its size, and
//! how a room uses it; `--try` then unpacks it and uses it as a room would
//! (`engine/bundle_trial.rs`; the same trial as `verify --bundle`).

use anyhow::Result;

use crate::engine::bundle::{self, Changes};
use crate::engine::bundle_trial;
use crate::ground::disk;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask bundle [--output FILE] [--try]`.
pub fn bundle_command(
    ws: &Workspace,
    output: Option<&std::path::Path>,
    try_it: bool,
) -> Result<bool> {
    ui::heading("Bundle: the course for a room with no network");
    let path = output.map_or_else(|| bundle::default_path(ws), |p| p.to_path_buf());
    ui::paragraph(
        "Building the book and vendoring every crate (the first time this \
         downloads the crates of other platforms too)…",
        0,
    );
    let started = std::time::Instant::now();
    let written = bundle::write(ws, &path, Changes::Refuse)?;
    ui::blank();
    ui::line(format!(
        "  {} {} ({}: {} files, {} crates vendored, the built book; {} s)",
        ui::mark(true),
        ws.show(&written.path),
        disk::shown(written.bytes),
        written.files,
        written.crates,
        started.elapsed().as_secs()
    ));
    ui::blank();
    ui::paragraph(&HOW_TO_USE.replace("{top}", bundle::TOP), 0);
    if !try_it {
        return Ok(true);
    }
    ui::blank();
    ui::heading("Trying it as a room would: unpacked, empty cargo home, offline");
    let steps = bundle_trial::run(ws, &written.path)?;
    for step in &steps {
        ui::line(format!(
            "  {} `{}` ({} s)",
            ui::mark(step.ok),
            step.command,
            step.took.as_secs()
        ));
        if !step.ok {
            ui::lines(step.said.lines().map(|l| format!("      {l}")));
        }
    }
    let ok = steps.iter().all(|s| s.ok);
    ui::blank();
    if ok {
        ui::paragraph(TRIED, 0);
    } else {
        ui::paragraph(
            &TRIAL_FAILED.replace("{folder}", &ws.show(&bundle_trial::folder(ws))),
            0,
        );
    }
    Ok(ok)
}

const HOW_TO_USE: &str = "Copy it to each machine (a USB stick will do), then \
    `tar -xzf scaling-rust.tar.gz` and `cd {top}`: `cargo xtask` works there \
    with no network, taking every crate from vendor/; the first builds compile \
    from those sources, so run `cargo xtask doctor` in the unpacked folder \
    before the day, and open book/book/index.html to read meanwhile.";

const TRIED: &str = "The unpacked bundle works with no network and an empty \
    cargo home: the runner, chapters 1 and 2 and the book built from vendor/.";

const TRIAL_FAILED: &str = "The unpacked bundle did not work as a room needs it: \
    the ✗ above says which command and what it printed; the unpacked copy is \
    kept in {folder} to look into. Fix the cause, then run `cargo xtask bundle \
    --try` again.";
