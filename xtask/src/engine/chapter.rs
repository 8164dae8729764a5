//! Chapters: finding them on disk, reading their cards, resolving what the
//! learner typed (`2`, `02`, `ch02`, `ch02-measure`) to one of them.
//!
//! A chapter exists when `exercises/<id>/exercise.toml` exists. Its solution
//! lives in `solutions/<id>/`, its book page in `book/src/<id>/`. Nothing else
//! lists chapters, so adding one means adding those folders and nothing more.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::ground::workspace::Workspace;

/// What `exercise.toml` says about a chapter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub id: String,
    pub number: u32,
    pub title: String,
    pub page: String,
    #[serde(default)]
    pub edit: Vec<String>,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    pub bench: Option<BenchGate>,
    /// Where the learner's own tests live, when the chapter judges them
    /// against known mutants (`known_mutants.rs`).
    pub learner_tests: Option<LearnerTests>,
}

/// `[learner_tests]`: the learner writes tests in `dir` (a folder under
/// `src/`, compiled as the library's unit tests), and the runner runs them
/// against `solutions/<id>/known-mutants/*.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerTests {
    pub dir: PathBuf,
}

/// The bench that gates a chapter: `baseline` and `candidate` are two functions
/// of one criterion group, and the candidate must be `min_ratio` times faster.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchGate {
    pub target: String,
    pub group: String,
    pub baseline: String,
    pub candidate: String,
    pub min_ratio: f64,
}

fn default_timeout() -> u64 {
    30
}

#[derive(Debug)]
pub struct Chapter {
    pub card: Card,
    /// `exercises/<id>`: the learner's crate.
    pub dir: PathBuf,
    /// `solutions/<id>`: the reference solution's files, decoys and hints.
    pub solution_dir: PathBuf,
}

/// `solutions/<id>/hints.toml`: the chapter's hints, in the order `hint` shows
/// them. They live beside the solution, not in the learner's folder, so a
/// learner who lists their files does not meet the last hint first.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hints {
    #[serde(default)]
    hints: Vec<String>,
}

impl Chapter {
    pub fn id(&self) -> &str {
        &self.card.id
    }

    /// The cargo package name, which is the chapter's id.
    pub fn package(&self) -> &str {
        &self.card.id
    }

    /// The chapter's hints, first to last (none when the file is missing).
    pub fn hints(&self) -> Result<Vec<String>> {
        let path = self.solution_dir.join("hints.toml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(Vec::new());
        };
        let hints: Hints = toml::from_str(&text)
            .with_context(|| format!("reading the hints in {}", path.display()))?;
        Ok(hints.hints)
    }

    /// "Chapter 2 · Measure before you optimize"
    pub fn heading(&self) -> String {
        format!("Chapter {} · {}", self.card.number, self.card.title)
    }

    /// Every chapter, in order of number.
    pub fn all(ws: &Workspace) -> Result<Vec<Chapter>> {
        let mut chapters = Vec::new();
        let dir = ws.exercises_dir();
        let entries = std::fs::read_dir(&dir).with_context(|| {
            format!("reading the exercises folder {}", dir.display())
        })?;
        for entry in entries {
            let path = entry?.path();
            let card_path = path.join("exercise.toml");
            if !card_path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&card_path)
                .with_context(|| format!("reading {}", card_path.display()))?;
            let card: Card = toml::from_str(&text).with_context(|| {
                let shown = ws.show(&card_path);
                format!(
                    "reading the chapter card {shown} (the runner needs it as the course \
                     gave it; `git checkout -- {shown}` puts it back)"
                )
            })?;
            let folder = path.file_name().unwrap_or_default().to_string_lossy();
            if folder != card.id {
                bail!(
                    "{} says its id is {:?}, but its folder is {folder:?}; they must match",
                    ws.show(&card_path),
                    card.id
                );
            }
            let solution_dir = ws.solutions_dir().join(&card.id);
            chapters.push(Chapter {
                card,
                dir: path,
                solution_dir,
            });
        }
        chapters.sort_by_key(|c| c.card.number);
        Ok(chapters)
    }

    /// The chapter the learner means by `query`, or an error that lists the
    /// chapters and suggests the closest one as `cargo xtask <command> N`.
    pub fn find(ws: &Workspace, query: &str, command: &str) -> Result<Chapter> {
        let chapters = Self::all(ws)?;
        let wanted = normalize(query);
        let index = chapters.iter().position(|c| {
            let id = c.card.id.as_str();
            let slug = id.split_once('-').map_or(id, |(_, s)| s);
            wanted == Query::Number(c.card.number)
                || wanted == Query::Name(id.to_string())
                || wanted == Query::Name(slug.to_string())
        });
        match index {
            Some(i) => Ok(chapters.into_iter().nth(i).expect("index from position")),
            None => bail!("{}", unknown_chapter_message(query, command, &chapters)),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Query {
    Number(u32),
    Name(String),
}

/// `2`, `02`, `ch2`, `ch02` → chapter 2; anything else is a name.
fn normalize(query: &str) -> Query {
    let q = query.trim().to_lowercase();
    let digits = q.strip_prefix("ch").unwrap_or(&q);
    match digits.parse::<u32>() {
        Ok(n) => Query::Number(n),
        Err(_) => Query::Name(q),
    }
}

fn unknown_chapter_message(query: &str, command: &str, chapters: &[Chapter]) -> String {
    let list: Vec<String> = chapters
        .iter()
        .map(|c| format!("{} ({})", c.card.number, c.card.id))
        .collect();
    // Compare with the id and with the slug alone, so `mesure` finds `measure`.
    let wanted = query.trim().to_lowercase();
    let closest = chapters
        .iter()
        .map(|c| {
            let id = c.card.id.as_str();
            let slug = id.split_once('-').map_or(id, |(_, s)| s);
            let d = strsim::levenshtein(&wanted, id).min(strsim::levenshtein(&wanted, slug));
            (d, c)
        })
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= 3 && wanted.parse::<u32>().is_err())
        .map(|(_, c)| format!(" Did you mean `cargo xtask {command} {}`?", c.card.number))
        .unwrap_or_else(|| {
            let example = chapters.first().map_or(2, |c| c.card.number);
            format!(" Name one by its number, for example `cargo xtask {command} {example}`.")
        });
    format!(
        "there is no chapter {query:?}; the chapters are: {}.{closest}",
        if list.is_empty() {
            "none yet".to_string()
        } else {
            list.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    #[test]
    fn numbers_with_or_without_prefix_and_padding_mean_the_same_chapter() {
        for q in ["2", "02", "ch02", "ch2", "CH02", " 2 "] {
            assert_eq!(normalize(q), Query::Number(2), "{q:?}");
        }
        assert_eq!(
            normalize("ch02-measure"),
            Query::Name("ch02-measure".into())
        );
        assert_eq!(normalize("measure"), Query::Name("measure".into()));
    }

    #[test]
    fn chapters_resolve_by_number_id_and_slug() {
        let course = Course::new("chapter-find");
        let ws = &course.ws;
        for q in ["2", "02", "ch02", "ch02-measure", "measure"] {
            assert_eq!(
                Chapter::find(ws, q, "check").unwrap().id(),
                "ch02-measure",
                "{q:?}"
            );
        }
    }

    #[test]
    fn an_unknown_chapter_lists_the_chapters_and_suggests_the_closest() {
        let course = Course::new("chapter-unknown");
        let ws = &course.ws;
        let err = Chapter::find(ws, "ch02-mesure", "check")
            .unwrap_err()
            .to_string();
        assert!(err.contains("there is no chapter \"ch02-mesure\""), "{err}");
        assert!(
            err.contains("the chapters are: 2 (ch02-measure), 5 (ch05-caching)."),
            "{err}"
        );
        assert!(err.contains("Did you mean `cargo xtask check 2`?"), "{err}");
        let err = Chapter::find(ws, "cashing", "hint")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Did you mean `cargo xtask hint 5`?"), "{err}");
        let err = Chapter::find(ws, "42", "watch").unwrap_err().to_string();
        assert!(!err.contains("Did you mean"), "{err}");
        assert!(err.contains("for example `cargo xtask watch "), "{err}");
    }
}
