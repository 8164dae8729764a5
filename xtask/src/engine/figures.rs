//! The book's figures: measured by each chapter's figure programs, drawn as SVG.
//!
//! A chapter's figure programs are `solutions/<id>/figures/*.rs`: small
//! programs that run the chapter's own code (the reference solution's library,
//! and where a figure compares it with the starter, the starter's code as the
//! benches freeze it) and print one JSON object per figure on stdout
//! (`chart::Figure`: title, axes, series, bars, marks). The runner adds them as
//! examples to the solution's scratch crate (`variant.rs`), which `verify`
//! builds anyway, so only the programs themselves compile; builds them in the
//! debug profile for the same reason; runs each; and draws what they print
//! (`ground/chart.rs`) into `book/src/<id>/figures/<name>.svg`.
//!
//! Figures of counts (statements, comparisons, VM steps, time on a paused
//! clock) come out the same on every run, so `verify` draws them again and
//! compares them with the files in the book. A figure marked `timed` measured
//! wall-clock time: it names the machine it ran on, and is not compared.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::engine::cargo::{self, Build, Targets};
use crate::engine::chapter::Chapter;
use crate::engine::variant;
use crate::ground::chart::{self, Figure};
use crate::ground::process::Cmd;
use crate::ground::workspace::Workspace;

/// How long one figure program may run before it is stopped.
const TIMEOUT: Duration = Duration::from_secs(300);

/// A chapter's figure programs: `(example name, path)`, by name.
pub fn programs(chapter: &Chapter) -> Result<Vec<(String, PathBuf)>> {
    let dir = chapter.solution_dir.join("figures");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            found.push((format!("figures-{stem}"), path));
        }
    }
    found.sort();
    Ok(found)
}

/// Where a figure lives in the book.
pub fn path(ws: &Workspace, chapter: &Chapter, name: &str) -> PathBuf {
    ws.book_dir()
        .join("src")
        .join(chapter.id())
        .join("figures")
        .join(format!("{name}.svg"))
}

/// Builds and runs the chapter's figure programs against its reference
/// solution; returns every figure they printed, in order.
pub fn measure(ws: &Workspace, chapter: &Chapter, echo: bool) -> Result<Vec<Figure>> {
    let programs = programs(chapter)?;
    if programs.is_empty() {
        return Ok(Vec::new());
    }
    let files = variant::solution_files(chapter)?;
    let subject =
        variant::assemble_with_examples(ws, chapter, "solution", &files, &programs)?;
    let names: Vec<String> = programs.iter().map(|(n, _)| n.clone()).collect();
    let built = match cargo::build(ws, &subject, Targets::Examples(&names), echo)? {
        Build::Built(built) => built,
        Build::Failed(f) => bail!(
            "the figure programs of {} do not compile:\n{}\n{}",
            chapter.id(),
            f.first.unwrap_or_default(),
            f.stderr
        ),
    };
    let mut figures = Vec::new();
    for (name, _) in &programs {
        let exe = built
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, exe)| exe)
            .with_context(|| format!("cargo built no executable for `{name}`"))?;
        let mut cmd = Cmd::new(exe).current_dir(&subject.dir);
        if echo {
            cmd = cmd.echo();
        }
        let out = cmd.output(Some(TIMEOUT))?;
        if out.timed_out() {
            bail!("`{name}` was stopped after {} s", TIMEOUT.as_secs());
        }
        if !out.success() {
            bail!("`{name}` failed:\n{}", out.stderr_text().trim_end());
        }
        figures.extend(
            parse(&out.stdout_text())
                .with_context(|| format!("reading what `{name}` printed"))?,
        );
    }
    Ok(figures)
}

/// One figure per non-empty line of a program's output.
pub fn parse(stdout: &str) -> Result<Vec<Figure>> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("line {} is not a figure", i + 1))
        })
        .collect()
}

/// The figure as the book shows it: a timed one names its machine.
pub fn render(figure: &Figure) -> Result<String> {
    let footnote = figure.timed.then(machine);
    chart::svg(figure, footnote.as_deref())
}

/// "measured on <CPU model>, N cores", from /proc/cpuinfo where there is one.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    machine_from(&cpuinfo, cores)
}

fn machine_from(cpuinfo: &str, cores: usize) -> String {
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| "an unnamed CPU".to_string());
    let cores = if cores == 1 {
        "1 core".to_string()
    } else {
        format!("{cores} cores")
    };
    format!("measured on {model}, {cores}")
}

/// What differs between the figures measured now and the book's files.
#[derive(Debug, PartialEq)]
pub enum Difference {
    /// A figure of counts shows other numbers than the book's: its name, and
    /// the first difference.
    Changed(String, String),
    /// A figure the programs print is not in the book.
    Missing(String),
    /// An SVG in the figures folder that no program prints any more.
    Orphan(String),
}

impl Difference {
    /// One line for whoever reads `verify` or `figures --check`.
    pub fn describe(&self, ws: &Workspace, chapter: &Chapter) -> String {
        match self {
            Difference::Changed(name, why) => format!(
                "{}: the solution measures something else now: {why}",
                ws.show(&path(ws, chapter, name))
            ),
            Difference::Missing(name) => {
                format!("{}: not in the book", ws.show(&path(ws, chapter, name)))
            }
            Difference::Orphan(name) => format!(
                "{}: no figure program draws it any more; delete it",
                ws.show(&path(ws, chapter, name))
            ),
        }
    }
}

/// Compares `figures` with `book/src/<id>/figures/` (timed figures only for
/// being there).
pub fn differences(
    ws: &Workspace,
    chapter: &Chapter,
    figures: &[Figure],
) -> Result<Vec<Difference>> {
    let mut found = Vec::new();
    for figure in figures {
        let file = path(ws, chapter, &figure.name);
        match std::fs::read_to_string(&file) {
            Err(_) => found.push(Difference::Missing(figure.name.clone())),
            Ok(_) if figure.timed => {}
            Ok(text) => {
                if let Some(why) = why_changed(&text, figure)? {
                    found.push(Difference::Changed(figure.name.clone(), why));
                }
            }
        }
    }
    for svg in svgs_in(&path(ws, chapter, "x").with_file_name(""))? {
        if !figures.iter().any(|f| f.name == svg) {
            found.push(Difference::Orphan(svg));
        }
    }
    Ok(found)
}

/// Why the book's file `book` no longer shows the figure measured `now`
/// (`None` when it does). Values may differ within their series' tolerance.
fn why_changed(book: &str, now: &Figure) -> Result<Option<String>> {
    if book == render(now)? {
        return Ok(None);
    }
    let Some(old) = chart::recorded(book) else {
        return Ok(Some("the book's file holds no data to compare with".into()));
    };
    let mut within = now.clone();
    for (new, old) in within.series.iter_mut().zip(&old.series) {
        for (p, q) in new.points.iter_mut().zip(&old.points) {
            if p.0 == q.0 && (p.1 - q.1).abs() <= new.tolerance {
                p.1 = q.1;
            }
        }
        new.tolerance = old.tolerance;
    }
    if within == old {
        return Ok(None);
    }
    for (old, new) in old.series.iter().zip(&within.series) {
        if old.name != new.name {
            return Ok(Some(format!(
                "the series `{}` is now `{}`",
                old.name, new.name
            )));
        }
        if let Some((p, q)) = old.points.iter().zip(&new.points).find(|(p, q)| p != q) {
            return Ok(Some(format!(
                "`{}` at {}: the book shows {}, measured now {}",
                old.name,
                chart::number(q.0),
                p.1,
                q.1
            )));
        }
        if old.points.len() != new.points.len() {
            return Ok(Some(format!(
                "`{}` has {} points in the book, {} now",
                old.name,
                old.points.len(),
                new.points.len()
            )));
        }
    }
    if old.series.len() != within.series.len() {
        return Ok(Some(format!(
            "{} series in the book, {} now",
            old.series.len(),
            within.series.len()
        )));
    }
    Ok(Some("its title, axes, bars or marks changed".into()))
}

/// Writes every figure into the book, except one whose file already shows
/// the same numbers (within its tolerance), so that a run that measured
/// nothing new leaves git with nothing to commit. Returns each figure's file
/// and whether it was written.
pub fn write(
    ws: &Workspace,
    chapter: &Chapter,
    figures: &[Figure],
) -> Result<Vec<(PathBuf, bool)>> {
    let mut files = Vec::new();
    for figure in figures {
        let file = path(ws, chapter, &figure.name);
        let same = match std::fs::read_to_string(&file) {
            Ok(text) => !figure.timed && why_changed(&text, figure)?.is_none(),
            Err(_) => false,
        };
        if !same {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&file, render(figure)?)
                .with_context(|| format!("writing {}", file.display()))?;
        }
        files.push((file, !same));
    }
    Ok(files)
}

/// The stems of the SVG files in `dir`, by name.
fn svgs_in(dir: &Path) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "svg") {
            found.push(
                path.file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Course;

    const LINE: &str = r#"{"name":"work","title":"Work","x":{"label":"n"},"y":{"label":"ops"},"series":[{"name":"linear","points":[[1,1],[2,2]]}]}"#;

    #[test]
    fn each_line_a_program_prints_is_one_figure() {
        let figures = parse(&format!(
            "{LINE}\n\n{}\n",
            LINE.replace("\"work\"", "\"other\"")
        ))
        .unwrap();
        assert_eq!(figures.len(), 2);
        assert_eq!(figures[0].name, "work");
        assert_eq!(figures[1].name, "other");
        assert_eq!(figures[0].series[0].points, vec![(1.0, 1.0), (2.0, 2.0)]);
    }

    #[test]
    fn a_line_that_is_not_a_figure_is_refused_with_its_number() {
        let err = parse(&format!("{LINE}\nwarming up...\n")).unwrap_err();
        assert_eq!(err.to_string(), "line 2 is not a figure");
        let err = parse(&LINE.replace("\"series\"", "\"serie\"")).unwrap_err();
        assert_eq!(err.to_string(), "line 1 is not a figure");
    }

    #[test]
    fn the_machine_is_named_by_its_cpu_model_and_cores() {
        let cpuinfo =
            "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(
            machine_from(cpuinfo, 2),
            "measured on AMD EPYC 7B13, 2 cores"
        );
        assert_eq!(machine_from("", 1), "measured on an unnamed CPU, 1 core");
    }

    #[test]
    fn a_timed_figure_names_the_machine_and_a_counted_one_does_not() {
        let mut figure = parse(LINE).unwrap().remove(0);
        assert!(!render(&figure).unwrap().contains("measured on"));
        figure.timed = true;
        assert!(render(&figure).unwrap().contains(&machine()));
    }

    #[test]
    fn programs_are_the_rs_files_of_the_solutions_figures_folder() {
        let course = Course::new("figures-programs");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "figures").unwrap();
        assert!(programs(&chapter).unwrap().is_empty());
        let dir = chapter.solution_dir.join("figures");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("work.rs"), "fn main() {}").unwrap();
        std::fs::write(dir.join("notes.md"), "not a program").unwrap();
        let found = programs(&chapter).unwrap();
        assert_eq!(
            found,
            vec![("figures-work".to_string(), dir.join("work.rs"))]
        );
    }

    #[test]
    fn a_changed_missing_or_orphaned_figure_is_a_difference_and_a_timed_one_only_if_missing()
     {
        let course = Course::new("figures-differences");
        let ws = &course.ws;
        let chapter = Chapter::find(ws, "2", "figures").unwrap();
        let mut figures = parse(LINE).unwrap();
        assert_eq!(
            differences(ws, &chapter, &figures).unwrap(),
            vec![Difference::Missing("work".into())]
        );
        write(ws, &chapter, &figures).unwrap();
        assert!(differences(ws, &chapter, &figures).unwrap().is_empty());
        figures[0].series[0].points[1].1 = 3.0;
        assert_eq!(
            differences(ws, &chapter, &figures).unwrap(),
            vec![Difference::Changed(
                "work".into(),
                "`linear` at 2: the book shows 2, measured now 3".into()
            )]
        );
        // Within the series' tolerance (a library seeded at random) is the same.
        figures[0].series[0].tolerance = 1.0;
        assert!(differences(ws, &chapter, &figures).unwrap().is_empty());
        figures[0].series[0].tolerance = 0.0;
        figures[0].series[0].points[1].1 = 2.0;
        figures[0].title = "Other".into();
        assert_eq!(
            differences(ws, &chapter, &figures).unwrap(),
            vec![Difference::Changed(
                "work".into(),
                "its title, axes, bars or marks changed".into()
            )]
        );
        std::fs::write(path(ws, &chapter, "work"), "<svg></svg>").unwrap();
        assert_eq!(
            differences(ws, &chapter, &figures).unwrap(),
            vec![Difference::Changed(
                "work".into(),
                "the book's file holds no data to compare with".into()
            )]
        );
        figures[0].title = "Work".into();
        let written = write(ws, &chapter, &figures).unwrap();
        assert_eq!(written, vec![(path(ws, &chapter, "work"), true)]);
        // Within the tolerance, the book's file is left as it is.
        figures[0].series[0].tolerance = 1.0;
        figures[0].series[0].points[1].1 = 2.5;
        let written = write(ws, &chapter, &figures).unwrap();
        assert_eq!(written, vec![(path(ws, &chapter, "work"), false)]);
        let kept = chart::recorded(
            &std::fs::read_to_string(path(ws, &chapter, "work")).unwrap(),
        );
        assert_eq!(kept.unwrap().series[0].points[1].1, 2.0);
        figures[0].series[0].points[1].1 = 2.0;
        figures[0].timed = true;
        assert!(differences(ws, &chapter, &figures).unwrap().is_empty());
        figures[0].name = "renamed".into();
        assert_eq!(
            differences(ws, &chapter, &figures).unwrap(),
            vec![
                Difference::Missing("renamed".into()),
                Difference::Orphan("work".into())
            ]
        );
    }
}
