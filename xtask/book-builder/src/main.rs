//! Builds the course book with mdBook's own library (`mdbook-driver`), so that
//! nobody has to install the `mdbook` binary. `cargo xtask book` runs this; it
//! is a separate crate so that `cargo xtask check` never waits for mdBook (and
//! its HTML renderer) to compile.
//!
//! Usage: `book-builder <book folder> [--strict]`; the HTML goes to
//! `<book folder>/book` (the runner builds a staged copy of the book and
//! moves the HTML to the repository's `book/book`; see xtask's engine/book.rs). With `--strict` (as `cargo xtask verify` runs it) an
//! include that did not resolve is an error; without it, a warning, so that a
//! learner who rewrote a file the book quotes can still read the book.
//!
//! `book-builder serve <html folder> [--port N] [--open] [--runner <exe>]
//! [--watch <folder>]... [--progress <file>]` serves the built book (see
//! serve.rs); `cargo xtask book --open` runs it.

mod serve;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        return serve::serve(serve_options(std::env::args().skip(2))?);
    }
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .context("usage: book-builder <book folder> [--strict]")?;
    let strict = std::env::args().any(|a| a == "--strict");
    let book = mdbook_driver::MDBook::load(&dir)
        .with_context(|| format!("loading the book in {}", dir.display()))?;
    book.build().context("building the book")?;
    let out = dir.join("book");
    let unresolved = unresolved_includes(&out)?;
    if !unresolved.is_empty() {
        let pages = unresolved.join(", ");
        if strict {
            bail!(
                "these pages still contain an {{{{#include}}}} that mdBook could not \
                 resolve (a moved file or a missing anchor): {pages}"
            );
        }
        eprintln!(
            "note: some code on these pages could not be shown, because a file it \
             quotes was changed: {pages}. The rest of the book is fine."
        );
    }
    Ok(())
}

/// `serve`'s arguments (the runner writes them; no need for a parser crate).
fn serve_options(mut args: impl Iterator<Item = String>) -> Result<serve::Options> {
    let mut options = serve::Options::default();
    let mut dir = None;
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                options.port = value()?.parse().context("--port takes a number")?
            }
            "--open" => options.open = true,
            "--runner" => options.runner = Some(value()?.into()),
            "--watch" => options.watch.push(value()?.into()),
            "--progress" => options.progress = Some(value()?.into()),
            _ if !arg.starts_with("--") && dir.is_none() => {
                dir = Some(PathBuf::from(arg))
            }
            _ => bail!("book-builder serve: unknown argument {arg}"),
        }
    }
    options.dir =
        dir.context("usage: book-builder serve <html folder> [--port N] [--open] …")?;
    Ok(options)
}

/// Built pages where an include directive survived: mdBook logs a broken
/// include and goes on, so the build alone does not prove the snippets exist.
fn unresolved_includes(out: &Path) -> Result<Vec<String>> {
    let mut bad = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html")
                && std::fs::read_to_string(&path)?.contains("{{#include")
            {
                bad.push(
                    path.strip_prefix(out)
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    Ok(bad)
}
