//! `cargo xtask book [--open | --serve]`: build the book; with `--open` or
//! `--serve`, serve it on 127.0.0.1 as `mdbook serve` does, with `--open`
//! also in the learner's browser.
//!
//! Serving is `book-builder serve` (tower-http's `ServeDir` under axum, in
//! the book builder's crate, so `check` never compiles an HTTP stack): it
//! watches the book's sources and calls back `cargo xtask book --rebuild`
//! (this runner's own executable) to rebuild from the staged copy, and the
//! progress file to call `cargo xtask panel` for the live panel.

use anyhow::{Context, Result};

use crate::engine::book;
use crate::ground::process::Cmd;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// How `book` was asked to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Build, and say where the HTML is.
    #[default]
    Build,
    /// Build only, printing nothing unless it fails (the server's rebuild).
    Rebuild,
    /// Build, then serve on 127.0.0.1.
    Serve,
    /// Build, serve, and open the learner's browser at the address.
    Open,
}

/// `cargo xtask book`.
pub fn book_command(ws: &Workspace, mode: Mode, port: u16) -> Result<bool> {
    if mode == Mode::Rebuild {
        return book::build(ws, false, false);
    }
    ui::heading("The book");
    if !book::build(ws, true, false)? {
        if book::failed_for_a_download(ws) {
            ui::paragraph(&format!("{} {NO_DOWNLOAD}", ui::red("✗")), 0);
        } else {
            ui::line(
                "The book did not build; the message above says which page and why.",
            );
        }
        return Ok(false);
    }
    let out = ws.book_dir().join("book");
    if mode == Mode::Build {
        ui::line(format!(
            "Open {} in a browser, or run `cargo xtask book --open` to serve it.",
            out.join("index.html").display()
        ));
        return Ok(true);
    }
    ui::blank();
    serve_command(ws, mode == Mode::Open, port)
        .context("serving the book")?
        .run_attached()
}

const NO_DOWNLOAD: &str = "The book did not build because cargo could not download \
    the book builder's dependencies (no network?): connect to the network once and run \
    `cargo xtask doctor` (or `cargo fetch`), and the book builds offline from then on.";

/// `book-builder serve …` for this course: the built HTML, the first port to
/// try, this runner to call back, the sources to watch, the progress file.
fn serve_command(ws: &Workspace, open: bool, port: u16) -> Result<Cmd> {
    let runner = std::env::current_exe().context("finding the runner's own program")?;
    let mut cmd = Cmd::cargo(ws)
        .args(["run", "--quiet", "--package", "book-builder", "--", "serve"])
        .arg(ws.book_dir().join("book"))
        .args(["--port", &port.to_string()])
        .arg("--runner")
        .arg(runner)
        .arg("--watch")
        .arg(ws.book_dir().join("src"))
        .arg("--watch")
        .arg(ws.book_dir().join("book.toml"))
        .arg("--progress")
        .arg(ws.progress_file())
        // The runner called back must see this course, not the one it was
        // built in (the integration tests serve scratch copies).
        .env("COURSE_ROOT", &ws.root);
    if open {
        cmd = cmd.arg("--open");
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_told_this_course_and_only_open_opens_a_browser() {
        let course = crate::fixture::Course::new("book-serve-args");
        let ws = &course.ws;
        let shown = serve_command(ws, false, 3000).unwrap().shown().to_string();
        assert!(
            shown.contains("run --quiet --package book-builder -- serve"),
            "{shown}"
        );
        assert!(shown.contains("--port 3000"), "{shown}");
        for path in [ws.book_dir().join("src"), ws.progress_file()] {
            assert!(shown.contains(&path.display().to_string()), "{shown}");
        }
        assert!(!shown.contains("--open"), "{shown}");
        let shown = serve_command(ws, true, 3000).unwrap().shown().to_string();
        assert!(shown.ends_with(" --open"), "{shown}");
    }
}
