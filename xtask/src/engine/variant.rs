//! Scratch crates: the solution and each decoy, built like the learner's crate.
//!
//! The checks and benches exist once, in the exercise crate (`tests/`,
//! `benches/`). To run them against other code, the runner writes a scratch
//! crate under `target/xtask/variants/<chapter>/<variant>/` with:
//! - `src/`: the starter's files, overlaid with the solution's (which holds
//!   only the files that differ), then the decoy's edits, if any;
//! - `Cargo.toml`: the exercise's manifest with every `workspace = true`
//!   resolved from the root manifest, every path made absolute, the test,
//!   bench and example targets pointing at the exercise's own files, and the
//!   root's profiles, so that dependency builds are shared with the learner's;
//! - `Cargo.lock`: the root's, so the versions are exactly the learner's.
//!
//! The package name stays the chapter's (the checks `use ch02_measure::…`). Each
//! scratch crate is its own workspace, so no two packages with one name ever
//! meet in a workspace, and cargo sees no output-filename collisions. Files are
//! written only when their text changes, so a second `verify` is incremental.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use toml::{Table, Value};

use crate::engine::chapter::Chapter;
use crate::engine::decoy::{self, Base, Decoy};
use crate::engine::scratch_lock;
use crate::engine::subject::Subject;
use crate::ground::files;
use crate::ground::workspace::Workspace;

/// The starter's files, as committed in `exercises/<id>/src`.
pub fn starter_files(chapter: &Chapter) -> Result<BTreeMap<PathBuf, String>> {
    read_tree(&chapter.dir, Path::new("src"))
}

/// The starter's files with the solution's files laid over them.
pub fn solution_files(chapter: &Chapter) -> Result<BTreeMap<PathBuf, String>> {
    let mut files = starter_files(chapter)?;
    let overlay = read_tree(&chapter.solution_dir, Path::new("src"))?;
    if overlay.is_empty() {
        bail!(
            "there is no solution in {}",
            chapter.solution_dir.join("src").display()
        );
    }
    files.extend(overlay);
    Ok(files)
}

pub fn decoy_files(
    chapter: &Chapter,
    decoy: &Decoy,
) -> Result<BTreeMap<PathBuf, String>> {
    let mut files = match decoy.base {
        Base::Starter => starter_files(chapter)?,
        Base::Solution => solution_files(chapter)?,
    };
    decoy::apply(decoy, &mut files)?;
    Ok(files)
}

/// Writes the scratch crate `variant` of `chapter` and returns it as a subject.
///
/// Layout: `variants/<chapter>/<variant>/` is a workspace root (profiles, lock
/// file) whose one member is the crate in `<variant>/` below it. The extra level
/// matters: cargo names a local package's artifacts by its path relative to its
/// workspace root, so a crate that was its own root would share artifact names
/// with every other variant, and builds would overwrite each other.
pub fn assemble(
    ws: &Workspace,
    chapter: &Chapter,
    variant: &str,
    files: &BTreeMap<PathBuf, String>,
) -> Result<Subject> {
    assemble_with_examples(ws, chapter, variant, files, &[])
}

/// `assemble`, with more example targets: `(name, absolute path)` each (the
/// book's figure programs, `figures.rs`). Only targets are added, so the
/// library and the dependencies built for the variant's checks are reused.
pub fn assemble_with_examples(
    ws: &Workspace,
    chapter: &Chapter,
    variant: &str,
    files: &BTreeMap<PathBuf, String>,
    examples: &[(String, PathBuf)],
) -> Result<Subject> {
    scratch_lock::hold(ws, chapter)?;
    let root = ws
        .scratch_dir()
        .join("variants")
        .join(chapter.id())
        .join(variant);
    let manifest = with_examples(&manifest(ws, chapter)?, examples)?;
    let root_manifest = root_manifest(ws, variant)?;
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock")).unwrap_or_default();
    let crate_dir = PathBuf::from(variant);
    let mut wanted: BTreeMap<PathBuf, &str> = files
        .iter()
        .map(|(p, t)| (crate_dir.join(p), t.as_str()))
        .collect();
    wanted.insert(crate_dir.join("Cargo.toml"), &manifest);
    wanted.insert("Cargo.toml".into(), &root_manifest);
    if !lock.is_empty() {
        wanted.insert("Cargo.lock".into(), &lock);
    }
    sync_tree(&root, &crate_dir, &wanted)?;
    Ok(Subject {
        manifest: root.join(&crate_dir).join("Cargo.toml"),
        package: chapter.package().to_string(),
        dir: root.join(crate_dir),
    })
}

/// What each member of [`assemble_members`] keeps of the chapter's targets.
#[derive(Clone, Copy, PartialEq)]
pub enum Keep {
    /// Only the library (what its unit tests need): known mutants.
    Library,
    /// Every target, the library under the chapter's own crate name so the
    /// checks' `use ch04::…` still resolve: decoys built together. A binary
    /// is renamed after its member, so each copy's lands at its own path, and
    /// a generated build script points the checks' `CARGO_BIN_EXE_<name>` at
    /// it (see [`bins_of_their_own`]). Not for a chapter with a build script
    /// of its own (see [`has_build_script`]).
    AllTargets,
}

/// `prefix-name` as a package name: letters, digits, `-` and `_` only.
pub fn package_name(prefix: &str, name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{name}")
}

/// Whether the chapter's crate has a build script. Copies of such a crate are
/// not built together: [`bins_of_their_own`] gives each copy a generated one.
pub fn has_build_script(chapter: &Chapter) -> Result<bool> {
    let m = read_toml(&chapter.dir.join("Cargo.toml"))?;
    let declared = m
        .get("package")
        .and_then(|p| p.get("build"))
        .is_some_and(|b| b.as_bool() != Some(false));
    Ok(declared || chapter.dir.join("build.rs").is_file())
}

/// Gives each `[[bin]]` of a member copy its own name, `<member>-<name>`, so
/// copies built together in one workspace do not overwrite one another's
/// binary at `<target>/debug/<name>`. The checks find the binary through
/// `env!("CARGO_BIN_EXE_<name>")`, which cargo would now set under the new
/// name; the returned build script sets the old name to the new binary's path
/// (the profile folder is three levels above the script's `OUT_DIR`). `None`
/// when the crate has no binary.
fn bins_of_their_own(m: &mut Table, member: &str) -> Option<String> {
    let bins = m.get_mut("bin").and_then(Value::as_array_mut)?;
    let mut lines = Vec::new();
    for bin in bins.iter_mut().filter_map(Value::as_table_mut) {
        let Some(old) = bin.get("name").and_then(Value::as_str).map(str::to_string)
        else {
            continue;
        };
        let new = format!("{member}-{old}");
        lines.push(format!(
            "    let exe = dir.join({new:?});\n    \
             println!(\"cargo::rustc-env=CARGO_BIN_EXE_{old}={{}}\", exe.display());"
        ));
        bin.insert("name".into(), Value::String(new));
    }
    if lines.is_empty() {
        return None;
    }
    Some(format!(
        "{GENERATED_RS}\nfn main() {{\n    \
         let out = std::path::PathBuf::from(std::env::var(\"OUT_DIR\").unwrap());\n    \
         let dir = out.ancestors().nth(3).unwrap().to_path_buf();\n{}\n}}\n",
        lines.join("\n")
    ))
}

/// Writes one scratch workspace `name` of `chapter` whose members are copies
/// of the chapter's crate, one per `(member, files)`: each in the folder
/// `member`, under the package name `member`, with the targets `keep` says.
/// Known mutants (`known_mutants.rs`) and decoys (`checks::build_many`)
/// build all their copies in one cargo invocation this way, so cargo spreads
/// them over the cores. Returns the subject of each member, in the order
/// given.
pub fn assemble_members(
    ws: &Workspace,
    chapter: &Chapter,
    name: &str,
    members: &[(String, BTreeMap<PathBuf, String>)],
    keep: Keep,
) -> Result<Vec<Subject>> {
    scratch_lock::hold(ws, chapter)?;
    let root = ws
        .scratch_dir()
        .join("variants")
        .join(chapter.id())
        .join(name);
    let base: Table = toml::from_str(&manifest(ws, chapter)?)?;
    let names: Vec<&str> = members.iter().map(|(m, _)| m.as_str()).collect();
    let root_manifest = root_manifest_of(ws, &names)?;
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock")).unwrap_or_default();
    let mut top: BTreeMap<PathBuf, &str> = BTreeMap::new();
    top.insert("Cargo.toml".into(), &root_manifest);
    if !lock.is_empty() {
        top.insert("Cargo.lock".into(), &lock);
    }
    sync_tree(&root, Path::new("."), &top)?;
    let mut subjects = Vec::new();
    for (member, files) in members {
        let mut m = base.clone();
        let mut build_script = None;
        match keep {
            Keep::Library => {
                for target in ["test", "bench", "example", "bin"] {
                    m.remove(target);
                }
            }
            Keep::AllTargets => {
                let lib = m.entry("lib").or_insert_with(|| Value::Table(Table::new()));
                if let Some(lib) = lib.as_table_mut() {
                    let crate_name = chapter.package().replace('-', "_");
                    lib.insert("name".into(), Value::String(crate_name));
                }
                build_script = bins_of_their_own(&mut m, member);
            }
        }
        if build_script.is_some()
            && let Some(package) = m.get_mut("package").and_then(Value::as_table_mut)
        {
            package.insert("build".into(), Value::String("build.rs".into()));
        }
        if let Some(package) = m.get_mut("package").and_then(Value::as_table_mut) {
            package.insert("name".into(), Value::String(member.clone()));
        }
        let text = format!("{GENERATED}\n{}", toml::to_string(&m)?);
        let crate_dir = PathBuf::from(member);
        let mut wanted: BTreeMap<PathBuf, &str> = files
            .iter()
            .map(|(p, t)| (crate_dir.join(p), t.as_str()))
            .collect();
        wanted.insert(crate_dir.join("Cargo.toml"), &text);
        if let Some(script) = &build_script {
            wanted.insert(crate_dir.join("build.rs"), script);
        }
        sync_tree(&root, &crate_dir, &wanted)?;
        subjects.push(Subject {
            manifest: root.join("Cargo.toml"),
            package: member.clone(),
            dir: root.join(member),
        });
    }
    Ok(subjects)
}

/// `manifest` with `examples` added to its `[[example]]` targets.
fn with_examples(manifest: &str, examples: &[(String, PathBuf)]) -> Result<String> {
    if examples.is_empty() {
        return Ok(manifest.to_string());
    }
    let mut m: Table = toml::from_str(manifest)?;
    let targets = m
        .entry("example")
        .or_insert_with(|| Value::Array(Vec::new()))
        .as_array_mut()
        .context("[[example]] is not a list of targets")?;
    for (name, path) in examples {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(name.clone()));
        t.insert("path".into(), Value::String(path.display().to_string()));
        targets.push(Value::Table(t));
    }
    Ok(format!("{GENERATED}\n{}", toml::to_string(&m)?))
}

/// The scratch workspace's root manifest: one member, the root's profiles.
fn root_manifest(ws: &Workspace, member: &str) -> Result<String> {
    root_manifest_of(ws, &[member])
}

/// The scratch workspace's root manifest: these members, the root's profiles.
fn root_manifest_of(ws: &Workspace, members: &[&str]) -> Result<String> {
    let root = read_toml(&ws.root.join("Cargo.toml"))?;
    let mut m = Table::new();
    let mut workspace = Table::new();
    workspace.insert("resolver".into(), Value::String("3".into()));
    workspace.insert(
        "members".into(),
        Value::Array(
            members
                .iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
    );
    m.insert("workspace".into(), Value::Table(workspace));
    if let Some(profile) = root.get("profile") {
        m.insert("profile".into(), profile.clone());
    }
    Ok(format!("{GENERATED}\n{}", toml::to_string(&m)?))
}

const GENERATED: &str =
    "# Written by `cargo xtask` (see xtask/src/variant.rs); do not edit.";
const GENERATED_RS: &str =
    "// Written by `cargo xtask` (see xtask/src/engine/variant.rs); do not edit.";

/// The scratch crate's manifest, derived from the exercise's.
pub fn manifest(ws: &Workspace, chapter: &Chapter) -> Result<String> {
    let root = read_toml(&ws.root.join("Cargo.toml"))?;
    let mut m = read_toml(&chapter.dir.join("Cargo.toml"))?;
    let ws_table = root
        .get("workspace")
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    inherit_package(&mut m, &ws_table)?;
    resolve_dependencies(&mut m, &ws_table, &ws.root, &chapter.dir)?;
    point_targets_at(&mut m, &chapter.dir)?;
    Ok(format!("{GENERATED}\n{}", toml::to_string(&m)?))
}

/// `[package]`: fields inherited from `[workspace.package]` written out, and
/// automatic target discovery off (every target is listed explicitly).
fn inherit_package(m: &mut Table, ws_table: &Table) -> Result<()> {
    let inherited = table_at(ws_table, "package");
    let package = m
        .get_mut("package")
        .and_then(Value::as_table_mut)
        .context("no [package]")?;
    for (key, value) in package.iter_mut() {
        if is_inherited(value) {
            *value = inherited
                .get(key)
                .cloned()
                .with_context(|| format!("[workspace.package] has no {key}"))?;
        }
    }
    for auto in ["autotests", "autobenches", "autoexamples", "autobins"] {
        package.insert(auto.into(), Value::Boolean(false));
    }
    Ok(())
}

/// Dependencies: `workspace = true` resolved, every path made absolute.
fn resolve_dependencies(
    m: &mut Table,
    ws_table: &Table,
    root: &Path,
    crate_dir: &Path,
) -> Result<()> {
    let ws_deps = table_at(ws_table, "dependencies");
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = m.get_mut(section).and_then(Value::as_table_mut) else {
            continue;
        };
        for (name, dep) in deps.iter_mut() {
            *dep = resolve_dependency(name, dep, &ws_deps, root, crate_dir)?;
        }
    }
    Ok(())
}

/// Targets: the exercise's own test, bench and example files, by absolute path.
fn point_targets_at(m: &mut Table, crate_dir: &Path) -> Result<()> {
    for (kind, folder) in [
        ("test", "tests"),
        ("bench", "benches"),
        ("example", "examples"),
    ] {
        let declared = m
            .get(kind)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let targets = targets_in(&crate_dir.join(folder), &declared)?;
        if targets.is_empty() {
            m.remove(kind);
        } else {
            m.insert(kind.into(), Value::Array(targets));
        }
    }
    Ok(())
}

/// The table `key` of `t`, or an empty one.
fn table_at(t: &Table, key: &str) -> Table {
    t.get(key)
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default()
}

fn is_inherited(value: &Value) -> bool {
    value
        .as_table()
        .and_then(|t| t.get("workspace"))
        .and_then(Value::as_bool)
        == Some(true)
}

fn resolve_dependency(
    name: &str,
    dep: &Value,
    ws_deps: &Table,
    root: &Path,
    crate_dir: &Path,
) -> Result<Value> {
    let (mut table, base) = if is_inherited(dep) {
        let from_ws = ws_deps
            .get(name)
            .with_context(|| format!("[workspace.dependencies] has no {name}"))?;
        let mut t = as_dep_table(from_ws);
        // The member may add features and make the dependency optional.
        let own = dep.as_table().cloned().unwrap_or_default();
        if let Some(Value::Array(extra)) = own.get("features") {
            let mut features = t
                .get("features")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            features.extend(extra.iter().cloned());
            t.insert("features".into(), Value::Array(features));
        }
        if let Some(optional) = own.get("optional") {
            t.insert("optional".into(), optional.clone());
        }
        (t, root)
    } else {
        (as_dep_table(dep), crate_dir)
    };
    if let Some(path) = table.get("path").and_then(Value::as_str) {
        let absolute = base.join(path);
        table.insert("path".into(), Value::String(absolute.display().to_string()));
    }
    Ok(Value::Table(table))
}

fn as_dep_table(dep: &Value) -> Table {
    match dep {
        Value::String(version) => {
            Table::from_iter([("version".to_string(), Value::String(version.clone()))])
        }
        Value::Table(t) => t.clone(),
        _ => Table::new(),
    }
}

/// `folder/*.rs` and `folder/*/main.rs`, merged with what the manifest declares
/// about them (e.g. `harness = false`), with absolute paths.
fn targets_in(folder: &Path, declared: &[Value]) -> Result<Vec<Value>> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(Vec::new());
    };
    for entry in entries {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.extension().is_some_and(|e| e == "rs") {
            found.push((stem, path));
        } else if path.join("main.rs").is_file() {
            found.push((stem, path.join("main.rs")));
        }
    }
    found.sort();
    Ok(found
        .into_iter()
        .map(|(name, path)| {
            let mut t = declared
                .iter()
                .filter_map(Value::as_table)
                .find(|t| t.get("name").and_then(Value::as_str) == Some(&name))
                .cloned()
                .unwrap_or_default();
            t.insert("name".into(), Value::String(name));
            t.insert("path".into(), Value::String(path.display().to_string()));
            Value::Table(t)
        })
        .collect())
}

fn read_toml(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Every file under `base/sub`, keyed by its path relative to `base`.
pub fn read_tree(base: &Path, sub: &Path) -> Result<BTreeMap<PathBuf, String>> {
    let mut files = BTreeMap::new();
    for path in files::files_under(&base.join(sub))? {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let rel = path.strip_prefix(base).expect("under base").to_path_buf();
        files.insert(rel, text);
    }
    Ok(files)
}

/// Makes `dir` hold exactly `wanted` (no stale file left in `crate_dir/src`),
/// writing only what changed so that cargo's fingerprints stay valid.
fn sync_tree(
    dir: &Path,
    crate_dir: &Path,
    wanted: &BTreeMap<PathBuf, &str>,
) -> Result<()> {
    for (rel, text) in wanted {
        let path = dir.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(*text) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for (rel, _) in read_tree(dir, &crate_dir.join("src"))? {
        if !wanted.contains_key(&rel) {
            std::fs::remove_file(dir.join(&rel))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn the_scratch_manifest_stands_alone() {
        let course = Course::new("variant-manifest");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "check").unwrap();
        let text = manifest(ws, &chapter).unwrap();
        let m: Table = toml::from_str(&text).unwrap();
        assert!(!text.contains("workspace = true"), "{text}");
        assert_eq!(m["package"]["name"].as_str(), Some("ch02-measure"));
        assert_eq!(m["package"]["edition"].as_str(), Some("2024"));
        let support = m["dev-dependencies"]["support"]["path"].as_str().unwrap();
        assert!(
            Path::new(support).is_absolute()
                && Path::new(support).join("Cargo.toml").is_file()
        );
        let bench = &m["bench"].as_array().unwrap()[0];
        assert_eq!(
            bench["harness"].as_bool(),
            Some(false),
            "declared settings are kept"
        );
        assert!(Path::new(bench["path"].as_str().unwrap()).is_file());
        let example = &m["example"].as_array().unwrap()[0];
        assert_eq!(example["name"].as_str(), Some("profile"));
    }

    #[test]
    fn extra_examples_join_the_exercises_own_and_change_nothing_else() {
        let course = Course::new("variant-examples");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "check").unwrap();
        let plain = manifest(ws, &chapter).unwrap();
        assert_eq!(with_examples(&plain, &[]).unwrap(), plain);
        let extra = [("figures-work".to_string(), PathBuf::from("/f/work.rs"))];
        let m: Table = toml::from_str(&with_examples(&plain, &extra).unwrap()).unwrap();
        let examples = m["example"].as_array().unwrap();
        let names: Vec<&str> = examples
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["profile", "figures-work"]);
        assert_eq!(examples[1]["path"].as_str(), Some("/f/work.rs"));
        let mut without: Table = m.clone();
        without["example"].as_array_mut().unwrap().pop();
        assert_eq!(without, toml::from_str::<Table>(&plain).unwrap());
    }

    #[test]
    fn copies_built_together_keep_their_targets_and_the_chapters_crate_name() {
        let course = Course::new("variant-together");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        assert!(!has_build_script(&chapter).unwrap());
        let files = starter_files(&chapter).unwrap();
        let members = vec![
            (package_name("decoy", "a.b c"), files.clone()),
            (package_name("decoy", "two"), files),
        ];
        assert_eq!(members[0].0, "decoy-a-b-c");
        let subjects = assemble_members(
            &course.ws,
            &chapter,
            "decoys",
            &members,
            Keep::AllTargets,
        )
        .unwrap();
        let text = std::fs::read_to_string(subjects[1].dir.join("Cargo.toml")).unwrap();
        let m: Table = toml::from_str(&text).unwrap();
        assert_eq!(m["package"]["name"].as_str(), Some("decoy-two"));
        assert_eq!(
            m["lib"]["name"].as_str(),
            Some("ch02_measure"),
            "the checks still `use` the chapter's crate by its name"
        );
        assert!(m.contains_key("bench") && m.contains_key("test"), "{text}");
        assert!(
            !subjects[1].dir.join("build.rs").exists(),
            "no binary, no generated build script"
        );
        course.write("exercises/ch02-measure/build.rs", "fn main() {}\n");
        assert!(has_build_script(&chapter).unwrap());
    }

    #[test]
    fn each_copy_gets_a_binary_of_its_own_and_the_checks_find_it_by_the_old_name() {
        let mut m: Table = toml::from_str(
            "[package]\nname = \"decoy-a\"\n[[bin]]\nname = \"ch08-growth\"\npath = \"src/main.rs\"\n",
        )
        .unwrap();
        let script = bins_of_their_own(&mut m, "decoy-a").expect("a binary, a script");
        assert_eq!(m["bin"][0]["name"].as_str(), Some("decoy-a-ch08-growth"));
        assert_eq!(m["bin"][0]["path"].as_str(), Some("src/main.rs"));
        assert!(
            script.contains("cargo::rustc-env=CARGO_BIN_EXE_ch08-growth=")
                && script.contains("\"decoy-a-ch08-growth\""),
            "{script}"
        );
        let mut plain: Table =
            toml::from_str("[package]\nname = \"decoy-b\"\n").unwrap();
        assert!(bins_of_their_own(&mut plain, "decoy-b").is_none());
    }

    #[test]
    fn each_variant_is_a_member_one_level_below_its_own_workspace_root() {
        let course = Course::new("variant-root");
        let text = root_manifest(&course.ws, "decoy-x").unwrap();
        let m: Table = toml::from_str(&text).unwrap();
        assert_eq!(
            m["workspace"]["members"].as_array().unwrap()[0].as_str(),
            Some("decoy-x")
        );
        assert!(
            m.contains_key("profile"),
            "the root's profiles keep dependency builds shared"
        );
    }

    #[test]
    fn the_solution_overlays_only_the_files_it_holds() {
        let course = Course::new("variant-overlay");
        let chapter = Chapter::find(&course.ws, "2", "check").unwrap();
        let starter = starter_files(&chapter).unwrap();
        let solution = solution_files(&chapter).unwrap();
        let lib = Path::new("src/lib.rs");
        assert_eq!(starter[lib], solution[lib], "lib.rs is the starter's");
        let report = Path::new("src/report.rs");
        assert_ne!(
            starter[report], solution[report],
            "report.rs is the solution's"
        );
        let decoys = crate::engine::decoy::load_all(&chapter).unwrap();
        let decoy = decoy_files(&chapter, &decoys[0]).unwrap();
        assert!(
            decoy[report].contains("1 + _orders"),
            "the decoy's edit is made"
        );
    }
}
