//! The checks for chapter 8. `cargo xtask check 8` runs them and prints each
//! test's name as a sentence, with ✓ or ✗.
//!
//! Every verdict is a count, an answer or a time on a clock the check
//! controls, so it is the same on every machine:
//! - the two-instance checks start the service's binary twice, as two real
//!   processes on 127.0.0.1 with ports the system chooses, over one SQLite
//!   file, and send each a bounded number of requests, in turn (round-robin);
//! - the other service checks run two instances in this process and hand
//!   requests to their routers directly (no socket), on tokio's paused clock:
//!   "500 ms of replication lag" is exact and takes no real time;
//! - the payment provider below is the checks' own: it counts its calls and
//!   the charges it makes, and fails in every way its trait allows;
//! - the rollout checks count users over fixed populations of ids.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use ch08_growth::db::{self, Database, Position, Side};
use ch08_growth::payments::{
    BoxFuture, Charge, ChargeRequest, DemoProvider, PaymentProvider, ProviderError,
};
use ch08_growth::{App, Config, Rollout};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tower::ServiceExt;

const LAG: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------------------
// Sessions and feature switches across two real instances
// ---------------------------------------------------------------------------

#[tokio::test]
async fn two_instances_behind_round_robin_serve_one_logged_in_user() {
    let dir = TempDir::new();
    let pair = [start(&dir, HOUR, 0).await, start(&dir, HOUR, 1).await];
    let token = login_at(&pair[0], "alice").await;
    for turn in 0..6 {
        let which = (turn + 1) % 2;
        let (status, body) = pair[which].get_raw("/me", Some(&token)).await;
        assert!(
            status == 200 && body["user"] == "alice",
            "Logged in as alice through instance 1, then asked `GET /me` through \
             instance {} (request {} of 6, the load balancer taking turns): expected \
             200 with {{\"user\":\"alice\"}}, saw {status} {body}. Whatever a request \
             needs must be found by whichever instance receives it, and each \
             instance is its own process. Look at where src/app.rs (`App::open`) \
             and src/sessions.rs keep sessions.",
            which + 1,
            turn + 1,
        );
    }
}

#[tokio::test]
async fn a_session_outlives_the_instances_that_served_it() {
    let dir = TempDir::new();
    let first = start(&dir, HOUR, 0).await;
    let token = login_at(&first, "alice").await;
    first.stop().await;
    let second = start(&dir, HOUR, 1).await;
    let (status, body) = second.get_raw("/me", Some(&token)).await;
    assert!(
        status == 200 && body["user"] == "alice",
        "Logged in through an instance, stopped it and started a new one on the same \
         database, as every deploy does: `GET /me` answered {status} {body}, expected \
         200 with {{\"user\":\"alice\"}}. At ten instances something restarts every \
         day, and each restart must not log everybody out. Look at where \
         src/sessions.rs keeps sessions."
    );
}

#[tokio::test]
async fn a_rollout_change_made_through_one_instance_holds_on_every_instance() {
    let dir = TempDir::new();
    let pair = [start(&dir, HOUR, 0).await, start(&dir, HOUR, 1).await];
    let token = login_at(&pair[0], "alice").await;
    // On at 100%, then killed, revived and killed again, each change through
    // the instance the previous one did not go through, and each followed at
    // once by a question to both: a setting an instance keeps for any time at
    // all shows on one of these next requests.
    for (step, killed) in [false, true, false, true, false, true]
        .into_iter()
        .enumerate()
    {
        let through = step % 2;
        let rollout = json!({ "percent": 100, "killed": killed });
        let (status, body) = pair[through]
            .put("/admin/features/new-checkout", None, &rollout)
            .await;
        assert_eq!(
            status,
            200,
            "PUT /admin/features/new-checkout {rollout} through instance {} answered \
             {status} {body}",
            through + 1
        );
        let expected = !killed;
        let mut seen = [Value::Null, Value::Null];
        // The instance the change did not go through first.
        for which in [1 - through, through] {
            seen[which] = pair[which]
                .get("/features/new-checkout", Some(&token))
                .await
                .1;
        }
        if seen.iter().all(|s| s["enabled"] == expected) {
            continue;
        }
        let why = rollout_change_missed(&dir, &token, killed, &seen, expected).await;
        let earlier = match step {
            0 => String::new(),
            1 => "; the change before it held on both".to_string(),
            _ => format!("; the {step} changes before it held on both"),
        };
        panic!(
            "PUT /admin/features/new-checkout {rollout} through instance {} (change \
             {} of 6, through alternate instances{earlier}): expected {{\"enabled\":{expected}}} for alice from \
             both instances at the very next request, saw {} from instance 1 and {} \
             from instance 2. {why} An operator changes a rollout through whichever \
             instance the load balancer picks, and it must hold for the very next \
             request on every instance, the kill switch above all.",
            through + 1,
            step + 1,
            seen[0],
            seen[1]
        );
    }
}

/// Why an instance answered a rollout change made a moment ago with the old
/// setting: the rollout itself, a setting never replaced in the store, or an
/// instance that goes on using what it read (asked of a new instance, which
/// has read nothing yet).
async fn rollout_change_missed(
    dir: &TempDir,
    token: &str,
    killed: bool,
    seen: &[Value; 2],
    expected: bool,
) -> String {
    let rollout = Rollout {
        percent: 100,
        killed,
    };
    if rollout.is_enabled_for("new-checkout", "alice") != expected {
        return if killed {
            "Asked directly, the rollout { percent: 100, killed: true } answers that \
             alice has it: the kill switch loses to a full rollout. Look at \
             `is_enabled_for` in src/rollout.rs."
                .to_string()
        } else {
            "Asked directly, the rollout { percent: 100, killed: false } answers that \
             alice does not have it: a full rollout reaches everybody. Look at \
             `is_enabled_for` in src/rollout.rs."
                .to_string()
        };
    }
    let fresh = start(dir, HOUR, 2).await;
    let (_, answer) = fresh.get("/features/new-checkout", Some(token)).await;
    fresh.stop().await;
    if answer["enabled"] != expected {
        return format!(
            "The change did not replace the setting before it where settings are \
             kept: an instance started after it (instance 3, which had read nothing \
             before) answers {answer} too. Look at `set_feature` in src/app.rs."
        );
    }
    let stale = match seen.each_ref().map(|s| s["enabled"] != expected) {
        [true, true] => "Both instances answered from what they",
        [true, false] => "Instance 1 answered from what it",
        _ => "Instance 2 answered from what it",
    };
    format!(
        "{stale} had read before the change: the new setting is \
         stored (an instance started after the change, instance 3, answers \
         {answer}). However short the time an instance keeps a setting, a kill \
         switch pulled within it leaves part of the traffic on the feature. Look \
         at where src/app.rs keeps each feature's rollout, and for how long an \
         instance goes on using what it read."
    )
}

#[tokio::test]
async fn every_instance_gives_each_user_the_same_rollout_answer() {
    let dir = TempDir::new();
    let pair = [start(&dir, HOUR, 0).await, start(&dir, HOUR, 1).await];
    // Set on both, so this check is only about the answer each process
    // computes, not about where the setting is kept.
    for instance in &pair {
        let rollout = json!({ "percent": 50, "killed": false });
        let (status, body) = instance
            .put("/admin/features/search-v2", None, &rollout)
            .await;
        assert_eq!(
            status, 200,
            "PUT /admin/features/search-v2 answered {status} {body}"
        );
    }
    let mut differ = Vec::new();
    let mut enabled = 0;
    for i in 0..60 {
        let user = format!("shopper-{i}");
        let token = login_at(&pair[0], &user).await;
        let (_, one) = pair[0].get("/features/search-v2", Some(&token)).await;
        let (_, two) = pair[1].get("/features/search-v2", Some(&token)).await;
        if one["enabled"] != two["enabled"] {
            differ.push(format!(
                "{user}: {} then {}",
                one["enabled"], two["enabled"]
            ));
        }
        if one["enabled"] == true {
            enabled += 1;
        }
    }
    assert!(
        differ.is_empty(),
        "search-v2 rolled out to 50% on two instances (two processes): {} of 60 users \
         got different answers from the two, e.g. {}. Expected each user's answer to \
         be the same from every process, today and after the next deploy or Rust \
         release, or a user sees the feature flicker from one click to the next. \
         Whatever decides a user's answer in src/rollout.rs (`is_enabled_for`) comes \
         out differently in another process.",
        differ.len(),
        differ
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
    );
    assert!(
        (10..=50).contains(&enabled),
        "search-v2 rolled out to 50%: {enabled} of 60 users have it, expected \
         about half (10 to 50). Look at `is_enabled_for` in src/rollout.rs."
    );
}

#[tokio::test]
async fn a_user_reads_their_own_write_through_the_other_instance() {
    let dir = TempDir::new();
    let pair = [start(&dir, HOUR, 0).await, start(&dir, HOUR, 1).await];
    let token = login_at(&pair[0], "alice").await;
    // The same user on a second device: another session of hers.
    let laptop = login_at(&pair[1], "alice").await;
    // Both sessions known to both instances first: a read with a session an
    // instance does not know would be anonymous, and this check's subject is
    // the writer's read.
    for session in [&token, &laptop] {
        for instance in pair.iter().rev() {
            instance.get("/me", Some(session)).await;
        }
    }
    let address = json!({ "address": "12 Harbour Road" });
    let (status, body) = pair[0].put("/profile", Some(&token), &address).await;
    assert_eq!(status, 200, "PUT /profile answered {status} {body}");
    for (i, instance) in pair.iter().enumerate().rev() {
        let (status, body) = instance.get("/profile/alice", Some(&token)).await;
        assert!(
            status == 200 && body["address"] == "12 Harbour Road",
            "alice changed her address through instance 1 (replica lag: one hour), \
             then read her profile through instance {}: expected 200 with \"12 \
             Harbour Road\", saw {status} {body}. A user who has just saved a change \
             must see it, whichever instance answers. Look at src/profiles.rs, and \
             at what every instance can know about alice's last write.",
            i + 1
        );
    }
    for (i, instance) in pair.iter().enumerate().rev() {
        let (status, body) = instance.get("/profile/alice", Some(&laptop)).await;
        assert!(
            status == 200 && body["address"] == "12 Harbour Road",
            "alice changed her address on her phone (one session) through instance \
             1, then read her profile on her laptop (another session of hers, \
             logged in before the change) through instance {} (replica lag: one \
             hour): expected 200 with \"12 Harbour Road\", saw {status} {body}. \
             Read-your-writes is owed to the user, on every device, not to the \
             session that wrote. Look at src/profiles.rs, and at what the last \
             write is recorded against.",
            i + 1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_session_token_the_service_never_issued_is_refused() {
    let provider = FakeProvider::new(Duration::ZERO);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let mut tampered = alice.clone();
    let last = tampered.pop().unwrap_or('0');
    tampered.push(if last == '0' { '1' } else { '0' });
    let forged = [
        ("alice".to_string(), "alice's name"),
        (hex("alice"), "alice's name in hexadecimal"),
        ("YWxpY2U=".to_string(), "alice's name in base64"),
        ("bob".to_string(), "the name of bob, who never logged in"),
        (hex("bob"), "bob's name in hexadecimal"),
        (tampered, "alice's token with its last character changed"),
    ];
    for (instance, (token, what)) in forged.iter().enumerate() {
        let (status, body) = cluster
            .get_unchecked(instance % 2, "/me", Some(token))
            .await;
        assert!(
            status == 401,
            "GET /me through instance {} with a token the service never issued \
             (`Bearer {token}`: {what}): expected 401, saw {status} {body}. A token \
             that anyone can make up from a user's name logs anyone in as anyone: a \
             token must be something only the service could have issued. Look at \
             src/sessions.rs, at how a token is made and how it is recognised.",
            instance % 2 + 1
        );
    }
    let (status, body) = cluster.get(1, "/me", Some(&alice)).await;
    assert!(
        status == 200 && body["user"] == "alice",
        "alice's real token, after the forged ones were refused: expected 200 with \
         {{\"user\":\"alice\"}}, saw {status} {body}. Look at src/sessions.rs."
    );
}

// ---------------------------------------------------------------------------
// Rollouts
// ---------------------------------------------------------------------------

/// Two populations of 100,000 ids: sequential names, and numbers.
fn populations() -> [(&'static str, Vec<String>); 2] {
    [
        (
            "user-0 .. user-99999",
            (0..100_000).map(|i| format!("user-{i}")).collect(),
        ),
        (
            "\"1\" .. \"100000\"",
            (1..=100_000).map(|i| i.to_string()).collect(),
        ),
    ]
}

fn count_enabled(rollout: &Rollout, flag: &str, users: &[String]) -> usize {
    users
        .iter()
        .filter(|u| rollout.is_enabled_for(flag, u))
        .count()
}

fn at(percent: u32) -> Rollout {
    Rollout {
        percent,
        killed: false,
    }
}

#[test]
fn ten_percent_of_100000_users_get_a_feature_within_one_point() {
    for (name, users) in populations() {
        let n = count_enabled(&at(10), "new-checkout", &users);
        assert!(
            (9_000..=11_000).contains(&n),
            "Rollout {{ percent: 10 }} of new-checkout over the 100,000 users {name}: \
             {n} have it, expected 10% within one point (9,000 to 11,000). Look at \
             `is_enabled_for` in src/rollout.rs."
        );
    }
}

#[test]
fn zero_percent_reaches_nobody_in_either_population_of_100000_users() {
    for (name, users) in populations() {
        let n = count_enabled(&at(0), "new-checkout", &users);
        assert_eq!(
            n, 0,
            "Rollout {{ percent: 0 }} of new-checkout over the 100,000 users {name}: \
             {n} have it, expected nobody. Look at `is_enabled_for` in src/rollout.rs."
        );
    }
}

#[test]
fn raising_a_rollout_from_10_to_20_percent_keeps_everyone_already_in() {
    for (name, users) in populations() {
        let ten: Vec<&String> = users
            .iter()
            .filter(|u| at(10).is_enabled_for("new-checkout", u))
            .collect();
        let left: Vec<&&String> = ten
            .iter()
            .filter(|u| !at(20).is_enabled_for("new-checkout", u))
            .collect();
        assert!(
            left.is_empty(),
            "Raised new-checkout from 10% to 20% over the users {name}: {} of the {} \
             users who had it at 10% lost it at 20% (e.g. {:?}). Expected nobody to \
             lose it: a rollout only widens, or the users who were in see the feature \
             vanish mid-experiment. Look at `is_enabled_for` in src/rollout.rs.",
            left.len(),
            ten.len(),
            left.iter().take(3).collect::<Vec<_>>(),
        );
        let twenty = count_enabled(&at(20), "new-checkout", &users);
        assert!(
            (19_000..=21_000).contains(&twenty),
            "Rollout {{ percent: 20 }} over the 100,000 users {name}: {twenty} have \
             it, expected 19,000 to 21,000. Look at `is_enabled_for` in \
             src/rollout.rs."
        );
    }
}

#[test]
fn every_step_of_a_rollout_keeps_the_users_before_it_from_0_to_100_percent() {
    let users: Vec<String> = (0..10_000).map(|i| format!("member-{i}")).collect();
    // Beyond 100 is everybody too, up to the type's maximum.
    // Several values above 100, so that no overflow or truncation of the
    // percentage hides behind a lucky one.
    let steps = [
        0,
        1,
        2,
        5,
        25,
        50,
        75,
        99,
        100,
        101,
        256,
        300,
        1_000,
        65_536,
        42_949_673,
        u32::MAX,
    ];
    let mut before: HashSet<&String> = HashSet::new();
    let mut previous = 0;
    for percent in steps {
        let now: HashSet<&String> = users
            .iter()
            .filter(|u| at(percent).is_enabled_for("wishlist", u))
            .collect();
        let lost = before.difference(&now).count();
        let above = if percent > 100 {
            " (a percentage above 100 means everybody, like 100)"
        } else {
            ""
        };
        assert!(
            lost == 0,
            "Rollout of wishlist raised from {previous}% to {percent}%{above}: {lost} \
             users who had it lost it. Expected each step to keep everyone from the \
             step before. Look at `is_enabled_for` in src/rollout.rs, at what it does \
             with {percent}."
        );
        let expected = users.len() * percent.min(100) as usize / 100;
        // About four standard deviations of a fair draw, never below zero.
        let within = match percent {
            0 | 100.. => 0,
            _ => (expected / 2).min(150),
        };
        assert!(
            now.len().abs_diff(expected) <= within,
            "Rollout {{ percent: {percent} }}{above} of wishlist over 10,000 users: {} \
             have it, expected {}. Look at `is_enabled_for` in src/rollout.rs.",
            now.len(),
            if within == 0 {
                format!("exactly {expected}")
            } else {
                format!("{} to {}", expected - within, expected + within)
            },
        );
        before = now;
        previous = percent;
    }
}

#[test]
fn the_kill_switch_turns_a_feature_off_for_everyone() {
    let users: Vec<String> = (0..10_000).map(|i| format!("user-{i}")).collect();
    for percent in [u32::MAX, 101, 100, 10, 0] {
        let killed = Rollout {
            percent,
            killed: true,
        };
        let n = count_enabled(&killed, "new-checkout", &users);
        assert_eq!(
            n, 0,
            "Rollout {{ percent: {percent}, killed: true }}: {n} of 10,000 users still \
             have new-checkout, expected none: the kill switch wins over every \
             percentage, those above 100 included. Look at `is_enabled_for` in \
             src/rollout.rs."
        );
    }
}

#[test]
fn a_user_gets_the_same_answer_every_time_and_on_every_thread() {
    let users: Vec<String> = (0..2_000).map(|i| format!("user-{i}")).collect();
    let first: Vec<bool> = users
        .iter()
        .map(|u| at(30).is_enabled_for("new-checkout", u))
        .collect();
    let again: Vec<bool> = users
        .iter()
        .rev()
        .map(|u| at(30).is_enabled_for("new-checkout", u))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let from_thread = {
        let users = users.clone();
        std::thread::spawn(move || {
            users
                .iter()
                .map(|u| at(30).is_enabled_for("new-checkout", u))
                .collect::<Vec<bool>>()
        })
        .join()
        .expect("the thread asking is_enabled_for panicked")
    };
    for (what, answers) in [
        ("asked again", &again),
        ("asked from another thread", &from_thread),
    ] {
        let changed: Vec<&String> = users
            .iter()
            .zip(first.iter().zip(answers))
            .filter(|(_, (a, b))| a != b)
            .map(|(u, _)| u)
            .collect();
        assert!(
            changed.is_empty(),
            "Rollout {{ percent: 30 }} of new-checkout, each user {what}: {} of 2,000 \
             users got a different answer (e.g. {:?}). Expected the same answer every \
             time: a user must not see the feature appear and vanish between clicks. \
             Look at what decides the answer in `is_enabled_for` (src/rollout.rs).",
            changed.len(),
            changed.iter().take(3).collect::<Vec<_>>(),
        );
    }
}

#[test]
fn the_rollout_answer_comes_from_a_hash_no_rust_release_may_change() {
    // What a user gets must be the same after the next Rust release, which no
    // run of this process can observe; so this check reads the code. std's
    // hashers say in their documentation that their output may change between
    // releases (or is seeded per process).
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for name in ["DefaultHasher", "RandomState"] {
                    if code.contains(name) {
                        let shown = path.strip_prefix(&src).unwrap_or(&path);
                        found.push((shown.display().to_string(), n + 1, name));
                    }
                }
            }
        }
    }
    found.sort();
    let found: Vec<String> = found
        .iter()
        .map(|(file, line, name)| format!("src/{file}:{line} uses {name}"))
        .collect();
    assert!(
        found.is_empty(),
        "Expected each user's rollout answer to come from a function whose output is \
         fixed by a published definition, so that it stays the same in every process \
         and after every upgrade of Rust; saw {}. The standard library does not \
         promise that its hashers give the same output in the next release (and \
         seeds one of them per process): a user would see their features change \
         the day the service is rebuilt. Look at what decides the answer in \
         `is_enabled_for` (src/rollout.rs).",
        found.join("; ")
    );
}

#[test]
fn two_features_at_10_percent_reach_different_users() {
    let users: Vec<String> = (0..100_000).map(|i| format!("user-{i}")).collect();
    let both = users
        .iter()
        .filter(|u| at(10).is_enabled_for("new-checkout", u))
        .filter(|u| at(10).is_enabled_for("search-v2", u))
        .count();
    assert!(
        (700..=1_300).contains(&both),
        "new-checkout and search-v2, each at 10% of 100,000 users: {both} users have \
         both. Expected about 1,000 (10% of 10%, 700 to 1,300): when every rollout \
         picks the same users, those users meet every new feature at once, and a \
         problem in one experiment is read as a result of the other. Look at what \
         decides the answer in `is_enabled_for` (src/rollout.rs)."
    );
}

// ---------------------------------------------------------------------------
// Payments: idempotency keys
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_retried_payment_charges_once_and_gets_the_same_response() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let started = tokio::time::Instant::now();
    let first = cluster.pay(0, &alice, Some("k-1"), "o-1", 1299).await;
    let took = started.elapsed();
    assert!(
        took <= Duration::from_secs(1),
        "The first POST /payments with a new key (k-1), with no other attempt in \
         sight and a provider that answers in 100 ms, took {} ms to answer (on the \
         checks' paused clock); expected no more than 1,000 ms. A payment that \
         nobody else is making must not wait for anyone. Look at `pay` in \
         src/payment.rs.",
        took.as_millis()
    );
    assert_eq!(
        first.0, 200,
        "The first POST /payments (key k-1, 1299 cents) answered {} {}; expected 200 \
         with the charge. Look at `pay` in src/payment.rs.",
        first.0, first.1
    );
    for instance in [1, 0, 1] {
        let again = cluster
            .pay(instance, &alice, Some("k-1"), "o-1", 1299)
            .await;
        assert_eq!(
            again,
            first,
            "The client retried POST /payments with the same Idempotency-Key (k-1) \
             and the same body, through instance {}: expected the very response of \
             the first attempt, {} {}, saw {} {}. Look at `pay` in src/payment.rs.",
            instance + 1,
            first.0,
            first.1,
            again.0,
            again.1
        );
    }
    let (calls, charged) = (provider.calls(), provider.charged());
    assert!(
        calls == 1 && charged == 1,
        "One payment sent four times with the same Idempotency-Key (k-1): the \
         provider was called {calls} times and took the money {charged} times; \
         expected 1 call and 1 charge. A client that retries after a lost answer \
         must not pay twice. Look at `pay` in src/payment.rs."
    );
}

#[tokio::test(start_paused = true)]
async fn fifty_concurrent_retries_through_two_instances_charge_exactly_once() {
    let provider = FakeProvider::new(Duration::from_secs(2));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    // Half of the copies arrive at once, the rest one every 80 ms while the
    // first attempt is still waiting for the provider (2 s).
    let answers = cluster
        .pay_concurrently(&alice, "k-50", "o-50", 4999, 50)
        .await;
    let (calls, charged) = (provider.calls(), provider.charged());
    assert!(
        calls == 1,
        "50 copies of one POST /payments (Idempotency-Key k-50), alternating between \
         two instances: 25 arrived together, the other 25 one every 80 ms during the \
         2 s the provider took to answer the first: the provider was called {calls} \
         times (took the money {charged} times), expected exactly once. Retries that \
         arrive while the first attempt is still in flight, on any instance and at \
         any moment of it, must not reach the provider: an attempt that is still \
         running must keep its key. Look at `pay` in src/payment.rs."
    );
    let oks: HashSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b.to_string())
        .collect();
    let others: Vec<String> = answers
        .iter()
        .filter(|(s, _)| *s != 200 && *s != 409)
        .map(|(s, b)| format!("{s} {b}"))
        .collect();
    assert!(
        oks.len() == 1 && others.is_empty(),
        "50 concurrent copies of one payment (key k-50): expected every answer to be \
         the one charge (200, the same body each time) or, for a copy that arrived \
         while the first was still running, 409 (retry later); saw {} different 200 \
         bodies {:?} and other answers {:?}. Look at `pay` in src/payment.rs.",
        oks.len(),
        oks.iter().take(3).collect::<Vec<_>>(),
        others.iter().take(3).collect::<Vec<_>>(),
    );
    let later = cluster.pay(1, &alice, Some("k-50"), "o-50", 4999).await;
    assert!(
        later.0 == 200 && oks.contains(&later.1.to_string()) && provider.calls() == 1,
        "Once the 50 concurrent copies of payment k-50 were answered, one more retry \
         came: expected 200 with the charge already made ({}), without a new provider \
         call; saw {} {} after {} provider calls. Look at `pay` in src/payment.rs.",
        oks.iter().next().cloned().unwrap_or_default(),
        later.0,
        later.1,
        provider.calls()
    );
}

#[tokio::test]
async fn retries_racing_through_two_processes_charge_exactly_once() {
    let dir = TempDir::new();
    let pair = [start(&dir, HOUR, 0).await, start(&dir, HOUR, 1).await];
    let alice = login_at(&pair[0], "alice").await;
    // Each process has its own DemoProvider, which numbers its charges from
    // ch_1: one payment through instance 2 first, so that a charge made by
    // each process shows as two different charge ids.
    let warm = exchange_with(
        pair[1].addr,
        "POST",
        "/payments",
        Some(&alice),
        &[("idempotency-key", "k-warm")],
        Some(&json!({ "order": "o-warm", "amount_cents": 100 })),
    )
    .await;
    assert_eq!(
        warm.0, 200,
        "POST /payments (key k-warm) through instance 2 answered {} {}; expected \
         200. Look at `pay` in src/payment.rs.",
        warm.0, warm.1
    );
    // Hold the database's write lock while eight copies of one payment reach
    // the two processes (four each), so that every copy has done whatever
    // it does before its first write when the lock is let go: the race two
    // real instances run now and then, made to happen every time.
    let holder = Database::open(&dir.path().join("shop.db"), LAG)
        .expect("opening the shared database");
    holder
        .primary()
        .execute_batch("BEGIN IMMEDIATE")
        .expect("taking the database's write lock");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let addr = pair[i % 2].addr;
        let token = alice.clone();
        tasks.spawn(async move {
            exchange_with(
                addr,
                "POST",
                "/payments",
                Some(&token),
                &[("idempotency-key", "k-race")],
                Some(&json!({ "order": "o-race", "amount_cents": 2500 })),
            )
            .await
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    holder
        .primary()
        .execute_batch("COMMIT")
        .expect("letting go of the database's write lock");
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        match answer {
            Ok(answer) => answers.push(answer),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a concurrent POST /payments was cancelled: {e}"),
        }
    }
    let later = exchange_with(
        pair[0].addr,
        "POST",
        "/payments",
        Some(&alice),
        &[("idempotency-key", "k-race")],
        Some(&json!({ "order": "o-race", "amount_cents": 2500 })),
    )
    .await;
    answers.push(later.clone());
    let charges: HashSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b["charge_id"].to_string())
        .collect();
    assert!(
        charges.len() <= 1,
        "Eight copies of one POST /payments (Idempotency-Key k-race) reached two \
         instances in two processes at the same moment (four each), then one more \
         retry came: expected one charge, every 200 answering it; saw {} different \
         charges: {}. Each process's provider numbers its own charges, so two \
         charge ids mean both processes charged: each decided that its copy was \
         the first. A read that finds no record, followed by a write, is two \
         steps, and another process can take both between them. Look at `pay` in \
         src/payment.rs, at what decides which copy charges.",
        charges.len(),
        answers
            .iter()
            .map(|(s, b)| format!("{s} {b}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    assert!(
        later.0 == 200,
        "After eight concurrent copies of payment k-race through two processes, one \
         more retry answered {} {}; expected 200 with the one charge. Look at `pay` \
         in src/payment.rs.",
        later.0,
        later.1
    );
}

#[tokio::test(start_paused = true)]
async fn the_same_key_with_a_different_request_is_refused_with_422() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let first = cluster.pay(0, &alice, Some("k-7"), "o-7", 1299).await;
    assert_eq!(
        first.0, 200,
        "POST /payments answered {} {}",
        first.0, first.1
    );
    for (order, amount) in [("o-7", 999), ("o-8", 1299)] {
        let other = cluster.pay(1, &alice, Some("k-7"), order, amount).await;
        assert!(
            other.0 == 422,
            "Reused Idempotency-Key k-7 (first sent for order o-7, 1299 cents) with \
             order {order}, {amount} cents: expected 422 (the key belongs to another \
             request: a client bug to report, not a payment to make or to answer \
             with the first one's result), saw {} {}. Look at `pay` in \
             src/payment.rs.",
            other.0,
            other.1
        );
    }
    let again = cluster.pay(0, &alice, Some("k-7"), "o-7", 1299).await;
    assert_eq!(
        again, first,
        "After two refused reuses of k-7, the original request retried must still get \
         its first response {} {}, saw {} {}. Look at `pay` in src/payment.rs.",
        first.0, first.1, again.0, again.1
    );
    assert_eq!(
        provider.calls(),
        1,
        "One payment and two refused reuses of its key: the provider was called {} \
         times, expected once. Look at `pay` in src/payment.rs.",
        provider.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn two_users_may_choose_the_same_key_for_two_payments() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let bob = cluster.login("bob").await;
    let for_alice = cluster.pay(0, &alice, Some("1"), "o-1", 500).await;
    let for_bob = cluster.pay(1, &bob, Some("1"), "o-1", 500).await;
    let provider_shared = provider.calls() == 2 && provider.charged() == 1;
    assert!(
        !provider_shared,
        "alice and bob each paid 500 cents for their own order o-1, both with \
         Idempotency-Key \"1\": the service asked the provider twice (right), but \
         the provider took the money once and answered bob with alice's charge (saw \
         alice {} {} and bob {} {}): both requests reached the provider under the \
         same key of its own, and the provider charges each of its keys once (see \
         src/payments.rs). The provider's key must be unique for the payment, not \
         only for the client that chose it. Look at `pay` in src/payment.rs, at the \
         key the provider is given.",
        for_alice.0, for_alice.1, for_bob.0, for_bob.1
    );
    assert!(
        for_alice.0 == 200 && for_bob.0 == 200 && for_alice.1 != for_bob.1,
        "alice and bob each paid 500 cents for their own order o-1, both with \
         Idempotency-Key \"1\" (each client numbers its own payments): expected two \
         different 200 responses with two charges, saw alice {} {} and bob {} {}. A \
         key is unique only for the client that chose it. Look at `pay` in \
         src/payment.rs.",
        for_alice.0,
        for_alice.1,
        for_bob.0,
        for_bob.1
    );
    assert_eq!(
        provider.charged(),
        2,
        "Two users' payments with the same key: the provider took the money {} \
         times, expected twice (once for each user). Look at `pay` in src/payment.rs.",
        provider.charged()
    );
    // Names and keys that run together: "alic" + "e1" and "alice" + "1".
    let alic = cluster.login("alic").await;
    let first = cluster.pay(0, &alic, Some("e1"), "o-9", 700).await;
    let second = cluster.pay(1, &alice, Some("1x"), "o-9", 700).await;
    let third = cluster.pay(0, &alice, Some("e1"), "o-9", 700).await;
    let fourth = cluster.pay(1, &alic, Some("e1x"), "o-9", 700).await;
    let answers = [&first, &second, &third, &fourth];
    let bodies: HashSet<String> = answers.iter().map(|a| a.1.to_string()).collect();
    assert!(
        answers.iter().all(|a| a.0 == 200)
            && bodies.len() == 4
            && provider.charged() == 6,
        "Users \"alic\" and \"alice\" each paid for their own order o-9 (700 \
         cents), with keys that run together with their names (\"alic\" + \"e1\", \
         \"alice\" + \"1x\", \"alice\" + \"e1\", \"alic\" + \"e1x\"): expected four \
         different 200 responses and four more charges (6 in all), saw {} (the \
         provider took the money {} times). Two different (user, key) pairs must \
         never be mistaken for one: whatever identifies a payment must keep the \
         user and the key apart. Look at `pay` in src/payment.rs.",
        answers
            .iter()
            .map(|a| format!("{} {}", a.0, a.1))
            .collect::<Vec<_>>()
            .join(", "),
        provider.charged()
    );
}

#[tokio::test(start_paused = true)]
async fn a_payment_the_provider_could_not_make_can_be_retried_with_the_same_key() {
    for failure in [Outcome::Unavailable, Outcome::TimeoutBeforeCharge] {
        let provider = FakeProvider::new(Duration::from_millis(100));
        provider.script([failure]);
        let cluster = Cluster::open(&provider).await;
        let alice = cluster.login("alice").await;
        let first = cluster.pay(0, &alice, Some("k-2"), "o-2", 2500).await;
        assert!(
            first.0 >= 500,
            "The provider answered {failure:?} (nothing was charged): expected a 5xx \
             answer so the client knows to retry, saw {} {}. Look at `pay` in \
             src/payment.rs.",
            first.0,
            first.1
        );
        let retry = cluster.pay(1, &alice, Some("k-2"), "o-2", 2500).await;
        assert!(
            retry.0 == 200 && provider.charged() == 1,
            "The provider answered {failure:?} (nothing charged), then the client \
             retried with the same Idempotency-Key k-2: expected the retry to charge \
             (200, one charge), saw {} {} with {} charges and {} provider calls. A \
             failed attempt has nothing to replay: the key must stay usable. Look at \
             `pay` in src/payment.rs, at what is kept when the provider fails.",
            retry.0,
            retry.1,
            provider.charged(),
            provider.calls()
        );
        let third = cluster.pay(0, &alice, Some("k-2"), "o-2", 2500).await;
        assert_eq!(
            third, retry,
            "After a failed attempt and a successful retry (key k-2), one more retry \
             must get the successful response again. Look at `pay` in src/payment.rs."
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_payment_that_timed_out_after_the_money_moved_is_not_charged_twice() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    provider.script([Outcome::TimeoutAfterCharge]);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let first = cluster.pay(0, &alice, Some("k-3"), "o-3", 7000).await;
    assert!(
        first.0 >= 500,
        "The provider timed out (it had in fact taken the money): expected a 5xx \
         answer, since the outcome is unknown, saw {} {}. Look at `pay` in \
         src/payment.rs.",
        first.0,
        first.1
    );
    let retry = cluster.pay(1, &alice, Some("k-3"), "o-3", 7000).await;
    assert!(
        provider.charged() == 1,
        "The provider timed out after taking the money, and the client retried with \
         the same Idempotency-Key k-3: the provider has now taken the money {} \
         times, expected once. After a timeout nobody knows whether the charge \
         happened; the provider charges each of its own keys at most once (see \
         src/payments.rs). Look at `pay` in src/payment.rs, at what the retry asks \
         the provider.",
        provider.charged()
    );
    assert!(
        retry.0 == 200 && retry.1["charge_id"] == provider.charge_ids()[0].as_str(),
        "After a timeout, the retry should answer 200 with the charge the provider \
         made ({}), saw {} {}. Look at `pay` in src/payment.rs.",
        provider.charge_ids()[0],
        retry.0,
        retry.1
    );
}

#[tokio::test(start_paused = true)]
async fn a_declined_card_gets_the_same_answer_on_retry_without_asking_again() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    provider.script([Outcome::Decline]);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let first = cluster.pay(0, &alice, Some("k-4"), "o-4", 900).await;
    assert_eq!(
        first.0, 402,
        "The provider declined the card: expected 402, saw {} {}. Look at `pay` in \
         src/payment.rs.",
        first.0, first.1
    );
    let retry = cluster.pay(1, &alice, Some("k-4"), "o-4", 900).await;
    assert!(
        retry == first && provider.calls() == 1,
        "The card was declined, then the client retried with the same \
         Idempotency-Key k-4: expected the same 402 {} again without asking the \
         provider (1 call), saw {} {} after {} provider calls. A decline is the \
         payment's answer, like a charge: the key has been used. Look at `pay` in \
         src/payment.rs.",
        first.1,
        retry.0,
        retry.1,
        provider.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_retries_of_a_failed_attempt_end_in_one_charge() {
    let provider = FakeProvider::new(Duration::from_secs(1));
    provider.script([Outcome::Unavailable]);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let answers = cluster
        .pay_concurrently(&alice, "k-5", "o-5", 3100, 10)
        .await;
    let settled = cluster.pay(0, &alice, Some("k-5"), "o-5", 3100).await;
    let oks: HashSet<String> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b.to_string())
        .collect();
    assert!(
        provider.charged() == 1 && settled.0 == 200 && oks.len() <= 1,
        "10 copies of one payment (key k-5) arrived together while the provider \
         failed the first attempt (Unavailable), then one more retry came: expected \
         exactly one charge in the end and every 200 the same, saw {} charges, {} \
         provider calls, {} different 200 responses, last retry {} {}. Look at `pay` \
         in src/payment.rs, at what waiting retries do when the attempt they wait \
         for fails.",
        provider.charged(),
        provider.calls(),
        oks.len(),
        settled.0,
        settled.1
    );
    assert!(
        provider.calls() <= 2,
        "10 concurrent copies of one payment (key k-5), first attempt failed: the \
         provider was called {} times, expected at most 2 (the failed attempt and \
         one more). Look at `pay` in src/payment.rs.",
        provider.calls()
    );
}

#[tokio::test(start_paused = true)]
async fn a_payment_without_an_idempotency_key_is_refused_with_400() {
    let provider = FakeProvider::new(Duration::from_millis(100));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let too_long = "k".repeat(256);
    for (key, what) in [
        (None, "no Idempotency-Key header"),
        (Some(""), "an empty Idempotency-Key"),
        (
            Some(too_long.as_str()),
            "an Idempotency-Key of 256 characters",
        ),
    ] {
        let answer = cluster.pay(0, &alice, key, "o-6", 100).await;
        assert!(
            answer.0 == 400,
            "POST /payments with {what}: expected 400 (keys are 1 to 255 characters, \
             and a payment this API cannot make safe to retry is refused), saw {} {}. \
             Look at `pay` in src/payment.rs.",
            answer.0,
            answer.1
        );
    }
    assert_eq!(
        provider.calls(),
        0,
        "Payments without a usable Idempotency-Key reached the provider {} times, \
         expected never. Look at `pay` in src/payment.rs.",
        provider.calls()
    );
    let longest = "k".repeat(255);
    let answer = cluster.pay(1, &alice, Some(&longest), "o-6", 100).await;
    assert!(
        answer.0 == 200,
        "POST /payments with an Idempotency-Key of 255 characters (the longest \
         allowed): expected 200, saw {} {}. Look at `pay` in src/payment.rs.",
        answer.0,
        answer.1
    );
}

#[tokio::test(start_paused = true)]
async fn a_payment_whose_first_attempt_was_abandoned_can_still_be_completed() {
    for died in [false, true] {
        abandon_then_retry(died).await;
    }
}

/// A first attempt stopped 1 s in, while the provider (10 s) still works on
/// it: cancelled (its client disconnected, and its code is dropped) or, when
/// `died`, frozen for good (its instance died: none of its code runs again,
/// clean-up included); then a retry every 30 s for about 10 minutes.
async fn abandon_then_retry(died: bool) {
    let provider = FakeProvider::new(Duration::from_secs(10));
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let mut first = Box::pin(cluster.pay(0, &alice, Some("k-9"), "o-9", 1500));
    tokio::select! {
        answer = &mut first => panic!(
            "The first attempt of payment k-9 answered {} {} within 1 s, though the \
             provider takes 10 s: it cannot have waited for the provider. Look at \
             `pay` in src/payment.rs.",
            answer.0, answer.1
        ),
        () = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
    if died {
        // Never polled again and never dropped: no destructor runs, as when
        // the process is killed.
        std::mem::forget(first);
    } else {
        drop(first);
    }
    let mut last = (0, Value::Null);
    for _ in 0..20 {
        let retry = tokio::time::timeout(
            Duration::from_secs(60),
            cluster.pay(1, &alice, Some("k-9"), "o-9", 1500),
        )
        .await;
        match retry {
            Ok(answer) if answer.0 == 200 => {
                last = answer;
                break;
            }
            Ok(answer) => last = answer,
            Err(_) => last = (0, json!("no answer within a minute")),
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let how = if died {
        "stopped for good 1 s in, as when its instance dies: none of its code ran \
         again, clean-up included"
    } else {
        "cancelled 1 s in (its client disconnected)"
    };
    assert!(
        last.0 == 200 && provider.charged() == 1,
        "The first attempt of a payment (key k-9) was {how}, while the provider was \
         still working on it, and nothing was charged. The client then retried \
         every 30 s for about 10 minutes: the last answer was {} {}, with {} \
         charges. Expected a retry to complete the payment, once, when the \
         abandoned attempt can no longer be running. Look at `pay` in \
         src/payment.rs, at what happens to a key whose attempt never finishes, \
         even when the code that claimed it never runs again.",
        last.0,
        last.1,
        provider.charged()
    );
}

// ---------------------------------------------------------------------------
// Read replica and read-your-writes, on the paused clock
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn reads_by_users_who_have_not_written_go_to_the_replica() {
    let provider = FakeProvider::new(Duration::ZERO);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    cluster.set_address(0, &alice, "1 Old Road").await;
    tokio::time::sleep(LAG * 2).await;
    let bob = cluster.login("bob").await;
    let before = db::reads();
    for i in 0..50 {
        let token = if i % 2 == 0 { Some(bob.as_str()) } else { None };
        let (status, body) = cluster.get(i % 2, "/profile/alice", token).await;
        assert!(
            status == 200 && body["address"] == "1 Old Road",
            "GET /profile/alice (read {} of 50, {}) answered {status} {body}, \
             expected 200 with \"1 Old Road\". Look at `show` in src/profiles.rs.",
            i + 1,
            if token.is_some() {
                "by bob"
            } else {
                "anonymous"
            },
        );
    }
    let after = db::reads();
    let (primary, replica) = (
        after.primary - before.primary,
        after.replica - before.replica,
    );
    assert!(
        primary == 0 && replica == 50,
        "50 reads of alice's profile, by bob and by anonymous visitors, neither of \
         whom has written anything: {primary} went to the primary and {replica} to the \
         replica (src/db.rs counts them), expected all 50 on the replica. The primary \
         takes every write of every instance; reads that can be served a little late \
         belong on replicas. Look at `show` in src/profiles.rs."
    );
}

#[tokio::test(start_paused = true)]
async fn during_500_ms_of_lag_the_writer_reads_their_write_and_others_read_the_replica()
{
    let provider = FakeProvider::new(Duration::ZERO);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let bob = cluster.login("bob").await;
    cluster.set_address(0, &alice, "1 Old Road").await;
    tokio::time::sleep(LAG * 2).await;
    cluster.set_address(0, &alice, "2 New Street").await;
    let mut elapsed = Duration::ZERO;
    for step in [1, 249, 249] {
        tokio::time::sleep(Duration::from_millis(step)).await;
        elapsed += Duration::from_millis(step);
        let (status, body) = cluster.get(1, "/profile/alice", Some(&alice)).await;
        assert!(
            status == 200 && body["address"] == "2 New Street",
            "alice moved from \"1 Old Road\" to \"2 New Street\" through instance 1; \
             {} ms later (replica lag 500 ms) she read her profile through instance \
             2: expected \"2 New Street\", saw {status} {body}. A user must see their \
             own change at once, even while the replica has not applied it. Look at \
             `show` in src/profiles.rs.",
            elapsed.as_millis()
        );
        let before = db::reads();
        let (status, body) = cluster.get(1, "/profile/alice", Some(&bob)).await;
        let after = db::reads();
        assert!(
            after.replica - before.replica == 1 && after.primary == before.primary,
            "{} ms after alice's change (replica lag 500 ms), bob read her profile: \
             the read went to the {} (answered {status} {body}). Expected the \
             replica: bob did not write, and may see the old address until the \
             replica catches up. Look at `show` in src/profiles.rs.",
            elapsed.as_millis(),
            if after.primary > before.primary {
                "primary"
            } else {
                "neither copy"
            },
        );
    }
}

#[tokio::test(start_paused = true)]
async fn once_the_replica_has_caught_up_everyone_reads_from_it() {
    let provider = FakeProvider::new(Duration::ZERO);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    let bob = cluster.login("bob").await;
    cluster.set_address(0, &alice, "2 New Street").await;
    tokio::time::sleep(LAG).await;
    for (who, token) in [("bob", &bob), ("alice", &alice)] {
        let before = db::reads();
        let (status, body) = cluster.get(1, "/profile/alice", Some(token)).await;
        let after = db::reads();
        assert!(
            status == 200 && body["address"] == "2 New Street",
            "500 ms after alice's change (replica lag 500 ms), {who} read her \
             profile: expected \"2 New Street\", saw {status} {body}. Look at `show` \
             in src/profiles.rs."
        );
        assert!(
            after.replica - before.replica == 1 && after.primary == before.primary,
            "500 ms after alice's change the replica has applied it, and {who} read \
             her profile from the {}. Expected the replica: once the replica has \
             caught up with a user's last write, their reads go back to it, or every \
             user who ever wrote loads the primary forever. Look at `show` in \
             src/profiles.rs.",
            if after.primary > before.primary {
                "primary"
            } else {
                "neither copy"
            },
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_writer_reads_their_latest_write_even_when_the_replica_falls_far_behind() {
    let provider = FakeProvider::new(Duration::ZERO);
    let cluster = Cluster::open(&provider).await;
    let alice = cluster.login("alice").await;
    cluster.set_address(0, &alice, "1 Old Road").await;
    tokio::time::sleep(LAG * 2).await;
    cluster.stall_replica();
    cluster.set_address(1, &alice, "2 New Street").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.set_address(0, &alice, "3 Late Lane").await;
    tokio::time::sleep(LAG * 20).await;
    for instance in [1, 0] {
        let (status, body) =
            cluster.get(instance, "/profile/alice", Some(&alice)).await;
        assert!(
            status == 200 && body["address"] == "3 Late Lane",
            "The replica stopped applying the log (as a replica stuck behind a long \
             query does), then alice changed her address twice; 10 s later (20 times \
             the usual 500 ms lag) she read it through instance {}: expected \"3 Late \
             Lane\", saw {status} {body}. The lag has no upper bound: knowing that it \
             is usually 500 ms does not tell whether the replica has this user's last \
             write. Look at `show` in src/profiles.rs.",
            instance + 1
        );
    }
}

// ---------------------------------------------------------------------------
// The simulated infrastructure
// ---------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn the_simulated_database_and_provider_work_as_documented() {
    let dir = TempDir::new();
    let db =
        Database::open(&dir.path().join("shop.db"), LAG).expect("opening the database");
    let where_ = "src/db.rs, which should be left as it was";
    assert_eq!(db.replica_position().unwrap(), Position(0), "{where_}");
    let first = db.write_profile("alice", "1 Old Road").unwrap();
    let before = db::reads();
    assert_eq!(
        db.read_profile(Side::Replica, "alice").unwrap(),
        None,
        "{where_}"
    );
    assert_eq!(
        db.read_profile(Side::Primary, "alice").unwrap().as_deref(),
        Some("1 Old Road"),
        "{where_}"
    );
    let after = db::reads();
    assert_eq!(
        (
            after.primary - before.primary,
            after.replica - before.replica
        ),
        (1, 1),
        "{where_}: reads are counted by side"
    );
    tokio::time::sleep(LAG - Duration::from_millis(1)).await;
    assert_eq!(db.replica_position().unwrap(), Position(0), "{where_}");
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(db.replica_position().unwrap(), first, "{where_}");
    assert_eq!(
        db.read_profile(Side::Replica, "alice").unwrap().as_deref(),
        Some("1 Old Road"),
        "{where_}"
    );
    let second = db.write_profile("alice", "2 New Street").unwrap();
    assert!(second > first, "{where_}: positions grow");
    db.stall_replica().unwrap();
    tokio::time::sleep(LAG * 4).await;
    assert_eq!(
        db.replica_position().unwrap(),
        first,
        "{where_}: a stall holds"
    );
    assert_eq!(
        db.read_profile(Side::Replica, "alice").unwrap().as_deref(),
        Some("1 Old Road"),
        "{where_}"
    );

    let demo = DemoProvider::default();
    let request = |key: &str| ChargeRequest {
        key: key.to_string(),
        user: "alice".to_string(),
        amount_cents: 100,
    };
    let one = demo.charge(request("a")).await.unwrap();
    let same = demo.charge(request("a")).await.unwrap();
    let other = demo.charge(request("b")).await.unwrap();
    assert!(
        one == same
            && one != other
            && one.amount_cents == 100
            && one.id == "ch_1"
            && other.id == "ch_2",
        "src/payments.rs, which should be left as it was: DemoProvider charges each \
         key once"
    );
}

// ---------------------------------------------------------------------------
// The checks' instruments
// ---------------------------------------------------------------------------

const HOUR: u64 = 3_600_000;

/// A folder of its own under the system's temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ch08-growth-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .expect("creating a temporary folder for the database");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ANCHOR: fake_provider
/// What the fake provider does with the next charge it is asked for.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    Approve,
    Decline,
    /// Refuses the request: nothing charged.
    Unavailable,
    /// Gives up before charging: nothing charged, but the caller cannot know.
    TimeoutBeforeCharge,
    /// Takes the money, then the answer is lost.
    TimeoutAfterCharge,
}

/// A provider that counts every call and every charge, answers after
/// `latency` (on tokio's clock), and never charges one key twice: a call with
/// a key it has charged returns that charge, as real providers do.
struct FakeProvider {
    latency: Duration,
    script: Mutex<VecDeque<Outcome>>,
    calls: AtomicUsize,
    charges: Mutex<Vec<(String, Charge)>>,
}
// ANCHOR_END: fake_provider

impl FakeProvider {
    fn new(latency: Duration) -> Arc<Self> {
        Arc::new(Self {
            latency,
            script: Mutex::new(VecDeque::new()),
            calls: AtomicUsize::new(0),
            charges: Mutex::new(Vec::new()),
        })
    }

    /// The outcomes of the next calls, in order; afterwards it approves.
    fn script(&self, outcomes: impl IntoIterator<Item = Outcome>) {
        self.script.lock().unwrap().extend(outcomes);
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// How many times money was taken.
    fn charged(&self) -> usize {
        self.charges.lock().unwrap().len()
    }

    fn charge_ids(&self) -> Vec<String> {
        let charges = self.charges.lock().unwrap();
        charges.iter().map(|(_, c)| c.id.clone()).collect()
    }
}

impl PaymentProvider for FakeProvider {
    fn charge(
        &self,
        request: ChargeRequest,
    ) -> BoxFuture<'_, Result<Charge, ProviderError>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let outcome = self.script.lock().unwrap().pop_front();
            tokio::time::sleep(self.latency).await;
            let mut charges = self.charges.lock().unwrap();
            if let Some((_, done)) = charges.iter().find(|(k, _)| *k == request.key) {
                return Ok(done.clone());
            }
            let mut take = || {
                let charge = Charge {
                    id: format!("ch_{}", charges.len() + 1),
                    amount_cents: request.amount_cents,
                };
                charges.push((request.key.clone(), charge.clone()));
                charge
            };
            match outcome.unwrap_or(Outcome::Approve) {
                Outcome::Approve => Ok(take()),
                Outcome::Decline => {
                    Err(ProviderError::Declined("insufficient funds".into()))
                }
                Outcome::Unavailable => Err(ProviderError::Unavailable),
                Outcome::TimeoutBeforeCharge => Err(ProviderError::TimedOut),
                Outcome::TimeoutAfterCharge => {
                    take();
                    Err(ProviderError::TimedOut)
                }
            }
        })
    }
}

/// Two instances of the service in this process, over one database file,
/// reached through their routers (no socket), so tokio's paused clock holds.
struct Cluster {
    dir: TempDir,
    routers: [axum::Router; 2],
}

impl Cluster {
    async fn open(provider: &Arc<FakeProvider>) -> Self {
        let dir = TempDir::new();
        let config = Config {
            database: dir.path().join("shop.db"),
            replica_lag: LAG,
        };
        let open = || {
            let payments: Arc<dyn PaymentProvider> = provider.clone();
            App::open(&config, payments)
                .unwrap_or_else(|e| {
                    panic!("App::open failed: {e:#}. Look at src/app.rs.")
                })
                .router()
        };
        let routers = [open(), open()];
        Self { dir, routers }
    }

    async fn send(
        &self,
        instance: usize,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        send_to(
            &self.routers[instance],
            instance,
            method,
            path,
            headers,
            body,
        )
        .await
    }

    async fn get(
        &self,
        instance: usize,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.send(instance, "GET", path, &headers, None).await
    }

    /// Like `get`, for the checks whose subject is a refused session.
    async fn get_unchecked(
        &self,
        instance: usize,
        path: &str,
        token: Option<&str>,
    ) -> (u16, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut request = Request::builder().method("GET").uri(path);
        if let Some(auth) = &auth {
            request = request.header("authorization", auth.as_str());
        }
        let request = request.body(Body::empty()).expect("building a request");
        let response = match self.routers[instance].clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, parse_body(&bytes))
    }

    async fn login(&self, user: &str) -> String {
        let (status, body) = self
            .send(0, "POST", "/login", &[], Some(&json!({ "user": user })))
            .await;
        match body["session"].as_str() {
            Some(token) if status == 200 => token.to_string(),
            _ => panic!(
                "POST /login for {user} answered {status} {body}, expected 200 with \
                 {{\"session\": \"<token>\"}}. Look at `login` in src/app.rs."
            ),
        }
    }

    async fn set_address(&self, instance: usize, token: &str, address: &str) {
        let auth = format!("Bearer {token}");
        let (status, body) = self
            .send(
                instance,
                "PUT",
                "/profile",
                &[("authorization", &auth)],
                Some(&json!({ "address": address })),
            )
            .await;
        assert_eq!(
            status, 200,
            "PUT /profile {{\"address\": \"{address}\"}} answered {status} {body}, \
             expected 200. Look at `update` in src/profiles.rs."
        );
    }

    async fn pay(
        &self,
        instance: usize,
        token: &str,
        key: Option<&str>,
        order: &str,
        amount_cents: u64,
    ) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        let body = json!({ "order": order, "amount_cents": amount_cents });
        self.send(instance, "POST", "/payments", &headers, Some(&body))
            .await
    }

    /// `copies` identical payments, alternating instances: the first half sent
    /// at once, the rest one every 80 ms after them.
    async fn pay_concurrently(
        &self,
        token: &str,
        key: &str,
        order: &str,
        amount_cents: u64,
        copies: usize,
    ) -> Vec<(u16, Value)> {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..copies {
            let router = self.routers[i % 2].clone();
            let headers = [
                ("authorization".to_string(), format!("Bearer {token}")),
                ("idempotency-key".to_string(), key.to_string()),
            ];
            let body = json!({ "order": order, "amount_cents": amount_cents });
            let delay =
                Duration::from_millis(80) * i.saturating_sub(copies / 2 - 1) as u32;
            tasks.spawn(async move {
                tokio::time::sleep(delay).await;
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                send_to(&router, i % 2, "POST", "/payments", &headers, Some(&body))
                    .await
            });
        }
        let mut answers = Vec::new();
        while let Some(answer) = tasks.join_next().await {
            match answer {
                Ok(answer) => answers.push(answer),
                // Report the request's own failure, with its own message.
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!(
                    "A concurrent POST /payments was cancelled: {e}. Look at `pay` in \
                     src/payment.rs."
                ),
            }
        }
        answers
    }

    fn stall_replica(&self) {
        Database::open(&self.dir.path().join("shop.db"), LAG)
            .and_then(|db| db.stall_replica())
            .expect("stalling the replica (src/db.rs)");
    }
}

async fn send_to(
    router: &axum::Router,
    instance: usize,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = match body {
        Some(body) => request
            .header("content-type", "application/json")
            .body(Body::from(body.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("building a request");
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let body = parse_body(&bytes);
    let authenticated = headers.iter().any(|(name, _)| *name == "authorization");
    refuse_lost_session(status, &body, authenticated, instance, method, path);
    (status, body)
}

/// Stops a check whose requests fail only because a session made through the
/// first instance is unknown to another: that is the first checks' subject,
/// and blaming a later check's code for it would send the learner astray.
fn refuse_lost_session(
    status: u16,
    body: &Value,
    authenticated: bool,
    instance: usize,
    method: &str,
    path: &str,
) {
    assert!(
        !(authenticated && status == 401),
        "{method} {path} through instance {} answered 401 {body} to a session \
         created by POST /login through instance 1: the instances do not share \
         sessions yet, so this check cannot test its own subject. Fix the first \
         check that fails (`two_instances_behind_round_robin_serve_one_logged_in_user`) \
         first; look at where src/app.rs (`App::open`) and src/sessions.rs keep \
         sessions.",
        instance + 1
    );
}

fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// One instance of the service as a process of its own: the crate's binary.
struct Instance {
    /// 0 for the first instance a check starts, 1 for the second.
    number: usize,
    child: Child,
    addr: SocketAddr,
    _stdin: ChildStdin,
}

/// Starts the service's binary on the database in `dir`, with a replica lag
/// of `lag_ms`; waits (at most 30 s) for it to say where it listens.
async fn start(dir: &TempDir, lag_ms: u64, number: usize) -> Instance {
    let database = dir.path().join("shop.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ch08-growth"))
        .arg("--database")
        .arg(&database)
        .args(["--replica-lag-ms", &lag_ms.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the service's binary (src/main.rs)");
    let stdin = child.stdin.take().expect("the binary's stdin");
    let stdout = child.stdout.take().expect("the binary's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    let addr = match line {
        Ok(Ok(Some(line))) => line
            .strip_prefix("listening on http://")
            .and_then(|a| a.trim().parse().ok()),
        _ => None,
    };
    let Some(addr) = addr else {
        let _ = child.start_kill();
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                stderr.read_to_string(&mut err),
            )
            .await;
        }
        panic!(
            "The service's binary (src/main.rs, which opens `App::open`) did not \
             start: expected it to print `listening on http://127.0.0.1:PORT` within \
             30 s. Its error output:\n{err}"
        );
    };
    let built_from =
        tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    let built_from = match built_from {
        Ok(Ok(Some(line))) => line.strip_prefix("built from ").map(str::to_string),
        _ => None,
    };
    let ours = env!("CARGO_MANIFEST_DIR");
    if built_from.as_deref() != Some(ours) {
        let _ = child.start_kill();
        panic!(
            "The service's binary ({}) says it was built from {}, not from the crate \
             these checks were built with ({ours}): another build of chapter 8 \
             replaced it while the checks ran (cargo puts every copy's binary at the \
             same path). Run the checks again once no other build of chapter 8 is \
             running. If you changed what src/main.rs prints, put it back.",
            env!("CARGO_BIN_EXE_ch08-growth"),
            built_from.as_deref().unwrap_or("nothing")
        );
    }
    // Keep reading its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Instance {
        number,
        child,
        addr,
        _stdin: stdin,
    }
}

async fn login_at(instance: &Instance, user: &str) -> String {
    let (status, body) = instance
        .send("POST", "/login", None, Some(&json!({ "user": user })))
        .await;
    match body["session"].as_str() {
        Some(token) if status == 200 => token.to_string(),
        _ => panic!(
            "POST /login for {user} answered {status} {body}, expected 200 with \
             {{\"session\": \"<token>\"}}. Look at `login` in src/app.rs."
        ),
    }
}

impl Instance {
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send("GET", path, token, None).await
    }

    async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.send("PUT", path, token, Some(body)).await
    }

    /// Like `get`, for the checks whose subject is a lost session.
    async fn get_raw(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.exchange("GET", path, token, None).await
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, body) = self.exchange(method, path, token, body).await;
        refuse_lost_session(status, &body, token.is_some(), self.number, method, path);
        (status, body)
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        exchange_with(self.addr, method, path, token, &[], body).await
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One HTTP/1.1 request to the instance at `addr`, on a connection of its own,
/// bounded to 30 s.
async fn exchange_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(token) = token {
        request.push_str(&format!("authorization: Bearer {token}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = match tokio::time::timeout(Duration::from_secs(30), exchange).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            panic!("{method} {path} to the instance at {addr}: {e}")
        }
        Err(_) => panic!(
            "{method} {path} to the instance at {addr} got no answer within 30 s"
        ),
    };
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let body = parse_body(body.as_bytes());
    (status, body)
}
