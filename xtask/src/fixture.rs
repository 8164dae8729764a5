//! A small course on disk for the runner's unit tests: two chapters, a
//! solution, a decoy and hints, written into a fresh temporary folder and
//! removed again when the test ends. Tests read this instead of the real
//! repository, so they say the same thing while chapters are being edited.

use std::path::{Path, PathBuf};

use crate::ground::workspace::Workspace;

/// A course written for one test; deleted when dropped.
pub struct Course {
    pub ws: Workspace,
}

impl Course {
    /// The course below `<temp>/xtask-fixture-<name>-<pid>/`.
    pub fn new(name: &str) -> Self {
        let root = std::env::temp_dir()
            .join(format!("xtask-fixture-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in FILES {
            write(&root.join(path), text);
        }
        Self {
            ws: Workspace { root },
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.ws.root.join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) {
        write(&self.path(rel), text);
    }
}

impl Drop for Course {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.ws.root);
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a file has a folder")).unwrap();
    std::fs::write(path, text).unwrap();
}

const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        r#"[workspace]
resolver = "3"
members = ["exercises/*"]
exclude = ["solutions"]

[workspace.package]
version = "0.1.0"
edition = "2024"
publish = false

[workspace.dependencies]
anyhow = "1"
support = { path = "exercises/support" }

[profile.dev]
debug = false
"#,
    ),
    (
        "exercises/support/Cargo.toml",
        "[package]\nname = \"support\"\nversion.workspace = true\nedition.workspace = true\n",
    ),
    ("exercises/support/src/lib.rs", "//! Shared by checks.\n"),
    ("xtask/pristine.txt", "# Nothing recorded yet.\n"),
    (
        "exercises/ch02-measure/exercise.toml",
        r#"id = "ch02-measure"
number = 2
title = "Measure before you optimize"
page = "ch02-measure/index.md"
edit = ["src/report.rs"]

[bench]
target = "ch02"
group = "ch02_report"
baseline = "starter"
candidate = "yours"
min_ratio = 10.0
"#,
    ),
    (
        "exercises/ch02-measure/Cargo.toml",
        r#"[package]
name = "ch02-measure"
version.workspace = true
edition.workspace = true
publish.workspace = true

[lib]
bench = false

[dependencies]
anyhow.workspace = true

[dev-dependencies]
support.workspace = true

[[bench]]
name = "ch02"
harness = false
"#,
    ),
    ("exercises/ch02-measure/src/lib.rs", "pub mod report;\n"),
    (
        "exercises/ch02-measure/src/report.rs",
        "pub fn statements(orders: u32) -> u32 {\n    1 + orders\n}\n",
    ),
    (
        "exercises/ch02-measure/tests/checks.rs",
        r#"#[test]
fn report_runs_at_most_two_statements() {
    let seen = ch02_measure::report::statements(50);
    assert!(seen <= 2, "expected at most 2 statements (no N+1), saw {seen}");
}
"#,
    ),
    (
        "exercises/ch02-measure/benches/ch02/main.rs",
        "fn main() {}\n",
    ),
    (
        "exercises/ch02-measure/examples/profile.rs",
        "fn main() {}\n",
    ),
    (
        "exercises/ch05-caching/exercise.toml",
        r#"id = "ch05-caching"
number = 5
title = "Cache what is read often"
page = "ch05-caching/index.md"
"#,
    ),
    (
        "solutions/ch02-measure/src/report.rs",
        "pub fn statements(_orders: u32) -> u32 {\n    2\n}\n",
    ),
    (
        "solutions/ch02-measure/hints.toml",
        "hints = [\"Count the statements.\", \"Join once.\"]\n",
    ),
    (
        "solutions/ch02-measure/decoys/one-per-order.toml",
        r#"mistake = "Still one statement per order."
base = "solution"
must_fail = "report_runs_at_most_two_statements"
message_contains = "N+1"

[[edit]]
file = "src/report.rs"
find = "    2\n"
replace = "    1 + _orders\n"
"#,
    ),
];
