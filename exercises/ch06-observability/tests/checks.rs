//! The checks for chapter 6. `cargo xtask check 6` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is exact. The logs are captured in memory through your
//! `log_subscriber` and parsed line by line; a second, recording subscriber
//! (`support::telemetry::Recorder`) sees every span and event at every level,
//! TRACE included, as an operator would after turning on DEBUG. tokio's clock
//! is paused, so a request takes precisely the time its services wait (40 ms
//! for a placed order), on any machine. Percentiles are compared with the
//! exact values, computed here by sorting the very durations that were
//! recorded; memory is counted by a counting allocator, not timed.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Once;
use std::task::Poll;
use std::time::Duration;

use ch06_observability::deps::{Catalog, DECLINED_CARD, FLAKY_CARD, UNREACHABLE_CARD};
use ch06_observability::{
    CardNumber, CartLine, Deps, Metrics, OrderError, OrderRequest, Outcome, User,
    log_subscriber, place_order,
};
use serde_json::Value;
use support::memory::{CountingAllocator, kept_by};
use support::rng::Rng;
use support::telemetry::{
    Capture, Exposition, Recorder, Recording, around, clip, field, json_lines, level,
    message, own_fields, parse_exposition, values_of,
};
use tokio::time::Instant;
use tracing::subscriber::with_default;
use tracing_subscriber::layer::SubscriberExt;

/// Every allocation of this test binary is counted, per thread, so that a
/// check can say how much memory recording a request keeps.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

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
/// Runs `work` on a tokio runtime whose clock is paused, with your subscriber
/// logging into memory (a `Capture`, which implements `MakeWriter`); returns
/// what `work` returned and everything logged.
fn logged<F: Future>(work: impl FnOnce() -> F) -> (F::Output, String) {
    let capture = Capture::default();
    let subscriber = log_subscriber(capture.clone());
    let output = with_default(subscriber, || paused_runtime().block_on(work()));
    (output, capture.text())
}
// ANCHOR_END: capture

/// Runs `work` on a paused runtime with a subscriber that records every span
/// and event at every level, TRACE included; your `log_subscriber` is not
/// involved.
fn recorded<F: Future>(work: impl FnOnce() -> F) -> (F::Output, Recording) {
    let recorder = Recorder::new();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let output = with_default(subscriber, || paused_runtime().block_on(work()));
    (output, recorder.recording())
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("build a tokio runtime")
}

/// Runs `work` on a paused runtime with no subscriber at all.
fn paused<F: Future>(work: impl FnOnce() -> F) -> F::Output {
    paused_runtime().block_on(work())
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

/// The captured lines as JSON objects; stops the check when one is not.
fn events(text: &str) -> Vec<Value> {
    json_lines(text).unwrap_or_else(|(n, line)| {
        panic!(
            "this check reads the log as JSON, and line {n} is not a JSON object:\n  \
             {}\nMake the first check pass first (logs are one JSON object per \
             line). Look at {WHERE_TELEMETRY}.",
            clip(&line, 100)
        )
    })
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

thread_local! {
    /// Set while this thread runs code whose panic the check explains itself;
    /// then holds where that panic happened.
    static CATCHING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `work`, turning a panic into `Err("message", at file:line)` without
/// the panic's own report on stderr: the check's explained message comes
/// first. Other threads' panics are reported as usual.
fn caught<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let quiet = CATCHING.with(|c| match c.borrow_mut().as_mut() {
                Some(at) => {
                    *at = info.location().map(|l| l.to_string()).unwrap_or_default();
                    true
                }
                None => false,
            });
            if !quiet {
                report(info);
            }
        }));
    });
    CATCHING.with(|c| *c.borrow_mut() = Some(String::new()));
    let out = catch_unwind(AssertUnwindSafe(work));
    let at = CATCHING.with(|c| c.borrow_mut().take()).unwrap_or_default();
    out.map_err(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(no message)".into());
        format!("{text:?}, at {at}")
    })
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", in_micros(d) / 1000.0)
}

/// A duration in microseconds at full (nanosecond) precision: a percentile of
/// 94.976 µs is 94.976, never truncated to 94.
fn in_micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1_000.0
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
    // Every path through the handler: placed, retried, declined, the gateway
    // down, an unknown user, an unknown product.
    let cases = [
        ("req-a1", 7, APPROVED, "KEYBOARD"),
        ("req-b2", 8, FLAKY_CARD, "MOUSE"),
        ("req-c3", 9, DECLINED_CARD, "MOUSE"),
        ("req-d4", 10, UNREACHABLE_CARD, "DOCK"),
        ("req-e5", 60_000, APPROVED, "MOUSE"),
        ("req-f6", 11, APPROVED, "GIFT-CARD"),
    ];
    for (request_id, user_id, card, sku) in cases {
        let (_, text) = logged(|| {
            place_order(&deps, order(request_id, user_id, card, &[(sku, 2)]))
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
        let charged: Vec<&Value> = events
            .iter()
            .filter(|e| {
                field(e, "amount_cents").and_then(Value::as_u64) == Some(*total)
            })
            .collect();
        assert!(
            !charged.is_empty(),
            "the payments client's \"charge approved\" event for {id} ({total} cents) \
             is not in the log at all: it was never written, whatever its fields. It \
             comes from another module than the handler (its target is \
             payments_client), at INFO: the subscriber's filter drops it (or the card \
             was never charged). Look at {WHERE_TELEMETRY}."
        );
        let found = charged
            .iter()
            .any(|e| values_of(e, "request_id").contains(id));
        assert!(
            found,
            "the payments client's \"charge approved\" event for {id} ({total} cents) \
             was not logged with request_id {id:?}. Events from code you call carry \
             the request's fields only if they are logged inside the request's span. \
             Look at {WHERE_HANDLER}."
        );
    }
}

/// The four steps, and how long each one's service waits for a placed order.
const STEPS: [(&str, u64); 4] = [
    ("load_user", 4),
    ("price_cart", 1),
    ("charge", 30),
    ("save", 5),
];

fn span_paths(seen: &Recording) -> String {
    let paths: Vec<String> = (0..seen.spans.len()).map(|i| seen.path(i)).collect();
    if paths.is_empty() {
        "none".into()
    } else {
        paths.join(", ")
    }
}

#[test]
fn each_step_runs_in_its_own_span_inside_the_request_span() {
    let deps = Deps::new();
    let (result, seen) =
        recorded(|| place_order(&deps, order("req-s1", 42, APPROVED, &[("DOCK", 1)])));
    result.unwrap_or_else(|e| {
        panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}.")
    });
    assert!(
        !seen.spans.is_empty(),
        "place_order opened no span. Expected one span for the request, with the \
         fields request_id and user_id, and inside it one span per step: load_user, \
         price_cart, charge and save. A span gives every event inside it its fields, \
         and times the work it covers. Look at {WHERE_HANDLER}."
    );
    let roots: Vec<usize> = (0..seen.spans.len())
        .filter(|&i| seen.spans[i].parent.is_none())
        .collect();
    assert!(
        roots.len() == 1,
        "expected one span at the top, the request's, with every other span inside \
         it; saw {} spans at the top. The spans: {}. Look at {WHERE_HANDLER}.",
        roots.len(),
        span_paths(&seen)
    );
    let root = &seen.spans[roots[0]];
    for (key, want) in [("request_id", "req-s1"), ("user_id", "42")] {
        assert!(
            root.fields.get(key).map(|v| v.trim_matches('"')) == Some(want),
            "the request's span `{}` has the fields {:?}; expected {key} = {want:?} \
             among them. Look at {WHERE_HANDLER}.",
            root.name,
            root.fields
        );
    }
    for (step, waits_ms) in STEPS {
        let Some(i) = (0..seen.spans.len()).find(|&i| {
            seen.spans[i].name == step && seen.root_of(i) == roots[0] && i != roots[0]
        }) else {
            panic!(
                "no span named `{step}` inside the request's span. The spans: {}. \
                 Each step gets a span of its own, so that a slow or failing request \
                 shows which step it was in. Look at {WHERE_HANDLER}.",
                span_paths(&seen)
            );
        };
        let span = &seen.spans[i];
        let lived = span
            .closed
            .map(|closed| closed.saturating_duration_since(span.opened));
        let waits = Duration::from_millis(waits_ms);
        assert!(
            lived.is_some_and(|d| d >= waits),
            "the span `{step}` was open for {} on tokio's paused clock, but the step's \
             service alone waits {waits_ms} ms: the span does not cover the step's work. \
             A span measures the time between its start and its end; the work inside \
             an async step happens while its future is awaited, and the span has to be \
             current for all of it, not only while the future is created. \
             Look at {WHERE_HANDLER}.",
            lived.map_or("(never closed)".to_string(), ms),
        );
    }
    let approval = seen
        .events
        .iter()
        .find(|e| e.target == "payments_client")
        .expect("the payments client logs each approved charge");
    let innermost = approval.spans.last().map(|&i| seen.spans[i].name);
    assert!(
        innermost == Some("charge"),
        "the payments client's \"charge approved\" event was logged in {}; expected \
         inside the `charge` span: the span does not cover the step's work. The work \
         of an async step happens while its future is awaited, and the span has to be \
         current then, not only while the future is created. Look at {WHERE_CHARGE}.",
        seen.event_path(approval)
    );
}

#[test]
fn step_spans_hold_their_own_requests_events_when_requests_interleave() {
    let deps = Deps::new();
    // 12 requests, one starting every 7 ms: while one waits on the payment
    // gateway (30 ms, or 100 ms more on a timeout) the next ones load, price
    // and charge, so every step of one request overlaps steps of others.
    let n = 12u32;
    let owner_of: BTreeMap<u64, String> = (1..=n)
        .map(|i| (total_of(&[("CABLE", i)]), format!("req-i{i:02}")))
        .collect();
    let (results, seen) = recorded(|| {
        join_all((1..=n).map(|i| {
            let deps = &deps;
            async move {
                tokio::time::sleep(Duration::from_millis(7 * u64::from(i))).await;
                let card = if i % 4 == 0 { FLAKY_CARD } else { APPROVED };
                let req =
                    order(&format!("req-i{i:02}"), u64::from(i), card, &[("CABLE", i)]);
                place_order(deps, req).await
            }
        }))
    });
    for result in results {
        result.unwrap_or_else(|e| {
            panic!("a valid order failed: {e}. Look at {WHERE_HANDLER}.")
        });
    }
    // Each request's span: the outermost span carrying its request_id.
    let request_of = |span: usize| -> Option<String> {
        let root = seen.root_of(span);
        seen.spans[root]
            .fields
            .get("request_id")
            .map(|v| v.trim_matches('"').to_string())
    };
    let approvals: Vec<_> = seen
        .events
        .iter()
        .filter(|e| e.target == "payments_client")
        .collect();
    assert!(
        approvals.len() == n as usize,
        "expected one \"charge approved\" event from the payments client per request, \
         {n}; saw {}. Look at {WHERE_HANDLER}.",
        approvals.len()
    );
    for event in approvals {
        let amount: u64 = event
            .fields
            .get("amount_cents")
            .and_then(|a| a.parse().ok())
            .expect("the payments client logs amount_cents");
        let owner = &owner_of[&amount];
        let innermost = event.spans.last().map(|&i| seen.spans[i].name);
        let request = event.spans.first().and_then(|&i| request_of(i));
        assert!(
            innermost.is_some(),
            "the payments client's event for {owner}'s charge was logged in no span at \
             all. Make the check on step spans pass first: each request gets a span, \
             each step a span inside it. Look at {WHERE_HANDLER}."
        );
        assert!(
            innermost == Some("charge") && request.as_deref() == Some(owner.as_str()),
            "while {n} requests interleaved, the payments client's event for {owner}'s \
             charge ({amount} cents) was logged in {}; expected inside the `charge` \
             span of {owner}'s request span. The charge step's span was not the \
             current span while its own payment call ran: a span entered in an async \
             function (or left before the `.await`) is current on the thread, not on \
             the step, and while the step waits, other requests run under it. \
             Look at {WHERE_CHARGE}.",
            seen.event_path(event)
        );
    }
    // And each request has exactly one span of each step, inside its own.
    for owner in owner_of.values() {
        for (step, _) in STEPS {
            let count = (0..seen.spans.len())
                .filter(|&i| seen.spans[i].name == step)
                .filter(|&i| request_of(i).as_deref() == Some(owner.as_str()))
                .count();
            assert!(
                count == 1,
                "while {n} requests interleaved, {owner}'s request span held {count} \
                 `{step}` spans; expected exactly one. A step span was opened inside \
                 another request's span: the span current on the thread when a step \
                 starts belonged to a request that was waiting. The spans: {}. \
                 Look at {WHERE_HANDLER}.",
                clip(&span_paths(&seen), 600)
            );
        }
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

/// Whose fault a request's failure is, as the checks expect it to be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// The request could not be served as made (a 4xx over HTTP).
    Client,
    /// The service failed a valid request (a 5xx).
    Server,
}

/// One row of the fault matrix: a request, what it must return, whose fault
/// that is, and how many charge attempts it takes.
struct Case {
    what: &'static str,
    user_id: u64,
    card: &'static str,
    lines: &'static [(&'static str, u32)],
    returns: fn(&Result<ch06_observability::OrderConfirmation, OrderError>) -> bool,
    expected: &'static str,
    fault: Fault,
    attempts: u64,
}

/// Every error each service can return, alone and combined with the others
/// (the first failing step decides), plus the two ways to succeed.
fn fault_matrix() -> Vec<Case> {
    vec![
        Case {
            what: "a placed order",
            user_id: 7,
            card: APPROVED,
            lines: &[("KEYBOARD", 1)],
            returns: |r| r.is_ok(),
            expected: "Ok",
            fault: Fault::None,
            attempts: 1,
        },
        Case {
            what: "an empty cart (0 cents)",
            user_id: 7,
            card: APPROVED,
            lines: &[],
            returns: |r| r.is_ok(),
            expected: "Ok",
            fault: Fault::None,
            attempts: 1,
        },
        Case {
            what: "a payment retried after a timeout",
            user_id: 8,
            card: FLAKY_CARD,
            lines: &[("MOUSE", 1)],
            returns: |r| r.is_ok(),
            expected: "Ok",
            fault: Fault::None,
            attempts: 2,
        },
        Case {
            what: "a declined card",
            user_id: 9,
            card: DECLINED_CARD,
            lines: &[("MOUSE", 1)],
            returns: |r| matches!(r, Err(OrderError::PaymentDeclined(_))),
            expected: "Err(PaymentDeclined)",
            fault: Fault::Client,
            attempts: 1,
        },
        Case {
            what: "an unknown user (id 0)",
            user_id: 0,
            card: APPROVED,
            lines: &[("MOUSE", 1)],
            returns: |r| matches!(r, Err(OrderError::UnknownUser(0))),
            expected: "Err(UnknownUser(0))",
            fault: Fault::Client,
            attempts: 0,
        },
        Case {
            what: "an unknown user (id u64::MAX) with a card the gateway cannot reach",
            user_id: u64::MAX,
            card: UNREACHABLE_CARD,
            lines: &[("MOUSE", 1)],
            returns: |r| matches!(r, Err(OrderError::UnknownUser(u64::MAX))),
            expected: "Err(UnknownUser)",
            fault: Fault::Client,
            attempts: 0,
        },
        Case {
            what: "an unknown product",
            user_id: 10,
            card: APPROVED,
            lines: &[("KEYBOARD", 1), ("GIFT-CARD", 1)],
            returns: |r| matches!(r, Err(OrderError::UnknownSku(s)) if s == "GIFT-CARD"),
            expected: "Err(UnknownSku(\"GIFT-CARD\"))",
            fault: Fault::Client,
            attempts: 0,
        },
        Case {
            what: "an unknown product (lower case) with a declined card",
            user_id: 11,
            card: DECLINED_CARD,
            lines: &[("mouse", 1)],
            returns: |r| matches!(r, Err(OrderError::UnknownSku(s)) if s == "mouse"),
            expected: "Err(UnknownSku(\"mouse\"))",
            fault: Fault::Client,
            attempts: 0,
        },
        Case {
            what: "a payment gateway that does not answer, even after a retry",
            user_id: 12,
            card: UNREACHABLE_CARD,
            lines: &[("DOCK", 1)],
            returns: |r| matches!(r, Err(OrderError::PaymentUnavailable)),
            expected: "Err(PaymentUnavailable)",
            fault: Fault::Server,
            attempts: 2,
        },
        Case {
            what: "a payment gateway that does not answer, for user 10,000",
            user_id: 10_000,
            card: UNREACHABLE_CARD,
            lines: &[("CABLE", 3), ("MONITOR", 1)],
            returns: |r| matches!(r, Err(OrderError::PaymentUnavailable)),
            expected: "Err(PaymentUnavailable)",
            fault: Fault::Server,
            attempts: 2,
        },
    ]
}

/// Places one order of the matrix on fresh services, logging through your
/// subscriber; checks what it returned and how often it charged.
fn run_case(case: &Case, n: usize) -> (Deps, Vec<Value>, OrderError) {
    let deps = Deps::new();
    let request_id = format!("req-f{n}");
    let (result, text) = logged(|| {
        place_order(
            &deps,
            order(&request_id, case.user_id, case.card, case.lines),
        )
    });
    assert!(
        (case.returns)(&result),
        "for {}, place_order should return {} and returned {result:?}. Logging and \
         metrics must not change what the handler does. Look at {WHERE_HANDLER}.",
        case.what,
        case.expected
    );
    let attempts = deps.payments.attempts();
    assert!(
        attempts == case.attempts,
        "for {}, the payments client was called {attempts} time(s); expected {}. The \
         handler retries a timed-out charge once, and charges nothing for a request \
         that failed before the charge step. Logging and metrics must not change \
         which calls the handler makes. Look at {WHERE_CHARGE}.",
        case.what,
        case.attempts
    );
    let error = result.err().unwrap_or(OrderError::PaymentUnavailable);
    (deps, events(&text), error)
}

/// The text of the event's `error` field, if it has one.
fn error_text(event: &Value) -> Option<String> {
    field(event, "error").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The events that carry a field named `error`.
fn with_error_field(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| field(e, "error").is_some())
        .collect()
}

#[test]
fn a_failure_of_the_service_logs_one_error_with_its_cause_in_a_field() {
    let case = &fault_matrix()[8];
    let (_, events, error) = run_case(case, 0);
    let cause = error.to_string();
    let all: Vec<&Value> = events.iter().collect();
    let errors: Vec<&Value> = events.iter().filter(|e| level(e) == "ERROR").collect();
    assert!(
        !errors.is_empty(),
        "the payment gateway did not answer, even after a retry: the service failed \
         a valid request, and nothing was logged at ERROR. The events: {}.\n\
         ERROR is the level that says the service failed: error dashboards and \
         alerts count it. Look at {WHERE_HANDLER}.",
        summaries(&all)
    );
    assert!(
        errors.len() == 1,
        "one failed request logged {} events at ERROR: {}.\n\
         Log a failure once, where its outcome is known. Logging it again at each step \
         it passes through makes one failure look like several. Look at {WHERE_HANDLER}.",
        errors.len(),
        summaries(&errors)
    );
    let event = errors[0];
    let in_field = error_text(event).unwrap_or_default();
    if !in_field.contains(&cause) {
        let in_message = message(event).contains(&cause)
            || own_fields(event).to_string().contains(&cause);
        let why = if let Some(held) = error_text(event) {
            format!(
                "The `error` field holds {held:?}: that is not the error's Display (a \
                 `?` records its Debug, the variant's name, where `%` records the \
                 sentence a person reads)."
            )
        } else if in_message {
            "The cause is there, but not in a field named `error`: formatted into the \
             message, it makes every failure a different message (nothing can count \
             them), and a query cannot ask for the error by name."
                .to_string()
        } else {
            "The cause is missing: whoever reads this at night needs to know why."
                .to_string()
        };
        panic!(
            "the ERROR event does not carry the cause in its `error` field:\n  {}\n\
             expected a field `error` holding {cause:?} (the error's Display). {why} \
             Look at {WHERE_HANDLER}.",
            clip(&event.to_string(), 300)
        );
    }
    assert!(
        !message(event).contains(&cause),
        "the ERROR event has the cause in its `error` field and also in its message \
         {:?}. Keep the message the same for every failure of a kind, so that a query \
         can count them; the field says why. Look at {WHERE_HANDLER}.",
        message(event)
    );
}

#[test]
fn every_kind_of_failure_is_logged_once_at_the_level_its_cause_deserves() {
    for (n, case) in fault_matrix().iter().enumerate() {
        let (_, events, error) = run_case(case, n);
        let all: Vec<&Value> = events.iter().collect();
        let errors: Vec<&Value> =
            events.iter().filter(|e| level(e) == "ERROR").collect();
        let carrying = with_error_field(&events);
        match case.fault {
            Fault::None => assert!(
                errors.is_empty(),
                "{} succeeded, yet it logged events at ERROR: {}.\nNothing failed, \
                 so nothing should say it did. Look at {WHERE_HANDLER}.",
                case.what,
                summaries(&errors)
            ),
            Fault::Client => {
                assert!(
                    errors.is_empty(),
                    "{} was logged at ERROR: {}.\nThe service did its job: it refused \
                     a request it could not serve, as an HTTP service answers 4xx. \
                     ERROR pages whoever is on call and feeds the error-rate alert; a \
                     customer's typo or an empty bank account must not do that. Log \
                     it below ERROR, with its cause. Look at {WHERE_HANDLER}.",
                    case.what,
                    summaries(&errors)
                );
                let cause = error.to_string();
                let found: Vec<&&Value> = carrying
                    .iter()
                    .filter(|e| error_text(e).is_some_and(|t| t.contains(&cause)))
                    .collect();
                assert!(
                    found.len() == 1,
                    "{} should be logged once with its cause, {cause:?}, in a field \
                     named `error`; {} event(s) did that. The events: {}. Look at \
                     {WHERE_HANDLER}.",
                    case.what,
                    found.len(),
                    summaries(&all)
                );
                assert!(
                    carrying.len() == 1,
                    "{} was logged {} times with a field named `error`: {}.\nOne \
                     refused request is one failure, and a query that counts refusals \
                     by their `error` field counts every one of these events. Log it \
                     once, where the request's outcome is known, not also in the step \
                     that found it. Look at {WHERE_HANDLER}.",
                    case.what,
                    carrying.len(),
                    summaries(&carrying)
                );
                let at = level(found[0]);
                assert!(
                    at == "INFO" || at == "WARN",
                    "{} was logged at {at}; a refused request is INFO or WARN: it \
                     must reach the logs by default. Look at {WHERE_HANDLER}.",
                    case.what
                );
            }
            Fault::Server => {
                let cause = error.to_string();
                let good = errors.len() == 1
                    && error_text(errors[0]).is_some_and(|t| t.contains(&cause));
                assert!(
                    good,
                    "{} must be logged once at ERROR with its cause, {cause:?}, in a \
                     field named `error`; the events at ERROR: {}. The service failed \
                     a valid request: that is what ERROR and the error rate are for. \
                     Look at {WHERE_HANDLER}.",
                    case.what,
                    summaries(&errors)
                );
            }
        }
        // The same kind of failure again, for another request: same message.
        if case.fault != Fault::None {
            let outcome_message = |events: &[Value]| {
                with_error_field(events)
                    .iter()
                    .filter(|e| {
                        error_text(e).is_some_and(|t| t.contains(&error.to_string()))
                    })
                    .map(|e| message(e).to_string())
                    .next_back()
            };
            let (_, again, _) = run_case(case, n + 100);
            let (first, second) = (outcome_message(&events), outcome_message(&again));
            assert!(
                first == second,
                "{} logged its failure with the message {first:?} for the request \
                 req-f{n}, and {second:?} for req-f{}: the message changes from one \
                 failure to the next. Keep the message the same for every failure of \
                 a kind, so that a query can find and count them; what varies (ids, \
                 amounts, the cause) goes in fields. Look at {WHERE_HANDLER}.",
                case.what,
                n + 100
            );
        }
    }
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

/// Cards whose digits look like no other number in the logs: for these, any
/// run of five or more of their digits in a row, with or without separators,
/// counts as a leak.
const DISTINCT_CARDS: [&str; 3] = [
    "4929 3817 5064 2273",
    "5312-6648-0957-1186",
    "371449635398431",
];

/// Every card the secret checks use: the distinctive ones, then the ones the
/// payments service treats specially.
fn secret_cards() -> Vec<&'static str> {
    let mut cards = DISTINCT_CARDS.to_vec();
    cards.extend([APPROVED, DECLINED_CARD, FLAKY_CARD, UNREACHABLE_CARD]);
    cards
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The forms a card number can leak in: as typed, digits only, and all but
/// its last four digits (as typed and digits only): a mask over the wrong end.
fn card_forms(card: &str) -> Vec<(String, String)> {
    let digits = digits_of(card);
    let cut = card
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .nth(digits.len() - 4)
        .map_or(0, |(i, _)| i);
    let typed_head = card[..cut].trim_end_matches([' ', '-']).to_string();
    vec![
        (format!("the card number {card:?}"), card.to_string()),
        (
            format!("the card number {card:?} (its digits)"),
            digits.clone(),
        ),
        (
            format!("the card number {card:?} (all but its last four digits)"),
            typed_head,
        ),
        (
            format!("the card number {card:?} (all but its last four digits)"),
            digits[..digits.len() - 4].to_string(),
        ),
    ]
}

/// The orders the secret checks place: every path, each with its own card.
fn secret_orders() -> Vec<OrderRequest> {
    let mut orders = Vec::new();
    for (i, card) in secret_cards().into_iter().enumerate() {
        let user = 21 + i as u64;
        orders.push(order(&format!("req-p{i}"), user, card, &[("KEYBOARD", 1)]));
    }
    orders.push(order("req-q1", 28, DISTINCT_CARDS[0], &[("GIFT-CARD", 1)]));
    orders.push(order("req-q2", 99_999, DISTINCT_CARDS[1], &[("MOUSE", 1)]));
    orders.push(order(
        "req-q3",
        29,
        DISTINCT_CARDS[2],
        &[("DOCK", 2), ("CABLE", 1)],
    ));
    orders
}

/// The email addresses of the users the secret orders name, and their local
/// parts: both are leaks, in any case.
fn email_forms(deps: &Deps) -> Vec<(String, String)> {
    let mut forms = Vec::new();
    for id in 21..=29 {
        let user: User = paused(|| deps.users.load(id)).expect("a known user");
        let local = user.email.split('@').next().unwrap_or("").to_string();
        forms.push((
            format!("the email address {:?}", user.email),
            user.email.clone(),
        ));
        forms.push((
            format!("the email address {:?} (its local part)", user.email),
            local,
        ));
    }
    forms
}

/// The first secret found in `output`: what it is, and the text around it.
fn find_secret(output: &str, secrets: &[(String, String)]) -> Option<(String, String)> {
    let lower = output.to_lowercase();
    secrets.iter().find_map(|(what, secret)| {
        let at = lower.find(&secret.to_lowercase())?;
        Some((what.clone(), around(output, at, secret.len())))
    })
}

/// A run of five or more digits of a distinctive card in `text`, digits
/// joined across single spaces or dashes.
fn card_digits_in(text: &str) -> Option<(&'static str, String)> {
    let mut runs: Vec<String> = vec![String::new()];
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let joins = (c == ' ' || c == '-')
            && i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() {
            runs.last_mut().expect("one run").push(c);
        } else if !joins {
            runs.push(String::new());
        }
    }
    for run in runs.iter().filter(|r| r.len() >= 5) {
        for card in DISTINCT_CARDS {
            let digits = digits_of(card);
            let leaked = (0..=run.len() - 5).any(|i| digits.contains(&run[i..i + 5]));
            if leaked {
                return Some((card, run.clone()));
            }
        }
    }
    None
}

const SECRETS_ADVICE: &str = "Logs are copied to many systems and kept for a long \
    time; a card number or an email address must never reach them, at any level: \
    DEBUG is turned on in production precisely when something is wrong. A value \
    logged with `?` prints its Debug, and a derived Debug prints every field, \
    secrets included: give a secret's type a Debug that hides it, and identify a \
    user by id.";

#[test]
fn no_card_number_or_email_appears_in_any_output() {
    let deps = Deps::new();
    let mut secrets: Vec<(String, String)> =
        secret_cards().into_iter().flat_map(card_forms).collect();
    secrets.extend(email_forms(&deps));
    let (results, text) = logged(|| async {
        let mut results = Vec::new();
        for req in secret_orders() {
            results.push(place_order(&deps, req).await);
        }
        results
    });
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
        if let Some((what, context)) = find_secret(output, &secrets) {
            panic!(
                "{what} appears in {place}:\n  {context}\n{SECRETS_ADVICE} Look at \
                 {WHERE_HANDLER} and at the types in {WHERE_MODEL}."
            );
        }
    }
}

#[test]
fn no_card_number_or_email_reaches_any_level_or_span_field() {
    let deps = Deps::new();
    let mut secrets: Vec<(String, String)> =
        secret_cards().into_iter().flat_map(card_forms).collect();
    secrets.extend(email_forms(&deps));
    let (_, seen) = recorded(|| async {
        for req in secret_orders() {
            let _ = place_order(&deps, req).await;
        }
    });
    for (place, text) in seen.texts() {
        let found = find_secret(&text, &secrets).or_else(|| {
            card_digits_in(&text).map(|(card, run)| {
                (
                    format!("the digits {run} of the card number {card:?}"),
                    clip(&text, 200),
                )
            })
        });
        if let Some((what, context)) = found {
            panic!(
                "{what} was recorded in {place}:\n  {context}\nThis check records every \
                 span and event at every level, TRACE included, with every span field: \
                 what an operator sees after turning on DEBUG. {SECRETS_ADVICE} Look \
                 at {WHERE_HANDLER} and at the types in {WHERE_MODEL}."
            );
        }
    }
}

#[test]
fn a_card_number_shows_at_most_its_last_four_digits() {
    for card in secret_cards() {
        let digits = digits_of(card);
        let last_four = CardNumber::new(card).last_four();
        assert!(
            digits.ends_with(&last_four) && last_four.len() == 4,
            "CardNumber::new({card:?}).last_four() is {last_four:?}; receipts and \
             support rely on it being the last four digits, {:?}. Look at {WHERE_MODEL}.",
            &digits[digits.len() - 4..]
        );
        let shown = format!("{:?}", CardNumber::new(card));
        let shown_digits = digits_of(&shown);
        assert!(
            shown_digits.len() <= 4 && digits.ends_with(&shown_digits),
            "format!(\"{{:?}}\", CardNumber::new({card:?})) is {shown:?}: it shows the \
             digits {shown_digits}, and at most the last four ({}) may be shown. The \
             last four are what a receipt and a support agent need; any other digit \
             narrows down a number someone could pay with. Look at CardNumber's Debug \
             in {WHERE_MODEL}.",
            &digits[digits.len() - 4..]
        );
        let request = format!("{:?}", order("req-x", 21, card, &[("MOUSE", 1)]));
        if let Some((what, context)) = find_secret(&request, &card_forms(card)) {
            panic!(
                "{what} appears in the Debug of an OrderRequest:\n  {context}\n\
                 {SECRETS_ADVICE} Look at {WHERE_MODEL}."
            );
        }
    }
}

#[test]
fn a_users_debug_shows_no_email_address() {
    let user = User {
        id: 5,
        name: "Customer 5".into(),
        email: "customer5@example.com".into(),
    };
    let shown = format!("{user:?}");
    assert!(
        !shown.to_lowercase().contains("customer5"),
        "format!(\"{{:?}}\", user) is {shown:?}: it shows the email address. \
         {SECRETS_ADVICE} Look at User's Debug in {WHERE_MODEL}."
    );
}

#[test]
fn metrics_count_every_request_and_every_error_by_whose_fault_it_is() {
    for (n, case) in fault_matrix().iter().enumerate() {
        let (deps, _, _) = run_case(case, n);
        let s = deps.metrics.snapshot();
        if s.requests != 1 {
            let why = if s.requests == 0 && case.fault == Fault::None {
                "No request was recorded: place_order has to call Metrics::record once \
                 per request, with how it ended and how long it took."
            } else if s.requests == 0 {
                "A failing step returns early (`?`) and skips whatever comes after it: \
                 record where every path passes."
            } else {
                "Each request must be recorded exactly once."
            };
            panic!(
                "after one request ({}), the metrics counted {} requests. {why} Look at \
                 {WHERE_HANDLER}.",
                case.what, s.requests
            );
        }
        let (want_errors, want_client) = match case.fault {
            Fault::None => (0, 0),
            Fault::Client => (0, 1),
            Fault::Server => (1, 0),
        };
        let why = match case.fault {
            Fault::None => "it succeeded: nothing failed.",
            Fault::Client => {
                "the request could not be served as it was made, which is a client error \
                 (a 4xx over HTTP). The error rate, RED's E, is what alerts watch: it \
                 counts the requests the service failed, and a refused request is not \
                 one; count it as a client error."
            }
            Fault::Server => {
                "the service failed a valid request: that is a server error (a 5xx), the \
                 E of RED."
            }
        };
        assert!(
            s.errors == want_errors && s.client_errors == want_client,
            "after one request ({}), the metrics counted errors = {} and client_errors \
             = {}; expected {want_errors} and {want_client}: {why} Look at the outcome \
             place_order records ({WHERE_HANDLER}) and at how Metrics::record counts \
             it ({WHERE_METRICS}).",
            case.what,
            s.errors,
            s.client_errors
        );
    }
    // All of them on one set of services: the recorded durations must be
    // what the requests took.
    let deps = Deps::new();
    let (outcomes, _) = logged(|| async {
        let mut outcomes = Vec::new();
        for (n, case) in fault_matrix().iter().enumerate() {
            let req = order(&format!("req-m{n}"), case.user_id, case.card, case.lines);
            let started = Instant::now();
            let _ = place_order(&deps, req).await;
            outcomes.push(started.elapsed());
        }
        outcomes
    });
    let s = deps.metrics.snapshot();
    assert!(
        s.requests == outcomes.len() as u64,
        "after {} requests on one set of services, the metrics counted {}. Look at \
         {WHERE_HANDLER}.",
        outcomes.len(),
        s.requests
    );
    let mut nanos: Vec<u64> = outcomes
        .iter()
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .collect();
    nanos.sort_unstable();
    let median = exact_percentile(&nanos, 0.50) / 1_000.0;
    let seen = in_micros(s.p50);
    assert!(
        (seen - median).abs() <= median * 0.01,
        "the requests took {} ms at the median on tokio's paused clock, but the \
         metrics' p50 is {:.3} ms. Either the recorded durations are not what the \
         requests took (measure each request from start to end with \
         tokio::time::Instant and record that; look at {WHERE_HANDLER}), or the \
         percentile is not the median of the recorded durations (look at \
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

/// Records every duration with `outcome` into `metrics`; a panic becomes an
/// explained failure naming the duration.
fn record_all(metrics: &Metrics, outcome: Outcome, durations: &[Duration]) {
    for &d in durations {
        if let Err(why) = caught(|| metrics.record(outcome, d)) {
            panic!(
                "Metrics::record panicked on a duration of {d:?}: {why}\nA duration can \
                 be anything up to Duration::MAX (a clock jump, a request stuck for a \
                 day); the metrics must count it, not crash the service. Look at \
                 {WHERE_METRICS}."
            );
        }
    }
}

/// The snapshot; a panic becomes an explained failure.
fn snapshot_of(metrics: &Metrics) -> ch06_observability::MetricsSnapshot {
    caught(|| metrics.snapshot()).unwrap_or_else(|why| {
        panic!("Metrics::snapshot panicked: {why}\nLook at {WHERE_METRICS}.")
    })
}

/// Checks p50, p95 and p99 of `snapshot` against the exact values of
/// `micros` (sorted), within 1%.
fn assert_percentiles(
    snapshot: &ch06_observability::MetricsSnapshot,
    micros: &[u64],
    context: &str,
    hint: &str,
) {
    let mean = micros.iter().sum::<u64>() as f64 / micros.len() as f64;
    for (name, q, got) in [
        ("p50", 0.50, snapshot.p50),
        ("p95", 0.95, snapshot.p95),
        ("p99", 0.99, snapshot.p99),
    ] {
        let exact = exact_percentile(micros, q);
        let got = in_micros(got);
        let off = (got - exact).abs() / exact;
        // The value one rank below (the rank rounded down instead of up).
        let below = micros
            [((q * micros.len() as f64).floor() as usize).clamp(1, micros.len()) - 1]
            as f64;
        let is_floor = if below != exact && (got - below).abs() <= below * 0.01 {
            " That is the duration one place below in sorted order: the rank (the share \
             times the number of requests) was rounded down, where the percentile is \
             the smallest duration that at least that share of the requests stay within."
        } else {
            ""
        };
        let is_mean = if (got - mean).abs() <= mean * 0.01 {
            " That is the mean of the durations: an average hides the slow requests, \
             and showing them is what p95 and p99 are for."
        } else {
            ""
        };
        assert!(
            off <= 0.01,
            "{context}: {name} should be {:.3} ms (exact, by sorting the {} recorded \
             durations), saw {:.3} ms: {:.1}% off, and at most 1% is allowed.{is_mean}{is_floor}\n\
             {hint} Look at {WHERE_METRICS}.",
            exact / 1000.0,
            micros.len(),
            got / 1000.0,
            off * 100.0
        );
    }
}

#[test]
fn percentiles_are_within_one_percent_of_the_exact_values() {
    let mut rng = Rng::new(6);
    let mut micros: Vec<u64> = (0..50_000).map(|_| latency_micros(&mut rng)).collect();
    // The edges: the shortest durations, and an hour.
    micros.extend([1, 1, 2, 3_600_000_000]);
    let recorded = micros.clone();
    let durations: Vec<Duration> =
        micros.iter().map(|&m| Duration::from_micros(m)).collect();
    let snapshot = paused(|| async {
        let metrics = Metrics::new();
        record_all(&metrics, Outcome::Success, &durations);
        snapshot_of(&metrics)
    });
    micros.sort_unstable();
    // Short ones: a hundred requests of 1 to 100 µs (a cache hit).
    let tiny: Vec<u64> = (1..=100).rev().collect();
    let tiny_snapshot = paused(|| async {
        let metrics = Metrics::new();
        let durations: Vec<Duration> =
            tiny.iter().map(|&m| Duration::from_micros(m)).collect();
        record_all(&metrics, Outcome::Success, &durations);
        snapshot_of(&metrics)
    });
    let mut tiny_sorted = tiny.clone();
    tiny_sorted.sort_unstable();
    assert_percentiles(
        &tiny_snapshot,
        &tiny_sorted,
        "after 100 requests of 1 to 100 µs",
        "Short durations need buckets as fine as long ones, relative to their size.",
    );
    // A rank that is not a whole number, with a gap between its neighbours:
    // of 150 requests, p99 is the 149th (148.5 rounded up).
    let mut gap = vec![44_000u64; 148];
    gap.extend([1_500_000, 1_500_000]);
    let gap_snapshot = paused(|| async {
        let metrics = Metrics::new();
        let durations: Vec<Duration> =
            gap.iter().map(|&m| Duration::from_micros(m)).collect();
        record_all(&metrics, Outcome::Success, &durations);
        snapshot_of(&metrics)
    });
    assert_percentiles(
        &gap_snapshot,
        &gap,
        "after 148 requests of 44 ms and 2 of 1.5 s",
        "A percentile is a duration that was recorded: the smallest one that at least \
         that share of the requests stay within.",
    );
    // Long ones: between 37 minutes and an hour, still within 1%.
    let long: Vec<u64> = (0..100).map(|i| 2_220_000_000 + i * 13_790_000).collect();
    let long_snapshot = paused(|| async {
        let metrics = Metrics::new();
        let durations: Vec<Duration> =
            long.iter().map(|&m| Duration::from_micros(m)).collect();
        record_all(&metrics, Outcome::Success, &durations);
        snapshot_of(&metrics)
    });
    assert_percentiles(
        &long_snapshot,
        &long,
        "after 100 requests of 37 to 60 minutes",
        "The module asks for 1% from 1 µs up to an hour: the fine buckets must reach \
         an hour, not stop short of it.",
    );
    // The percentiles of only the latest requests (a fixed number of them)
    // would be exact for those: say so rather than blame the buckets.
    let latest = [
        100, 128, 256, 500, 512, 1_000, 1_024, 2_000, 2_048, 4_000, 4_096,
    ]
    .into_iter()
    .chain([5_000, 8_000, 8_192, 10_000, 16_384, 20_000, 32_768])
    .find(|&n| {
        let mut last: Vec<u64> = recorded[recorded.len() - n..].to_vec();
        last.sort_unstable();
        [(0.95, snapshot.p95), (0.99, snapshot.p99)]
            .iter()
            .all(|&(q, got)| {
                let exact = exact_percentile(&last, q);
                (in_micros(got) - exact).abs() <= exact * 0.001
            })
            && exact_percentile(&last, 0.95) != exact_percentile(&micros, 0.95)
    });
    let hint = match latest {
        Some(n) => format!(
            "Those are the exact percentiles of the last {n} requests only: a fixed \
             number of requests is a few seconds of a busy service and hours of a \
             quiet one. The percentiles cover every request of the last minute, \
             however many there were."
        ),
        None => "The percentile is the duration that that share of requests stay \
                 within. Keeping every duration would give it exactly but grows without \
                 end; a histogram keeps fixed memory and is accurate to 1% when each \
                 bucket is at most about 1% as wide as the values it holds."
            .to_string(),
    };
    assert_percentiles(&snapshot, &micros, "after 50,004 requests", &hint);
}

#[test]
fn percentiles_include_failed_requests() {
    // 80 placed orders at 40 ms, 15 refused requests at 300 ms, 5 failures at
    // 2 s: p95 is a refused request, p99 a failure.
    let groups = [
        (Outcome::Success, 80, 40_000u64),
        (Outcome::ClientError, 15, 300_000),
        (Outcome::ServerError, 5, 2_000_000),
    ];
    let snapshot = paused(|| async {
        let metrics = Metrics::new();
        for (outcome, n, micros) in groups {
            record_all(&metrics, outcome, &vec![Duration::from_micros(micros); n]);
        }
        snapshot_of(&metrics)
    });
    let mut micros: Vec<u64> = groups
        .iter()
        .flat_map(|&(_, n, m)| std::iter::repeat_n(m, n))
        .collect();
    micros.sort_unstable();
    assert_percentiles(
        &snapshot,
        &micros,
        "after 80 placed orders (40 ms), 15 client errors (300 ms) and 5 server errors \
         (2 s)",
        "The duration of every request counts, whatever its outcome: a request that \
         failed after a 2 s timeout is exactly what p99 is for, and leaving failures out \
         makes a failing service look fast.",
    );
}

#[test]
fn durations_beyond_the_histograms_range_are_counted_without_panicking() {
    // 97 requests of 40 ms, then three that no histogram expects: two hours, a
    // year, and Duration::MAX. The exact p99 is a year.
    let year = Duration::from_secs(365 * 24 * 3600);
    let mut durations = vec![Duration::from_millis(40); 97];
    durations.extend([Duration::from_secs(7_200), year]);
    let (snapshot, sums, text) = paused(|| async {
        let metrics = Metrics::new();
        record_all(&metrics, Outcome::Success, &durations);
        let before = render_of(&metrics);
        record_all(&metrics, Outcome::ServerError, &[Duration::MAX]);
        let after = render_of(&metrics);
        let sum = |text: &str| {
            parse_exposition(text).ok().and_then(|e| {
                e.find("orders_duration_seconds_sum", &[])
                    .first()
                    .map(|s| s.value)
            })
        };
        (snapshot_of(&metrics), (sum(&before), sum(&after)), after)
    });
    assert!(
        snapshot.requests == 100,
        "after 100 requests, three of them longer than an hour, the metrics counted \
         {}. Look at {WHERE_METRICS}.",
        snapshot.requests
    );
    assert!(
        (in_micros(snapshot.p50) - 40_000.0).abs() <= 400.0,
        "after 97 requests of 40 ms and three very long ones, p50 is {}; expected \
         40 ms within 1%. If the check that percentiles are within one percent of the \
         exact values fails too, start there. Look at {WHERE_METRICS}.",
        ms(snapshot.p50)
    );
    assert!(
        snapshot.p99 >= Duration::from_secs(3_600),
        "after 97 requests of 40 ms, one of 2 hours, one of a year and one of \
         Duration::MAX, p99 is {:?}; the exact p99 is a year, and the module asks for \
         never less than an hour there. Durations beyond the histogram's range were \
         counted as shorter than they were (put in its last bucket, or cut to a \
         smaller type): a p99 that hides the requests stuck for hours. Count them in \
         a bucket of their own above the range and remember the longest one. Look at \
         {WHERE_METRICS}.",
        snapshot.p99
    );
    if let (Some(before), Some(after)) = sums {
        assert!(
            after >= before,
            "orders_duration_seconds_sum went from {before} to {after} seconds when a \
             request of Duration::MAX was recorded: the sum wrapped around. A sum that \
             goes down makes Prometheus think the process restarted. Add with \
             saturation (or in a wider type). Look at {WHERE_METRICS}."
        );
    } else {
        parse_exposition(&text).unwrap_or_else(|why| {
            panic!(
                "{why}\nAfter three very long durations the exposition no longer \
                 parses. Look at {WHERE_RENDER}."
            )
        });
    }
}

/// The exposition; a panic becomes an explained failure.
fn render_of(metrics: &Metrics) -> String {
    caught(|| metrics.render_prometheus()).unwrap_or_else(|why| {
        panic!("Metrics::render_prometheus panicked: {why}\nLook at {WHERE_RENDER}.")
    })
}

// ANCHOR: window
#[test]
fn the_percentiles_cover_the_last_minute_only() {
    paused(|| async {
        let metrics = Metrics::new();
        // A bad moment: 1,000 requests of 2 s. Then, 30 s later, 1,000 of 40 ms.
        record_all(&metrics, Outcome::Success, &[Duration::from_secs(2); 1_000]);
        tokio::time::advance(Duration::from_secs(30)).await;
        record_all(
            &metrics,
            Outcome::Success,
            &[Duration::from_millis(40); 1_000],
        );
        // ANCHOR_END: window
        let s = snapshot_of(&metrics);
        assert!(
            (in_micros(s.p50) - 40_000.0).abs() <= 400.0,
            "after 1,000 requests of 2 s and, 30 s later, 1,000 of 40 ms, p50 is {}; \
             the exact median is 40 ms. The percentiles are off before the window \
             even matters: make the check that they are within one percent of the \
             exact values pass first. Look at {WHERE_METRICS}.",
            ms(s.p50)
        );
        for at in [30, 49] {
            let s = snapshot_of(&metrics);
            assert!(
                s.p99 >= Duration::from_millis(1_980),
                "{at} s after 1,000 requests of 2 s (and {} s after 1,000 of 40 ms), \
                 p99 is {}; expected 2 s: requests of the last 50 seconds must count. \
                 The window is shorter than a minute, or the clock is not tokio's \
                 (the checks advance tokio's paused clock; std's does not move). Look \
                 at {WHERE_METRICS}.",
                at - 30,
                ms(s.p99)
            );
            tokio::time::advance(Duration::from_secs(19)).await;
        }
        // Now 68 s after the slow requests, 38 s after the fast ones.
        let s = snapshot_of(&metrics);
        assert!(
            s.p99 <= Duration::from_micros(40_400),
            "68 s after 1,000 requests of 2 s, and with only requests of 40 ms since, \
             p99 is still {}: requests older than a minute still count. Either the \
             percentiles cover everything since the start (after a week of good \
             traffic a bad hour would hardly move them), or a part of the window \
             stops counting only when a new request is recorded into it, so parts \
             older than a minute are still read when no request came since. The \
             dashboard asks for the last minute: nothing older than 60 s, whether or \
             not requests keep coming. Look at {WHERE_METRICS}.",
            ms(s.p99)
        );
        record_all(
            &metrics,
            Outcome::Success,
            &[Duration::from_millis(100); 50],
        );
        let s = snapshot_of(&metrics);
        assert!(
            (in_micros(s.p99) - 100_000.0).abs() <= 1_000.0,
            "after 1,000 requests of 40 ms and, 38 s later, 50 of 100 ms (with 1,000 of \
             2 s more than a minute before), p99 is {}; expected 100 ms. A part of the \
             window that was reused for new requests still held the old ones. Look at \
             {WHERE_METRICS}.",
            ms(s.p99)
        );
        tokio::time::advance(Duration::from_secs(200)).await;
        let s = snapshot_of(&metrics);
        assert!(
            s.p50.is_zero() && s.p99.is_zero(),
            "200 s after the last request, p50 is {} and p99 {}; with no request in \
             the last minute they are zero. Look at {WHERE_METRICS}.",
            ms(s.p50),
            ms(s.p99)
        );
        assert!(
            s.requests == 2_050,
            "2,050 requests were recorded, and the request counter says {}. Counters \
             count since the start, whatever the window: Prometheus computes rates \
             from them. Look at {WHERE_METRICS}.",
            s.requests
        );
    });
}

#[test]
fn the_window_slides_second_by_second_rather_than_starting_over() {
    paused(|| async {
        let metrics = Metrics::new();
        // One fast request at the start, then 100 of 2 s at 50 s.
        record_all(&metrics, Outcome::Success, &[Duration::from_millis(40)]);
        tokio::time::advance(Duration::from_secs(50)).await;
        record_all(&metrics, Outcome::Success, &[Duration::from_secs(2); 100]);
        let mut now = 50;
        for at in [59, 61, 66, 75, 99] {
            tokio::time::advance(Duration::from_secs(at - now)).await;
            now = at;
            let s = snapshot_of(&metrics);
            assert!(
                s.p50 >= Duration::from_millis(1_980),
                "{at} s after the metrics were made, {} s after 100 requests of 2 s \
                 (and with one of 40 ms at the start), p50 is {}; expected 2 s: \
                 requests of the last 50 seconds must count. The window was emptied \
                 all at once (when a new minute began, or at a turn of the clock) \
                 instead of letting go of its oldest requests only. Look at \
                 {WHERE_METRICS}.",
                at - 50,
                ms(s.p50)
            );
        }
        for at in [111, 116, 125] {
            tokio::time::advance(Duration::from_secs(at - now)).await;
            now = at;
            let s = snapshot_of(&metrics);
            assert!(
                s.p50.is_zero() && s.p99.is_zero(),
                "{} s after 100 requests of 2 s, and with no request since, p50 is {} \
                 and p99 {}; expected zero: nothing older than 60 s counts. Either \
                 the window reaches further back than a minute at some moments \
                 (count how many seconds of requests it holds at its longest, just \
                 before its oldest part goes), or an old part stops counting only \
                 when a new request is recorded into it. Look at {WHERE_METRICS}.",
                at - 50,
                ms(s.p50),
                ms(s.p99)
            );
        }
    });
}

/// `THREADS` threads record `ROUNDS` times `EACH` requests into `metrics`,
/// released together by a barrier before each round (threads merely started
/// together may run one after another and never meet); a quarter of them
/// server errors, a quarter client errors. Returns how many were recorded.
fn record_from_threads_at_once(metrics: &Metrics) -> u64 {
    const THREADS: u64 = 16;
    const ROUNDS: u64 = 500;
    const EACH: u64 = 40;
    let barrier = std::sync::Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let barrier = &barrier;
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    barrier.wait();
                    for k in 0..EACH {
                        let i = round * EACH + k;
                        let outcome = match (i + t) % 4 {
                            0 => Outcome::ServerError,
                            1 => Outcome::ClientError,
                            _ => Outcome::Success,
                        };
                        metrics.record(outcome, Duration::from_millis(40));
                    }
                }
            });
        }
    });
    THREADS * ROUNDS * EACH
}

#[test]
fn counts_stay_exact_when_several_threads_record_at_once() {
    // Lost updates need two threads inside the same few instructions at the
    // same moment, which a busy machine makes rarer: several attempts, each
    // with fresh threads that a barrier releases together round after round,
    // and the check stops at the first attempt that loses a count.
    const ATTEMPTS: u64 = 4;
    let metrics = Metrics::new();
    let mut want = 0;
    for _ in 0..ATTEMPTS {
        want += record_from_threads_at_once(&metrics);
        if snapshot_of(&metrics).requests != want {
            break;
        }
    }
    let s = snapshot_of(&metrics);
    for (what, seen, expected) in [
        ("requests", s.requests, want),
        ("server errors", s.errors, want / 4),
        ("client errors", s.client_errors, want / 4),
    ] {
        assert!(
            seen == expected,
            "Sixteen threads, recording at the same time, sent {want} requests ({} server \
             errors, {} client errors), and the metrics counted {seen} {what}: updates \
             were lost. Two threads that read a count, add one and write it back \
             can both write the same number; each increase must be one indivisible \
             step. Look at {WHERE_METRICS}.",
            want / 4,
            want / 4
        );
    }
    let e = exposition_of(&render_of(&metrics));
    let count = e
        .find("orders_duration_seconds_count", &[])
        .first()
        .map(|s| s.value);
    assert!(
        count == Some(want as f64),
        "Sixteen threads, recording at the same time, sent {want} requests, and \
         orders_duration_seconds_count is {count:?}: updates were lost. Each increase \
         must be one indivisible step. Look at {WHERE_METRICS}."
    );
}

#[test]
fn metrics_memory_stays_fixed_however_many_requests_are_recorded() {
    let mut rng = Rng::new(606);
    let durations: Vec<Duration> = (0..210_000)
        .map(|_| Duration::from_micros(latency_micros(&mut rng)))
        .collect();
    let (warm, measured) = durations.split_at(10_000);
    let kept = paused(|| async {
        let metrics = Metrics::new();
        // Two minutes of traffic first, so that whatever is made once exists.
        for chunk in warm.chunks(100) {
            record_all(&metrics, Outcome::Success, chunk);
            tokio::time::advance(Duration::from_millis(1_200)).await;
        }
        let _ = snapshot_of(&metrics);
        // Then 200,000 requests over 40 minutes more.
        let before = support::memory::live_bytes();
        for (i, chunk) in measured.chunks(100).enumerate() {
            record_all(&metrics, Outcome::Success, chunk);
            tokio::time::advance(Duration::from_millis(1_200)).await;
            if i % 100 == 0 {
                let _ = snapshot_of(&metrics);
            }
        }
        support::memory::live_bytes() - before
    });
    assert!(
        kept <= 64 * 1024,
        "recording 200,000 more requests (over 40 minutes of tokio's clock) kept {kept} \
         more bytes of memory, {:.1} bytes a request: the metrics grow with traffic \
         (or with time), and a busy service would run out of memory. Count durations in \
         a fixed set of buckets, and reuse the window's parts instead of adding new \
         ones. Look at {WHERE_METRICS}.",
        kept as f64 / 200_000.0
    );
    // The allocator itself: a Vec of every duration would have shown.
    let (_, probe) = kept_by(|| vec![0u64; 1_000]);
    assert!(
        probe >= 8_000,
        "the counting allocator is not counting ({probe} bytes)"
    );
}

/// The exposition, parsed; an invalid one stops the check with the reason.
fn exposition_of(text: &str) -> Exposition {
    parse_exposition(text).unwrap_or_else(|why| {
        panic!(
            "{why}\nPrometheus reads exactly this format and skips the whole scrape when \
             a line is wrong. The format: \
             https://prometheus.io/docs/instrumenting/exposition_formats/ \
             Look at {WHERE_RENDER}."
        )
    })
}

/// The value of the one sample `name{labels}`.
fn one(e: &Exposition, text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = e.find(name, labels);
    assert!(
        found.len() == 1,
        "expected one sample {name}{labels:?} in the exposition, found {}. \
         The exposition:\n{}\nLook at {WHERE_RENDER}.",
        found.len(),
        clip(text, 1_500)
    );
    found[0].value
}

/// The histogram's buckets as (upper bound in seconds, cumulative count),
/// sorted by bound.
fn buckets_of(e: &Exposition, histogram: &str) -> Vec<(f64, f64)> {
    let bucket_name = format!("{histogram}_bucket");
    let mut buckets: Vec<(f64, f64)> = e
        .samples
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
    buckets
}

#[test]
fn the_prometheus_exposition_parses_and_matches_the_snapshot() {
    let mut rng = Rng::new(66);
    let (mut errors, mut client_errors, mut total_micros) = (0, 0, 0);
    let (text, snapshot) = paused(|| async {
        let metrics = Metrics::new();
        for i in 0..1_000 {
            let micros = latency_micros(&mut rng);
            total_micros += micros;
            let outcome = if i % 7 == 0 {
                errors += 1;
                Outcome::ServerError
            } else if i % 5 == 0 {
                client_errors += 1;
                Outcome::ClientError
            } else {
                Outcome::Success
            };
            record_all(&metrics, outcome, &[Duration::from_micros(micros)]);
        }
        (render_of(&metrics), snapshot_of(&metrics))
    });
    let e = exposition_of(&text);
    for (name, want, what) in [
        ("orders_requests_total", 1_000.0, "requests recorded"),
        (
            "orders_errors_total",
            f64::from(errors),
            "server errors recorded",
        ),
        (
            "orders_client_errors_total",
            f64::from(client_errors),
            "client errors recorded",
        ),
    ] {
        assert!(
            e.kind_of(name) == Some("counter"),
            "expected `{name}` declared as a counter (`# TYPE {name} counter`), saw \
             {:?}. Look at {WHERE_RENDER}.",
            e.kind_of(name)
        );
        let seen = one(&e, &text, name, &[]);
        assert!(
            seen == want,
            "`{name}` is {seen}; {want} {what}. Look at {WHERE_RENDER}."
        );
    }

    let histogram = "orders_duration_seconds";
    assert!(
        e.kind_of(histogram) == Some("histogram"),
        "expected `{histogram}` declared as a histogram, saw {:?}: Prometheus adds up \
         histograms from many instances and computes percentiles from their buckets. \
         Look at {WHERE_RENDER}.",
        e.kind_of(histogram)
    );
    let buckets = buckets_of(&e, histogram);
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
    let count = one(&e, &text, &format!("{histogram}_count"), &[]);
    let infinite = buckets.last().expect("checked above").1;
    assert!(
        count == 1_000.0 && infinite == 1_000.0,
        "`{histogram}_count` and the le=\"+Inf\" bucket must both be the number of \
         requests, 1000; saw {count} and {infinite}. Look at {WHERE_RENDER}."
    );
    let sum = one(&e, &text, &format!("{histogram}_sum"), &[]);
    let want_sum = total_micros as f64 / 1e6;
    assert!(
        (sum - want_sum).abs() <= want_sum * 0.001,
        "`{histogram}_sum` is {sum}; the recorded durations add up to {want_sum} \
         seconds.{} Look at {WHERE_RENDER}.",
        if (sum / 1000.0 - want_sum).abs() <= want_sum * 0.001
            || (sum * 1000.0 - want_sum).abs() <= want_sum * 0.001
        {
            " That is the sum in another unit: Prometheus expects seconds."
        } else {
            " The sum is the durations themselves added up, every one since the \
             start: not worked out from the buckets (that is only an estimate), nor \
             over a window."
        }
    );

    let summary = "orders_latency_seconds";
    assert!(
        e.kind_of(summary) == Some("summary"),
        "expected `{summary}` declared as a summary (p50, p95 and p99 as the quantiles \
         0.5, 0.95 and 0.99), saw {:?}. Look at {WHERE_RENDER}.",
        e.kind_of(summary)
    );
    for (quantile, want) in [
        ("0.5", snapshot.p50),
        ("0.95", snapshot.p95),
        ("0.99", snapshot.p99),
    ] {
        let seen = one(&e, &text, summary, &[("quantile", quantile)]);
        let want = want.as_secs_f64();
        assert!(
            (seen - want).abs() <= want * 0.001,
            "`{summary}{{quantile=\"{quantile}\"}}` is {seen}, but the snapshot says \
             {want} seconds. The exposition and the dashboard must agree, in seconds. \
             Look at {WHERE_RENDER}."
        );
    }
}

/// Durations across six orders of magnitude, none of them on a round bound.
const SPREAD_MICROS: [u64; 21] = [
    370,
    2_300,
    4_100,
    7_700,
    13_100,
    21_300,
    33_700,
    47_900,
    71_300,
    123_700,
    211_100,
    333_300,
    611_700,
    917_300,
    1_537_000,
    3_071_000,
    7_013_000,
    12_347_000,
    41_300_000,
    101_700_000,
    1_003_300_000,
];

#[test]
fn the_histogram_buckets_are_in_seconds_and_their_number_stays_fixed() {
    // The i-th duration i + 1 times, so that every bucket count differs.
    let durations: Vec<Duration> = SPREAD_MICROS
        .iter()
        .enumerate()
        .flat_map(|(i, &m)| std::iter::repeat_n(Duration::from_micros(m), i + 1))
        .collect();
    let (first, all) = paused(|| async {
        let metrics = Metrics::new();
        record_all(&metrics, Outcome::Success, &durations[..10]);
        let first = render_of(&metrics);
        record_all(&metrics, Outcome::Success, &durations[10..]);
        (first, render_of(&metrics))
    });
    let (e_first, e) = (exposition_of(&first), exposition_of(&all));
    let histogram = "orders_duration_seconds";
    let buckets = buckets_of(&e, histogram);
    let n = durations.len();
    assert!(
        e_first.samples.len() == e.samples.len(),
        "the exposition had {} samples after 10 requests and {} after {n}: each sample \
         is a time series that Prometheus stores, per instance, for as long as it \
         keeps data. The number of series must not grow with traffic (one per distinct \
         duration, or per id, does). Look at {WHERE_RENDER}.",
        e_first.samples.len(),
        e.samples.len()
    );
    assert!(
        buckets.len() <= 40,
        "`{histogram}` has {} buckets; each one is a series of its own in Prometheus, \
         multiplied by every instance and every label value. A dozen or two bounds \
         around the durations that matter (the usual latency, the target, the \
         timeouts) are enough for histogram_quantile; precise percentiles are the \
         summary's job. Look at {WHERE_RENDER}.",
        buckets.len()
    );
    let at_most = |seconds: f64| {
        durations
            .iter()
            .filter(|d| d.as_secs_f64() <= seconds)
            .count() as f64
    };
    for &(bound, count) in buckets.iter().filter(|b| b.0.is_finite()) {
        let want = at_most(bound);
        if count != want {
            let unit = if count == at_most(bound / 1000.0) {
                " The count fits a bound in milliseconds: `le` is in seconds, as every \
                 Prometheus duration is (the metric's name says so)."
            } else {
                ""
            };
            panic!(
                "the bucket le=\"{bound}\" of `{histogram}` counts {count} requests, but \
                 {want} of the {n} recorded took at most {bound} seconds.{unit} Look at \
                 {WHERE_RENDER} and at how Metrics::record counts ({WHERE_METRICS})."
            );
        }
    }
    let finite: Vec<f64> = buckets
        .iter()
        .map(|b| b.0)
        .filter(|b| b.is_finite())
        .collect();
    assert!(
        finite.iter().any(|&b| b <= 0.05) && finite.iter().any(|&b| b >= 1.0),
        "the bounds of `{histogram}` are {finite:?} seconds. An order takes about 40 ms \
         and a slow one seconds: a bucket bound at or under 50 ms and one at or over \
         1 s at least, or histogram_quantile cannot tell a normal request from a slow \
         one. Look at {WHERE_RENDER}."
    );
}

#[test]
fn the_exposed_histogram_counts_since_the_start_while_the_summary_slides() {
    let (before, after) = paused(|| async {
        let metrics = Metrics::new();
        record_all(
            &metrics,
            Outcome::Success,
            &[Duration::from_millis(40); 100],
        );
        let before = render_of(&metrics);
        // Two minutes later, one more request: the summary's window has let go
        // of the first 100, the histogram must not.
        tokio::time::advance(Duration::from_secs(120)).await;
        record_all(&metrics, Outcome::Success, &[Duration::from_millis(40)]);
        (before, render_of(&metrics))
    });
    let (e_before, e) = (exposition_of(&before), exposition_of(&after));
    let histogram = "orders_duration_seconds";
    let requests = one(&e, &after, "orders_requests_total", &[]);
    let count = one(&e, &after, &format!("{histogram}_count"), &[]);
    let sum = one(&e, &after, &format!("{histogram}_sum"), &[]);
    let sum_before = one(&e_before, &before, &format!("{histogram}_sum"), &[]);
    let (buckets_before, buckets) =
        (buckets_of(&e_before, histogram), buckets_of(&e, histogram));
    let went_down = buckets_before
        .iter()
        .zip(&buckets)
        .any(|(b, a)| a.0 == b.0 && a.1 < b.1);
    assert!(
        count == 101.0 && requests == 101.0 && sum >= sum_before && !went_down,
        "100 requests of 40 ms, then 120 s later one more: `{histogram}_count` is \
         {count} (orders_requests_total {requests}), `{histogram}_sum` went from \
         {sum_before} to {sum}, and the buckets went from {buckets_before:?} to \
         {buckets:?}. The exposed histogram covers a window, like the summary: its \
         counts go down when the window slides, which Prometheus reads as a restart \
         of the process. A histogram's buckets, _sum and _count are counters: they \
         count since the start, and Prometheus computes the window itself (`rate` \
         over the range the query asks for). Only the summary's quantiles slide. \
         Look at {WHERE_RENDER} and {WHERE_METRICS}."
    );
}

/// `seconds` as written in a bucket's `le` ("0.005"), as an exact Duration
/// (no rounding through binary floating point).
fn bound_duration(seconds: &str) -> Option<Duration> {
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    if fraction.len() > 9
        || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
    Some(Duration::new(whole.parse().ok()?, nanos))
}

#[test]
fn a_duration_exactly_on_a_bucket_bound_counts_in_that_bucket() {
    let histogram = "orders_duration_seconds";
    let empty = paused(|| async { render_of(&Metrics::new()) });
    let e = exposition_of(&empty);
    let bounds: Vec<(String, Duration)> = e
        .samples
        .iter()
        .filter(|s| s.name == format!("{histogram}_bucket"))
        .filter_map(|s| s.labels.get("le"))
        .filter_map(|le| bound_duration(le).map(|d| (le.clone(), d)))
        .collect();
    let durations: Vec<Duration> = bounds.iter().map(|b| b.1).collect();
    let text = paused(|| async {
        let metrics = Metrics::new();
        record_all(&metrics, Outcome::Success, &durations);
        render_of(&metrics)
    });
    let e = exposition_of(&text);
    for (le, bound) in &bounds {
        let want = durations.iter().filter(|d| *d <= bound).count() as f64;
        let seen = one(&e, &text, &format!("{histogram}_bucket"), &[("le", le)]);
        assert!(
            seen == want,
            "one request was recorded at exactly each bucket bound ({durations:?}), and \
             the bucket le=\"{le}\" counts {seen}; {want} of them took at most {le} \
             seconds. `le` means less than or equal: a request of exactly {le} s \
             belongs in that bucket, not only in the next one. Look at how \
             Metrics::record picks a bucket ({WHERE_METRICS})."
        );
    }
}
