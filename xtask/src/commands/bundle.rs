//! `cargo xtask bundle`: the offline archive for a workshop room.
//!
//! One `.tar.gz` with the repository, every crate vendored and the built
//! book (see `engine/bundle.rs` for what and why). An instructor makes it
//! once on a machine with a network; each participant unpacks it and works
//! with no network at all. It prints where the archive is, its size, and
//! how a room uses it.

use anyhow::Result;

use crate::engine::bundle::{self, Changes};
use crate::ground::disk;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask bundle [--output FILE]`.
pub fn bundle_command(
    ws: &Workspace,
    output: Option<&std::path::Path>,
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
    Ok(true)
}

const HOW_TO_USE: &str = "Copy it to each machine (a USB stick will do), then \
    `tar -xzf scaling-rust.tar.gz` and `cd {top}`: `cargo xtask` works there \
    with no network, taking every crate from vendor/; the first builds compile \
    from those sources, so run `cargo xtask doctor` in the unpacked folder \
    before the day, and open book/book/index.html to read meanwhile.";
