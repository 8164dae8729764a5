//! `cargo xtask book [--open]`: build the book, and serve it on 127.0.0.1 for
//! a browser.
//!
//! Serving is a tiny static file server: the built book is plain files, and
//! the learner needs nothing more than to open them over HTTP (the search
//! index and some browsers' file:// rules want a real server). It answers only
//! GET of a file under the built book; `resolve` is where that is enforced.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::engine::book;
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask book [--open]`.
pub fn book_command(ws: &Workspace, open: bool, port: u16) -> Result<bool> {
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
    if !open {
        ui::line(format!(
            "Open {} in a browser, or run `cargo xtask book --open` to serve it.",
            out.join("index.html").display()
        ));
        return Ok(true);
    }
    let (listener, port) = bind(port)?;
    ui::blank();
    ui::line(format!(
        "The book is at http://127.0.0.1:{port}/ . Open it in your browser."
    ));
    ui::line("Keep this terminal open while you read; press Ctrl-C to stop serving.");
    serve(listener, &out)
}

const NO_DOWNLOAD: &str = "The book did not build because cargo could not download \
    the book builder's dependencies (no network?): connect to the network once and run \
    `cargo xtask doctor` (or `cargo fetch`), and the book builds offline from then on.";

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

    /// Bytes that are not text: a picture must arrive exactly as stored.
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xff";

    fn scratch_book(name: &str) -> PathBuf {
        let root = std::env::temp_dir()
            .join(format!("xtask-serve-{name}-{}", std::process::id()))
            .join("book");
        std::fs::create_dir_all(root.join("ch02")).unwrap();
        std::fs::write(root.join("index.html"), "i").unwrap();
        std::fs::write(root.join("ch02/page one.html"), "p").unwrap();
        std::fs::write(root.join("ch02/index.html"), "chapter 2").unwrap();
        std::fs::write(root.join("figure.png"), PNG).unwrap();
        // A file beside the book that no request may reach.
        std::fs::write(root.join("../secret.txt"), "s").unwrap();
        root.canonicalize().unwrap()
    }

    #[test]
    fn request_paths_resolve_inside_the_book_only() {
        let root = scratch_book("resolve");
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(resolve(&root, "/ch02/"), Some(root.join("ch02/index.html")));
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

    /// One GET over real HTTP: the status line, the headers, the body.
    fn get(port: u16, target: &str) -> (String, String, Vec<u8>) {
        use std::io::Read;
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a blank line after the headers");
        let head = String::from_utf8(response[..split].to_vec()).unwrap();
        let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
        (
            status.to_string(),
            headers.to_string(),
            response[split + 4..].to_vec(),
        )
    }

    /// Serves `root` on a free port of its own; the port.
    fn serving(root: &Path) -> u16 {
        let (listener, port) =
            bind(41_000 + (std::process::id() % 2_000) as u16).unwrap();
        let served = root.to_path_buf();
        std::thread::spawn(move || serve(listener, &served));
        port
    }

    /// The server itself, over real HTTP on loopback: the two requests that
    /// once returned `/etc/hostname` now get 404, and a page still gets 200.
    #[test]
    fn the_server_answers_404_to_encoded_escapes() {
        let root = scratch_book("http");
        let port = serving(&root);
        let status = |target: &str| get(port, target).0;
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

    #[test]
    fn the_server_sends_each_file_whole_with_its_type() {
        let root = scratch_book("types");
        let port = serving(&root);
        let (status, headers, body) = get(port, "/ch02/");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains("Content-Type: text/html; charset=utf-8"),
            "{headers}"
        );
        assert!(headers.contains("Content-Length: 9"), "{headers}");
        assert_eq!(body, b"chapter 2");
        let (_, headers, body) = get(port, "/figure.png?v=2");
        assert!(headers.contains("Content-Type: image/png"), "{headers}");
        assert_eq!(body, PNG, "the picture, byte for byte");
        let (status, _, body) = get(port, "/missing.html");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
        assert_eq!(body, b"not found");
        // Many requests at once (a page and its styles, scripts and fonts).
        let pages: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(move || get(port, "/").2))
            .collect();
        for page in pages {
            assert_eq!(page.join().unwrap(), b"i");
        }
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }
}
