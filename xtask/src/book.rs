//! Building the book, and serving it on 127.0.0.1 for a browser.
//!
//! The build runs the `book-builder` crate (mdBook as a library) through cargo,
//! so the first `cargo xtask book` compiles it once and later ones start at
//! once. Serving is a tiny static file server: the built book is plain files,
//! and the learner needs nothing more than to open them over HTTP (the search
//! index and some browsers' file:// rules want a real server).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::process::Cmd;
use crate::ui;
use crate::workspace::Workspace;

/// Builds the book; `Ok(false)` when mdBook reported a problem. `strict`
/// (for verify) also fails on a code include that no longer resolves.
pub fn build(ws: &Workspace, echo: bool, strict: bool) -> Result<bool> {
    let mut cmd = Cmd::cargo(ws)
        .args(["run", "--quiet", "--package", "book-builder", "--"])
        .arg(ws.book_dir());
    if strict {
        cmd = cmd.arg("--strict");
    }
    if echo {
        cmd = cmd.echo();
        return cmd.run_attached();
    }
    let out = cmd.output(None)?;
    if !out.success() {
        eprintln!("{}", out.stderr);
    }
    Ok(out.success())
}

/// `cargo xtask book [--open]`.
pub fn book_command(ws: &Workspace, open: bool, port: u16) -> Result<bool> {
    ui::heading("The book");
    if !build(ws, true, false)? {
        println!("The book did not build; the message above says which page and why.");
        return Ok(false);
    }
    let out = ws.book_dir().join("book");
    if !open {
        println!(
            "Open {} in a browser, or run `cargo xtask book --open` to serve it.",
            out.join("index.html").display()
        );
        return Ok(true);
    }
    let (listener, port) = bind(port)?;
    println!("\nThe book is at http://127.0.0.1:{port}/ . Open it in your browser.");
    println!("Keep this terminal open while you read; press Ctrl-C to stop serving.");
    serve(listener, &out)
}

/// The first free port from `first` up.
fn bind(first: u16) -> Result<(TcpListener, u16)> {
    for port in first..first.saturating_add(20) {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return Ok((listener, port));
        }
    }
    bail!(
        "ports {first} to {} on 127.0.0.1 are all taken; pass --port with a free one",
        first + 19
    )
}

fn serve(listener: TcpListener, root: &Path) -> Result<bool> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            let _ = respond(stream, &root);
        });
    }
    Ok(true)
}

fn respond(mut stream: TcpStream, root: &Path) -> Result<()> {
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, kind, body) = match resolve(root, target) {
        Some(path) => ("200 OK", content_type(&path), std::fs::read(&path)?),
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body).context("sending a page")
}

/// The file a request path names, never outside `root`.
///
/// Each `/`-separated segment is percent-decoded on its own, and a decoded
/// segment that could climb or restart the path is refused: one holding `/`,
/// `\` or NUL (`%2F` would make `Path::push` start again from `/`), or one
/// that is `.` or `..`. Then the file found is canonicalized and must still lie
/// under the canonical root, so a symbolic link cannot lead out either.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.to_path_buf();
    for raw in path.split('/').filter(|p| !p.is_empty()) {
        let part = percent_decode(raw)?;
        if part == "." || part == ".." || part.contains(['/', '\\', '\0']) {
            return None;
        }
        file.push(part);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let file = file.canonicalize().ok()?;
    let inside = file.starts_with(root.canonicalize().ok()?);
    (inside && file.is_file()).then_some(file)
}

/// `%XX` sequences decoded; `None` when the bytes are not UTF-8 (no file of
/// the book has such a name, and a lossy decoding could alias another one).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_book(name: &str) -> PathBuf {
        let root = std::env::temp_dir()
            .join(format!("xtask-serve-{name}-{}", std::process::id()))
            .join("book");
        std::fs::create_dir_all(root.join("ch02")).unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::write(root.join("ch02/page one.html"), "p").unwrap();
        // A file beside the book that no request may reach.
        std::fs::write(root.join("../secret.txt"), "s").unwrap();
        root.canonicalize().unwrap()
    }

    #[test]
    fn request_paths_resolve_inside_the_book_only() {
        let root = scratch_book("resolve");
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/ch02/page%20one.html?x=1"),
            Some(root.join("ch02/page one.html"))
        );
        assert_eq!(resolve(&root, "/missing.html"), None);
        for escape in [
            "/../secret.txt",
            "/..%2Fsecret.txt",
            "/%2E%2E/secret.txt",
            "/%2e%2e%2fsecret.txt",
            "/ch02/..%5C..%5Csecret.txt",
            "/%2Fetc%2Fhostname",
            "/%2fetc%2fpasswd",
            "/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fhostname",
            "/ch02/%2E%2E/%2E%2E/secret.txt",
            "/index.html%00.png",
            "/%FF%FE",
        ] {
            assert_eq!(resolve(&root, escape), None, "{escape} must not resolve");
        }
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_out_of_the_book_is_not_followed() {
        let root = scratch_book("symlink");
        std::os::unix::fs::symlink(root.join("../secret.txt"), root.join("link.txt"))
            .unwrap();
        assert_eq!(resolve(&root, "/link.txt"), None);
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    /// The server itself, over real HTTP on loopback: the two requests that
    /// once returned `/etc/hostname` now get 404, and a page still gets 200.
    #[test]
    fn the_server_answers_404_to_encoded_escapes() {
        let root = scratch_book("http");
        let (listener, port) =
            bind(41_000 + (std::process::id() % 2_000) as u16).unwrap();
        let served = root.clone();
        std::thread::spawn(move || serve(listener, &served));
        let status = |target: &str| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut line = String::new();
            BufReader::new(stream).read_line(&mut line).unwrap();
            line.trim_end().to_string()
        };
        assert_eq!(status("/"), "HTTP/1.1 200 OK");
        assert_eq!(status("/ch02/page%20one.html"), "HTTP/1.1 200 OK");
        assert_eq!(status("/%2Fetc%2Fhostname"), "HTTP/1.1 404 Not Found");
        assert_eq!(
            status("/..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fhostname"),
            "HTTP/1.1 404 Not Found"
        );
        assert_eq!(status("/..%2Fsecret.txt"), "HTTP/1.1 404 Not Found");
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }
}
