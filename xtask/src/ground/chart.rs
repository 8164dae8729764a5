//! Drawing one figure of the book as SVG, from numbers someone else measured.
//!
//! A figure is plain data (`Figure`: a title, two axes, line series, histogram
//! bars, marked values), read from the JSON a chapter's figure program prints
//! (`engine/figures.rs`), so this module knows nothing of chapters. It draws
//! with `plotters`' SVG backend, the copy criterion already builds for every
//! chapter's benches (same version, same features: no second copy).
//!
//! The book has light and dark themes, and an SVG shown with `<img>` cannot
//! follow the page's colours (`currentColor` does not cross into an image), so
//! the background stays transparent and every colour is one that reads on white
//! and on near-black: mid-grey text and axes, and mid-tone series colours from
//! the Okabe–Ito palette (told apart by colour-blind readers too), each series
//! with its own marker shape as well. The output depends only on the data, so
//! a figure drawn twice from the same numbers is the same file byte for byte.

use anyhow::{Result, bail};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

/// Pixels: wide enough for the book's text column, small enough for a phone
/// to scale down without losing the labels.
pub const SIZE: (u32, u32) = (720, 420);

/// Mid-grey: about 4:1 contrast on white and on mdBook's darkest theme.
const INK: RGBColor = RGBColor(0x86, 0x86, 0x86);
const GRID: RGBAColor = RGBAColor(0x86, 0x86, 0x86, 0.25);
/// Okabe–Ito's vermillion, sky blue, bluish green, reddish purple, orange.
const PALETTE: [RGBColor; 5] = [
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
];

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// The file's stem: `book/src/<chapter>/figures/<name>.svg`.
    pub name: String,
    pub title: String,
    pub x: Axis,
    pub y: Axis,
    /// Lines with a marker at each measured point.
    #[serde(default)]
    pub series: Vec<Series>,
    /// Histogram bars (drawn behind the lines).
    #[serde(default)]
    pub bars: Vec<Bar>,
    /// Values marked with a vertical line and a label (p50, p95…).
    #[serde(default)]
    pub marks: Vec<Mark>,
    /// Measured in wall-clock time: the figure names the machine it ran on,
    /// and `verify` does not expect a second run to draw the same file.
    #[serde(default)]
    pub timed: bool,
    /// Where the series' names go, clear of the lines: `upper-left` (the
    /// default), `upper-right`, `middle-left`, `middle-right`, `lower-left`,
    /// `lower-right`.
    #[serde(default)]
    pub legend: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub label: String,
    /// The axis' ends; by default from 0 (or the smallest value below 0) to
    /// a little above the largest value.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// How far a value may move between two runs (a library with a random
    /// seed inside): `verify` accepts a new measurement within it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tolerance: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bar {
    pub from: f64,
    pub to: f64,
    pub count: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// The figure as an SVG document. `footnote` is a line under the plot (the
/// machine a timed figure was measured on). The document carries a `<title>`
/// (for screen readers) and the figure's data as JSON in `<metadata>`, so that
/// `recorded` can read back what a checked-in figure shows.
pub fn svg(figure: &Figure, footnote: Option<&str>) -> Result<String> {
    let drawn = plot(figure, footnote)?;
    let Some(end) = drawn.find('>') else {
        bail!("plotters wrote no SVG element");
    };
    let data = serde_json::to_string(figure)?;
    Ok(format!(
        "{}\n<title>{}</title>\n<metadata>{}</metadata>{}",
        &drawn[..=end],
        escape(&figure.title),
        escape(&data),
        &drawn[end + 1..]
    ))
}

/// The figure a document written by `svg` shows, if it says.
pub fn recorded(svg: &str) -> Option<Figure> {
    let start = svg.find("<metadata>")? + "<metadata>".len();
    let end = start + svg[start..].find("</metadata>")?;
    serde_json::from_str(&unescape(&svg[start..end])).ok()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn plot(figure: &Figure, footnote: Option<&str>) -> Result<String> {
    check(figure)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        let (plot, foot) = match footnote {
            Some(_) => root.split_vertically(SIZE.1 - 22),
            None => (root.clone(), root.clone()),
        };
        draw(&plot, figure)?;
        if let Some(text) = footnote {
            let style = ("sans-serif", 16)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            foot.draw_text(text, &style, (SIZE.0 as i32 / 2, 10))?;
        }
        root.present()?;
    }
    Ok(out)
}

/// Refuses what would draw an empty or misleading figure.
fn check(figure: &Figure) -> Result<()> {
    if figure.series.is_empty() && figure.bars.is_empty() {
        bail!("figure `{}` has neither series nor bars", figure.name);
    }
    if let Some(s) = figure.series.iter().find(|s| s.points.is_empty()) {
        bail!(
            "figure `{}`: series `{}` has no points",
            figure.name,
            s.name
        );
    }
    let values = figure
        .series
        .iter()
        .flat_map(|s| s.points.iter().flat_map(|&(x, y)| [x, y]))
        .chain(figure.bars.iter().flat_map(|b| [b.from, b.to, b.count]))
        .chain(figure.marks.iter().map(|m| m.at));
    if values.into_iter().any(|v| !v.is_finite()) {
        bail!(
            "figure `{}` holds a value that is not a finite number",
            figure.name
        );
    }
    legend_position(figure)?;
    if figure.series.len() > PALETTE.len() {
        bail!(
            "figure `{}` has {} series; at most {} can be told apart",
            figure.name,
            figure.series.len(),
            PALETTE.len()
        );
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    f: &Figure,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let xs = f
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .chain(f.bars.iter().flat_map(|b| [b.from, b.to]))
        .chain(f.marks.iter().map(|m| m.at));
    let ys = f
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(f.bars.iter().map(|b| b.count));
    let (x0, x1) = range(&f.x, xs, false);
    let (y0, y1) = range(&f.y, ys, true);
    let font = ("sans-serif", 17).into_font().color(&INK);
    let mut chart = ChartBuilder::on(area)
        .caption(&f.title, ("sans-serif", 20).into_font().color(&INK))
        .margin(12)
        .margin_right(40)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .axis_style(INK)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .x_desc(f.x.label.as_str())
        .y_desc(f.y.label.as_str())
        .x_label_formatter(&|v| number(*v))
        .y_label_formatter(&|v| number(*v))
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar_style = PALETTE[1].mix(0.55).filled();
    chart
        .draw_series(
            f.bars
                .iter()
                .map(|b| Rectangle::new([(b.from, 0.0), (b.to, b.count)], bar_style)),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (i, s) in f.series.iter().enumerate() {
        let colour = PALETTE[i];
        let line = colour.stroke_width(2);
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), line))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x + 10, y))
                    + PathElement::new(vec![(-10, 0), (10, 0)], line)
                    + marker(i, colour)
            });
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|&p| EmptyElement::at(p) + marker(i, colour)),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // Left to right, each label a step lower than the one before: a label
    // runs to the right, above the shorter lines of the marks after it.
    let mut marks: Vec<&Mark> = f.marks.iter().collect();
    marks.sort_by(|a, b| a.at.total_cmp(&b.at));
    for (i, m) in marks.into_iter().enumerate() {
        let top = y1 - (y1 - y0) * (0.04 + 0.08 * i as f64);
        chart
            .draw_series([PathElement::new(
                vec![(m.at, y0), (m.at, top)],
                INK.stroke_width(2),
            )])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        chart
            .draw_series([Text::new(
                format!(" {} {}", m.label, number(m.at)),
                (m.at, top),
                font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            )])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if !f.series.is_empty() {
        chart
            .configure_series_labels()
            .position(legend_position(f)?)
            .label_font(font)
            .background_style(TRANSPARENT)
            .border_style(GRID)
            .draw()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}

fn legend_position(f: &Figure) -> Result<SeriesLabelPosition> {
    Ok(match f.legend.as_deref().unwrap_or("upper-left") {
        "upper-left" => SeriesLabelPosition::UpperLeft,
        "upper-right" => SeriesLabelPosition::UpperRight,
        "middle-left" => SeriesLabelPosition::MiddleLeft,
        "middle-right" => SeriesLabelPosition::MiddleRight,
        "lower-left" => SeriesLabelPosition::LowerLeft,
        "lower-right" => SeriesLabelPosition::LowerRight,
        other => bail!(
            "figure `{}`: the legend cannot go to `{other}`; say upper-left, \
             upper-right, middle-left, middle-right, lower-left or lower-right",
            f.name
        ),
    })
}

/// Series `i`'s marker: a circle, a square, a triangle… in its colour.
fn marker<DB: DrawingBackend>(
    i: usize,
    colour: RGBColor,
) -> DynElement<'static, DB, (i32, i32)> {
    let style = colour.filled();
    match i % 3 {
        0 => Circle::new((0, 0), 4, style).into_dyn(),
        1 => Rectangle::new([(-4, -4), (4, 4)], style).into_dyn(),
        _ => Polygon::new(vec![(0, -5), (5, 4), (-5, 4)], style).into_dyn(),
    }
}

/// The axis' ends: as given, else from 0 (or below, for negative values) to
/// 5% above the largest value (a flat line still gets a range).
fn range(axis: &Axis, values: impl Iterator<Item = f64>, pad: bool) -> (f64, f64) {
    let (lo, hi) =
        values.fold((0.0f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi <= lo { lo + 1.0 } else { hi };
    let hi = if pad { hi + (hi - lo) * 0.05 } else { hi };
    (axis.min.unwrap_or(lo), axis.max.unwrap_or(hi))
}

/// A tick label: `1,500`, `2.5 k`, `40 M`, `0.25`.
pub fn number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, " G")
    } else if a >= 1e6 {
        (v / 1e6, " M")
    } else if a >= 1e4 {
        (v / 1e3, " k")
    } else {
        (v, "")
    };
    let text = if scaled.fract().abs() < 1e-9 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        Figure {
            name: "work".into(),
            title: "Work against input size".into(),
            x: Axis {
                label: "items".into(),
                min: None,
                max: None,
            },
            y: Axis {
                label: "comparisons".into(),
                min: None,
                max: None,
            },
            series: vec![
                Series {
                    name: "quadratic".into(),
                    points: vec![(1.0, 1.0), (2.0, 4.0), (4.0, 16.0)],
                    tolerance: 0.0,
                },
                Series {
                    name: "linear <&>".into(),
                    points: vec![(1.0, 1.0), (2.0, 2.0), (4.0, 4.0)],
                    tolerance: 0.5,
                },
            ],
            bars: vec![],
            marks: vec![Mark {
                at: 3.0,
                label: "p99".into(),
            }],
            timed: false,
            legend: None,
        }
    }

    #[test]
    fn a_figure_draws_its_title_labels_and_series_names_on_a_transparent_background() {
        let svg = svg(&figure(), None).unwrap();
        assert!(
            svg.starts_with("<svg"),
            "not an SVG document: {}",
            &svg[..40]
        );
        for text in [
            "Work against input size",
            "items",
            "comparisons",
            "quadratic",
            "linear",
            "p99 3",
        ] {
            assert!(svg.contains(text), "`{text}` is missing from the SVG");
        }
        // No rectangle covers the whole figure: the page's theme shows through.
        let full = format!(r#"width="{}" height="{}""#, SIZE.0, SIZE.1);
        assert!(
            !svg.lines()
                .any(|l| l.starts_with("<rect") && l.contains(&full)),
            "the figure paints its own background"
        );
        assert!(
            !svg.contains("#000000") && !svg.contains("#FFFFFF"),
            "black or white ink does not read in both themes"
        );
    }

    #[test]
    fn a_figure_carries_its_title_and_its_data_which_read_back_unchanged() {
        let svg = svg(&figure(), None).unwrap();
        assert!(svg.contains("<title>Work against input size</title>"));
        assert!(
            svg.contains("linear &lt;&amp;&gt;"),
            "the data is not escaped"
        );
        assert_eq!(recorded(&svg), Some(figure()));
        assert_eq!(recorded("<svg></svg>"), None);
    }

    #[test]
    fn the_same_data_draws_the_same_file_and_other_data_another() {
        let a = svg(&figure(), None).unwrap();
        assert_eq!(a, svg(&figure(), None).unwrap());
        let mut other = figure();
        other.series[1].points[2].1 = 5.0;
        assert_ne!(a, svg(&other, None).unwrap());
    }

    #[test]
    fn a_footnote_is_written_under_the_plot() {
        let svg = svg(&figure(), Some("measured on Some CPU, 2 cores")).unwrap();
        assert!(svg.contains("measured on Some CPU, 2 cores"));
    }

    #[test]
    fn histogram_bars_are_drawn_as_rectangles() {
        let mut f = figure();
        f.series.clear();
        f.bars = vec![
            Bar {
                from: 0.0,
                to: 1.0,
                count: 5.0,
            },
            Bar {
                from: 1.0,
                to: 2.0,
                count: 9.0,
            },
        ];
        let with = svg(&f, None).unwrap();
        f.bars.pop();
        let without = svg(&f, None).unwrap();
        assert_eq!(
            with.matches("<rect").count(),
            without.matches("<rect").count() + 1,
            "one bar more should be one rectangle more"
        );
    }

    #[test]
    fn a_figure_without_data_or_with_a_non_number_is_refused() {
        let mut f = figure();
        f.series.clear();
        let err = svg(&f, None).unwrap_err().to_string();
        assert!(err.contains("neither series nor bars"), "{err}");
        let mut f = figure();
        f.series[0].points[1].1 = f64::NAN;
        let err = svg(&f, None).unwrap_err().to_string();
        assert!(err.contains("not a finite number"), "{err}");
        let mut f = figure();
        f.legend = Some("centre".into());
        let err = svg(&f, None).unwrap_err().to_string();
        assert!(err.contains("cannot go to `centre`"), "{err}");
        let mut f = figure();
        f.series[1].points.clear();
        let err = svg(&f, None).unwrap_err().to_string();
        assert!(err.contains("`linear <&>` has no points"), "{err}");
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1500.0), "1500");
        assert_eq!(number(25_000.0), "25 k");
        assert_eq!(number(40_000_000.0), "40 M");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(2.5e6), "2.5 M");
    }
}
