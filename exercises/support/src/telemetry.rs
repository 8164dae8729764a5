//! Reading what a service reports about itself, for the checks of chapter 6
//! (and any chapter that checks logs or metrics).
//!
//! Three instruments, each tested below, because every verdict built on them
//! is only as good as they are:
//!
//! - [`Capture`]: an in-memory destination for a `tracing-subscriber` fmt
//!   layer, and [`json_lines`] with small accessors ([`level`], [`field`],
//!   [`values_of`], …) to read back what a JSON subscriber wrote;
//! - [`Recorder`]: a `tracing` layer that keeps every span (name, level,
//!   fields, parent, when it opened and closed) and every event (level, target,
//!   fields, the spans it was logged in) at every level, TRACE included, so a
//!   check sees what an operator would see after turning on DEBUG;
//! - [`parse_exposition`]: a strict reader of Prometheus' text exposition
//!   format (version 0.0.4) that explains in one sentence why a line is wrong.
//!
//! Times are `tokio::time::Instant`s: under a paused tokio clock they are
//! exact, on any machine.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

// ---------------------------------------------------------------------------
// Capturing and reading JSON lines.

/// Where the logs go during a check: a buffer in memory that the check reads
/// back. A subscriber accepts it because it implements `MakeWriter`.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// A lock that a panicking check elsewhere cannot poison for the others.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The non-blank lines of `text` as JSON objects, or why one is not:
/// `Err((line number from 1, the line))`.
pub fn json_lines(text: &str) -> Result<Vec<Value>, (usize, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| match serde_json::from_str::<Value>(line) {
            Ok(value) if value.is_object() => Ok(value),
            _ => Err((i + 1, line.to_string())),
        })
        .collect()
}

/// The event's level (`"INFO"`), or `"(no level)"`.
pub fn level(event: &Value) -> &str {
    event["level"].as_str().unwrap_or("(no level)")
}

/// A field of the event, nested under `"fields"` or flattened to the top.
pub fn field<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event
        .get("fields")
        .and_then(|f| f.get(name))
        .or_else(|| event.get(name))
}

/// The event's message, or `""`.
pub fn message(event: &Value) -> &str {
    field(event, "message")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The event's own fields, without its spans, target, time and level.
pub fn own_fields(event: &Value) -> Value {
    match event.get("fields") {
        Some(fields) => fields.clone(),
        None => {
            let mut event = event.clone();
            if let Some(map) = event.as_object_mut() {
                for key in ["span", "spans", "target", "timestamp", "level"] {
                    map.remove(key);
                }
            }
            event
        }
    }
}

/// Every value of `key` anywhere in the event (its fields, its span, the span
/// list), as text: `"req-1"` and `7` become `req-1` and `7`.
pub fn values_of(event: &Value, key: &str) -> BTreeSet<String> {
    fn walk(value: &Value, key: &str, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == key {
                        found.insert(plain(v));
                    }
                    walk(v, key, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, key, found)),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    walk(event, key, &mut found);
    found
}

/// A JSON value as plain text: strings without their quotes.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim_matches('"').to_string(),
        other => other.to_string(),
    }
}

/// `text` cut to `max` characters, with `…` when it was longer.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// The line of `text` around the `len` bytes at `at`, shortened to about 120
/// bytes on either side.
pub fn around(text: &str, at: usize, len: usize) -> String {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let mut start = at.saturating_sub(120).max(line_start);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let mut end = (at + len + 120).min(line_end).max(start);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dots = |cut: bool| if cut { "…" } else { "" };
    format!(
        "{}{}{}",
        dots(start > line_start),
        &text[start..end],
        dots(end < line_end)
    )
}

// ---------------------------------------------------------------------------
// The recording layer.

/// One span, as the [`Recorder`] saw it.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    pub id: u64,
    pub name: &'static str,
    pub level: Level,
    pub target: String,
    /// Index of the parent span in [`Recording::spans`].
    pub parent: Option<usize>,
    /// Every field, as given at the start or recorded later, as text.
    pub fields: BTreeMap<String, String>,
    pub opened: Instant,
    pub closed: Option<Instant>,
}

/// One event, as the [`Recorder`] saw it.
#[derive(Clone, Debug)]
pub struct EventRecord {
    pub level: Level,
    pub target: String,
    /// Every field as text, the message under `"message"`.
    pub fields: BTreeMap<String, String>,
    /// The spans it was logged in, indexes into [`Recording::spans`], from
    /// the outermost to the innermost.
    pub spans: Vec<usize>,
    pub at: Instant,
}

impl EventRecord {
    pub fn message(&self) -> &str {
        self.fields.get("message").map_or("", String::as_str)
    }
}

/// Everything a [`Recorder`] saw, in the order it happened.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    pub spans: Vec<SpanRecord>,
    pub events: Vec<EventRecord>,
}

impl Recording {
    /// `order > charge`: the names of span `i` and its ancestors, outermost
    /// first.
    pub fn path(&self, i: usize) -> String {
        let mut names = vec![self.spans[i].name];
        let mut at = i;
        while let Some(p) = self.spans[at].parent {
            names.push(self.spans[p].name);
            at = p;
        }
        names.reverse();
        names.join(" > ")
    }

    /// The outermost ancestor of span `i` (itself when it has no parent).
    pub fn root_of(&self, i: usize) -> usize {
        let mut at = i;
        while let Some(p) = self.spans[at].parent {
            at = p;
        }
        at
    }

    /// `order{request_id=req-1} > charge`: where an event was logged.
    pub fn event_path(&self, event: &EventRecord) -> String {
        if event.spans.is_empty() {
            return "(no span)".into();
        }
        let names: Vec<String> = event
            .spans
            .iter()
            .map(|&i| {
                let span = &self.spans[i];
                match span.fields.get("request_id") {
                    Some(id) => format!("{}{{request_id={id}}}", span.name),
                    None => span.name.to_string(),
                }
            })
            .collect();
        names.join(" > ")
    }

    /// Every piece of text the recording holds, each with where it was:
    /// span names, span fields (names and values), event messages and fields.
    pub fn texts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for span in &self.spans {
            let place = format!("the span `{}` (at {})", span.name, span.level);
            out.push((format!("{place}'s name"), span.name.to_string()));
            for (name, value) in &span.fields {
                out.push((format!("{place}, field `{name}`"), value.clone()));
            }
        }
        for event in &self.events {
            let place = format!(
                "an event at {} ({:?}) in {}",
                event.level,
                clip(event.message(), 50),
                self.event_path(event)
            );
            for (name, value) in &event.fields {
                out.push((format!("{place}, field `{name}`"), value.clone()));
            }
        }
        out
    }
}

/// A layer that remembers every span and event at every level. Install it on
/// `tracing_subscriber::registry()`, with no filter, and read it back with
/// [`Recorder::recording`].
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Recording>>);

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of everything recorded so far.
    pub fn recording(&self) -> Recording {
        lock(&self.0).clone()
    }
}

/// Writes each field it visits into a map, as text.
struct FieldText<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldText<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_error(
        &mut self,
        field: &Field,
        value: &(dyn std::error::Error + 'static),
    ) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

/// The latest record of a span id that is still open: the registry reuses an
/// id once its span has closed.
fn open_index(spans: &[SpanRecord], id: &Id) -> Option<usize> {
    let id = id.into_u64();
    spans.iter().rposition(|r| r.id == id && r.closed.is_none())
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut recording = lock(&self.0);
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .and_then(|p| open_index(&recording.spans, &p.id()));
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldText(&mut fields));
        let metadata = attrs.metadata();
        recording.spans.push(SpanRecord {
            id: id.into_u64(),
            name: metadata.name(),
            level: *metadata.level(),
            target: metadata.target().to_string(),
            parent,
            fields,
            opened: Instant::now(),
            closed: None,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut recording = lock(&self.0);
        if let Some(i) = open_index(&recording.spans, id) {
            values.record(&mut FieldText(&mut recording.spans[i].fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut recording = lock(&self.0);
        let mut spans: Vec<usize> = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .filter_map(|s| open_index(&recording.spans, &s.id()))
                    .collect()
            })
            .unwrap_or_default();
        spans.reverse();
        let mut fields = BTreeMap::new();
        event.record(&mut FieldText(&mut fields));
        let metadata = event.metadata();
        recording.events.push(EventRecord {
            level: *metadata.level(),
            target: metadata.target().to_string(),
            fields,
            spans,
            at: Instant::now(),
        });
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut recording = lock(&self.0);
        if let Some(i) = open_index(&recording.spans, &id) {
            recording.spans[i].closed = Some(Instant::now());
        }
    }
}

// ---------------------------------------------------------------------------
// Prometheus' text exposition format.

/// One sample line: `name{label="value",…} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: each family's declared kind, and the samples.
#[derive(Clone, Debug, Default)]
pub struct Exposition {
    /// Family name → `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub types: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The declared kind of a family.
    pub fn kind_of(&self, name: &str) -> Option<&str> {
        self.types.get(name).map(String::as_str)
    }

    /// The samples named `name` whose labels include all of `labels`.
    pub fn find(&self, name: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }
}

/// Parses the Prometheus text exposition format (version 0.0.4): `# HELP` and
/// `# TYPE` comments, then samples `name{label="value",…} value [timestamp]`.
/// Every sample must belong to a family declared by a `# TYPE` line before
/// it. The error names the line, what is wrong with it, and quotes it.
pub fn parse_exposition(text: &str) -> Result<Exposition, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    let bad = |n: usize, line: &str, why: &str| {
        format!(
            "line {n} of the exposition is not valid Prometheus text format ({why}):\n  \
             {}\nEach line is a `# HELP name text` or `# TYPE name kind` comment, or a \
             sample `name{{label=\"value\"}} number`.",
            clip(line, 160)
        )
    };
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.split_whitespace().collect();
            match words.first() {
                Some(&"TYPE") => {
                    let (Some(name), Some(kind)) = (words.get(1), words.get(2)) else {
                        return Err(bad(
                            n,
                            line,
                            "a TYPE line needs a name and a kind",
                        ));
                    };
                    if !valid_name(name) {
                        return Err(bad(n, line, "not a valid metric name"));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"]
                        .contains(kind)
                    {
                        return Err(bad(n, line, "unknown metric kind"));
                    }
                    if samples
                        .iter()
                        .any(|s| family(&s.name, &types).as_deref() == Some(*name))
                    {
                        return Err(bad(
                            n,
                            line,
                            "the TYPE line must come before the samples",
                        ));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(bad(n, line, "a second TYPE line for one metric"));
                    }
                }
                Some(&"HELP") if words.len() < 2 => {
                    return Err(bad(n, line, "a HELP line needs a name"));
                }
                _ => {}
            }
            continue;
        }
        let sample = parse_sample(line).map_err(|why| bad(n, line, &why))?;
        if family(&sample.name, &types).is_none() {
            return Err(bad(
                n,
                line,
                &format!("no `# TYPE` line declares {} before it", sample.name),
            ));
        }
        samples.push(sample);
    }
    if samples.is_empty() {
        return Err("the exposition contains no samples at all".into());
    }
    Ok(Exposition { types, samples })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The declared family a sample belongs to: its own name, or for histograms
/// and summaries the name without `_bucket`, `_sum` or `_count`.
fn family(name: &str, types: &BTreeMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_string());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        let kind = types.get(base)?;
        let fits = kind == "histogram" || (kind == "summary" && *suffix != "_bucket");
        fits.then(|| base.to_string())
    })
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..end];
    if !valid_name(name) {
        return Err("a sample starts with a metric name".into());
    }
    let mut rest = &line[end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let end = rest.find('=').ok_or("a label needs name=\"value\"")?;
            let label = rest[..end].trim();
            if !valid_name(label) || label.contains(':') {
                return Err(format!("{label:?} is not a valid label name"));
            }
            let after = rest[end + 1..].trim_start();
            let mut chars = after
                .strip_prefix('"')
                .ok_or("a label value is quoted")?
                .char_indices();
            let mut value = String::new();
            let close = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c @ ('\\' | '"'))) => value.push(c),
                        _ => return Err("an unknown escape in a label value".into()),
                    },
                    Some((i, '"')) => break i,
                    Some((_, c)) => value.push(c),
                    None => return Err("a label value is not closed".into()),
                }
            };
            if labels.insert(label.to_string(), value).is_some() {
                return Err(format!("the label {label:?} is given twice"));
            }
            rest = after[1 + close + 1..].trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err("labels are separated by commas and closed by }".into());
            }
        }
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(
            "the name (and labels) and the value are separated by a space".into(),
        );
    }
    let mut words = rest.split_whitespace();
    let value = match words.next() {
        Some("+Inf") => f64::INFINITY,
        Some("-Inf") => f64::NEG_INFINITY,
        Some("NaN") => f64::NAN,
        Some(v) => v.parse().map_err(|_| format!("{v:?} is not a number"))?,
        None => return Err("a sample needs a value".into()),
    };
    if let Some(ts) = words.next()
        && ts.parse::<i64>().is_err()
    {
        return Err(format!("{ts:?} is not a timestamp in milliseconds"));
    }
    if words.next().is_some() {
        return Err("something follows the value and timestamp".into());
    }
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::subscriber::with_default;
    use tracing::{Instrument, debug, error, info, info_span, trace, trace_span, warn};
    use tracing_subscriber::layer::SubscriberExt;

    fn record(work: impl FnOnce()) -> Recording {
        let recorder = Recorder::new();
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        with_default(subscriber, work);
        recorder.recording()
    }

    #[test]
    fn the_recorder_sees_every_level() {
        let seen = record(|| {
            trace!("t");
            debug!("d");
            info!("i");
            warn!("w");
            error!("e");
        });
        let levels: Vec<Level> = seen.events.iter().map(|e| e.level).collect();
        assert_eq!(
            levels,
            [
                Level::TRACE,
                Level::DEBUG,
                Level::INFO,
                Level::WARN,
                Level::ERROR
            ]
        );
        assert_eq!(seen.events[0].message(), "t");
    }

    #[test]
    fn the_recorder_sees_every_span_field_including_late_ones_and_trace_spans() {
        let seen = record(|| {
            let outer = info_span!("outer", request_id = "req-1", user = 7_u64);
            let _in_outer = outer.enter();
            let inner = trace_span!("inner", card = tracing::field::Empty);
            inner.record("card", "4242 4242");
            inner.in_scope(|| debug!(amount_cents = 5_u64, secret = ?"x", "inside"));
        });
        assert_eq!(seen.spans.len(), 2);
        assert_eq!(seen.spans[0].fields["request_id"], "req-1");
        assert_eq!(seen.spans[0].fields["user"], "7");
        assert_eq!(seen.spans[1].level, Level::TRACE);
        assert_eq!(seen.spans[1].fields["card"], "4242 4242");
        assert_eq!(seen.spans[1].parent, Some(0));
        assert_eq!(seen.path(1), "outer > inner");
        assert_eq!(seen.root_of(1), 0);
        let event = &seen.events[0];
        assert_eq!(event.spans, vec![0, 1]);
        assert_eq!(event.fields["amount_cents"], "5");
        assert_eq!(event.fields["secret"], "\"x\"");
        assert_eq!(seen.event_path(event), "outer{request_id=req-1} > inner");
        let texts = seen.texts();
        assert!(texts.iter().any(|(_, t)| t == "4242 4242"));
        assert!(texts.iter().any(|(_, t)| t == "inner"));
        assert!(texts.iter().any(|(_, t)| t == "inside"));
    }

    #[test]
    fn the_recorder_follows_spans_through_futures_and_times_them_on_the_paused_clock() {
        let recorder = Recorder::new();
        let subscriber = tracing_subscriber::registry().with(recorder.clone());
        with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            // The span is made inside the runtime, so its opening time is on
            // the paused clock too.
            runtime.block_on(async {
                async {
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                    info!("done");
                }
                .instrument(info_span!("step"))
                .await
            });
        });
        let seen = recorder.recording();
        let span = &seen.spans[0];
        let lived = span.closed.expect("closed") - span.opened;
        assert_eq!(lived, std::time::Duration::from_millis(30));
        assert_eq!(seen.events[0].spans, vec![0]);
    }

    #[test]
    fn a_reused_span_id_maps_to_the_span_that_is_open() {
        let seen = record(|| {
            for request in ["a", "b"] {
                let span = info_span!("order", request_id = request);
                span.in_scope(|| info!("inside"));
            }
        });
        assert_eq!(seen.spans.len(), 2);
        assert_eq!(seen.events[1].spans, vec![1]);
        assert_eq!(seen.spans[1].fields["request_id"], "b");
    }

    #[test]
    fn json_lines_reads_objects_and_names_the_first_line_that_is_not_one() {
        let ok = json_lines("{\"level\":\"INFO\",\"total_cents\":5}\n\n{\"a\":1}\n");
        let events = ok.expect("two objects");
        assert_eq!(events.len(), 2);
        assert_eq!(level(&events[0]), "INFO");
        assert_eq!(field(&events[0], "total_cents"), Some(&Value::from(5)));
        assert_eq!(
            json_lines("{\"a\":1}\nplain text\n"),
            Err((2, "plain text".to_string()))
        );
        assert_eq!(json_lines("[1, 2]"), Err((1, "[1, 2]".to_string())));
    }

    #[test]
    fn the_accessors_find_fields_nested_or_flat_and_in_spans() {
        let nested: Value = serde_json::from_str(
            r#"{"level":"WARN","fields":{"message":"m","x":1},
                "span":{"request_id":"r1"},"spans":[{"request_id":"r1"},{"user_id":7}]}"#,
        )
        .unwrap();
        assert_eq!(message(&nested), "m");
        assert_eq!(
            own_fields(&nested),
            serde_json::json!({"message":"m","x":1})
        );
        assert_eq!(
            values_of(&nested, "request_id"),
            BTreeSet::from(["r1".into()])
        );
        assert_eq!(values_of(&nested, "user_id"), BTreeSet::from(["7".into()]));
        let flat: Value =
            serde_json::from_str(r#"{"level":"INFO","message":"m","x":2,"span":{}}"#)
                .unwrap();
        assert_eq!(own_fields(&flat), serde_json::json!({"message":"m","x":2}));
        assert_eq!(level(&serde_json::json!({})), "(no level)");
    }

    #[test]
    fn clip_and_around_stay_on_character_boundaries() {
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hi", 2), "hi");
        let text = format!("first\n{}SECRET{}\nlast", "é".repeat(100), "ü".repeat(100));
        let at = text.find("SECRET").unwrap();
        let shown = around(&text, at, 6);
        assert!(shown.contains("SECRET") && !shown.contains("first"));
        assert!(shown.starts_with('…') && shown.ends_with('…'));
    }

    const GOOD: &str = "# HELP a_total A counter.\n# TYPE a_total counter\na_total 3\n\
        # TYPE d histogram\nd_bucket{le=\"0.1\"} 1\nd_bucket{le=\"+Inf\"} 2\n\
        d_sum 0.3\nd_count 2\n# TYPE s summary\ns{quantile=\"0.5\",x=\"a\\\"b\"} 0.1 123\n\
        s_sum 1\ns_count 2\n";

    #[test]
    fn the_exposition_parser_reads_a_valid_exposition() {
        let e = parse_exposition(GOOD).expect("valid");
        assert_eq!(e.kind_of("a_total"), Some("counter"));
        assert_eq!(e.kind_of("d"), Some("histogram"));
        assert_eq!(e.find("a_total", &[])[0].value, 3.0);
        assert_eq!(e.find("d_bucket", &[("le", "+Inf")])[0].value, 2.0);
        let s = e.find("s", &[("quantile", "0.5")]);
        assert_eq!(s[0].labels["x"], "a\"b");
        assert_eq!(e.samples.len(), 8);
    }

    #[test]
    fn the_exposition_parser_rejects_malformed_input_with_its_reason() {
        let cases = [
            ("a_total 3\n", "no `# TYPE` line declares a_total"),
            (
                "# TYPE a counter\na 1\n# TYPE a counter\n",
                "must come before",
            ),
            ("# TYPE a\n", "needs a name and a kind"),
            ("# TYPE a countr\na 1\n", "unknown metric kind"),
            ("# TYPE 1a counter\n", "not a valid metric name"),
            ("# TYPE a counter\n# TYPE a gauge\n", "a second TYPE line"),
            ("# HELP\n", "a HELP line needs a name"),
            ("# TYPE a counter\na one\n", "\"one\" is not a number"),
            ("# TYPE a counter\na{b=\"1} 1\n", "not closed"),
            ("# TYPE a counter\na{b=1} 1\n", "quoted"),
            (
                "# TYPE a counter\na{b=\"1\" c=\"2\"} 1\n",
                "separated by commas",
            ),
            ("# TYPE a counter\na{b=\"\\t\"} 1\n", "unknown escape"),
            ("# TYPE a counter\na{b=\"1\",b=\"2\"} 1\n", "given twice"),
            (
                "# TYPE a counter\na{0b=\"1\"} 1\n",
                "not a valid label name",
            ),
            ("# TYPE a counter\na{b}\n", "name=\\\"value\\\""),
            ("# TYPE a counter\na{b=\"1\"}1\n", "separated by a space"),
            ("# TYPE a counter\na\n", "separated by a space"),
            ("# TYPE a counter\na 1 soon\n", "not a timestamp"),
            ("# TYPE a counter\na 1 2 3\n", "something follows"),
            (
                "# TYPE s summary\ns_bucket{le=\"1\"} 1\n",
                "no `# TYPE` line",
            ),
            ("", "no samples at all"),
        ];
        for (text, why) in cases {
            let err = parse_exposition(text).expect_err(text);
            let why = why.replace("\\\"", "\"");
            assert!(err.contains(&why), "{text:?}: {err}");
        }
        let err = parse_exposition("# TYPE a counter\na one\n").unwrap_err();
        assert!(err.starts_with("line 2 "), "{err}");
        assert!(err.contains("a one"), "{err}");
    }
}
