//! `cargo xtask panel` (hidden): the learner's progress as JSON, for the live
//! panel of the served book. The server (`book-builder serve`) runs it when
//! the progress file changes and hands what it printed to the pages.
//!
//! One entry per chapter id: its number, its state in the panel's words
//! (`not-started`, `started`, `failing`, `passed`), the latest counts, the
//! checks still failing (as the sentences `check` prints), the latest bench
//! ratio, what the latest bench reported for the panel (`readings`: chapter
//! 5's hit ratios beside moka's and the optimum's, `null` when none), and the
//! command to run next.

use anyhow::Result;
use serde_json::{Value, json};

use crate::engine::chapter::Chapter;
use crate::engine::progress::{self, Entry, Progress, Readings, State};
use crate::ground::ui;
use crate::ground::workspace::Workspace;

/// `cargo xtask panel`.
pub fn panel_command(ws: &Workspace) -> Result<bool> {
    let chapters = Chapter::all(ws)?;
    ui::line(panel_json(&chapters, &progress::load(ws)));
    Ok(true)
}

pub fn panel_json(chapters: &[Chapter], progress: &Progress) -> Value {
    let mut out = serde_json::Map::new();
    for (i, c) in chapters.iter().enumerate() {
        let e = progress.get(c.id()).cloned().unwrap_or_default();
        let n = c.card.number;
        let state = word(&e);
        let next = match state {
            "passed" => match chapters.get(i + 1) {
                Some(after) => format!(
                    "cargo xtask solution {n}, then cargo xtask check {}",
                    after.card.number
                ),
                None => format!("cargo xtask solution {n}"),
            },
            "failing" => format!("cargo xtask check {n} (stuck? cargo xtask hint {n})"),
            _ => format!("cargo xtask check {n}"),
        };
        out.insert(
            c.id().to_string(),
            json!({
                "number": n,
                "title": c.card.title,
                "state": state,
                "passed_before": e.state == State::Passed,
                "passing": e.checks.map(|t| t.passed),
                "total": e.checks.map(|t| t.total),
                // As the terminal prints them: sentences, not identifiers.
                "failing": e.failing.iter().map(|n| ui::sentence(n)).collect::<Vec<_>>(),
                "ratio": e.ratio,
                "readings": e.readings.as_ref().map(readings_json),
                "next": next,
            }),
        );
    }
    json!({ "chapters": out })
}

/// A bench's readings as the panel shows them: the label in words
/// (`hit-ratio` → "hit ratio"), the values in the bench's order.
fn readings_json(r: &Readings) -> Value {
    let values: Vec<Value> = r
        .values
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    json!({ "label": r.label.replace('-', " "), "values": values })
}

/// The panel's word for an entry: the latest check decides, else the state.
fn word(e: &Entry) -> &'static str {
    match (e.last_check, e.state) {
        (Some(false), _) => "failing",
        (_, State::Passed) => "passed",
        (_, State::InProgress) => "started",
        (_, State::NotStarted) => "not-started",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::progress::Tally;

    fn chapters(course: &crate::fixture::Course) -> Vec<Chapter> {
        Chapter::all(&course.ws).unwrap()
    }

    #[test]
    fn a_chapter_never_checked_is_not_started_and_says_to_check() {
        let course = crate::fixture::Course::new("panel-new");
        let json = panel_json(&chapters(&course), &Progress::new());
        let ch02 = &json["chapters"]["ch02-measure"];
        assert_eq!(ch02["state"], "not-started");
        assert_eq!(ch02["number"], 2);
        assert_eq!(ch02["next"], "cargo xtask check 2");
        assert_eq!(ch02["failing"], json!([]));
    }

    #[test]
    fn a_failing_chapter_lists_its_failing_checks_even_after_a_pass() {
        let course = crate::fixture::Course::new("panel-failing");
        let mut p = Progress::new();
        p.insert(
            "ch02-measure".into(),
            Entry {
                state: State::Passed,
                last_check: Some(false),
                checks: Some(Tally {
                    passed: 7,
                    total: 9,
                }),
                failing: vec!["a_check".into(), "b_check".into()],
                ..Entry::default()
            },
        );
        let json = panel_json(&chapters(&course), &p);
        let ch02 = &json["chapters"]["ch02-measure"];
        assert_eq!(ch02["state"], "failing");
        assert_eq!(ch02["passed_before"], true);
        assert_eq!(
            (ch02["passing"].clone(), ch02["total"].clone()),
            (json!(7), json!(9))
        );
        assert_eq!(ch02["failing"], json!(["a check", "b check"]));
        assert_eq!(
            ch02["next"],
            "cargo xtask check 2 (stuck? cargo xtask hint 2)"
        );
    }

    #[test]
    fn a_passed_chapter_shows_its_ratio_and_points_to_the_next_chapter() {
        let course = crate::fixture::Course::new("panel-passed");
        let mut p = Progress::new();
        p.insert(
            "ch02-measure".into(),
            Entry {
                state: State::Passed,
                last_check: Some(true),
                ratio: Some(154.7),
                ..Entry::default()
            },
        );
        let json = panel_json(&chapters(&course), &p);
        let ch02 = &json["chapters"]["ch02-measure"];
        assert_eq!(ch02["state"], "passed");
        assert_eq!(ch02["ratio"], 154.7);
        assert_eq!(
            ch02["next"],
            "cargo xtask solution 2, then cargo xtask check 5"
        );
        assert_eq!(json["chapters"]["ch05-caching"]["state"], "not-started");
        assert_eq!(ch02["readings"], Value::Null);
    }

    /// Chapter 5's hit ratios, in the bench's order, with the label in words;
    /// from the progress file's very word.
    #[test]
    fn a_benchs_readings_are_shown_in_its_order() {
        let course = crate::fixture::Course::new("panel-readings");
        let p = progress::parse(
            "ch05-caching passed 0 pass 31/31 4.2 - \
             hit-ratio:yours=0.612,moka=0.655,optimal=0.741\n",
        );
        let json = panel_json(&chapters(&course), &p);
        let ch05 = &json["chapters"]["ch05-caching"];
        assert_eq!(ch05["state"], "passed");
        assert_eq!(ch05["ratio"], 4.2);
        assert_eq!(
            ch05["readings"],
            json!({
                "label": "hit ratio",
                "values": [
                    { "name": "yours", "value": 0.612 },
                    { "name": "moka", "value": 0.655 },
                    { "name": "optimal", "value": 0.741 }
                ]
            })
        );
        // A damaged word: no readings at all.
        let p = progress::parse(
            "ch05-caching passed 0 pass 31/31 4.2 - hit-ratio:yours=0.6,moka=x\n",
        );
        let json = panel_json(&chapters(&course), &p);
        assert_eq!(json["chapters"]["ch05-caching"]["readings"], Value::Null);
    }
}
