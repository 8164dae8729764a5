//! The book as people read it, in headless Chromium driven over WebDriver
//! (fantoccini to Debian's chromium-driver).
//!
//! One test, in phases that share one server and one browser (starting
//! either costs seconds): a scratch copy of the course is served by
//! `cargo xtask book --serve` exactly as a learner's would be, then
//!
//! 1. every page, at a desktop width: no console error and no failed request
//!    (Chromium's browser log, at level SEVERE, holds both), code blocks
//!    highlighted, every `<details>` closed until its summary is clicked, a
//!    screenshot in `target/book-screens/`; its links and ids are kept;
//! 2. every internal link and `#anchor` resolves (to a page and an id seen
//!    in phase 1, or to a file of the built book);
//! 3. every page at a phone's width: nothing but code blocks wider than the
//!    screen;
//! 4. the search box finds a distinctive word of each chapter (one that no
//!    other chapter's text holds), with a result on that chapter's page;
//! 5. the live panel on chapter 2: not started (seen first, before phase 1;
//!    `cargo xtask check 2` on the starter then runs while phases 1 to 4 read
//!    the pages), then failing with the failing checks named, then passed
//!    after the solution is laid over the starter and checked (screenshots of
//!    both); chapter 5's panel, from a recorded bench, shows the hit ratios
//!    beside moka's and the optimum's, readable in each of mdBook's themes
//!    (a screenshot of each); opened as a plain file, chapter 2's page has no
//!    panel and no error;
//! 6. a change to a book source rebuilds the book and reloads the page.
//!
//! `cargo xtask verify` runs it after the book builds (it is `#[ignore]`d
//! so that plain `cargo test` stays quick):
//! `cargo test -p xtask --test book_browser -- --ignored --nocapture`.
//! Without Chromium and its driver it says so in one line and passes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{copy_course, copy_tree, shared_target_dir};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const DESKTOP: (u32, u32) = (1280, 900);
/// A common phone's CSS pixels.
const PHONE: (u32, u32) = (390, 844);

/// The first of `names` on the PATH (as `cargo xtask verify` looks for them).
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A process this test started, in a group of its own, ended with its
/// children when dropped (the runner starts cargo, which starts the server).
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

fn start(cmd: &mut Command) -> Started {
    use std::os::unix::process::CommandExt;
    Started(cmd.process_group(0).spawn().expect("start a process"))
}

/// A scratch copy of the course with every chapter (the book quotes them
/// all) and chapter 2's solution; deleted when dropped.
struct Course {
    root: PathBuf,
}

impl Drop for Course {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Course {
    fn new() -> Course {
        let root =
            std::env::temp_dir().join(format!("xtask-browser-{}", std::process::id()));
        copy_course(
            &root,
            &[
                ".cargo",
                "book",
                "exercises",
                "solutions/ch02-measure",
                "xtask/src",
                "xtask/tests",
                "xtask/book-builder/src",
            ],
            &[
                "Cargo.lock",
                "xtask/Cargo.toml",
                "xtask/pristine.txt",
                "xtask/book-builder/Cargo.toml",
            ],
            "browser",
        );
        let course = Course { root };
        // Record the copy's chapter 2 as given (the real record may be mid-edit).
        course.run(&["pristine", "2"]);
        course
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.args(args)
            .current_dir(&self.root)
            .env("COURSE_ROOT", &self.root)
            .env("CARGO_TARGET_DIR", shared_target_dir())
            .env("NO_COLOR", "1")
            .env("BROWSER", "false")
            .env_remove("FORCE_COLOR");
        cmd
    }

    /// Runs the runner to its end; what it printed, and whether it passed.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self.command(args).output().expect("run the runner");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// `cargo xtask book --serve --port 0`, and the address it serves at.
    fn serve(&self) -> (Started, String, Arc<Mutex<String>>) {
        let mut server = start(
            self.command(&["book", "--serve", "--port", "0"])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let said = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = server.0.stdout.take().unwrap();
        let log = said.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("The book is at ") {
                    let _ = tx.send(rest.trim_end_matches([' ', '.']).to_string());
                }
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(600))
            .unwrap_or_else(|_| {
                panic!("the book was not served:\n{}", said.lock().unwrap())
            });
        (server, url, said)
    }
}

/// chromedriver on a free port, and a headless Chromium session through it.
async fn browser(chromium: &Path, driver: &Path) -> (Started, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = start(
        Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let client =
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
    (driver, client)
}

/// chromedriver's browser log since the last call (`/se/log`, type browser).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

/// The log's errors (console errors, uncaught exceptions, failed loads).
async fn errors_logged(client: &Client) -> Vec<String> {
    let log = client.issue_cmd(BrowserLog).await.expect("the browser log");
    log.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// What phase 1 reads from each page.
const PAGE_FACTS: &str = r#"
const main = document.querySelector('main') || document.body;
const blocks = [...document.querySelectorAll('pre > code')];
const short = t => t.trim().slice(0, 60);
// A closed <details> keeps its body laid out but not rendered
// (content-visibility), so ask whether it can be seen, not whether it has boxes.
const shown = d => [...d.children].filter(c => c.tagName !== 'SUMMARY').some(c => c.checkVisibility());
return {
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  not_highlighted: blocks.filter(c => !c.classList.contains('hljs')).map(c => short(c.textContent)),
  rust_without_colour: blocks
    .filter(c => c.classList.contains('language-rust'))
    .filter(c => c.textContent.trim().includes('\n'))
    .filter(c => !c.querySelector('[class^="hljs-"], [class*=" hljs-"]'))
    .map(c => short(c.textContent)),
  failed: performance.getEntriesByType('resource')
    .filter(e => e.responseStatus >= 400)
    .map(e => e.name + ' answered ' + e.responseStatus),
  details: [...document.querySelectorAll('details')].map(d => ({
    open: d.open,
    body_shown: shown(d),
  })),
  prose: [...main.querySelectorAll('p, li')].map(e => e.innerText).join(' '),
};
"#;

/// The page is loaded and its scripts have run: every code block
/// highlighted (what mdBook's book.js does last).
const PAGE_SETTLED: &str = r#"
return document.readyState === 'complete' &&
  [...document.querySelectorAll('pre > code')].every(c => c.classList.contains('hljs'));
"#;

/// After each `<details>` summary was clicked: which are open and shown.
const DETAILS_AFTER_CLICK: &str = r#"
return [...document.querySelectorAll('details')].map(d => d.open &&
  [...d.children].filter(c => c.tagName !== 'SUMMARY').some(c => c.checkVisibility()));
"#;

/// Elements wider than the screen outside a code block and outside mdBook's
/// table wrapper (a wide table scrolls inside it, as a code block does; the
/// page itself never scrolls sideways).
const TOO_WIDE: &str = r#"
const w = document.documentElement.clientWidth;
const wide = [...document.querySelectorAll('main *')].filter(e => {
  if (e.closest('pre, .table-wrapper')) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.right > w + 1;
});
const page = document.scrollingElement.scrollWidth > w + 1 ? ['the page scrolls sideways'] : [];
return page.concat(wide.slice(0, 4).map(e =>
  '<' + e.tagName.toLowerCase() + '> ' + Math.round(e.getBoundingClientRect().right) + ' px > ' + w +
  ' px: ' + (e.innerText || '').trim().slice(0, 50)));
"#;

/// Every `.html` file of the built book, relative, sorted; but `toc.html`,
/// the sidebar's frame for readers without JavaScript, which is never opened
/// on its own (it has no icon, and Chromium would ask for `/favicon.ico`).
fn pages(book: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![book.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "html")
                && path.file_name().is_some_and(|n| n != "toc.html")
            {
                let rel = path
                    .strip_prefix(book)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// A word of at least seven letters from `words`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 7)
        .map(str::to_lowercase)
}

/// For each chapter, the word its prose uses most that no other chapter's
/// prose holds (ties: the first alphabetically).
fn distinctive_words(prose: &[(String, String)]) -> Vec<(String, String)> {
    use std::collections::BTreeMap;
    prose
        .iter()
        .filter_map(|(chapter, text)| {
            let others: std::collections::HashSet<String> = prose
                .iter()
                .filter(|(c, _)| c != chapter)
                .flat_map(|(_, t)| words(t))
                .collect();
            let mut counts = BTreeMap::<String, usize>::new();
            for w in words(text).filter(|w| !others.contains(w)) {
                *counts.entry(w).or_default() += 1;
            }
            let best = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
            Some((chapter.clone(), best.0.clone()))
        })
        .collect()
}

/// The readings line of the panel: its text, whether the page is in the
/// theme asked for (`arguments[0]`), and the contrast (WCAG's ratio) of its
/// text against the panel's background, laid over the page's.
const READINGS_CONTRAST: &str = r#"
const line = document.querySelector('#course-panel .course-readings');
if (!line) return { text: null, theme: false, contrast: 0 };
const rgba = c => (c.match(/[\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3]));
const page = rgba(getComputedStyle(document.body).backgroundColor);
const box = over(rgba(getComputedStyle(document.getElementById('course-panel')).backgroundColor), page);
const ink = over(rgba(getComputedStyle(line).color), box);
const lum = c => {
  const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const [hi, lo] = [lum(ink), lum(box)].sort((a, b) => b - a);
return {
  text: line.textContent,
  theme: document.documentElement.classList.contains(arguments[0]),
  contrast: (hi + 0.05) / (lo + 0.05),
};
"#;

async fn wait_for_js(client: &Client, script: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if client.execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What the live panel on the current page says.
async fn panel_text(client: &Client) -> String {
    client
        .find(Locator::Id("course-panel"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn screenshot(dir: &Path, name: &str, png: Vec<u8>) {
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

fn since(t: Instant) -> String {
    format!("{:.1} s", t.elapsed().as_secs_f64())
}

#[test]
#[ignore = "run by cargo xtask verify after the book builds (it starts Chromium)"]
fn the_book_reads_well_in_a_browser() {
    let (Some(chromium), Some(driver)) = (
        program(&["chromium", "chromium-browser", "google-chrome"]),
        program(&["chromedriver"]),
    ) else {
        eprintln!(
            "skipped: the book's browser tests need Chromium and its driver \
             (Debian: apt-get install chromium chromium-driver)"
        );
        return;
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(in_the_browser(&chromium, &driver));
}

async fn in_the_browser(chromium: &Path, driver: &Path) {
    let started = Instant::now();
    let screens = shared_target_dir().join("book-screens");
    let _ = std::fs::remove_dir_all(&screens);
    std::fs::create_dir_all(&screens).unwrap();
    let course = Course::new();
    let (_server, base, said) = course.serve();
    eprintln!("built and served in {}: {base}", since(started));
    let (_driver, client) = browser(chromium, driver).await;
    let book = course.root.join("book/book");
    let all = pages(&book);
    let mut problems: Vec<String> = Vec::new();

    // 5, first half: chapter 2 not started yet; then its starter checked in
    // the background while phases 1 to 4 read the pages (the slowest step,
    // compiling the copy's chapter 2, overlaps the reading).
    let ch02 = format!("{base}ch02-measure/index.html");
    let state_is = |s: &str| {
        format!(
            "const p = document.getElementById('course-panel'); return !!p && p.dataset.state === '{s}'"
        )
    };
    client.goto(&ch02).await.unwrap();
    assert!(
        wait_for_js(&client, &state_is("not-started"), 30).await,
        "the panel says chapter 2 is not started"
    );
    // Its output goes to a file: a pipe nobody reads until the end could fill.
    let check_log = course.root.join("check-2-starter.log");
    let log_file = std::fs::File::create(&check_log).unwrap();
    let mut starter_check = course
        .command(&["check", "2"])
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start `cargo xtask check 2`");

    // 1. Every page at a desktop width.
    let t = Instant::now();
    let mut links: Vec<(String, String)> = Vec::new();
    let mut ids = std::collections::HashMap::<String, Vec<String>>::new();
    let mut prose: Vec<(String, String)> = Vec::new();
    for page in &all {
        client.goto(&format!("{base}{page}")).await.unwrap();
        // On a loaded machine the page's scripts may still be running when
        // the load event fires: give them time before reading what they do
        // (a page that never gets there is reported below as it is).
        wait_for_js(&client, PAGE_SETTLED, 30).await;
        let facts = client.execute(PAGE_FACTS, vec![]).await.unwrap();
        for error in errors_logged(&client).await {
            problems.push(format!("{page}: console error or failed request: {error}"));
        }
        for failed in facts["failed"].as_array().unwrap() {
            problems.push(format!("{page}: request failed: {failed}"));
        }
        for code in facts["not_highlighted"].as_array().unwrap() {
            problems.push(format!("{page}: code block not highlighted: {code}"));
        }
        for code in facts["rust_without_colour"].as_array().unwrap() {
            problems.push(format!("{page}: Rust block without colours: {code}"));
        }
        let details = facts["details"].as_array().unwrap();
        for (i, d) in details.iter().enumerate() {
            if d["open"] == true || d["body_shown"] == true {
                problems.push(format!(
                    "{page}: <details> {} is open before a click",
                    i + 1
                ));
            }
        }
        screenshot(
            &screens,
            &page.replace('/', "-").replace(".html", ""),
            client.screenshot().await.unwrap(),
        );
        if !details.is_empty() {
            for summary in client
                .find_all(Locator::Css("details > summary"))
                .await
                .unwrap()
            {
                summary.click().await.unwrap();
            }
            let shown = client.execute(DETAILS_AFTER_CLICK, vec![]).await.unwrap();
            for (i, open) in shown.as_array().unwrap().iter().enumerate() {
                if open != true {
                    problems.push(format!(
                        "{page}: <details> {} stays closed when clicked",
                        i + 1
                    ));
                }
            }
        }
        for link in facts["links"].as_array().unwrap() {
            links.push((page.clone(), link.as_str().unwrap().to_string()));
        }
        ids.insert(
            page.clone(),
            facts["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect(),
        );
        if let Some(chapter) = page
            .strip_suffix("/index.html")
            .filter(|c| c.starts_with("ch"))
        {
            prose.push((
                chapter.to_string(),
                facts["prose"].as_str().unwrap().to_string(),
            ));
        }
    }
    eprintln!(
        "{} pages read at {}×{} in {}",
        all.len(),
        DESKTOP.0,
        DESKTOP.1,
        since(t)
    );

    // 2. Internal links and anchors.
    let mut checked = 0;
    for (page, link) in &links {
        let Some(rest) = link.strip_prefix(&base) else {
            continue;
        };
        // mdBook's 404 page sets `<base href="/">` (it is served for any
        // path), so its heading's own `#anchor` points at the front page.
        if page == "404.html" && rest.starts_with("#document-not-found") {
            continue;
        }
        checked += 1;
        let (path, anchor) = rest.split_once('#').unwrap_or((rest, ""));
        let path = path.split('?').next().unwrap();
        let path = if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        };
        if !book.join(&path).is_file() {
            problems.push(format!("{page}: link to a missing page: {link}"));
        } else if !anchor.is_empty()
            && !ids
                .get(&path)
                .is_some_and(|ids| ids.iter().any(|i| i == anchor))
        {
            problems.push(format!("{page}: link to a missing anchor: {link}"));
        }
    }
    eprintln!("{checked} internal links and anchors resolved");

    // 3. Every page at a phone's width.
    let t = Instant::now();
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    for page in &all {
        client.goto(&format!("{base}{page}")).await.unwrap();
        wait_for_js(&client, PAGE_SETTLED, 30).await;
        let wide = client.execute(TOO_WIDE, vec![]).await.unwrap();
        for what in wide.as_array().unwrap() {
            problems.push(format!("{page}: wider than a {} px phone: {what}", PHONE.0));
        }
    }
    let _ = errors_logged(&client).await;
    eprintln!(
        "{} pages read at {}×{} in {}",
        all.len(),
        PHONE.0,
        PHONE.1,
        since(t)
    );
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();

    // 4. Search: a distinctive word of each chapter.
    let t = Instant::now();
    let terms = distinctive_words(&prose);
    assert!(
        terms.len() >= 8,
        "a distinctive word for every chapter: {terms:?}"
    );
    client.goto(&format!("{base}index.html")).await.unwrap();
    client
        .find(Locator::Id("mdbook-search-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let bar = client
        .wait()
        .for_element(Locator::Id("mdbook-searchbar"))
        .await
        .unwrap();
    for (chapter, term) in &terms {
        bar.clear().await.unwrap();
        bar.send_keys(term).await.unwrap();
        let found = wait_for_js(
            &client,
            &format!(
                "return [...document.querySelectorAll('#mdbook-searchresults a')]\
                 .some(a => a.href.includes('/{chapter}/'))"
            ),
            // The search index loads in the background: generous on a busy
            // machine, and only a miss waits this long.
            30,
        )
        .await;
        if !found {
            problems.push(format!(
                "search: \"{term}\" (from {chapter}) finds no result on {chapter}"
            ));
        }
    }
    eprintln!(
        "search found {} in {}",
        terms
            .iter()
            .map(|(c, t)| format!("{t} ({c})"))
            .collect::<Vec<_>>()
            .join(", "),
        since(t)
    );

    // 5. The live panel on chapter 2: failing, then passed.
    let t = Instant::now();
    let _ = errors_logged(&client).await;
    client.goto(&ch02).await.unwrap();
    let status = starter_check.wait().unwrap();
    assert!(
        !status.success(),
        "the starter fails its checks:\n{}",
        std::fs::read_to_string(&check_log).unwrap_or_default()
    );
    assert!(
        wait_for_js(&client, &state_is("failing"), 30).await,
        "the panel turns to failing"
    );
    let panel = panel_text(&client).await;
    assert!(
        panel.contains("Still failing:") && panel.contains("cargo xtask check 2"),
        "{panel}"
    );
    screenshot(
        &screens,
        "ch02-measure-panel-failing",
        client.screenshot().await.unwrap(),
    );
    copy_tree(
        &course.root.join("solutions/ch02-measure/src"),
        &course.root.join("exercises/ch02-measure/src"),
    );
    let (passed, said_check) = course.run(&["check", "2"]);
    assert!(passed, "the solution passes:\n{said_check}");
    assert!(
        wait_for_js(&client, &state_is("passed"), 30).await,
        "the panel turns to passed"
    );
    let panel = panel_text(&client).await;
    assert!(
        panel.contains("passed") && panel.contains("as fast as the starter"),
        "{panel}"
    );
    screenshot(
        &screens,
        "ch02-measure-panel-passed",
        client.screenshot().await.unwrap(),
    );
    for error in errors_logged(&client).await {
        problems.push(format!("ch02 with the panel: console error: {error}"));
    }
    // Chapter 5's hit ratios, as its bench records them (passing chapter 5
    // for real would build its bench in release mode: minutes), shown beside
    // moka's and the optimum's, and readable in every theme.
    let t5 = Instant::now();
    let progress = course.root.join(".course-progress.txt");
    let mut text = std::fs::read_to_string(&progress).unwrap();
    text.push_str(
        "ch05-caching passed 0 pass 31/31 4.2 - hit-ratio:yours=0.612,moka=0.66,optimal=0.741\n",
    );
    std::fs::write(&progress, text).unwrap();
    let ch05 = format!("{base}ch05-caching/index.html");
    let readings = "Hit ratio (latest bench): yours 0.612 · moka 0.660 · optimal 0.741";
    for theme in ["light", "rust", "coal", "navy", "ayu"] {
        client
            .execute(
                "localStorage.setItem('mdbook-theme', arguments[0])",
                vec![json!(theme)],
            )
            .await
            .unwrap();
        client.goto(&ch05).await.unwrap();
        assert!(
            wait_for_js(&client, &state_is("passed"), 30).await,
            "chapter 5's panel says passed"
        );
        let found: Value = client
            .execute(READINGS_CONTRAST, vec![json!(theme)])
            .await
            .unwrap();
        assert_eq!(found["text"], readings, "{found}");
        assert_eq!(
            found["theme"], true,
            "the page is in the {theme} theme: {found}"
        );
        let contrast = found["contrast"].as_f64().unwrap_or(0.0);
        assert!(
            contrast >= 4.5,
            "the hit ratios read at a contrast of {contrast:.1} in the {theme} theme"
        );
        screenshot(
            &screens,
            &format!("ch05-caching-panel-hit-ratios-{theme}"),
            client.screenshot().await.unwrap(),
        );
    }
    client
        .execute("localStorage.removeItem('mdbook-theme')", vec![])
        .await
        .unwrap();
    for error in errors_logged(&client).await {
        problems.push(format!("ch05 with the panel: console error: {error}"));
    }
    eprintln!(
        "panel: chapter 5's hit ratios read in 5 themes in {}",
        since(t5)
    );
    client
        .goto(&format!(
            "file://{}",
            book.join("ch02-measure/index.html").display()
        ))
        .await
        .unwrap();
    let panels = client.find_all(Locator::Id("course-panel")).await.unwrap();
    assert!(panels.is_empty(), "the book opened as files shows no panel");
    for error in errors_logged(&client).await {
        problems.push(format!("ch02 opened as a file: console error: {error}"));
    }
    eprintln!("panel: not started → failing → passed in {}", since(t));

    // Nothing before phase 6 changes a book source: a rebuild while pages
    // were read would have swapped the book under them.
    if said.lock().unwrap().contains("rebuilding") {
        problems.push(format!(
            "the server rebuilt the book before any source changed:\n{}",
            said.lock().unwrap()
        ));
    }

    // 6. A source change rebuilds and reloads.
    let t = Instant::now();
    client.goto(&ch02).await.unwrap();
    assert!(wait_for_js(&client, &state_is("passed"), 30).await);
    let page = course.root.join("book/src/ch02-measure/index.md");
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("\n\nReloaded by the browser test.\n");
    std::fs::write(&page, text).unwrap();
    let reloaded = wait_for_js(
        &client,
        "return document.body.innerText.includes('Reloaded by the browser test.')",
        300,
    )
    .await;
    assert!(
        reloaded,
        "the page reloads with the change:\n{}",
        said.lock().unwrap()
    );
    eprintln!("rebuilt and reloaded after a source change in {}", since(t));

    client.close().await.unwrap();
    eprintln!(
        "browser tests took {} in all; screenshots in {}",
        since(started),
        screens.display()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
