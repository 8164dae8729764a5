//! Decoys: plausible wrong solutions that the checks must reject.
//!
//! A decoy is a small TOML file in `solutions/<chapter>/decoys/`: the mistake in
//! one sentence, the code it starts from (the starter or the solution), the
//! edits that introduce the mistake (find this text once, replace it), the
//! check that must fail, and words its failure message must contain. Edits
//! rather than copies of whole files keep each decoy readable as a diff and
//! stop it from silently drifting away from the solution it imitates: if the
//! solution changes under a decoy's `find`, `verify` says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::engine::chapter::Chapter;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decoy {
    #[serde(skip)]
    pub name: String,
    pub mistake: String,
    pub base: Base,
    pub must_fail: String,
    pub message_contains: String,
    #[serde(rename = "edit")]
    pub edits: Vec<Edit>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    Starter,
    Solution,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub file: PathBuf,
    pub find: String,
    pub replace: String,
}

/// Every decoy of a chapter, sorted by name.
pub fn load_all(chapter: &Chapter) -> Result<Vec<Decoy>> {
    let dir = chapter.solution_dir.join("decoys");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut decoys = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            decoys.push(load(&path)?);
        }
    }
    decoys.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(decoys)
}

pub fn load(path: &Path) -> Result<Decoy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut decoy: Decoy = toml::from_str(&text)
        .with_context(|| format!("reading the decoy {}", path.display()))?;
    decoy.name = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    if decoy.edits.is_empty() {
        bail!(
            "the decoy {} has no [[edit]]: it would be the {:?} itself",
            path.display(),
            decoy.base
        );
    }
    Ok(decoy)
}

/// Applies the decoy's edits to a crate's files (relative path → text).
pub fn apply(decoy: &Decoy, files: &mut BTreeMap<PathBuf, String>) -> Result<()> {
    let what = format!("decoy {}", decoy.name);
    let base = format!("{:?}", decoy.base);
    apply_edits(&what, &base, &decoy.edits, files)
}

/// Makes each edit (its text found exactly once, replaced) to `files`. `what`
/// names the owner of the edits and `base` the code they expect, for errors.
/// Known mutants (`known_mutants.rs`) use the same edits.
pub fn apply_edits(
    what: &str,
    base: &str,
    edits: &[Edit],
    files: &mut BTreeMap<PathBuf, String>,
) -> Result<()> {
    for edit in edits {
        let Some(text) = files.get_mut(&edit.file) else {
            bail!("{what}: there is no file {} to edit", edit.file.display());
        };
        let found = text.matches(&edit.find).count();
        if found != 1 {
            bail!(
                "{what}: the text to replace occurs {found} times in {} (it must occur exactly \
                 once; did the {base} change?):\n{}",
                edit.file.display(),
                edit.find
            );
        }
        *text = text.replacen(&edit.find, &edit.replace, 1);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    fn decoy(find: &str) -> Decoy {
        Decoy {
            name: "d".into(),
            mistake: "m".into(),
            base: Base::Solution,
            must_fail: "t".into(),
            message_contains: "x".into(),
            edits: vec![Edit {
                file: "src/a.rs".into(),
                find: find.into(),
                replace: "JOIN".into(),
            }],
        }
    }

    #[test]
    fn an_edit_replaces_its_text_once() {
        let mut files =
            BTreeMap::from([(PathBuf::from("src/a.rs"), "a LEFT JOIN b".to_string())]);
        apply(&decoy("LEFT JOIN"), &mut files).unwrap();
        assert_eq!(files[Path::new("src/a.rs")], "a JOIN b");
    }

    #[test]
    fn an_edit_whose_text_is_missing_or_repeated_is_refused() {
        let mut files =
            BTreeMap::from([(PathBuf::from("src/a.rs"), "x x".to_string())]);
        let err = apply(&decoy("y"), &mut files).unwrap_err().to_string();
        assert!(err.contains("occurs 0 times"), "{err}");
        let err = apply(&decoy("x"), &mut files).unwrap_err().to_string();
        assert!(err.contains("occurs 2 times"), "{err}");
    }

    #[test]
    fn a_chapters_decoys_load_by_name_and_one_without_an_edit_is_refused() {
        let course = Course::new("decoys");
        course.write(
            "solutions/ch02-measure/decoys/another.toml",
            "mistake = \"m\"\nbase = \"starter\"\nmust_fail = \"t\"\n\
             message_contains = \"x\"\n[[edit]]\nfile = \"src/report.rs\"\n\
             find = \"1 + orders\"\nreplace = \"orders\"\n",
        );
        let chapter = Chapter::find(&course.ws, "2", "verify").unwrap();
        let names: Vec<String> = load_all(&chapter)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["another", "one-per-order"]);
        course.write(
            "solutions/ch02-measure/decoys/empty.toml",
            "mistake = \"m\"\nbase = \"solution\"\nmust_fail = \"t\"\n\
             message_contains = \"x\"\nedit = []\n",
        );
        let err = format!("{:#}", load_all(&chapter).unwrap_err());
        assert!(err.contains("has no [[edit]]"), "{err}");
    }
}
