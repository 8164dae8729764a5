//! Printing a figure for `cargo xtask figures`, which draws it as SVG.
//!
//! Each chapter's figure programs (`solutions/<id>/figures/*.rs`) include this
//! file (`#[path = "../../figure.rs"] mod figure;`) and print one line of JSON
//! per figure; `xtask/src/ground/chart.rs` says what each field means. Written
//! by hand rather than with serde so that a chapter need not depend on
//! serde_json for its figures.

#![allow(dead_code)] // each program uses only some of it

use std::fmt::Write;

/// One figure: build it, then `print` it.
pub struct Figure {
    json: String,
    series: Vec<String>,
    bars: Vec<String>,
    marks: Vec<String>,
    timed: bool,
}

impl Figure {
    /// `name` is the file's stem in `book/src/<chapter>/figures/`.
    pub fn new(name: &str, title: &str, x_label: &str, y_label: &str) -> Self {
        Figure {
            json: format!(
                r#""name":{},"title":{},"x":{{"label":{}}},"y":{{"label":{}}}"#,
                text(name),
                text(title),
                text(x_label),
                text(y_label)
            ),
            series: Vec::new(),
            bars: Vec::new(),
            marks: Vec::new(),
            timed: false,
        }
    }

    /// Fixes the x axis' ends (by default 0 to the largest value).
    pub fn x_range(mut self, min: f64, max: f64) -> Self {
        self.json = self.json.replacen(
            r#""x":{"label":"#,
            &format!(r#""x":{{"min":{},"max":{},"label":"#, num(min), num(max)),
            1,
        );
        self
    }

    /// Fixes the y axis' ends (by default 0 to a little above the largest).
    pub fn y_range(mut self, min: f64, max: f64) -> Self {
        self.json = self.json.replacen(
            r#""y":{"label":"#,
            &format!(r#""y":{{"min":{},"max":{},"label":"#, num(min), num(max)),
            1,
        );
        self
    }

    /// A line through `points`, with a marker at each.
    pub fn series(mut self, name: &str, points: &[(f64, f64)]) -> Self {
        let points: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("[{},{}]", num(x), num(y)))
            .collect();
        self.series.push(format!(
            r#"{{"name":{},"points":[{}]}}"#,
            text(name),
            points.join(",")
        ));
        self
    }

    /// A line through values that may move by up to `tolerance` between two
    /// runs (a library with a random seed inside); `verify` accepts that much.
    pub fn series_within(
        mut self,
        name: &str,
        points: &[(f64, f64)],
        tolerance: f64,
    ) -> Self {
        self = self.series(name, points);
        let last = self.series.last_mut().unwrap();
        last.insert_str(
            last.len() - 1,
            &format!(r#","tolerance":{}"#, num(tolerance)),
        );
        self
    }

    /// A histogram bar from `from` to `to`, `count` high.
    pub fn bar(mut self, from: f64, to: f64, count: f64) -> Self {
        self.bars.push(format!(
            r#"{{"from":{},"to":{},"count":{}}}"#,
            num(from),
            num(to),
            num(count)
        ));
        self
    }

    /// A vertical line at `at`, labelled.
    pub fn mark(mut self, at: f64, label: &str) -> Self {
        self.marks
            .push(format!(r#"{{"at":{},"label":{}}}"#, num(at), text(label)));
        self
    }

    /// Where the legend goes (`upper-left` unless said): `upper-right`,
    /// `middle-left`, `middle-right`, `lower-left`, `lower-right`.
    pub fn legend(mut self, position: &str) -> Self {
        write!(self.json, r#","legend":{}"#, text(position)).unwrap();
        self
    }

    /// The figure measured wall-clock time (it will name the machine).
    pub fn timed(mut self) -> Self {
        self.timed = true;
        self
    }

    pub fn print(self) {
        let mut out = format!("{{{}", self.json);
        for (key, items) in [
            ("series", &self.series),
            ("bars", &self.bars),
            ("marks", &self.marks),
        ] {
            if !items.is_empty() {
                write!(out, r#","{key}":[{}]"#, items.join(",")).unwrap();
            }
        }
        if self.timed {
            out.push_str(r#","timed":true"#);
        }
        out.push('}');
        println!("{out}");
    }
}

/// A JSON string.
fn text(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON number (a value that is not finite is the program's bug: the
/// runner refuses `null` with the figure's name).
fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}
