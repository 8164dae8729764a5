//! The runner's own structure, checked: its modules stand in three layers
//! (commands → engine → ground, see main.rs) and imports only point down, so
//! the module graph has no circle, `ui` is a leaf, and no command reaches into
//! another.
//!
//! The graph is read from the source itself: every `use crate::…` statement
//! (groups in braces included) and every `crate::…` path written inline, in
//! each file under `xtask/src`. A module is a layer and its child
//! (`engine::checks`); a file's edges go to the modules it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::ground::files;

const LAYERS: [&str; 3] = ["ground", "engine", "commands"];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a source file defines: `commands/check.rs` → `commands::check`.
fn module_of(rel: &Path) -> String {
    let text = rel.with_extension("").to_string_lossy().replace('\\', "/");
    match text.as_str() {
        "main" => "crate".to_string(),
        other => other.replace('/', "::"),
    }
}

/// The modules named by the code of one file (comments left out).
fn imports(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || "_:{}, \n\t".contains(c)))
            .unwrap_or(rest.len());
        // `checks as c` names `checks`: drop each renaming before the spaces go.
        let words: Vec<&str> = rest[..end].split_whitespace().collect();
        let mut path = String::new();
        let mut i = 0;
        while i < words.len() {
            if words[i] == "as" {
                // The new name goes; a `,` or `}` written against it stays.
                let alias = words.get(i + 1).copied().unwrap_or("");
                path.extend(
                    alias
                        .chars()
                        .filter(|c| !(c.is_alphanumeric() || *c == '_')),
                );
                i += 2;
                continue;
            }
            path.push_str(words[i]);
            i += 1;
        }
        found.extend(modules_in(&path));
    }
    found
}

/// `engine::{bench, checks::{self, Run}}` → `engine::bench`, `engine::checks`;
/// `fixture::Course` → `fixture` (a module outside the layers).
fn modules_in(path: &str) -> Vec<String> {
    let (first, rest) = path.split_once("::").unwrap_or((path, ""));
    if !LAYERS.contains(&first) {
        return vec![first.to_string()];
    }
    let items = match rest.strip_prefix('{') {
        Some(group) => top_level_items(group),
        None => vec![rest.to_string()],
    };
    items
        .iter()
        .map(|item| item.split("::").next().unwrap_or("").trim_matches('}'))
        .filter(|m| !m.is_empty() && *m != "self")
        .map(|m| format!("{first}::{m}"))
        .collect()
}

/// The comma-separated items of a brace group, nested groups kept whole.
fn top_level_items(group: &str) -> Vec<String> {
    let (mut items, mut item, mut depth) = (Vec::new(), String::new(), 0);
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    items.push(item);
    items
}

/// The runner's module graph, read from `xtask/src`.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    for path in files::files_under(&src).unwrap() {
        let from = module_of(path.strip_prefix(&src).unwrap());
        let source = std::fs::read_to_string(&path).unwrap();
        let mut to = imports(&source);
        to.remove(&from);
        graph.entry(from).or_default().extend(to);
    }
    graph
}

/// A circle in `graph`, as the modules along it, if there is one.
fn find_circle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

/// 0 for ground, 1 for engine, 2 for commands; `None` outside the layers.
/// The tests' fixture (a course on disk, built with `workspace` alone) counts
/// as ground, so every layer's tests may use it.
fn rank(module: &str) -> Option<usize> {
    if module == "fixture" {
        return Some(0);
    }
    let layer = module.split("::").next()?;
    LAYERS.iter().position(|l| *l == layer)
}

#[test]
fn the_module_graph_has_no_circle() {
    let graph = graph();
    assert!(
        graph.contains_key("engine::checks") && graph["commands::check"].len() > 3,
        "the graph was read: {graph:#?}"
    );
    if let Some(circle) = find_circle(&graph) {
        panic!("the imports go round in a circle: {}", circle.join(" → "));
    }
}

#[test]
fn imports_only_point_down_the_layers_and_ui_is_a_leaf() {
    let mut wrong = Vec::new();
    for (from, targets) in graph() {
        let Some(from_rank) = rank(&from) else {
            continue; // main.rs and the test-only modules wire the layers together
        };
        for to in targets {
            let to_rank = rank(&to).unwrap_or(usize::MAX);
            let down = to_rank < from_rank || (to_rank == from_rank && from_rank < 2);
            if !down {
                wrong.push(format!("{from} uses {to}"));
            }
            if from == "ground::ui" {
                wrong.push(format!("ui is not a leaf: it uses {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "expected commands → engine → ground, a command never using another, and \
         ui using no module of the runner; seen:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_grouped_and_inline_imports_and_a_circle() {
    let source = "use crate::engine::{bench, checks::{self, Run}};\n\
                  use crate::ground::ui; // crate::engine::soak in a comment\n\
                  use crate::engine::variant as v;\n\
                  use crate::engine::{decoy as d, progress};\n\
                  use crate::commands::{\n    book,\n    list,\n};\n\
                  fn f() { crate::engine::chapter::Chapter::all(); }\n";
    assert_eq!(
        imports(source).into_iter().collect::<Vec<_>>(),
        [
            "commands::book",
            "commands::list",
            "engine::bench",
            "engine::chapter",
            "engine::checks",
            "engine::decoy",
            "engine::progress",
            "engine::variant",
            "ground::ui"
        ]
    );
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph.entry(from.into()).or_default().insert(to.into());
    }
    assert_eq!(find_circle(&graph).unwrap(), ["a", "b", "c", "a"]);
    graph.get_mut("c").unwrap().remove("a");
    assert_eq!(find_circle(&graph), None);
}
