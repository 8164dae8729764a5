//! `book-builder serve`: the built book on 127.0.0.1, as `mdbook serve` does,
//! plus the learner's live panel. `cargo xtask book --open` runs it.
//!
//! - Files come from tower-http's `ServeDir` (percent-decoding, refusing any
//!   path that climbs out, ranges, types, caching headers): no hand-written
//!   HTTP.
//! - Every HTML page it sends gets one `<script>` before `</body>`: the panel
//!   (`panel.js`). The built files themselves never hold it, so the book
//!   opened as plain files shows no panel and asks nothing of any server.
//! - `/_course/state.json` is what the script polls: the build number (it
//!   changes after each rebuild, and the page reloads) and the learner's
//!   progress, as the runner's `cargo xtask panel` prints it.
//! - notify watches the book's sources (a change runs the runner's
//!   `book --rebuild`, then the build number moves) and the progress file (a
//!   change runs `panel` again).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::get;
use tower_http::services::ServeDir;

/// The panel's script, sent only by this server.
const PANEL_JS: &str = include_str!("panel.js");
/// What is put before `</body>` of every page served.
const INJECTED: &str = "<script src=\"/_course/panel.js\"></script>";

/// What `serve` was asked to do.
#[derive(Debug, Default)]
pub struct Options {
    /// The built HTML.
    pub dir: PathBuf,
    /// The first port to try (the next 19 too); 0 takes any free one.
    pub port: u16,
    /// Open the learner's browser at the address.
    pub open: bool,
    /// The course runner's executable, called as `<runner> panel` and
    /// `<runner> book --rebuild`; none: no panel data, no rebuilds.
    pub runner: Option<PathBuf>,
    /// Folders whose changes rebuild the book (the book's sources).
    pub watch: Vec<PathBuf>,
    /// The progress file, whose changes refresh the panel.
    pub progress: Option<PathBuf>,
}

/// What the pages poll: the build number and the panel's data.
#[derive(Default)]
struct Live {
    build: AtomicU64,
    panel: Mutex<String>,
}

impl Live {
    fn state_json(&self) -> String {
        let panel = self.panel.lock().unwrap_or_else(|e| e.into_inner());
        let panel = if panel.trim().is_empty() {
            "null"
        } else {
            panel.trim()
        };
        format!(
            "{{\"build\":{},\"panel\":{panel}}}",
            self.build.load(Ordering::SeqCst)
        )
    }
}

pub fn serve(options: Options) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let live = Arc::new(Live::default());
    refresh_panel(&options, &live);
    let _watcher = watch(&options, live.clone())?;
    runtime.block_on(async {
        let (listener, port) = bind(options.port).await?;
        let url = format!("http://127.0.0.1:{port}/");
        println!("The book is at {url} .");
        if options.open {
            match webbrowser::open(&url) {
                Ok(()) => println!("It is opening in your browser."),
                Err(_) => println!(
                    "No browser could be opened from here: open that address in yours."
                ),
            }
        }
        println!(
            "Pages reload when a book source changes. Keep this terminal open while \
             you read; press Ctrl-C to stop serving."
        );
        axum::serve(listener, app(&options.dir, live))
            .await
            .context("serving the book")
    })
}

/// The first free port from `first` up (any free one for 0).
async fn bind(first: u16) -> Result<(tokio::net::TcpListener, u16)> {
    let last = if first == 0 {
        0
    } else {
        first.saturating_add(19)
    };
    for port in first..=last {
        if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            let port = listener.local_addr()?.port();
            return Ok((listener, port));
        }
    }
    bail!(
        "ports {first} to {last} on 127.0.0.1 are all taken; pass --port with a free one"
    )
}

/// The routes: the panel's two, then every file of the book.
fn app(dir: &Path, live: Arc<Live>) -> Router {
    Router::new()
        .route("/_course/panel.js", get(panel_js))
        .route("/_course/state.json", get(state_json))
        .with_state(live)
        .fallback_service(ServeDir::new(dir))
        .layer(axum::middleware::map_response(inject_panel))
}

async fn panel_js() -> Response<Body> {
    typed("text/javascript; charset=utf-8", PANEL_JS.to_string())
}

async fn state_json(State(live): State<Arc<Live>>) -> Response<Body> {
    typed("application/json", live.state_json())
}

fn typed(kind: &'static str, body: String) -> Response<Body> {
    let mut res = Response::new(Body::from(body));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Puts the panel's script into an HTML page on its way out.
async fn inject_panel(res: Response<Body>) -> Response<Body> {
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !html || res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let page = with_script(&String::from_utf8_lossy(&bytes));
    parts.headers.remove(header::CONTENT_LENGTH);
    // A page differs from the file once the script is in it.
    parts.headers.remove(header::ETAG);
    parts.headers.remove(header::LAST_MODIFIED);
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Response::from_parts(parts, Body::from(page))
}

/// The page with the script before its last `</body>` (at the end without one).
fn with_script(page: &str) -> String {
    match page.rfind("</body>") {
        Some(at) => format!("{}{INJECTED}\n{}", &page[..at], &page[at..]),
        None => format!("{page}{INJECTED}"),
    }
}

/// Runs `<runner> panel` and keeps what it printed.
fn refresh_panel(options: &Options, live: &Live) {
    let Some(runner) = &options.runner else {
        return;
    };
    match std::process::Command::new(runner).arg("panel").output() {
        Ok(out) if out.status.success() => {
            *live.panel.lock().unwrap_or_else(|e| e.into_inner()) =
                String::from_utf8_lossy(&out.stdout).into_owned();
        }
        _ => eprintln!(
            "note: the live panel could not read your progress; pages show none."
        ),
    }
}

/// Rebuilds through the runner; true when the book built.
fn rebuild(options: &Options) -> bool {
    let Some(runner) = &options.runner else {
        return false;
    };
    println!("A book source changed: rebuilding.");
    std::process::Command::new(runner)
        .args(["book", "--rebuild"])
        .status()
        .is_ok_and(|s| s.success())
}

/// What a batch of file events asks for.
#[derive(Debug, Default, PartialEq)]
struct Wanted {
    rebuild: bool,
    panel: bool,
}

impl Wanted {
    fn add(&mut self, options: &Options, path: &Path) {
        let progress = options.progress.as_deref();
        if progress.is_some_and(|p| {
            p.file_name() == path.file_name() && p.parent() == path.parent()
        }) {
            self.panel = true;
        } else if options.watch.iter().any(|w| path.starts_with(w))
            && !path.starts_with(&options.dir)
        {
            self.rebuild = true;
        }
    }
}

/// Starts notify on the sources and the progress file's folder; a thread
/// gathers events for a quarter second (an editor's save is several), then
/// rebuilds or refreshes the panel. The watcher stops when dropped.
fn watch(
    options: &Options,
    live: Arc<Live>,
) -> Result<Option<notify::RecommendedWatcher>> {
    use notify::{RecursiveMode, Watcher};
    if options.runner.is_none() {
        return Ok(None);
    }
    let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && !matches!(event.kind, notify::EventKind::Access(_))
            {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
        })
        .context("starting to watch the book's sources")?;
    for dir in &options.watch {
        watcher
            .watch(dir, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", dir.display()))?;
    }
    if let Some(parent) = options.progress.as_deref().and_then(Path::parent) {
        watcher
            .watch(parent, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching {}", parent.display()))?;
    }
    let options = Options {
        dir: options.dir.clone(),
        runner: options.runner.clone(),
        watch: options.watch.clone(),
        progress: options.progress.clone(),
        ..Options::default()
    };
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            let mut wanted = Wanted::default();
            wanted.add(&options, &first);
            while let Ok(path) = rx.recv_timeout(Duration::from_millis(250)) {
                wanted.add(&options, &path);
            }
            if wanted.rebuild && rebuild(&options) {
                live.build.fetch_add(1, Ordering::SeqCst);
            }
            if wanted.panel || wanted.rebuild {
                refresh_panel(&options, &live);
            }
        }
    });
    Ok(Some(watcher))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// Bytes that are not text: a picture must arrive exactly as stored.
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\xff";

    fn scratch_book(name: &str) -> PathBuf {
        let root = std::env::temp_dir()
            .join(format!("book-serve-{name}-{}", std::process::id()))
            .join("book");
        std::fs::create_dir_all(root.join("ch02")).unwrap();
        std::fs::write(root.join("index.html"), "<html><body>i</body></html>").unwrap();
        std::fs::write(root.join("ch02/page one.html"), "p").unwrap();
        std::fs::write(root.join("ch02/index.html"), "chapter 2").unwrap();
        std::fs::write(root.join("figure.png"), PNG).unwrap();
        // A file beside the book that no request may reach.
        std::fs::write(root.join("../secret.txt"), "s").unwrap();
        root.canonicalize().unwrap()
    }

    /// Serves `root` on a free port in a runtime of its own; the port.
    fn serving(root: &Path, live: Arc<Live>) -> u16 {
        let (tx, rx) = std::sync::mpsc::channel();
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let (listener, port) = bind(0).await.unwrap();
                tx.send(port).unwrap();
                axum::serve(listener, app(&root, live)).await.unwrap();
            });
        });
        rx.recv().unwrap()
    }

    /// One GET over real HTTP, the target sent exactly as written: the
    /// status line, the headers, the body.
    fn get(port: u16, target: &str) -> (String, String, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
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
            headers.to_ascii_lowercase(),
            response[split + 4..].to_vec(),
        )
    }

    /// Over real HTTP on loopback: the two requests that once returned
    /// `/etc/hostname` from the hand-written server get 404, and so does
    /// every other way out of the book; pages still get 200.
    #[test]
    fn the_server_answers_404_to_encoded_escapes() {
        let root = scratch_book("http");
        let port = serving(&root, Arc::default());
        let status = |target: &str| get(port, target).0;
        assert_eq!(status("/"), "HTTP/1.1 200 OK");
        assert_eq!(status("/ch02/"), "HTTP/1.1 200 OK");
        assert_eq!(status("/ch02/page%20one.html?x=1"), "HTTP/1.1 200 OK");
        assert_eq!(status("/%2Fetc%2Fhostname"), "HTTP/1.1 404 Not Found");
        assert_eq!(
            status("/..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fhostname"),
            "HTTP/1.1 404 Not Found"
        );
        for escape in [
            "/../secret.txt",
            "/..%2Fsecret.txt",
            "/%2E%2E/secret.txt",
            "/%2e%2e%2fsecret.txt",
            "/ch02/..%5C..%5Csecret.txt",
            "/%2fetc%2fpasswd",
            "/ch02/%2E%2E/%2E%2E/secret.txt",
            "/index.html%00.png",
            "/%FF%FE",
            "/missing.html",
        ] {
            let (status, _, body) = get(port, escape);
            assert!(
                status.starts_with("HTTP/1.1 4"),
                "{escape} must not be served: {status}"
            );
            assert_ne!(body, b"s", "{escape} reached the file beside the book");
        }
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    #[test]
    fn the_server_sends_each_file_whole_with_its_type() {
        let root = scratch_book("types");
        let port = serving(&root, Arc::default());
        let (status, headers, body) = get(port, "/ch02/");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("content-type: text/html"), "{headers}");
        assert!(body.starts_with(b"chapter 2"), "{body:?}");
        let (_, headers, body) = get(port, "/figure.png?v=2");
        assert!(headers.contains("content-type: image/png"), "{headers}");
        assert_eq!(body, PNG, "the picture, byte for byte");
        // Many requests at once (a page and its styles, scripts and fonts).
        let pages: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(move || get(port, "/").2))
            .collect();
        for page in pages {
            assert!(page.join().unwrap().starts_with(b"<html><body>i"));
        }
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    /// Served pages carry the panel's script before `</body>`; the files on
    /// disk do not, and nothing but HTML is touched.
    #[test]
    fn served_pages_and_only_they_get_the_panel_script() {
        let root = scratch_book("inject");
        let port = serving(&root, Arc::default());
        let (_, _, body) = get(port, "/");
        let page = String::from_utf8(body).unwrap();
        assert_eq!(
            page,
            format!("<html><body>i{INJECTED}\n</body></html>"),
            "the script goes right before </body>"
        );
        assert!(
            !std::fs::read_to_string(root.join("index.html"))
                .unwrap()
                .contains("panel.js")
        );
        assert_eq!(get(port, "/figure.png").2, PNG);
        let (status, headers, body) = get(port, "/_course/panel.js");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(headers.contains("text/javascript"), "{headers}");
        assert_eq!(body, PANEL_JS.as_bytes());
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    /// The state the pages poll: the build number and the runner's panel
    /// data as it was given, or null when there is none.
    #[test]
    fn the_state_carries_the_build_number_and_the_panel() {
        let root = scratch_book("state");
        let live = Arc::new(Live::default());
        let port = serving(&root, live.clone());
        let (_, headers, body) = get(port, "/_course/state.json");
        assert!(headers.contains("application/json"), "{headers}");
        assert!(headers.contains("cache-control: no-store"), "{headers}");
        assert_eq!(body, br#"{"build":0,"panel":null}"#);
        live.build.fetch_add(1, Ordering::SeqCst);
        *live.panel.lock().unwrap() = "{\"chapters\":{}}\n".into();
        assert_eq!(
            get(port, "/_course/state.json").2,
            br#"{"build":1,"panel":{"chapters":{}}}"#
        );
        std::fs::remove_dir_all(root.parent().unwrap()).unwrap();
    }

    /// A source change rebuilds; the progress file refreshes the panel; the
    /// built HTML (inside the watched book folder) and other files beside
    /// the progress file ask for nothing.
    #[test]
    fn file_events_ask_for_what_they_change() {
        let options = Options {
            dir: PathBuf::from("/c/book/book"),
            watch: vec![PathBuf::from("/c/book/src")],
            progress: Some(PathBuf::from("/c/.course-progress.txt")),
            ..Options::default()
        };
        let wanted = |path: &str| {
            let mut w = Wanted::default();
            w.add(&options, Path::new(path));
            w
        };
        assert_eq!(
            wanted("/c/book/src/ch02-measure/index.md"),
            Wanted {
                rebuild: true,
                panel: false
            }
        );
        assert_eq!(
            wanted("/c/.course-progress.txt"),
            Wanted {
                rebuild: false,
                panel: true
            }
        );
        assert_eq!(wanted("/c/.course-progress.lock"), Wanted::default());
        assert_eq!(wanted("/c/book/book/index.html"), Wanted::default());
    }

    #[test]
    fn the_script_goes_before_the_last_body_end() {
        assert_eq!(with_script("a</body>b"), format!("a{INJECTED}\n</body>b"));
        assert_eq!(with_script("a"), format!("a{INJECTED}"));
    }
}
