//! The checks for chapter 6. `cargo xtask check 6` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is exact. The logs are captured in memory through your
//! `log_subscriber` and parsed line by line. tokio's clock is paused, so a
//! request takes precisely the time its services wait (40 ms for a placed
//! order), on any machine. Percentiles are compared with the exact values,
//! computed here by sorting the very durations that were recorded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use ch06_observability::deps::{Catalog, DECLINED_CARD, FLAKY_CARD};
use ch06_observability::{
    CardNumber, CartLine, Deps, Metrics, OrderError, OrderRequest, Outcome,
    log_subscriber, place_order,
};
use serde_json::Value;
use support::rng::Rng;
use tokio::time::Instant;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Subscriber, subscriber::with_default};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

const WHERE_TELEMETRY: &str =
    "log_subscriber in exercises/ch06-observability/src/telemetry.rs";
const WHERE_HANDLER: &str =
    "place_order in exercises/ch06-observability/src/handler.rs";
const WHERE_CHARGE: &str = "charge in exercises/ch06-observability/src/handler.rs";
const WHERE_MODEL: &str = "exercises/ch06-observability/src/model.rs";
const WHERE_METRICS: &str = "Metrics in exercises/ch06-observability/src/metrics.rs";
const WHERE_RENDER: &str =
    "Metrics::render_prometheus in exercises/ch06-observability/src/metrics.rs";

/// A card the payments service approves.
const APPROVED: &str = "4242 4242 4242 4242";

// ANCHOR: capture
/// Where the logs go during a check: a buffer in memory that the check reads
/// back. `log_subscriber` accepts it because it implements `MakeWriter`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
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

/// Runs `work` on a tokio runtime whose clock is paused, with your subscriber
/// logging into memory; returns what `work` returned and everything logged.
fn logged<F: Future>(work: impl FnOnce() -> F) -> (F::Output, String) {
    let capture = Capture::default();
    let subscriber = log_subscriber(capture.clone());
    let output = with_default(subscriber, || paused_runtime().block_on(work()));
    let text = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    (output, text)
}
// ANCHOR_END: capture

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("build a tokio runtime")
}

/// Runs futures concurrently on one thread, as a server runs requests: each
/// one advances until it awaits, then the next one gets its turn.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.expect("ready")).collect()
}

fn order(
    request_id: &str,
    user_id: u64,
    card: &str,
    lines: &[(&str, u32)],
) -> OrderRequest {
    OrderRequest {
        request_id: request_id.to_string(),
        user_id,
        card: CardNumber::new(card),
        lines: lines
            .iter()
            .map(|&(sku, quantity)| CartLine {
                sku: sku.to_string(),
                quantity,
            })
            .collect(),
    }
}

fn total_of(lines: &[(&str, u32)]) -> u64 {
    lines
        .iter()
        .map(|&(sku, n)| Catalog::unit_price(sku).expect("a known SKU") * u64::from(n))
        .sum()
}

// ---------------------------------------------------------------------------
// Reading the captured JSON lines.

/// The captured lines as JSON objects; stops the check when one is not.
fn events(text: &str) -> Vec<Value> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| match serde_json::from_str::<Value>(line) {
            Ok(value) if value.is_object() => value,
            _ => panic!(
                "this check reads the log as JSON, and line {} is not a JSON object:\n  \
                 {}\nMake the first check pass first (logs are one JSON object per \
                 line). Look at {WHERE_TELEMETRY}.",
                i + 1,
                clip(line, 100)
            ),
        })
        .collect()
}

fn level(event: &Value) -> &str {
    event["level"].as_str().unwrap_or("(no level)")
}

/// A field of the event, nested under "fields" or flattened to the top.
fn field<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event
        .get("fields")
        .and_then(|f| f.get(name))
        .or_else(|| event.get(name))
}

fn message(event: &Value) -> &str {
    field(event, "message")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The event's own fields, without the spans around it.
fn own_fields(event: &Value) -> Value {
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
fn values_of(event: &Value, key: &str) -> BTreeSet<String> {
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

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim_matches('"').to_string(),
        other => other.to_string(),
    }
}

/// `INFO "order placed"`: how the messages name an event.
fn summary(event: &Value) -> String {
    format!("{} {:?}", level(event), clip(message(event), 60))
}

fn summaries(events: &[&Value]) -> String {
    let all: Vec<String> = events.iter().map(|e| summary(e)).collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join(", ")
    }
}

/// The line of `text` around the `len` bytes at `at`, shortened to about
/// 120 bytes on either side.
fn around(text: &str, at: usize, len: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let mut start = at.saturating_sub(120).max(line_start);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let mut end = (at + len + 120).min(line_end);
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

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

// ---------------------------------------------------------------------------
// The checks, in the order a learner meets them.

#[test]
fn logs_are_one_json_object_per_line() {
    let deps = Deps::new();
    let (result, text) = logged(|| {
        place_order(&deps, order("req-json", 7, APPROVED, &[("KEYBOARD", 1)]))
    });
    result.unwrap_or_else(|e| {
        panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}.")
    });
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        !lines.is_empty(),
        "placing an order logged nothing at all. Does the subscriber's level filter \
         let INFO events through? Look at {WHERE_TELEMETRY}."
    );
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => assert!(
                object.contains_key("level"),
                "line {} is JSON but has no \"level\" key:\n  {}\n\
                 The pipeline routes and counts events by level. Look at {WHERE_TELEMETRY}.",
                i + 1,
                clip(line, 160)
            ),
            _ => panic!(
                "expected one JSON object per line; line {} of {} is not one:\n  {}\n\
                 A log pipeline can search and count JSON fields, not sentences. \
                 tracing-subscriber's fmt subscriber can write each event as a JSON \
                 object instead of text. Look at {WHERE_TELEMETRY}.",
                i + 1,
                lines.len(),
                clip(line, 160)
            ),
        }
    }
}

#[test]
fn every_event_of_a_request_carries_its_request_id_and_user_id() {
    let deps = Deps::new();
    let cases = [
        ("req-a1", 7, APPROVED),
        ("req-b2", 8, FLAKY_CARD),
        ("req-c3", 9, DECLINED_CARD),
    ];
    for (request_id, user_id, card) in cases {
        let (_, text) = logged(|| {
            place_order(&deps, order(request_id, user_id, card, &[("MOUSE", 2)]))
        });
        let events = events(&text);
        assert!(
            !events.is_empty(),
            "request {request_id} logged nothing. Look at {WHERE_HANDLER}."
        );
        for event in &events {
            for (key, want) in [
                ("request_id", request_id.to_string()),
                ("user_id", user_id.to_string()),
            ] {
                let seen = values_of(event, key);
                if seen.is_empty() {
                    panic!(
                        "the event {} of request {request_id} carries no {key}:\n  {}\n\
                         Every event logged while a request runs needs its request_id and \
                         user_id, including the events of code you call (the payments \
                         client logs its own). A field given to one event reaches that \
                         event only; a span that is open while the request runs reaches \
                         every event inside it. Look at {WHERE_HANDLER}; if your span \
                         has these fields, check that the JSON output includes spans \
                         ({WHERE_TELEMETRY}).",
                        summary(event),
                        clip(&event.to_string(), 240)
                    );
                }
                assert!(
                    seen == BTreeSet::from([want.clone()]),
                    "the event {} of request {request_id} carries {key} {seen:?}; \
                     expected {want:?} only:\n  {}\nLook at {WHERE_HANDLER}.",
                    summary(event),
                    clip(&event.to_string(), 240)
                );
            }
        }
    }
}

// ANCHOR: concurrent
#[test]
fn concurrent_requests_keep_their_own_request_ids() {
    let deps = Deps::new();
    // 20 requests at once; every third one's payment times out and is retried,
    // so they finish out of order. Each buys a different number of cables, so
    // an amount in an event says which request it belongs to.
    let requests: Vec<(String, u64)> = (1..=20)
        .map(|i| (format!("req-{i:02}"), total_of(&[("CABLE", i)])))
        .collect();
    let (results, text) = logged(|| {
        join_all((1..=20u32).map(|i| {
            let card = if i % 3 == 0 { FLAKY_CARD } else { APPROVED };
            let req =
                order(&format!("req-{i:02}"), u64::from(i), card, &[("CABLE", i)]);
            place_order(&deps, req)
        }))
    });
    // ANCHOR_END: concurrent
    for result in results {
        result.unwrap_or_else(|e| {
            panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}.")
        });
    }
    let owner_of: BTreeMap<u64, &str> = requests
        .iter()
        .map(|(id, total)| (*total, id.as_str()))
        .collect();
    let events = events(&text);
    for event in &events {
        let ids = values_of(event, "request_id");
        match ids.len() {
            0 => panic!(
                "the event {} carries no request_id:\n  {}\n\
                 Every event logged inside a request needs it (the previous check says \
                 more). Look at {WHERE_HANDLER}.",
                summary(event),
                clip(&event.to_string(), 240)
            ),
            1 => {}
            n => panic!(
                "while 20 requests ran concurrently, one event carried {n} request ids \
                 {ids:?}:\n  {}\n\
                 Its request's span was opened inside another request's span. A span \
                 entered with `enter()` stays the thread's current span while its \
                 request waits at an `.await`, so whatever runs next on that thread \
                 starts inside it. The span has to follow the request's future, not \
                 the thread (tracing's `Instrument` trait, or `#[instrument]`). \
                 Look at {WHERE_HANDLER}.",
                clip(&event.to_string(), 400)
            ),
        }
        let id = ids.into_iter().next().expect("one id");
        let amount = field(event, "amount_cents")
            .or_else(|| field(event, "total_cents"))
            .and_then(Value::as_u64);
        if let Some(owner) = amount.and_then(|a| owner_of.get(&a)) {
            assert!(
                *owner == id,
                "while 20 requests ran concurrently, the event {} about {owner}'s order \
                 ({} cents) carried request_id {id:?}:\n  {}\n\
                 Events were logged in another request's span: a span entered with \
                 `enter()` stays current while its request waits at an `.await`. The \
                 span has to follow the request's future (tracing's `Instrument`, or \
                 `#[instrument]`). Look at {WHERE_HANDLER}.",
                summary(event),
                amount.unwrap_or_default(),
                clip(&event.to_string(), 240)
            );
        }
    }
    for (id, total) in &requests {
        let found = events.iter().any(|e| {
            field(e, "amount_cents").and_then(Value::as_u64) == Some(*total)
                && values_of(e, "request_id").contains(id)
        });
        assert!(
            found,
            "the payments client's \"charge approved\" event for {id} ({total} cents) \
             was not logged with request_id {id:?}. Events from code you call carry \
             the request's fields only if they are logged inside the request's span. \
             Look at {WHERE_HANDLER}."
        );
    }
}

/// One span as the recording layer below saw it open.
#[derive(Clone, Debug)]
struct SpanRecord {
    id: u64,
    name: &'static str,
    /// Index of the parent in the list of records.
    parent: Option<usize>,
    fields: BTreeMap<&'static str, String>,
}

/// A layer that remembers every span: its name, fields and parent.
#[derive(Clone, Default)]
struct SpanLog(Arc<Mutex<Vec<SpanRecord>>>);

struct FieldText<'a>(&'a mut BTreeMap<&'static str, String>);

impl Visit for FieldText<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.0
            .insert(field.name(), text.trim_matches('"').to_string());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanLog {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        // Span ids are reused once a span closes: the parent is the latest
        // record with that id, which is still open.
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .and_then(|p| spans.iter().rposition(|r| r.id == p.id().into_u64()));
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldText(&mut fields));
        spans.push(SpanRecord {
            id: id.into_u64(),
            name: attrs.metadata().name(),
            parent,
            fields,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().unwrap();
        if let Some(span) = spans.iter_mut().rev().find(|r| r.id == id.into_u64()) {
            values.record(&mut FieldText(&mut span.fields));
        }
    }
}

fn span_path(spans: &[SpanRecord], mut i: usize) -> String {
    let mut names = vec![spans[i].name];
    while let Some(p) = spans[i].parent {
        names.push(spans[p].name);
        i = p;
    }
    names.reverse();
    names.join(" > ")
}

#[test]
fn each_step_runs_in_its_own_span_inside_the_request_span() {
    let deps = Deps::new();
    let log = SpanLog::default();
    let subscriber = tracing_subscriber::registry().with(log.clone());
    let req = order("req-s1", 42, APPROVED, &[("DOCK", 1)]);
    with_default(subscriber, || {
        paused_runtime().block_on(place_order(&deps, req))
    })
    .unwrap_or_else(|e| panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}."));
    let spans = log.0.lock().unwrap().clone();
    assert!(
        !spans.is_empty(),
        "place_order opened no span. Expected one span for the request, with the \
         fields request_id and user_id, and inside it one span per step: load_user, \
         price_cart, charge and save. A span gives every event inside it its fields, \
         and times the work it covers. Look at {WHERE_HANDLER}."
    );
    let paths: Vec<String> = (0..spans.len()).map(|i| span_path(&spans, i)).collect();
    let roots: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].parent.is_none())
        .collect();
    assert!(
        roots.len() == 1,
        "expected one span at the top, the request's, with every other span inside \
         it; saw {} spans at the top. The spans: {}. Look at {WHERE_HANDLER}.",
        roots.len(),
        paths.join(", ")
    );
    let root = &spans[roots[0]];
    for (key, want) in [("request_id", "req-s1"), ("user_id", "42")] {
        assert!(
            root.fields.get(key).map(String::as_str) == Some(want),
            "the request's span `{}` has the fields {:?}; expected {key} = {want:?} \
             among them. Look at {WHERE_HANDLER}.",
            root.name,
            root.fields
        );
    }
    let inside_root = |mut i: usize| {
        while let Some(p) = spans[i].parent {
            if p == roots[0] {
                return true;
            }
            i = p;
        }
        false
    };
    for step in ["load_user", "price_cart", "charge", "save"] {
        assert!(
            (0..spans.len()).any(|i| spans[i].name == step && inside_root(i)),
            "no span named `{step}` inside the request's span. The spans: {}. \
             Each step gets a span of its own, so that a slow or failing request shows \
             which step it was in. Look at {WHERE_HANDLER}.",
            paths.join(", ")
        );
    }
}

#[test]
fn the_order_placed_event_has_typed_fields() {
    let deps = Deps::new();
    let lines = [("KEYBOARD", 2), ("CABLE", 3)];
    let ((result, took), text) = logged(|| async {
        let started = Instant::now();
        let result = place_order(&deps, order("req-t1", 12, APPROVED, &lines)).await;
        (result, started.elapsed())
    });
    let confirmation = result.unwrap_or_else(|e| {
        panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}.")
    });
    let events = events(&text);
    let placed: Vec<&Value> = events
        .iter()
        .filter(|e| message(e) == "order placed")
        .collect();
    assert!(
        placed.len() == 1,
        "expected one event with the message \"order placed\", saw {}. The events: {}.\n\
         Keep the message the same for every order and put what varies (ids, amounts, \
         durations) in fields: the pipeline finds placed orders by their message and \
         reads the numbers from the fields. Look at {WHERE_HANDLER}.",
        placed.len(),
        summaries(&events.iter().collect::<Vec<_>>())
    );
    let event = placed[0];
    assert!(
        level(event) == "INFO",
        "the \"order placed\" event is at {}; a placed order is the normal case, INFO. \
         Look at {WHERE_HANDLER}.",
        level(event)
    );
    let fields = own_fields(event);
    let names: Vec<&String> = fields
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    for (name, want) in [
        ("order_id", confirmation.order_id),
        ("total_cents", total_of(&lines)),
    ] {
        match field(event, name) {
            Some(value) if value.as_u64() == Some(want) => {}
            None => panic!(
                "the \"order placed\" event has no field `{name}`; its fields: {names:?}. \
                 Look at {WHERE_HANDLER}."
            ),
            Some(Value::String(text)) => panic!(
                "`{name}` in the \"order placed\" event is the string {text:?}; expected \
                 the number {want}. A pipeline can sum, sort and compare numbers, not \
                 strings. A value recorded with `%` (Display) or `?` (Debug) arrives as \
                 a string; an integer given as it is arrives as a number. \
                 Look at {WHERE_HANDLER}."
            ),
            Some(other) => panic!(
                "`{name}` in the \"order placed\" event is {other}; expected {want}. \
                 Look at {WHERE_HANDLER}."
            ),
        }
    }
    let want_ms = took.as_secs_f64() * 1000.0;
    match field(event, "duration_ms") {
        Some(Value::Number(n))
            if (n.as_f64().unwrap_or(f64::NAN) - want_ms).abs() <= 0.01 => {}
        None => panic!(
            "the \"order placed\" event has no field `duration_ms`; its fields: \
             {names:?}. Look at {WHERE_HANDLER}."
        ),
        Some(Value::Number(n)) => panic!(
            "`duration_ms` is {n}, but the request took exactly {want_ms} ms on tokio's \
             paused clock. Measure from the start of place_order to its end with \
             tokio::time::Instant, and give the result in milliseconds. \
             Look at {WHERE_HANDLER}."
        ),
        Some(other) => panic!(
            "`duration_ms` is {other}, not a number; expected {want_ms}. A Duration's \
             Debug is text (\"40ms\"), and a u128 (what Duration::as_millis returns) \
             also reaches the JSON as text: record a u64 or an f64 of milliseconds. \
             Look at {WHERE_HANDLER}."
        ),
    }
}

#[test]
fn a_declined_payment_logs_one_error_with_its_cause() {
    let deps = Deps::new();
    let (result, text) = logged(|| {
        place_order(&deps, order("req-d1", 11, DECLINED_CARD, &[("MOUSE", 1)]))
    });
    assert!(
        matches!(result, Err(OrderError::PaymentDeclined(_))),
        "place_order should return Err(PaymentDeclined) for the card {DECLINED_CARD}, \
         and returned {result:?}. Logging must not change what the handler does. \
         Look at {WHERE_HANDLER}."
    );
    let events = events(&text);
    let all: Vec<&Value> = events.iter().collect();
    let errors: Vec<&Value> = events.iter().filter(|e| level(e) == "ERROR").collect();
    assert!(
        !errors.is_empty(),
        "the request failed (payment declined), but nothing was logged at ERROR. \
         The events: {}.\n\
         ERROR is the level that says a request failed: error dashboards and alerts \
         count it. Log the failure once, at ERROR, with its cause. \
         Look at {WHERE_HANDLER}.",
        summaries(&all)
    );
    assert!(
        errors.len() == 1,
        "one failed request logged {} events at ERROR: {}.\n\
         Log a failure once, where it is handled. Logging it again at each step it \
         passes through makes one failure look like several. Look at {WHERE_HANDLER}.",
        errors.len(),
        summaries(&errors)
    );
    let body = own_fields(errors[0]).to_string();
    assert!(
        body.contains("insufficient funds"),
        "the ERROR event does not say why the request failed:\n  {}\n\
         The cause was \"payment declined: insufficient funds\" (the error's Display). \
         Whoever reads this at night needs it: put the error in a field of the event. \
         Look at {WHERE_HANDLER}.",
        clip(&errors[0].to_string(), 300)
    );
}

#[test]
fn a_payment_retried_after_a_timeout_logs_a_warning_and_no_error() {
    let deps = Deps::new();
    let (result, text) = logged(|| {
        place_order(&deps, order("req-r1", 13, FLAKY_CARD, &[("MONITOR", 1)]))
    });
    result.unwrap_or_else(|e| {
        panic!(
            "with the card {FLAKY_CARD} the first payment attempt times out and the \
             retry succeeds, but place_order returned {e}. Look at {WHERE_CHARGE}."
        )
    });
    let events = events(&text);
    let errors: Vec<&Value> = events.iter().filter(|e| level(e) == "ERROR").collect();
    assert!(
        errors.is_empty(),
        "the payment gateway timed out once and the retry went through: the order was \
         placed. Yet {} event(s) were logged at ERROR: {}.\n\
         ERROR says a request failed, and may wake someone up. A problem that was \
         recovered from is a WARN. Look at {WHERE_CHARGE}.",
        errors.len(),
        summaries(&errors)
    );
    let warnings: Vec<&Value> = events.iter().filter(|e| level(e) == "WARN").collect();
    assert!(
        !warnings.is_empty(),
        "the payment gateway timed out and the handler retried, but nothing was logged \
         at WARN. The events: {}.\n\
         A recovered problem is still worth a WARN: when timeouts become frequent, the \
         warnings show it before the failures do. Look at {WHERE_CHARGE}.",
        summaries(&events.iter().collect::<Vec<_>>())
    );
}

#[test]
fn no_card_number_or_email_appears_in_any_output() {
    let deps = Deps::new();
    let cards = [
        APPROVED,
        "5555 5555 5555 4444",
        DECLINED_CARD,
        FLAKY_CARD,
        "3782 822463 10005",
        "6011 1111 1111 1117",
    ];
    let requests = [
        order("req-p1", 21, cards[0], &[("KEYBOARD", 1)]),
        order("req-p2", 22, cards[1], &[("DOCK", 1), ("CABLE", 2)]),
        order("req-p3", 23, cards[2], &[("MOUSE", 1)]),
        order("req-p4", 24, cards[3], &[("MONITOR", 1)]),
        order("req-p5", 25, cards[4], &[("GIFT-CARD", 1)]),
        order("req-p6", 99_999, cards[5], &[("MOUSE", 1)]),
    ];
    let ((emails, results), text) = logged(|| async {
        let mut emails = Vec::new();
        for id in 21..=25 {
            emails.push(deps.users.load(id).await.expect("a known user").email);
        }
        let mut results = Vec::new();
        for req in requests {
            results.push(place_order(&deps, req).await);
        }
        (emails, results)
    });
    let mut secrets: Vec<(String, String)> = Vec::new();
    for card in cards {
        let digits: String = card.chars().filter(char::is_ascii_digit).collect();
        secrets.push((format!("the card number {card:?}"), card.to_string()));
        secrets.push((format!("the card number {card:?}"), digits.clone()));
        let leading = &digits[..digits.len() - 4];
        secrets.push((
            format!("the card number {card:?} (all but its last four digits)"),
            leading.to_string(),
        ));
    }
    for email in emails {
        secrets.push((format!("the email address {email:?}"), email));
    }
    let returned: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(c) => format!("{c:?}"),
            Err(e) => format!("{e} / {e:?}"),
        })
        .collect();
    let outputs = [
        ("the log", text),
        (
            "Metrics::render_prometheus",
            deps.metrics.render_prometheus(),
        ),
        (
            "what place_order returned (Display and Debug)",
            returned.join("\n"),
        ),
    ];
    for (place, output) in &outputs {
        for (what, secret) in &secrets {
            if let Some(at) = output.find(secret.as_str()) {
                panic!(
                    "{what} appears in {place}:\n  {}\n\
                     Logs are copied to many systems and kept for a long time; a card \
                     number or an email address must never reach them. A value logged \
                     with `?` prints its Debug, and a derived Debug prints every field, \
                     secrets included: give a secret's type a Debug that hides it, and \
                     identify a user by id. Look at {WHERE_HANDLER} and at the types in \
                     {WHERE_MODEL}.",
                    around(output, at, secret.len())
                );
            }
        }
    }
}

#[test]
fn metrics_count_every_request_and_every_error() {
    let deps = Deps::new();
    let mut requests = Vec::new();
    for i in 0..12 {
        requests.push(order(
            &format!("req-m{i}"),
            30 + i,
            APPROVED,
            &[("CABLE", 1)],
        ));
    }
    requests.push(order("req-m12", 50, DECLINED_CARD, &[("MOUSE", 1)]));
    requests.push(order("req-m13", 51, DECLINED_CARD, &[("MOUSE", 2)]));
    requests.push(order("req-m14", 52, DECLINED_CARD, &[("MOUSE", 3)]));
    requests.push(order("req-m15", 0, APPROVED, &[("MOUSE", 1)]));
    requests.push(order("req-m16", 20_000, APPROVED, &[("MOUSE", 1)]));
    requests.push(order("req-m17", 53, APPROVED, &[("GIFT-CARD", 1)]));
    requests.push(order("req-m18", 54, FLAKY_CARD, &[("DOCK", 1)]));
    requests.push(order("req-m19", 55, FLAKY_CARD, &[("DOCK", 2)]));
    let made = requests.len() as u64;
    let (outcomes, _) = logged(|| async {
        let mut outcomes = Vec::new();
        for req in requests {
            let started = Instant::now();
            let ok = place_order(&deps, req).await.is_ok();
            outcomes.push((ok, started.elapsed()));
        }
        outcomes
    });
    let failed = outcomes.iter().filter(|(ok, _)| !ok).count() as u64;
    let succeeded = made - failed;
    let snapshot = deps.metrics.snapshot();
    if snapshot.requests != made {
        let why = if snapshot.requests == 0 {
            "No request was recorded: place_order has to call Metrics::record once per \
             request, with how it ended and how long it took."
                .to_string()
        } else if snapshot.requests == succeeded {
            "Exactly the successful ones were counted: a failing step returns early \
             (`?`) and skips whatever comes after it. Record where every path passes."
                .to_string()
        } else {
            "Each request must be recorded exactly once.".to_string()
        };
        panic!(
            "after {made} calls to place_order ({succeeded} succeeded, {failed} failed), \
             the metrics counted {} requests. {why} Look at {WHERE_HANDLER}.",
            snapshot.requests
        );
    }
    assert!(
        snapshot.errors == failed,
        "after {made} requests of which {failed} failed (declined cards, unknown users, \
         an unknown SKU), the metrics counted {} errors. Errors divided by requests is the \
         E of RED: look at the outcome place_order records ({WHERE_HANDLER}) and at how \
         Metrics::record counts failures ({WHERE_METRICS}).",
        snapshot.errors
    );
    // The durations themselves: the median of what was recorded must be the
    // median of what the requests took (or their mean, which the percentile check
    // deals with); anything else means the wrong time was recorded.
    let mut micros: Vec<u64> =
        outcomes.iter().map(|(_, d)| d.as_micros() as u64).collect();
    micros.sort_unstable();
    let median = exact_percentile(&micros, 0.50);
    let mean = micros.iter().sum::<u64>() as f64 / micros.len() as f64;
    let seen = snapshot.p50.as_micros() as f64;
    let close = |want: f64| (seen - want).abs() <= want * 0.01;
    assert!(
        close(median) || close(mean),
        "the requests took {} ms at the median on tokio's paused clock, but the \
         metrics' p50 is {:.3} ms. Either the recorded durations are not what the \
         requests took (measure each request from start to end with \
         tokio::time::Instant and record that; look at {WHERE_HANDLER}), or the \
         histogram's buckets are too coarse to place the median within 1% (look at \
         {WHERE_METRICS}).",
        median / 1000.0,
        seen / 1000.0
    );
}

// ANCHOR: exact_percentile
/// The exact percentile by the nearest-rank definition: the smallest recorded
/// value that at least `q` of all values are less than or equal to.
fn exact_percentile(sorted: &[u64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}
// ANCHOR_END: exact_percentile

/// A latency in microseconds, shaped like a real service's: most requests near
/// 40 ms (log-normal), and 2% stuck behind a timeout of 0.3 to 2 s.
fn latency_micros(rng: &mut Rng) -> u64 {
    if rng.chance(2) {
        return 300_000 + rng.below(1_700_000);
    }
    let (u1, u2) = (1.0 - rng.unit(), rng.unit());
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (40_000.0 * (0.6 * normal).exp()) as u64
}

#[test]
fn percentiles_are_within_one_percent_of_the_exact_values() {
    let metrics = Metrics::new();
    let mut rng = Rng::new(6);
    let mut micros: Vec<u64> = (0..50_000).map(|_| latency_micros(&mut rng)).collect();
    for &m in &micros {
        metrics.record(Outcome::Success, Duration::from_micros(m));
    }
    micros.sort_unstable();
    let mean = micros.iter().sum::<u64>() as f64 / micros.len() as f64;
    let snapshot = metrics.snapshot();
    for (name, q, got) in [
        ("p50", 0.50, snapshot.p50),
        ("p95", 0.95, snapshot.p95),
        ("p99", 0.99, snapshot.p99),
    ] {
        let exact = exact_percentile(&micros, q);
        let got = got.as_micros() as f64;
        let off = (got - exact).abs() / exact;
        let is_mean = if (got - mean).abs() <= mean * 0.01 {
            " That is the mean of the durations: an average hides the slow requests, \
             and showing them is what p95 and p99 are for."
        } else {
            ""
        };
        assert!(
            off <= 0.01,
            "{name} should be {:.3} ms (exact, by sorting the 50,000 recorded \
             durations), saw {:.3} ms: {:.1}% off, and at most 1% is allowed.{is_mean}\n\
             The {name} is the duration that {}% of requests stay within. Keeping every \
             duration would give it exactly but grows without end; a histogram keeps \
             fixed memory and is accurate to 1% when each bucket is at most about 1% \
             as wide as the values it holds. Look at {WHERE_METRICS}.",
            exact / 1000.0,
            got / 1000.0,
            off * 100.0,
            q * 100.0
        );
    }
}

/// One sample line of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text exposition format (version 0.0.4): `# HELP` and
/// `# TYPE` comments, then samples `name{label="value",…} value [timestamp]`.
/// Every sample must belong to a family declared by a `# TYPE` line before it.
fn parse_exposition(
    text: &str,
) -> Result<(BTreeMap<String, String>, Vec<Sample>), String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    let bad = |n: usize, line: &str, why: &str| {
        format!(
            "line {n} of the exposition is not valid Prometheus text format ({why}):\n  {}\n\
             Each line is a `# HELP name text` or `# TYPE name kind` comment, or a sample \
             `name{{label=\"value\"}} number`.",
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
                        .any(|s| family(&s.name, &types) == Some(name.to_string()))
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
    Ok((types, samples))
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// The declared family a sample belongs to: its own name, or for histograms and
/// summaries the name without `_bucket`, `_sum` or `_count`.
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
            labels.insert(label.to_string(), value);
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

#[test]
fn the_prometheus_exposition_parses_and_matches_the_snapshot() {
    let metrics = Metrics::new();
    let mut rng = Rng::new(66);
    let mut errors = 0;
    let mut total_micros = 0;
    for i in 0..1_000 {
        let micros = latency_micros(&mut rng);
        total_micros += micros;
        let outcome = if i % 7 == 0 {
            errors += 1;
            Outcome::Failure
        } else {
            Outcome::Success
        };
        metrics.record(outcome, Duration::from_micros(micros));
    }
    let text = metrics.render_prometheus();
    let (types, samples) = parse_exposition(&text).unwrap_or_else(|why| {
        panic!(
            "{why}\nPrometheus reads exactly this format and skips the whole scrape when \
             a line is wrong. The format: \
             https://prometheus.io/docs/instrumenting/exposition_formats/ \
             Look at {WHERE_RENDER}."
        )
    });
    let kind_of = |name: &str| types.get(name).map(String::as_str);
    let one = |name: &str, labels: &[(&str, &str)]| -> f64 {
        let found: Vec<&Sample> = samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
            })
            .collect();
        assert!(
            found.len() == 1,
            "expected one sample {name}{labels:?} in the exposition, found {}. \
             The exposition:\n{}\nLook at {WHERE_RENDER}.",
            found.len(),
            clip(&text, 1_500)
        );
        found[0].value
    };
    let snapshot = metrics.snapshot();
    for (name, want, what) in [
        ("orders_requests_total", 1_000.0, "requests recorded"),
        (
            "orders_errors_total",
            f64::from(errors),
            "failures recorded",
        ),
    ] {
        assert!(
            kind_of(name) == Some("counter"),
            "expected `{name}` declared as a counter (`# TYPE {name} counter`), saw \
             {:?}. Look at {WHERE_RENDER}.",
            kind_of(name)
        );
        let seen = one(name, &[]);
        assert!(
            seen == want,
            "`{name}` is {seen}; {want} {what}. Look at \
             {WHERE_RENDER}."
        );
    }

    let histogram = "orders_duration_seconds";
    assert!(
        kind_of(histogram) == Some("histogram"),
        "expected `{histogram}` declared as a histogram, saw {:?}: Prometheus adds up \
         histograms from many instances and computes percentiles from their buckets. \
         Look at {WHERE_RENDER}.",
        kind_of(histogram)
    );
    let bucket_name = format!("{histogram}_bucket");
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.name == bucket_name)
        .map(|s| {
            let le = s.labels.get("le").map(String::as_str).unwrap_or("");
            let bound = match le {
                "+Inf" => f64::INFINITY,
                other => other.parse().unwrap_or_else(|_| {
                    panic!(
                        "a bucket of `{histogram}` has le={other:?}; `le` is the bucket's \
                         upper bound in seconds, a number or +Inf. Look at {WHERE_RENDER}."
                    )
                }),
            };
            (bound, s.value)
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(
        buckets.len() >= 3 && buckets.last().is_some_and(|b| b.0.is_infinite()),
        "`{histogram}` needs several `_bucket` samples with an `le` label, the last \
         with le=\"+Inf\"; saw {buckets:?}. Look at {WHERE_RENDER}."
    );
    assert!(
        buckets.windows(2).all(|w| w[0].1 <= w[1].1),
        "the buckets of `{histogram}` must be cumulative (each counts every request at \
         or under its bound, so the counts never decrease); saw {buckets:?}. \
         Look at {WHERE_RENDER}."
    );
    let count = one(&format!("{histogram}_count"), &[]);
    let infinite = buckets.last().expect("checked above").1;
    assert!(
        count == 1_000.0 && infinite == 1_000.0,
        "`{histogram}_count` and the le=\"+Inf\" bucket must both be the number of \
         requests, 1000; saw {count} and {infinite}. Look at {WHERE_RENDER}."
    );
    let sum = one(&format!("{histogram}_sum"), &[]);
    let want_sum = total_micros as f64 / 1e6;
    assert!(
        (sum - want_sum).abs() <= want_sum * 0.001,
        "`{histogram}_sum` is {sum}; the recorded durations add up to {want_sum} \
         seconds. Prometheus expects seconds. Look at {WHERE_RENDER}."
    );

    let summary = "orders_latency_seconds";
    assert!(
        kind_of(summary) == Some("summary"),
        "expected `{summary}` declared as a summary (p50, p95 and p99 as the quantiles \
         0.5, 0.95 and 0.99), saw {:?}. Look at {WHERE_RENDER}.",
        kind_of(summary)
    );
    for (quantile, want) in [
        ("0.5", snapshot.p50),
        ("0.95", snapshot.p95),
        ("0.99", snapshot.p99),
    ] {
        let seen = one(summary, &[("quantile", quantile)]);
        let want = want.as_secs_f64();
        assert!(
            (seen - want).abs() <= want * 0.001,
            "`{summary}{{quantile=\"{quantile}\"}}` is {seen}, but the snapshot says \
             {want} seconds. The exposition and the dashboard must agree, in seconds. \
             Look at {WHERE_RENDER}."
        );
    }
}
