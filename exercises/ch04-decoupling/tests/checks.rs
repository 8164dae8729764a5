//! The checks for chapter 4. `cargo xtask check 4` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count, or a time on tokio's paused clock, so it is the
//! same on every machine:
//! - the email provider below is a fake that can fail in every way the
//!   [`EmailService`] trait allows (each error, a call that never answers, a slow
//!   success, a success that arrives after the caller gave up), alone and mixed,
//!   on a script the check chooses; it counts every call, every call given up
//!   on, and every email it accepted, per idempotency key and per recipient;
//! - its latencies are tokio sleeps under paused time (`start_paused = true`):
//!   "an hour of outage" is exact, and takes well under a second;
//! - jitter comes from a seeded generator the check passes in;
//! - the database is a real SQLite file, which the check also opens itself.
//!
//! The provider is defined here, not taken from `src/`, so that nothing the
//! checks rely on can change under them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch04_decoupling::email::welcome_email;
use ch04_decoupling::{
    Breaker, BreakerError, BreakerPolicy, Email, EmailError, EmailService, Policy,
    Service,
};
use support::rng::Rng;
use tokio::task::JoinHandle;
use tokio::time::Instant;

const SERVICE: &str = "exercises/ch04-decoupling/src/service.rs";
const BREAKER: &str = "exercises/ch04-decoupling/src/breaker.rs";
const POLICY: &str = "exercises/ch04-decoupling/src/policy.rs";
const EVENTS: &str = "exercises/ch04-decoupling/src/events.rs";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3_600);

/// How long a healthy provider takes to answer in these checks.
const FAST: Duration = Duration::from_millis(20);

// ANCHOR: provider
/// What the fake provider does with one call.
#[derive(Clone, Debug)]
enum Act {
    /// Accepts the email (sends it, unless its key was accepted before) at
    /// once, and answers `Ok` after this long: late, if the caller gave up.
    Deliver(Duration),
    /// Answers this error after this long; sends nothing.
    Fail(EmailError, Duration),
    /// Never answers; sends nothing.
    Hang,
    /// Accepts the email, then never answers.
    DeliverThenHang,
}

/// One call, as the script sees it when it decides what to do.
struct Call {
    /// 0 for the first call the provider ever received.
    n: usize,
    to: String,
    /// How many calls with this key came before this one.
    earlier_with_key: usize,
    /// Time since the provider was created.
    at: Duration,
}

/// One call, as the provider remembers it.
#[derive(Clone, Debug)]
struct Record {
    key: String,
    to: String,
    started: Duration,
    /// When it answered; `None` while it is in flight, or if it never did.
    answered: Option<Duration>,
    act: Act,
}

type Script = Box<dyn FnMut(&Call) -> Act + Send>;

/// A fake email provider on a script, which remembers everything.
struct Provider {
    start: Instant,
    script: Mutex<Script>,
    calls: Mutex<Vec<Record>>,
    /// The emails it accepted, by idempotency key (a second send with the same
    /// key sends nothing).
    accepted: Mutex<HashMap<String, Email>>,
    /// Calls whose caller stopped waiting before they answered.
    abandoned: AtomicU64,
}
// ANCHOR_END: provider

impl Provider {
    fn new(script: impl FnMut(&Call) -> Act + Send + 'static) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            script: Mutex::new(Box::new(script)),
            calls: Mutex::new(Vec::new()),
            accepted: Mutex::new(HashMap::new()),
            abandoned: AtomicU64::new(0),
        })
    }

    fn healthy() -> Arc<Self> {
        Self::new(|_| Act::Deliver(FAST))
    }

    fn now(&self) -> Duration {
        Instant::now() - self.start
    }

    fn calls(&self) -> Vec<Record> {
        self.calls.lock().unwrap().clone()
    }

    fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    fn calls_to(&self, to: &str) -> Vec<Record> {
        self.calls().into_iter().filter(|c| c.to == to).collect()
    }

    /// The emails `to` received: one per distinct key accepted for it.
    fn received(&self, to: &str) -> Vec<Email> {
        let accepted = self.accepted.lock().unwrap();
        let mut keys: Vec<&String> = accepted
            .iter()
            .filter(|(_, e)| e.to == to)
            .map(|(k, _)| k)
            .collect();
        keys.sort();
        keys.into_iter().map(|k| accepted[k].clone()).collect()
    }

    /// Everyone who has received at least one email.
    fn recipients(&self) -> std::collections::HashSet<String> {
        let accepted = self.accepted.lock().unwrap();
        accepted.values().map(|e| e.to.clone()).collect()
    }

    fn keys_for(&self, to: &str) -> Vec<String> {
        let mut keys: Vec<String> =
            self.calls_to(to).into_iter().map(|c| c.key).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    fn accept(&self, key: &str, email: &Email) {
        self.accepted
            .lock()
            .unwrap()
            .entry(key.to_string())
            .or_insert_with(|| email.clone());
    }
}

/// Counts a call as abandoned if it is dropped before it answers.
struct InFlight<'a> {
    provider: &'a Provider,
    index: usize,
    answered: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.provider.abandoned.fetch_add(1, Ordering::SeqCst);
        } else {
            let at = self.provider.now();
            self.provider.calls.lock().unwrap()[self.index].answered = Some(at);
        }
    }
}

impl EmailService for Provider {
    async fn send(&self, key: String, email: Email) -> Result<(), EmailError> {
        let (index, act) = {
            let mut calls = self.calls.lock().unwrap();
            let call = Call {
                n: calls.len(),
                to: email.to.clone(),
                earlier_with_key: calls.iter().filter(|c| c.key == key).count(),
                at: self.now(),
            };
            let act = (self.script.lock().unwrap())(&call);
            calls.push(Record {
                key: key.clone(),
                to: email.to.clone(),
                started: call.at,
                answered: None,
                act: act.clone(),
            });
            (calls.len() - 1, act)
        };
        let mut flight = InFlight {
            provider: self,
            index,
            answered: false,
        };
        // A call across a network always yields at least once.
        tokio::task::yield_now().await;
        let result = match act {
            Act::Deliver(after) => {
                self.accept(&key, &email);
                tokio::time::sleep(after).await;
                Ok(())
            }
            Act::Fail(error, after) => {
                tokio::time::sleep(after).await;
                Err(error)
            }
            Act::Hang => std::future::pending().await,
            Act::DeliverThenHang => {
                self.accept(&key, &email);
                std::future::pending().await
            }
        };
        flight.answered = true;
        result
    }
}

/// A provider that is really down: errors (quick and slow) and calls that
/// never answer, none of them accepted.
fn down_faults(n: usize) -> Act {
    match n % 4 {
        0 => Act::Fail(EmailError::Unavailable, FAST),
        1 => Act::Hang,
        2 => Act::Fail(
            EmailError::RateLimited {
                retry_after: secs(5),
            },
            FAST,
        ),
        _ => Act::Fail(EmailError::Unavailable, secs(1)),
    }
}

/// Every way the provider can fail during an outage, in turn: the trait's
/// errors (quick and slow), a call that never answers, and calls that are
/// accepted although the caller cannot know it (a late success, or no answer).
fn outage_faults(n: usize) -> Act {
    match n % 7 {
        0 => Act::Fail(EmailError::Unavailable, FAST),
        1 => Act::Hang,
        2 => Act::Fail(EmailError::Unavailable, secs(1)),
        3 => Act::Deliver(secs(30)),
        4 => Act::Fail(
            EmailError::RateLimited {
                retry_after: secs(5),
            },
            FAST,
        ),
        5 => Act::DeliverThenHang,
        _ => Act::Fail(EmailError::Unavailable, ms(1)),
    }
}

/// A SQLite file of its own for one check, removed afterwards.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir()
            .join(format!("ch04-{name}-{}-{n}.sqlite", std::process::id()));
        let this = Self(path);
        this.remove();
        this
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// A connection of the check's own, beside the service's.
    fn raw(&self) -> rusqlite::Connection {
        let conn =
            rusqlite::Connection::open(&self.0).expect("the check opens the database");
        conn.busy_timeout(secs(5)).unwrap();
        conn
    }

    fn count(&self, sql: &str) -> i64 {
        self.raw()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("the check's query `{sql}` failed: {e}"))
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = self.0.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Every column of the outbox row whose payload names `address`, for a
/// message: `sent=1, set_aside=NULL` (whatever columns the table has).
fn outbox_row(db: &TempDb, address: &str) -> String {
    let raw = db.raw();
    let Ok(mut stmt) = raw.prepare("SELECT * FROM outbox WHERE payload LIKE ?1") else {
        return "no outbox table".into();
    };
    let names: Vec<String> = stmt.column_names().map(|n| n.to_string()).collect();
    let rows = stmt.query_map([format!("%\"{address}\"%")], |row| {
        let mut shown = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name == "payload" {
                continue;
            }
            let value = match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => "NULL".to_string(),
                rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                rusqlite::types::ValueRef::Real(x) => x.to_string(),
                rusqlite::types::ValueRef::Text(t) => {
                    format!("{:?}", String::from_utf8_lossy(t))
                }
                rusqlite::types::ValueRef::Blob(_) => "(a blob)".into(),
            };
            shown.push(format!("{name}={value}"));
        }
        Ok(shown.join(", "))
    });
    match rows.and_then(|rows| rows.collect::<Result<Vec<String>, _>>()) {
        Ok(rows) if rows.is_empty() => "no outbox row".into(),
        Ok(rows) => format!("outbox row: {}", rows.join("; ")),
        Err(e) => format!("the outbox could not be read: {e}"),
    }
}

/// `(id, payload)` of the outbox rows set aside, as db.rs records them (the
/// `set_aside` column is not NULL); a ✗ if there is no such column.
fn set_aside_rows(db: &TempDb) -> Vec<(i64, String)> {
    let raw = db.raw();
    let rows = raw
        .prepare(
            "SELECT id, payload FROM outbox WHERE set_aside IS NOT NULL ORDER BY id",
        )
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<Vec<(i64, String)>, _>>()
        });
    rows.unwrap_or_else(|e| {
        panic!(
            "the check could not read which outbox rows are set aside ({e}). db.rs says \
             how a row the worker will never send is recorded, so that a person can find \
             it: the `set_aside` column of the outbox, NULL while the row is pending. \
             Look at the schema in exercises/ch04-decoupling/src/db.rs and at run_worker \
             in {SERVICE}."
        )
    })
}

type Svc = Service<Arc<Provider>>;

/// A seeded source of random numbers in `[0, 1)`.
fn seeded(seed: u64) -> impl FnMut() -> f64 + Send + 'static {
    let mut rng = Rng::new(seed);
    move || rng.unit()
}

fn open(db: &TempDb, provider: &Arc<Provider>, policy: Policy) -> Arc<Svc> {
    open_seeded(db, provider, policy, 4)
}

fn open_seeded(
    db: &TempDb,
    provider: &Arc<Provider>,
    policy: Policy,
    seed: u64,
) -> Arc<Svc> {
    let service = Service::open(db.path(), Arc::clone(provider), policy, seeded(seed))
        .unwrap_or_else(|e| {
            panic!("Service::open failed on a fresh database: {e}. Look at db.rs and open in {SERVICE}.")
        });
    Arc::new(service)
}

tokio::task_local! {
    /// Set while the worker task runs, so that its panics are reported by the
    /// check (with what it was doing) rather than printed first.
    static IN_WORKER: ();
}

/// The last panic inside a worker task: its message and where it happened.
static WORKER_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Where in the chapter's own code (`src/…`) a panic came from, from a
/// backtrace: useful when the panic is raised inside the standard library (an
/// overflow in `pow`, an `Instant` that does not fit). A file and line when
/// the build has line tables, else the function's name.
fn learner_line(trace: &str) -> Option<String> {
    let crate_name = std::any::type_name::<Breaker>().split("::").next()?;
    let ours = format!("{crate_name}::");
    let mut function = None;
    for line in trace.lines().map(str::trim) {
        if let Some(at) = line.strip_prefix("at ") {
            if function.is_some() && at.contains("src/") {
                return Some(at[at.rfind("src/").unwrap_or(0)..].to_string());
            }
        } else if function.is_some() {
            break;
        } else if let Some((_, symbol)) = line.split_once(": ")
            && let Some(name) = symbol.trim_start_matches('<').strip_prefix(&ours)
        {
            function = Some(name.trim_end_matches("::{{closure}}").to_string());
        }
    }
    function.map(|f| format!("{f} (in src/)"))
}

fn install_panic_hook() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_WORKER.try_with(|_| ()).is_ok() {
                let at = info
                    .location()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                let text = info.payload_as_str().unwrap_or("a panic without a message");
                let trace = std::backtrace::Backtrace::force_capture().to_string();
                let yours = learner_line(&trace)
                    .map(|l| format!(", reached from your code at {l}"))
                    .unwrap_or_default();
                *WORKER_PANIC.lock().unwrap() = Some(format!("{text}{at}{yours}"));
            } else {
                default(info);
            }
        }));
    });
}

fn spawn_worker(service: &Arc<Svc>) -> JoinHandle<()> {
    install_panic_hook();
    let service = Arc::clone(service);
    tokio::spawn(IN_WORKER.scope((), async move { service.run_worker().await }))
}

/// Runs `work` (the chapter's code) in a task of its own, and turns a panic
/// into its message and the line of the chapter's code it came from.
async fn without_panic<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, String> {
    install_panic_hook();
    match tokio::spawn(IN_WORKER.scope((), work)).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => Err(WORKER_PANIC
            .lock()
            .unwrap()
            .take()
            .unwrap_or_else(|| "a panic without a message".into())),
        Err(e) => Err(e.to_string()),
    }
}

/// The policy most checks use, so that their numbers are theirs, not yours.
fn test_policy() -> Policy {
    Policy {
        timeout: secs(3),
        backoff_base: secs(1),
        backoff_cap: secs(30),
        jitter: 0.5,
        max_attempts: 1_000,
        breaker: BreakerPolicy {
            failures_to_open: 5,
            cool_down: secs(30),
        },
    }
}

/// No breaker and no budget to speak of: to watch the backoff alone.
fn backoff_only(
    base: Duration,
    cap: Duration,
    jitter: f64,
    max_attempts: u32,
) -> Policy {
    Policy {
        timeout: secs(3),
        backoff_base: base,
        backoff_cap: cap,
        jitter,
        max_attempts,
        breaker: BreakerPolicy {
            failures_to_open: u32::MAX,
            cool_down: secs(30),
        },
    }
}

fn user(i: usize) -> (String, String) {
    (format!("User {i}"), format!("user{i}@example.com"))
}

async fn sign_up_all(service: &Svc, users: impl IntoIterator<Item = usize>) {
    for i in users {
        let (name, address) = user(i);
        let result =
            tokio::time::timeout(MINUTE, service.signup(&name, &address)).await;
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!(
                "signup({name:?}, {address:?}) failed with {e:?}. The first check, \
                 `signup succeeds without waiting while the email service is down`, says \
                 what to fix first. Look at signup in {SERVICE}."
            ),
            Err(_) => panic!(
                "signup({name:?}, {address:?}) was still waiting after a minute. The \
                 first check, `signup succeeds without waiting while the email service \
                 is down`, says what to fix first. Look at signup in {SERVICE}."
            ),
        }
    }
}

/// Lets the worker run on the paused clock until `done` holds or `limit` has
/// passed; returns how long that took.
async fn run_until(limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    // Look often enough to notice `done` soon, rarely enough to stay quick.
    let step = (limit / 2_000).max(ms(250));
    while !done() && start.elapsed() < limit {
        tokio::time::sleep(step).await;
    }
    start.elapsed()
}

/// Like [`run_until`], for `waiting()` to reach 0; also stops once `waiting()`
/// has not gone down for `stall`, counted from `quiet_from` at the earliest.
async fn run_while_delivering(
    limit: Duration,
    stall: Duration,
    quiet_from: Duration,
    mut waiting: impl FnMut() -> usize,
) -> Duration {
    let start = Instant::now();
    let step = (limit / 2_000).max(ms(250));
    let (mut fewest, mut since) = (usize::MAX, start + quiet_from);
    loop {
        let now = Instant::now();
        let left = waiting();
        if left == 0 || now - start >= limit {
            break;
        }
        if left < fewest {
            fewest = left;
            since = since.max(now);
        } else if now >= since + stall {
            break;
        }
        tokio::time::sleep(step).await;
    }
    start.elapsed()
}

/// Says so, and how, if the worker task has stopped (it should run forever).
async fn worker_still_running(worker: &mut JoinHandle<()>) {
    if worker.is_finished() {
        let end = worker.await;
        let how = match end {
            Ok(()) => "run_worker returned".to_string(),
            Err(e) if e.is_panic() => {
                let panic = WORKER_PANIC.lock().unwrap().take();
                format!(
                    "it panicked: {}",
                    panic.unwrap_or_else(|| "a panic without a message".into())
                )
            }
            Err(e) => e.to_string(),
        };
        panic!(
            "the worker stopped ({how}); run_worker must keep draining the outbox for as \
             long as the service runs, whatever the provider or a row does. Look at \
             run_worker in {SERVICE}."
        );
    }
}

/// "1 call", "3 calls".
fn calls(n: usize) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{n} calls")
    }
}

fn fmt_d(d: Duration) -> String {
    if d >= secs(1) {
        format!("{:.3} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// The times of the calls in `records`, for a message.
fn timeline(records: &[Record]) -> String {
    let shown: Vec<String> = records
        .iter()
        .take(12)
        .map(|r| format!("{} ({:?})", fmt_d(r.started), r.act))
        .collect();
    let more = if records.len() > 12 {
        format!(", … {} more", records.len() - 12)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

/// Checks that every user in `users` received exactly one welcome email, the
/// one the product asks for.
fn assert_each_received_once(
    provider: &Provider,
    users: impl IntoIterator<Item = usize>,
    when: &str,
) {
    for i in users {
        let (name, address) = user(i);
        let got = provider.received(&address);
        let keys = provider.keys_for(&address);
        let sent = provider.calls_to(&address);
        match got.len() {
            1 => {
                let expected = welcome_email(&address, Some(&name));
                assert!(
                    got[0] == expected,
                    "{when}, {address} received {:?}, expected the welcome email that \
                     greets them by name, {expected:?} (email::welcome_email with the \
                     name). Look at what the event carries ({EVENTS}) and how the worker \
                     builds the email ({SERVICE}).",
                    got[0]
                );
            }
            0 => {
                // A key the provider had accepted for someone else: it answered
                // Ok and sent nothing.
                let taken: Vec<String> = {
                    let accepted = provider.accepted.lock().unwrap();
                    keys.iter()
                        .filter_map(|k| {
                            accepted.get(k).filter(|e| e.to != address).map(|e| {
                                format!("{k:?}, which it had accepted for {}", e.to)
                            })
                        })
                        .collect()
                };
                assert!(
                    taken.is_empty(),
                    "{when}, {address} had received no welcome email: the worker's calls \
                     for it carried the idempotency key {}: the provider answered Ok and \
                     sent nothing, as it does for a key it has already accepted. Each \
                     event needs a key of its own that no other event ever gets, \
                     before or after a restart. Look at how run_worker \
                     makes the key in {SERVICE}.",
                    taken.join(", ")
                );
                panic!(
                    "{when}, {address} had received no welcome email ({} made for it: \
                     {}). Every signup's email must reach the provider once it is up \
                     again. Look at run_worker in {SERVICE}.",
                    calls(sent.len()),
                    timeline(&sent)
                )
            }
            n => panic!(
                "{when}, {address} had received {n} welcome emails, expected exactly 1. \
                 The worker's calls for it used {} different idempotency keys ({}); the \
                 provider sends an email again for each new key. A call that timed out \
                 or was cut short may still have been accepted, so every call for one \
                 event must carry the same key. Look at run_worker in {SERVICE}.",
                keys.len(),
                keys.iter().take(4).cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Signup
// ---------------------------------------------------------------------------

// ANCHOR: first_check
#[tokio::test(start_paused = true)]
async fn signup_succeeds_without_waiting_while_the_email_service_is_down() {
    let db = TempDb::new("down");
    // Down in every way at once: errors at once or after a while, calls that
    // never answer, answers that come back too late.
    let provider = Provider::new(|c| outage_faults(c.n));
    let service = open(&db, &provider, test_policy());
    for i in 0..1_000 {
        let (name, address) = user(i);
        let before = Instant::now();
        let calls_before = provider.call_count();
        let result =
            tokio::time::timeout(MINUTE, service.signup(&name, &address)).await;
        let waited = before.elapsed();
        let made = provider.call_count() - calls_before;
        match result {
            Err(_) => panic!(
                "signup #{} ({address}) was still waiting a minute later, with the email \
                 provider down ({} made during the signup). A user must not wait on a \
                 service that is not needed to create their account. Look at signup in \
                 {SERVICE}.",
                i + 1,
                calls(made)
            ),
            Ok(Err(e)) => panic!(
                "signup #{} ({address}) failed with {e:?} while the email provider was \
                 down ({} made during the signup); expected Ok. Look at signup in \
                 {SERVICE}.",
                i + 1,
                calls(made)
            ),
            Ok(Ok(_)) => {}
        }
        assert!(
            waited.is_zero() && made == 0,
            "signup #{} ({address}) succeeded, but it took {} on the paused clock and \
             made {} to the email provider while it was down; expected 0 ms and no call: \
             a signup must not wait on the provider at all, not even for a short \
             timeout. Look at signup in {SERVICE}.",
            i + 1,
            fmt_d(waited),
            calls(made)
        );
    }
    let users = db.count("SELECT count(*) FROM users");
    assert!(
        users == 1_000,
        "after 1,000 successful signups the users table holds {users} rows, expected \
         1000. Look at signup in {SERVICE}."
    );
}
// ANCHOR_END: first_check

#[tokio::test(start_paused = true)]
async fn a_user_and_their_welcome_event_are_committed_together_or_not_at_all() {
    let db = TempDb::new("tx");
    let provider = Provider::healthy();
    let service = open(&db, &provider, test_policy());
    let (before_users, before_events) = (0, db.count("SELECT count(*) FROM outbox"));
    service
        .signup("Ada", "ada@example.com")
        .await
        .unwrap_or_else(|e| {
            panic!("signup(\"Ada\") failed with {e:?}. Look at signup in {SERVICE}.")
        });
    let events = db.count("SELECT count(*) FROM outbox") - before_events;
    assert!(
        events == 1,
        "a signup added {events} rows to the outbox table, expected 1: the event the \
         worker turns into the welcome email, written by the signup itself. Look at \
         signup in {SERVICE}."
    );
    let users = db.count("SELECT count(*) FROM users") - before_users;
    assert!(
        users == 1,
        "a signup added {users} users, expected 1. Look at signup in {SERVICE}."
    );

    // The disk fills up just as the event is written.
    db.raw()
        .execute_batch(
            "CREATE TRIGGER full_disk BEFORE INSERT ON outbox
             WHEN NEW.payload LIKE '%grace@example.com%'
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )
        .unwrap();
    let result = service.signup("Grace", "grace@example.com").await;
    let grace =
        db.count("SELECT count(*) FROM users WHERE email = 'grace@example.com'");
    assert!(
        result.is_err() && grace == 0,
        "when writing Grace's event to the outbox failed, signup returned {} and the \
         users table kept {grace} row(s) for her; expected an error and no user: a user \
         without their event never gets the welcome email, and nobody notices. The \
         user and the event must be written in one transaction. Look at signup in \
         {SERVICE}.",
        if result.is_ok() { "Ok" } else { "an error" }
    );

    // And the other way round: the user cannot be written.
    db.raw()
        .execute_batch(
            "CREATE TRIGGER no_user BEFORE INSERT ON users
             WHEN NEW.email = 'alan@example.com'
             BEGIN SELECT RAISE(ABORT, 'constraint failed'); END;",
        )
        .unwrap();
    let events_before = db.count("SELECT count(*) FROM outbox");
    let result = service.signup("Alan", "alan@example.com").await;
    let events = db.count("SELECT count(*) FROM outbox") - events_before;
    assert!(
        result.is_err() && events == 0,
        "when writing Alan's user row failed, signup returned {} and added {events} \
         event(s) to the outbox; expected an error and no event: an event for a user \
         who does not exist sends an email to nobody's account. Look at signup in \
         {SERVICE}.",
        if result.is_ok() { "Ok" } else { "an error" }
    );
    let _ = provider;
}

// ---------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn every_welcome_email_is_delivered_exactly_once_after_an_outage() {
    let db = TempDb::new("outage");
    // Down for the first 10 minutes, in every way it can be; healthy after.
    let provider = Provider::new(|c| {
        if c.at < 10 * MINUTE {
            outage_faults(c.n)
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, test_policy());
    let mut worker = spawn_worker(&service);
    // Signups arrive while the worker runs: half at the start of the outage,
    // half five minutes in, and ten more once the provider is healthy again.
    sign_up_all(&service, 0..100).await;
    run_until(5 * MINUTE, || false).await;
    sign_up_all(&service, 100..200).await;
    let waiting = |n: usize| {
        let reached = provider.recipients();
        (0..n).filter(|&i| !reached.contains(&user(i).1)).count()
    };
    // Until everyone has theirs, or until nothing new has arrived for 20
    // minutes of a healthy provider: with this policy (cap and cool-down 30 s)
    // a worker that still means to send an email calls far more often.
    let took =
        run_while_delivering(2 * HOUR, 20 * MINUTE, 5 * MINUTE, || waiting(200)).await;
    worker_still_running(&mut worker).await;
    let lost: Vec<String> = (0..200)
        .map(|i| user(i).1)
        .filter(|u| provider.received(u).is_empty())
        .collect();
    assert!(
        lost.is_empty(),
        "{} of the 200 emails were still undelivered {} of paused time after the first \
         signups (the provider healthy since minute 10; the check stops waiting once 20 \
         minutes pass without one more email accepted): {}. An email is delivered only once the provider has accepted \
         it; until then its event must stay pending, whatever happened to a call for it \
         (an error, a timeout, a refusal by the breaker). {}Look at what run_worker in \
         {SERVICE} does with an event after each kind of answer.",
        lost.len(),
        fmt_d(took + 5 * MINUTE),
        lost.iter()
            .take(3)
            .map(|u| {
                let made = provider.calls_to(u);
                format!(
                    "{u} ({}: {}; {})",
                    calls(made.len()),
                    timeline(&made),
                    outbox_row(&db, u)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        match provider.calls().last() {
            Some(last) if last.started < 10 * MINUTE => format!(
                "The worker's last call, for anyone, began at {}, during the outage, \
                 and it never called again after the recovery: if its breaker opened \
                 then, it never let a probe through (look at {BREAKER}). ",
                fmt_d(last.started)
            ),
            _ => String::new(),
        } + &{
            let never = lost
                .iter()
                .filter(|u| provider.calls_to(u).is_empty())
                .count();
            if never > 0 {
                format!(
                    "The worker never called the provider at all for {never} of them: \
                     it never picked up their events (a worker must keep picking up \
                     events written after it started: half of these users signed up \
                     five minutes in). "
                )
            } else {
                String::new()
            }
        }
    );
    sign_up_all(&service, 1_000..1_010).await;
    let waiting_late = || {
        let reached = provider.recipients();
        (1_000..1_010)
            .filter(|&i| !reached.contains(&user(i).1))
            .count()
    };
    run_until(10 * MINUTE, || waiting_late() == 0).await;
    worker_still_running(&mut worker).await;
    let late = (1_000..1_010)
        .filter(|&i| provider.received(&user(i).1).is_empty())
        .count();
    assert!(
        late == 0,
        "10 users signed up after the outage, with the provider healthy; 10 minutes \
         later {late} of them had received nothing, though the worker had run all \
         along. A worker must keep picking up events written after it started. Look \
         at run_worker in {SERVICE}."
    );
    assert_each_received_once(
        &provider,
        0..200,
        &format!("{} after the first signups", fmt_d(took + 5 * MINUTE)),
    );
    assert_each_received_once(
        &provider,
        1_000..1_010,
        "10 minutes after signing up, with the provider healthy and the worker \
         running since before the outage",
    );
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_reply_that_arrives_after_the_timeout_does_not_become_a_second_email() {
    let db = TempDb::new("late");
    // Every first call is accepted at once and answered 10 s later, after the
    // policy's 3 s timeout; later calls answer at once.
    let provider = Provider::new(|c| {
        if c.earlier_with_key == 0 {
            Act::Deliver(secs(10))
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, test_policy());
    let mut worker = spawn_worker(&service);
    sign_up_all(&service, 0..20).await;
    run_until(HOUR, || {
        (0..20).all(|i| provider.calls_to(&user(i).1).len() >= 2)
    })
    .await;
    worker_still_running(&mut worker).await;
    let first = provider.calls_to(&user(0).1);
    assert!(
        first.len() >= 2,
        "the provider took 10 s to answer user0's first call; with a 3 s timeout the \
         worker should have given up on it and tried again, but it made {} for user0: \
         {}. Look at run_worker in {SERVICE}.",
        calls(first.len()),
        timeline(&first)
    );
    // The call the worker made next, for anyone: it should not wait for the
    // 10 s answer.
    let next = provider
        .calls()
        .into_iter()
        .find(|c| c.started > first[0].started)
        .map(|c| c.started - first[0].started);
    assert!(
        next.is_some_and(|gap| gap < secs(10)),
        "the provider took 10 s to answer user0's first call; the worker's next call \
         (for anyone) began {} after it, so the worker waited for that answer instead of \
         giving up after the policy's timeout (3 s). Look at run_worker in {SERVICE}.",
        next.map(fmt_d).unwrap_or_else(|| "never".into())
    );
    assert_each_received_once(&provider, 0..20, "after replies that arrived too late");
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_call_that_never_answers_does_not_hold_up_the_others() {
    let db = TempDb::new("hang");
    // user0's calls never answer; everyone else's do.
    let provider = Provider::new(|c| {
        if c.to == "user0@example.com" {
            Act::Hang
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, test_policy());
    let mut worker = spawn_worker(&service);
    sign_up_all(&service, 0..10).await;
    let took = run_until(10 * MINUTE, || {
        (1..10).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    worker_still_running(&mut worker).await;
    let waiting: Vec<String> = (1..10)
        .map(|i| user(i).1)
        .filter(|u| provider.received(u).is_empty())
        .collect();
    assert!(
        waiting.is_empty(),
        "user0's call never answers; {} later {} of the 9 other users still had no \
         email ({}), and the worker had made {} in all. One call that never answers \
         must cost at most the policy's timeout (3 s), not the whole queue. Look at \
         run_worker in {SERVICE}.",
        fmt_d(took),
        waiting.len(),
        waiting
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        calls(provider.call_count())
    );
    let abandoned = provider.abandoned.load(Ordering::SeqCst);
    assert!(
        abandoned >= 1,
        "the other users got their email, but no call to user0 was ever given up on: \
         it is still waiting. Look at run_worker in {SERVICE}."
    );
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn an_email_waiting_for_its_retry_does_not_delay_the_others() {
    let db = TempDb::new("head-of-line");
    // user0's calls always fail at once; everyone else's succeed.
    let provider = Provider::new(|c| {
        if c.to == "user0@example.com" {
            Act::Fail(EmailError::Unavailable, FAST)
        } else {
            Act::Deliver(FAST)
        }
    });
    // Long retry delays (at least 30 s), so that waiting for one shows.
    let service = open(&db, &provider, backoff_only(MINUTE, 2 * MINUTE, 0.5, 1_000));
    sign_up_all(&service, 0..10).await;
    let mut worker = spawn_worker(&service);
    let received = |users: std::ops::Range<usize>| {
        users
            .filter(|&i| !provider.received(&user(i).1).is_empty())
            .count()
    };
    let first = run_until(10 * MINUTE, || received(1..10) == 9).await;
    // More signups arrive while user0 waits for a retry.
    run_until(3 * MINUTE + secs(10), || false).await;
    sign_up_all(&service, 10..20).await;
    let second = run_until(10 * MINUTE, || received(10..20) == 10).await;
    worker_still_running(&mut worker).await;
    let zero = provider.calls_to("user0@example.com");
    for (took, users, what) in [
        (first, 1..10, "the 9 users who signed up with user0"),
        (
            second,
            10..20,
            "10 users who signed up while user0 waited for a retry",
        ),
    ] {
        let done = received(users.clone());
        assert!(
            took <= secs(15) && done == users.len(),
            "user0's calls always fail (Unavailable, at once) and every other call \
             succeeds in 20 ms; {what} had {done} of {} emails after {}, expected all \
             within 15 s. Meanwhile the worker made these calls for user0: {}. While one \
             email waits for its retry, the worker must keep sending the others: its \
             delay belongs to that email, not to the queue. Look at run_worker in \
             {SERVICE}.",
            users.len(),
            fmt_d(took),
            timeline(&zero)
        );
    }
    worker.abort();
}

// ANCHOR: abort_check
#[tokio::test(start_paused = true)]
async fn a_worker_stopped_mid_batch_and_restarted_loses_nothing_and_repeats_nothing() {
    for (point, act) in [
        (
            "while user7's call was in flight (the provider had accepted it)",
            Act::DeliverThenHang,
        ),
        (
            "while user7's call was in flight (the provider had not accepted it)",
            Act::Hang,
        ),
    ] {
        let db = TempDb::new("abort");
        let stop_at = act.clone();
        let provider = Provider::new(move |c| {
            if c.to == "user7@example.com" && c.earlier_with_key == 0 {
                stop_at.clone()
            } else {
                Act::Deliver(FAST)
            }
        });
        let service = open(&db, &provider, test_policy());
        sign_up_all(&service, 0..20).await;
        let worker = spawn_worker(&service);
        run_until(HOUR, || !provider.calls_to("user7@example.com").is_empty()).await;
        // The process is killed: the worker stops at its current `.await`.
        worker.abort();
        let _ = worker.await;
        let before: Vec<usize> = (0..20)
            .filter(|&i| !provider.received(&user(i).1).is_empty())
            .collect();
        drop(service);

        // The process starts again on the same database.
        let service = open(&db, &provider, test_policy());
        let mut worker = spawn_worker(&service);
        run_until(HOUR, || {
            (0..20).all(|i| !provider.received(&user(i).1).is_empty())
        })
        .await;
        worker_still_running(&mut worker).await;
        let when = format!("after the worker was stopped {point} and started again");
        assert_each_received_once(&provider, 0..20, &when);
        for &i in &before {
            let address = user(i).1;
            let made = provider.calls_to(&address);
            if i != 7 && made.len() > 1 {
                panic!(
                    "{when}, {address}, whose email the provider had accepted and \
                     answered before the stop, was called again ({} in all: {}). The \
                     worker must remember what it has sent, where a restart can see \
                     it. Look at run_worker in {SERVICE}.",
                    calls(made.len()),
                    timeline(&made)
                );
            }
        }
        worker.abort();
    }
}
// ANCHOR_END: abort_check

#[tokio::test(start_paused = true)]
async fn a_rejected_email_is_sent_once_and_the_others_still_go_out() {
    let db = TempDb::new("rejected");
    // The first 8 addresses do not exist; the provider says so, at once.
    let provider = Provider::new(|c| {
        let i: usize = c.to["user".len()..c.to.find('@').unwrap()].parse().unwrap();
        if i < 8 {
            Act::Fail(
                EmailError::Rejected {
                    reason: "mailbox does not exist".into(),
                },
                FAST,
            )
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, test_policy());
    let mut worker = spawn_worker(&service);
    sign_up_all(&service, 0..16).await;
    let took = run_until(HOUR, || {
        (8..16).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    run_until(HOUR, || false).await;
    worker_still_running(&mut worker).await;
    for i in 0..8 {
        let made = provider.calls_to(&user(i).1);
        assert!(
            made.len() == 1,
            "the provider rejected {} (the mailbox does not exist) and the worker made \
             {} about it within the hour: {}. Expected 1: sending it again gets the \
             same answer, and only adds load. Look at run_worker in {SERVICE}.",
            user(i).1,
            calls(made.len()),
            timeline(&made)
        );
    }
    assert!(
        took <= MINUTE,
        "8 rejected addresses came first; the 8 good ones behind them took {} to be \
         sent (expected well under a minute: the provider was healthy, it only refused \
         8 addresses). If the worker stopped calling for a cool-down, the breaker took \
         bad addresses for a failing provider. Look at run_worker in {SERVICE}.",
        fmt_d(took)
    );
    assert_each_received_once(
        &provider,
        8..16,
        "with 8 rejected addresses before them",
    );
    // The process restarts: what was set aside stays set aside.
    worker.abort();
    let _ = worker.await;
    drop(service);
    let service = open(&db, &provider, test_policy());
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || false).await;
    worker_still_running(&mut worker).await;
    for i in 0..8 {
        let made = provider.calls_to(&user(i).1);
        assert!(
            made.len() == 1,
            "after a restart, the worker called the provider about {} again ({} in \
             all: {}), though it had been rejected before the restart. Setting an \
             event aside has to be recorded where a restarted worker sees it. Look at \
             run_worker in {SERVICE}.",
            user(i).1,
            calls(made.len()),
            timeline(&made)
        );
    }
    let aside = set_aside_rows(&db);
    for i in 0..16 {
        let address = user(i).1;
        let marked = aside
            .iter()
            .any(|(_, p)| p.contains(&format!("\"{address}\"")));
        assert!(
            marked == (i < 8),
            "the provider rejected user0 to user7 for good and accepted user8 to user15; \
             {address}'s outbox row is {}set aside ({}). A rejected email must be set \
             aside (recorded as db.rs says, so a person can find it), and an email that \
             was sent must not be. Look at run_worker in {SERVICE}.",
            if marked { "" } else { "not " },
            outbox_row(&db, &address)
        );
    }
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn an_unreadable_event_is_set_aside_and_the_others_still_go_out() {
    let db = TempDb::new("poison");
    let provider = Provider::healthy();
    let service = open(&db, &provider, test_policy());
    sign_up_all(&service, 0..3).await;
    {
        let raw = db.raw();
        for payload in [
            "not json at all",
            r#"{"version":99,"user_id":1,"email":"x@y"}"#,
            "{}",
            // A later release's version that happens to carry v2's fields.
            r#"{"version":3,"user_id":2,"email":"v3@example.com","name":"Three"}"#,
        ] {
            raw.execute("INSERT INTO outbox (payload) VALUES (?1)", [payload])
                .unwrap();
        }
    }
    sign_up_all(&service, 3..6).await;
    let mut worker = spawn_worker(&service);
    let took = run_until(HOUR, || {
        (0..6).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    run_until(10 * MINUTE, || false).await;
    worker_still_running(&mut worker).await;
    let missing: Vec<String> = (0..6)
        .map(|i| user(i).1)
        .filter(|u| provider.received(u).is_empty())
        .collect();
    assert!(
        missing.is_empty(),
        "four unreadable rows sit in the outbox between users 2 and 3; {} later {} \
         had received nothing. A row that cannot be read must be set aside (kept for \
         a person to look at), not block the rows behind it. Look at run_worker in \
         {SERVICE}.",
        fmt_d(took),
        missing.join(", ")
    );
    let strays: Vec<Record> = provider
        .calls()
        .into_iter()
        .filter(|c| !c.to.starts_with("user"))
        .collect();
    assert!(
        strays.is_empty(),
        "the worker sent an email for an unreadable or unknown-version event: {}. A \
         version this code does not know is unreadable, even when its fields look \
         familiar: what a later release means by it is not this code's to guess. Look at \
         how {EVENTS} tells the versions apart, and at run_worker in {SERVICE}.",
        strays
            .iter()
            .map(|c| format!("to {} at {}", c.to, fmt_d(c.started)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_each_received_once(&provider, 0..6, "with unreadable rows among them");
    let aside: Vec<String> = set_aside_rows(&db).into_iter().map(|(_, p)| p).collect();
    let raw = db.raw();
    let bad: Vec<(i64, String, i64)> = raw
        .prepare("SELECT id, payload, sent FROM outbox WHERE payload NOT LIKE '%\"email\":\"user%' ORDER BY id")
        .and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("the check reads the outbox");
    for (id, payload, sent) in &bad {
        assert!(
            aside.contains(payload) && *sent == 0,
            "the unreadable outbox row {id} ({payload}) is {} after an hour: expected it \
             set aside (recorded as db.rs says) and not sent. A row left pending is met \
             again on every pass and never reaches a person. Look at run_worker in \
             {SERVICE}.",
            if aside.contains(payload) {
                "marked sent"
            } else {
                "not set aside"
            }
        );
    }
    assert!(
        aside.len() == bad.len(),
        "{} outbox rows are set aside, expected the {} unreadable ones only: {:?}. Look at \
         run_worker in {SERVICE}.",
        aside.len(),
        bad.len(),
        aside
    );
    worker.abort();
}

// ANCHOR: v1_check
#[tokio::test(start_paused = true)]
async fn a_v1_event_written_before_the_upgrade_is_delivered_after_it() {
    let db = TempDb::new("v1");
    let provider = Provider::healthy();
    let service = open(&db, &provider, test_policy());
    // Release 1.4 wrote this user and this event, and never sent it.
    {
        let raw = db.raw();
        raw.execute(
            "INSERT INTO users (id, name, email) VALUES (500, 'Edsger', 'edsger@example.com')",
            [],
        )
        .unwrap();
        raw.execute(
            "INSERT INTO outbox (payload) VALUES (?1)",
            [r#"{"version":1,"user_id":500,"email":"edsger@example.com"}"#],
        )
        .unwrap();
    }
    sign_up_all(&service, 0..3).await;
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || {
        !provider.received("edsger@example.com").is_empty()
            && (0..3).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    worker_still_running(&mut worker).await;
    let got = provider.received("edsger@example.com");
    let made = provider.calls_to("edsger@example.com");
    assert!(
        got.len() == 1,
        "a version 1 event (written by release 1.4, before the upgrade) for \
         edsger@example.com was in the outbox; after an hour he had received {} \
         email(s), from {}. Expected exactly 1: events already in an outbox are read \
         by whatever code runs when they come out. Look at {EVENTS} and run_worker in \
         {SERVICE}.",
        got.len(),
        calls(made.len())
    );
    let plain = welcome_email("edsger@example.com", None);
    let named = welcome_email("edsger@example.com", Some("Edsger"));
    assert!(
        got[0] == plain || got[0] == named,
        "edsger@example.com (a version 1 event, which carries no name) received \
         {:?}; expected the welcome email, {plain:?} (or the same greeting him by \
         the name in his users row). Look at {EVENTS} and run_worker in {SERVICE}.",
        got[0]
    );
    assert_each_received_once(&provider, 0..3, "beside a version 1 event");
    worker.abort();
}
// ANCHOR_END: v1_check

// ---------------------------------------------------------------------------
// Retries
// ---------------------------------------------------------------------------

/// The gaps between the end of each call for `to` and the start of the next.
fn gaps(provider: &Provider, to: &str) -> Vec<Duration> {
    let made = provider.calls_to(to);
    made.windows(2)
        .map(|w| {
            w[1].started
                .saturating_sub(w[0].answered.unwrap_or(w[0].started))
        })
        .collect()
}

fn show_gaps(gaps: &[Duration]) -> String {
    gaps.iter()
        .map(|g| fmt_d(*g))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs one event against a provider that is always unavailable, and returns
/// the gaps between its calls.
async fn failing_gaps(
    policy: Policy,
    seed: u64,
    run: Duration,
) -> (Vec<Duration>, usize) {
    let (gaps, made, _db) = failing_run(policy, seed, run).await;
    (gaps, made)
}

/// [`failing_gaps`], and the database it ran on.
async fn failing_run(
    policy: Policy,
    seed: u64,
    run: Duration,
) -> (Vec<Duration>, usize, TempDb) {
    let db = TempDb::new("backoff");
    let provider = Provider::new(|_| Act::Fail(EmailError::Unavailable, FAST));
    let service = open_seeded(&db, &provider, policy, seed);
    sign_up_all(&service, 0..1).await;
    let mut worker = spawn_worker(&service);
    run_until(run, || false).await;
    worker_still_running(&mut worker).await;
    worker.abort();
    let _ = worker.await;
    (
        gaps(&provider, "user0@example.com"),
        provider.call_count(),
        db,
    )
}

// ANCHOR: backoff_check
#[tokio::test(start_paused = true)]
async fn retry_delays_double_up_to_the_cap_and_are_jittered() {
    let (base, cap, jitter) = (secs(1), secs(60), 0.5);
    let policy = backoff_only(base, cap, jitter, 12);
    let (seen, _) = failing_gaps(policy, 4, 20 * MINUTE).await;
    for (k, gap) in seen.iter().enumerate() {
        let nominal = base.saturating_mul(1 << k).min(cap);
        let low = nominal.mul_f64(1.0 - jitter);
        assert!(
            *gap >= low,
            "retry {} came {} after the previous call failed; with base 1 s, cap 60 s \
             and jitter 0.5 it must wait at least min(base·2^{k}, cap)·(1 − jitter) = {}. \
             All gaps: {}. Retries that come too soon pile onto a provider that is \
             already failing. Look at how {POLICY} and run_worker in {SERVICE} compute \
             the delay.",
            k + 1,
            fmt_d(*gap),
            fmt_d(low),
            show_gaps(&seen)
        );
        assert!(
            *gap <= cap,
            "retry {} came {} after the previous call failed, more than the cap of 60 s. \
             All gaps: {}. The cap bounds every delay, however many retries came before \
             (and an idle worker must not oversleep it). Look at how {POLICY} and \
             run_worker in {SERVICE} compute the delay.",
            k + 1,
            fmt_d(*gap),
            show_gaps(&seen)
        );
        assert!(
            *gap <= nominal,
            "retry {} came {} after the previous call failed, more than its nominal \
             delay min(base·2^{k}, cap) = {}: Policy says the first retry waits \
             backoff_base (less its jitter) and each later one twice the one before. \
             All gaps: {}. Look at how {POLICY} and run_worker in {SERVICE} compute \
             the delay.",
            k + 1,
            fmt_d(*gap),
            fmt_d(nominal),
            show_gaps(&seen)
        );
    }
    assert!(
        seen.len() == 11,
        "an email that always fails, with max_attempts 12, should be called 12 times \
         (11 gaps between calls); saw {} gaps: {}. Look at run_worker in {SERVICE}.",
        seen.len(),
        show_gaps(&seen)
    );
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() > seen.len() / 2,
        "the gaps between retries were {}: with jitter 0.5 they should vary (only {} \
         distinct). Without randomness, every email that failed at the same moment \
         retries at the same moment too. Look at how {POLICY} and run_worker in \
         {SERVICE} use the random numbers passed to Service::open.",
        show_gaps(&seen),
        distinct.len()
    );
    let (again, _) = failing_gaps(policy, 4, 20 * MINUTE).await;
    let (other, _) = failing_gaps(policy, 5, 20 * MINUTE).await;
    assert!(
        again == seen && other != seen,
        "with the same seed the gaps should repeat exactly, and with another seed \
         differ; saw {} then {} (same seed) and {} (another seed). The jitter must come \
         from the random source passed to Service::open, so that a test can replay it. \
         Look at run_worker in {SERVICE}.",
        show_gaps(&seen),
        show_gaps(&again),
        show_gaps(&other)
    );
}
// ANCHOR_END: backoff_check

#[tokio::test(start_paused = true)]
async fn emails_that_fail_together_retry_at_different_moments() {
    let db = TempDb::new("herd");
    // Ten emails fail within 200 ms of each other; each is tried twice.
    let provider = Provider::new(|_| Act::Fail(EmailError::Unavailable, FAST));
    let policy = backoff_only(secs(10), MINUTE, 0.5, 2);
    let service = open_seeded(&db, &provider, policy, 11);
    sign_up_all(&service, 0..10).await;
    let mut worker = spawn_worker(&service);
    run_until(10 * MINUTE, || false).await;
    worker_still_running(&mut worker).await;
    worker.abort();
    let first: Vec<Duration> = (0..10)
        .filter_map(|i| gaps(&provider, &user(i).1).first().copied())
        .collect();
    assert!(
        first.len() == 10,
        "ten emails that always fail, with max_attempts 2, should each be called twice; \
         {} of them were: {}. Look at run_worker in {SERVICE}.",
        first.len(),
        show_gaps(&first)
    );
    let spread = *first.iter().max().unwrap() - *first.iter().min().unwrap();
    assert!(
        spread >= secs(1),
        "ten emails failed within 200 ms of each other (base 10 s, jitter 0.5); the gaps \
         before their first retries were {}, all within {} of each other, so they retry \
         together again. With jitter 0.5 each delay lies anywhere in 5 s to 10 s: every \
         delay of every email needs a random share of its own, not one share reused. \
         Look at how run_worker in {SERVICE} uses the random numbers passed to \
         Service::open.",
        show_gaps(&first),
        fmt_d(spread)
    );
}

#[tokio::test(start_paused = true)]
async fn a_hundred_retries_neither_overflow_nor_exceed_the_cap() {
    let (base, cap) = (ms(1), secs(2));
    let policy = backoff_only(base, cap, 0.5, 100);
    let (seen, made) = failing_gaps(policy, 9, 10 * MINUTE).await;
    assert!(
        made == 100,
        "an email that always fails, with max_attempts 100, was called {made} times in \
         10 minutes, expected 100. Look at run_worker in {SERVICE}."
    );
    if let Some((k, gap)) = seen.iter().enumerate().find(|(_, g)| **g > cap) {
        panic!(
            "retry {} came {} after the previous call failed, more than the cap of 2 s. \
             Look at how {POLICY} computes the delay for large retry numbers.",
            k + 1,
            fmt_d(*gap)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_is_called_at_most_max_attempts_times() {
    for max in [1, 4] {
        let (seen, made, db) =
            failing_run(backoff_only(secs(1), secs(30), 0.5, max), 2, HOUR).await;
        assert!(
            made == max as usize,
            "an email that always fails, with max_attempts {max}, was called {made} \
             times in an hour (gaps: {}); expected exactly {max}, the first call \
             included. After that the event is set aside for a person to look at. Look \
             at run_worker in {SERVICE}.",
            show_gaps(&seen)
        );
        let aside = set_aside_rows(&db);
        assert!(
            aside.len() == 1,
            "an email that always fails ran out of its {max} attempts, but its outbox \
             row is not set aside ({}). A person must be able to find the emails the \
             worker gave up on. Look at run_worker in {SERVICE}.",
            outbox_row(&db, "user0@example.com")
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_call_is_retried_no_sooner_than_the_provider_asked() {
    let db = TempDb::new("ratelimit");
    let provider = Provider::new(|c| {
        if c.earlier_with_key == 0 {
            Act::Fail(
                EmailError::RateLimited {
                    retry_after: secs(90),
                },
                FAST,
            )
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, backoff_only(secs(1), secs(30), 0.5, 10));
    sign_up_all(&service, 0..1).await;
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || !provider.received("user0@example.com").is_empty()).await;
    worker_still_running(&mut worker).await;
    let seen = gaps(&provider, "user0@example.com");
    assert!(
        !seen.is_empty() && seen[0] >= secs(90),
        "the provider answered RateLimited {{ retry_after: 90 s }}; the worker called \
         again after {}. A rate limit says when the provider will take a call again: \
         calling sooner only adds to its load (and often extends the limit). Look at \
         run_worker in {SERVICE}.",
        seen.first()
            .map(|g| fmt_d(*g))
            .unwrap_or_else(|| "never".into())
    );
    assert_each_received_once(&provider, 0..1, "after a rate limit");
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_call_the_breaker_refused_is_not_an_attempt() {
    let db = TempDb::new("refused");
    // Down for 30 minutes, answering Unavailable at once; healthy after.
    let provider = Provider::new(|c| {
        if c.at < 30 * MINUTE {
            Act::Fail(EmailError::Unavailable, FAST)
        } else {
            Act::Deliver(FAST)
        }
    });
    // One failure opens the breaker for 10 minutes: about 4 calls in all reach the
    // provider during the outage, fewer than any email's 6 attempts.
    let policy = Policy {
        breaker: BreakerPolicy {
            failures_to_open: 1,
            cool_down: 10 * MINUTE,
        },
        ..backoff_only(secs(1), secs(5), 0.5, 6)
    };
    let service = open(&db, &provider, policy);
    sign_up_all(&service, 0..3).await;
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || {
        (0..3).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    worker_still_running(&mut worker).await;
    for i in 0..3 {
        let address = user(i).1;
        let made = provider.calls_to(&address);
        assert!(
            !provider.received(&address).is_empty(),
            "a 30-minute outage with 3 emails waiting, max_attempts 6, and a breaker that \
             opens after 1 failure for 10 minutes: only {} reached the provider during \
             the outage, yet {address} had still not received its email 30 minutes after \
             the recovery; the provider saw {} for it: {}; its {}. A call the breaker \
             refused was never made and does not use up an attempt (policy.rs). Look at \
             run_worker in {SERVICE}.",
            calls(
                provider
                    .calls()
                    .iter()
                    .filter(|c| c.started < 30 * MINUTE)
                    .count()
            ),
            calls(made.len()),
            timeline(&made),
            outbox_row(&db, &address)
        );
    }
    assert_each_received_once(
        &provider,
        0..3,
        "after an outage behind an open breaker",
    );
    worker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_holds_back_every_email_not_only_the_one_it_answered() {
    let db = TempDb::new("ratelimit-all");
    // The very first call is answered "no calls for 90 s"; all others succeed.
    let provider = Provider::new(|c| {
        if c.n == 0 {
            Act::Fail(
                EmailError::RateLimited {
                    retry_after: secs(90),
                },
                FAST,
            )
        } else {
            Act::Deliver(FAST)
        }
    });
    let service = open(&db, &provider, backoff_only(secs(1), secs(30), 0.5, 10));
    sign_up_all(&service, 0..5).await;
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || {
        (0..5).all(|i| !provider.received(&user(i).1).is_empty())
    })
    .await;
    worker_still_running(&mut worker).await;
    let all = provider.calls();
    let limited = &all[0];
    let until = limited.answered.unwrap_or(limited.started) + secs(90);
    let inside: Vec<String> = all[1..]
        .iter()
        .filter(|c| c.started < until)
        .map(|c| format!("{} at {}", c.to, fmt_d(c.started)))
        .collect();
    assert!(
        inside.is_empty(),
        "with 5 emails waiting, the provider answered the first call ({}) RateLimited \
         {{ retry_after: 90 s }} at {}; the worker still made {} before those 90 s had \
         passed: {}. A rate limit is the provider asking your client for no calls at all \
         until then (email.rs), not only for that one email. Look at run_worker in \
         {SERVICE}.",
        limited.to,
        fmt_d(limited.answered.unwrap_or(limited.started)),
        calls(inside.len()),
        inside
            .iter()
            .take(6)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_each_received_once(&provider, 0..5, "after a rate limit");
    worker.abort();
}

// ---------------------------------------------------------------------------
// The breaker
// ---------------------------------------------------------------------------

/// A downstream that counts its calls and answers as told.
struct Downstream {
    calls: AtomicU64,
    fail: Mutex<bool>,
    latency: Mutex<Duration>,
}

impl Downstream {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            calls: AtomicU64::new(0),
            fail: Mutex::new(true),
            latency: Mutex::new(Duration::ZERO),
        })
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn set_failing(&self, fail: bool) {
        *self.fail.lock().unwrap() = fail;
    }

    fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap() = latency;
    }

    async fn call(&self) -> Result<(), &'static str> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let latency = *self.latency.lock().unwrap();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if *self.fail.lock().unwrap() {
            Err("down")
        } else {
            Ok(())
        }
    }
}

fn breaker(failures_to_open: u32, cool_down: Duration) -> Breaker {
    Breaker::new(BreakerPolicy {
        failures_to_open,
        cool_down,
    })
}

/// Fails the breaker `n` times through `down`.
async fn fail_times(b: &Breaker, down: &Downstream, n: u32) {
    for _ in 0..n {
        let _ = b.call(down.call()).await;
    }
}

// ANCHOR: breaker_check
#[tokio::test(start_paused = true)]
async fn once_open_the_breaker_makes_no_calls_until_the_cool_down_has_passed() {
    // Failures must come in a row: a success in between starts the count again.
    let b = breaker(3, secs(30));
    let down = Downstream::new();
    fail_times(&b, &down, 2).await;
    down.set_failing(false);
    let _ = b.call(down.call()).await;
    down.set_failing(true);
    fail_times(&b, &down, 2).await;
    assert!(
        down.calls() == 5,
        "with failures_to_open 3: 2 failures, a success, 2 failures should all reach the \
         service (5 calls), since no 3 failures came in a row; {} did. Look at call in \
         {BREAKER}.",
        down.calls()
    );
    let _ = b.call(down.call()).await;
    let opened = down.calls();
    let start = Instant::now();
    let (mut refused, mut tried) = (0, 0);
    while start.elapsed() < secs(30) - ms(1) {
        tried += 1;
        let asked = Instant::now();
        let answer = b.call(down.call()).await;
        assert!(
            asked.elapsed().is_zero(),
            "while open, a call through the breaker took {}; expected an answer at once \
             (the fast fallback). Look at call in {BREAKER}.",
            fmt_d(asked.elapsed())
        );
        if answer == Err(BreakerError::Open) {
            refused += 1;
        }
        tokio::time::advance(ms(499)).await;
    }
    assert!(
        down.calls() == opened && refused > 0,
        "after 3 failures in a row (failures_to_open 3, cool-down 30 s) the breaker \
         should be open: {} calls over the next 29.999 s, all answered \
         Err(BreakerError::Open) without calling the service. The service saw {} more \
         calls, and {refused} were refused. Look at call in {BREAKER}.",
        tried,
        down.calls() - opened
    );

    // A cool-down too long to add to an Instant means: stay open.
    let b = Arc::new(breaker(1, Duration::MAX));
    let down = Downstream::new();
    let (b2, down2) = (Arc::clone(&b), Arc::clone(&down));
    if let Err(panic) =
        without_panic(async move { fail_times(&b2, &down2, 1).await }).await
    {
        panic!(
            "with cool_down Duration::MAX (\"stay open until someone intervenes\"), one \
             failure with failures_to_open 1 made the breaker panic: {panic}. The instant \
             the breaker may let a probe through, now + cool_down, does not fit in an \
             Instant for such a cool-down; that case must mean \"open for good\", not a \
             crash. Look at where the breaker works out when its cool-down ends, in \
             {BREAKER}."
        );
    }
    tokio::time::advance(24 * HOUR).await;
    let (b2, down2) = (Arc::clone(&b), Arc::clone(&down));
    let answer = without_panic(async move { b2.call(down2.call()).await })
        .await
        .unwrap_or_else(|panic| {
            panic!(
                "with cool_down Duration::MAX, a call a day after the breaker opened made \
                 it panic: {panic}. Look at where the breaker works out whether its \
                 cool-down has ended, in {BREAKER}."
            )
        });
    assert!(
        answer == Err(BreakerError::Open) && down.calls() == 1,
        "with cool_down Duration::MAX, a day after the breaker opened a call gave {answer:?} \
         and the service had seen {} calls; expected Err(Open) and 1 call. Look at call \
         in {BREAKER}.",
        down.calls()
    );
}
// ANCHOR_END: breaker_check

#[tokio::test(start_paused = true)]
async fn after_the_cool_down_exactly_one_probe_reaches_the_service() {
    let b = Arc::new(breaker(2, secs(30)));
    let down = Downstream::new();
    fail_times(&b, &down, 2).await;
    tokio::time::advance(secs(30)).await;
    // Twenty callers arrive together as the cool-down ends; the probe takes 1 s.
    down.set_failing(false);
    down.set_latency(secs(1));
    let before = down.calls();
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (b, down) = (Arc::clone(&b), Arc::clone(&down));
            tokio::spawn(async move {
                let asked = Instant::now();
                let answer = b.call(down.call()).await;
                (answer, asked.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for caller in callers {
        answers.push(caller.await.expect("a caller panicked"));
    }
    let probes = down.calls() - before;
    assert!(
        probes == 1,
        "20 callers arrived together just as the 30 s cool-down ended: {probes} of them \
         reached the service, expected exactly 1 (the probe), with the other 19 refused \
         at once while it is in flight. Letting every caller through at the end of each \
         cool-down sends a burst to a service that may still be down. (If none got \
         through: a breaker that never half-opens, or one that reads a clock the \
         checks do not move; they move tokio's.) Look at call in {BREAKER}."
    );
    let slow_refusals = answers
        .iter()
        .filter(|(a, took)| *a == Err(BreakerError::Open) && !took.is_zero())
        .count();
    assert!(
        slow_refusals == 0,
        "{slow_refusals} callers were refused only after waiting: while the probe is in \
         flight, others should be told Err(Open) at once. Look at call in {BREAKER}."
    );
    down.set_latency(Duration::ZERO);
    let before = down.calls();
    for _ in 0..5 {
        let answer = b.call(down.call()).await;
        assert!(
            answer == Ok(()),
            "the probe succeeded, so the breaker should be closed again; a call after it \
             gave {answer:?}. Look at call in {BREAKER}."
        );
    }
    assert!(
        down.calls() - before == 5,
        "after a successful probe, 5 calls should reach the service; {} did. Look at call in {BREAKER}.",
        down.calls() - before
    );

    // Closed again means closed as at the start: failures_to_open failures in
    // a row to open it, however recent the outage.
    let b = breaker(3, secs(30));
    let down = Downstream::new();
    fail_times(&b, &down, 3).await;
    tokio::time::advance(secs(30)).await;
    down.set_failing(false);
    let probe = b.call(down.call()).await;
    assert!(
        probe == Ok(()),
        "with failures_to_open 3, 30 s after opening a probe to a healthy service gave \
         {probe:?}; expected Ok(()). Look at call in {BREAKER}."
    );
    down.set_failing(true);
    let before = down.calls();
    let answers: Vec<_> = {
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(b.call(down.call()).await);
        }
        answers
    };
    assert!(
        down.calls() - before == 3,
        "with failures_to_open 3, right after a successful probe 3 calls failed in a row; \
         the service saw {} of them (answers: {answers:?}), expected all 3: a breaker \
         closed by a successful probe starts counting failures from zero, like a new \
         one, and opens after failures_to_open of them, not sooner. Look at call in \
         {BREAKER}.",
        down.calls() - before
    );
    let answer = b.call(down.call()).await;
    assert!(
        answer == Err(BreakerError::Open) && down.calls() - before == 3,
        "with failures_to_open 3, after a successful probe and then 3 failures in a row, \
         the next call gave {answer:?} and the service saw {} calls; expected Err(Open), \
         still 3. Look at call in {BREAKER}.",
        down.calls() - before
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_the_breaker_for_another_cool_down() {
    let b = breaker(2, secs(30));
    let down = Downstream::new();
    fail_times(&b, &down, 2).await;
    tokio::time::advance(secs(30)).await;
    let probe = b.call(down.call()).await;
    assert!(
        probe == Err(BreakerError::Failed("down")) && down.calls() == 3,
        "30 s after opening, one probe should reach the service and report its error \
         as Err(Failed(\"down\")); got {probe:?} with {} calls in all. Look at call in \
         {BREAKER}.",
        down.calls()
    );
    let start = Instant::now();
    while start.elapsed() < secs(30) - ms(1) {
        let answer = b.call(down.call()).await;
        assert!(
            answer == Err(BreakerError::Open) && down.calls() == 3,
            "the probe failed, so the breaker should be open for another 30 s; {} after \
             the probe a call gave {answer:?} and the service had seen {} calls \
             (expected Err(Open), 3 calls). Look at call in {BREAKER}.",
            fmt_d(start.elapsed()),
            down.calls()
        );
        tokio::time::advance(secs(1)).await;
    }
    tokio::time::advance(ms(1)).await;
    down.set_failing(false);
    let answer = b.call(down.call()).await;
    assert!(
        answer == Ok(()) && down.calls() == 4,
        "a full cool-down after the failed probe, the next probe should go through; got \
         {answer:?} with {} calls in all. Look at call in {BREAKER}.",
        down.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn a_probe_whose_caller_gave_up_neither_jams_nor_closes_the_breaker() {
    let b = breaker(1, secs(30));
    let down = Downstream::new();
    fail_times(&b, &down, 1).await;
    tokio::time::advance(secs(30)).await;
    // The probe hangs, and its caller stops waiting after 5 s.
    down.set_latency(HOUR);
    let gave_up = tokio::time::timeout(secs(5), b.call(down.call())).await;
    assert!(
        gave_up.is_err(),
        "the probe should still be running when its caller gives up"
    );
    // Twenty callers right after: nobody has seen the service answer yet.
    let b = Arc::new(b);
    down.set_failing(false);
    down.set_latency(secs(1));
    let before = down.calls();
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (b, down) = (Arc::clone(&b), Arc::clone(&down));
            tokio::spawn(async move { b.call(down.call()).await })
        })
        .collect();
    for caller in callers {
        let _ = caller.await.expect("a caller panicked");
    }
    let through = down.calls() - before;
    assert!(
        through <= 1,
        "a probe's caller gave up waiting (its future was dropped) before the service \
         answered; 20 callers arriving right after got {through} calls through to the \
         service, expected at most 1. A probe nobody heard back from says nothing about \
         the service's health: the breaker must not close on it, only stay open or let \
         one new probe try. Look at call in {BREAKER}."
    );
    down.set_latency(Duration::ZERO);
    down.set_failing(false);
    tokio::time::advance(secs(30)).await;
    let before = down.calls();
    let answer = b.call(down.call()).await;
    assert!(
        answer == Ok(()) && down.calls() == before + 1,
        "a probe's caller gave up waiting (its future was dropped); 30 s later a call \
         gave {answer:?} and the service saw {} new calls. Expected the next probe to go \
         through: a probe that never reports back must not leave the breaker refusing \
         everything forever. Look at call in {BREAKER}.",
        down.calls() - before
    );
}

#[tokio::test(start_paused = true)]
async fn the_worker_stops_calling_a_provider_that_keeps_failing() {
    let db = TempDb::new("storm");
    // Down for an hour, in every way; 200 emails waiting.
    let provider = Provider::new(|c| {
        if c.at < HOUR {
            outage_faults(c.n)
        } else {
            Act::Deliver(FAST)
        }
    });
    let mut policy = test_policy();
    policy.breaker = BreakerPolicy {
        failures_to_open: 5,
        cool_down: MINUTE,
    };
    let service = open(&db, &provider, policy);
    sign_up_all(&service, 0..200).await;
    let mut worker = spawn_worker(&service);
    run_until(HOUR, || false).await;
    worker_still_running(&mut worker).await;
    let made = provider.call_count();
    // 5 failures open it; then at most one probe per minute.
    let budget = 5 + 60 + 1;
    let all = provider.calls();
    let count = |f: fn(&Act) -> bool| all.iter().filter(|c| f(&c.act)).count();
    let hung = count(|a| matches!(a, Act::Hang | Act::DeliverThenHang));
    let limited = count(|a| matches!(a, Act::Fail(EmailError::RateLimited { .. }, _)));
    let errors = count(|a| matches!(a, Act::Fail(EmailError::Unavailable, _)));
    let late = count(|a| matches!(a, Act::Deliver(_)));
    assert!(
        made <= budget,
        "during an hour-long outage with 200 emails waiting (failures_to_open 5, cool-down \
         1 min), the worker made {made} calls; expected at most {budget}: 5 failures \
         open the breaker, then one probe per cool-down. Anything more is a retry \
         storm against a provider that is trying to recover. The calls: {errors} \
         answered Unavailable, {limited} RateLimited, {hung} never answered (the worker \
         gave up on them), {late} answered Ok only after 30 s. Each of those must reach \
         the breaker as a failure: a call made without it, or a result it never hears \
         (a timeout placed around it rather than inside it, an answer taken for a \
         healthy one), keeps it closed. First calls: {}. Look at run_worker in \
         {SERVICE} and at {BREAKER}.",
        timeline(&all)
    );
    worker.abort();
}

// ---------------------------------------------------------------------------
// Your policy
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_default_policy_keeps_what_email_rs_promises_and_asks() {
    let policy = Policy::default();
    // A healthy provider at its slowest: 2 s per call (its 99.9th percentile),
    // and for user4 2.5 s (the slowest healthy call email.rs mentions).
    {
        let db = TempDb::new("default-slow");
        let provider = Provider::new(|c| {
            if c.to == "user4@example.com" {
                Act::Deliver(ms(2_500))
            } else {
                Act::Deliver(secs(2))
            }
        });
        let service = open(&db, &provider, policy);
        sign_up_all(&service, 0..5).await;
        let during_signup = provider.calls();
        assert!(
            during_signup.is_empty(),
            "the 5 signups themselves made {} to the provider ({}), before any worker \
             ran: each email then also goes out through the outbox, and a signup waits \
             on the provider. A signup must leave the sending to the worker. Look at \
             signup in {SERVICE}.",
            calls(during_signup.len()),
            timeline(&during_signup)
        );
        let mut worker = spawn_worker(&service);
        run_until(HOUR, || {
            (0..5).all(|i| !provider.received(&user(i).1).is_empty())
        })
        .await;
        // Long enough for any retry to show.
        run_until(10 * MINUTE, || false).await;
        worker_still_running(&mut worker).await;
        for i in 0..5 {
            let made = provider.calls_to(&user(i).1);
            assert!(
                made.len() == 1,
                "with your Policy::default() ({policy:?}), a healthy provider that took {} \
                 to answer {} (within what email.rs says a healthy call can take) got {} \
                 for it: {}. A healthy call should be made once: a timeout must leave \
                 room for the slowest healthy answer. Look at Policy::default in {POLICY}.",
                if i == 4 { "2.5 s" } else { "2 s" },
                user(i).1,
                calls(made.len()),
                timeline(&made)
            );
        }
        assert_each_received_once(&provider, 0..5, "with your default policy");
        worker.abort();
    }
    // An hour-long outage with 3 emails waiting, then recovery.
    {
        let db = TempDb::new("default-outage");
        let provider = Provider::new(|c| {
            if c.at < HOUR {
                down_faults(c.n)
            } else {
                Act::Deliver(FAST)
            }
        });
        let service = open(&db, &provider, policy);
        sign_up_all(&service, 0..3).await;
        let mut worker = spawn_worker(&service);
        run_until(HOUR + 5 * MINUTE, || false).await;
        worker_still_running(&mut worker).await;
        let all = provider.calls();
        let late: Vec<&Record> = all
            .iter()
            .filter(|c| c.started >= MINUTE && c.started < HOUR)
            .collect();
        assert!(
            late.len() <= 60,
            "with your Policy::default() ({policy:?}), during an hour-long outage with 3 \
             emails waiting the worker made {} calls between minute 1 and minute 60; the \
             provider asks for at most one a minute (60) while it is down (email.rs). \
             That count comes from your numbers and from the mechanism that applies them \
             together: if the numbers allow at most one call a minute, look at which \
             answers the breaker counts as failures and what resets its count, in \
             run_worker ({SERVICE}) and {BREAKER}; otherwise at Policy::default in \
             {POLICY}. The calls: {}.",
            late.len(),
            timeline(&late.iter().map(|r| (*r).clone()).collect::<Vec<_>>())
        );
        for i in 0..3 {
            let address = user(i).1;
            let made = provider.calls_to(&address);
            assert!(
                provider.received(&address).len() == 1,
                "with your Policy::default() ({policy:?}), after an hour-long outage \
                 {address} had not received its welcome email 5 minutes after the \
                 provider recovered, as the product asks (email.rs); the worker made {} \
                 for it: {}; its {}. Was it set aside before the outage ended (count \
                 the calls one email gets during an hour of outage with your breaker \
                 and backoff), or is the worker still waiting to call? Look at \
                 Policy::default in {POLICY}.",
                calls(made.len()),
                timeline(&made),
                outbox_row(&db, &address)
            );
        }
        worker.abort();
    }
}
