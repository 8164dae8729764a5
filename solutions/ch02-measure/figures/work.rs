//! Work against input size: the starter's `first_seen_unique` (a scan of a
//! `Vec` of everything seen so far) beside the solution's (a `HashSet`),
//! counted as the checks count it: every `==` and every hash of an item.
//!
//! ```text
//! cargo xtask figures 2
//! ```
//!
//! The starter's function is compiled from `exercises/ch02-measure/src/unique.rs`
//! as the course gives it (run this on a clean checkout); the input is the
//! checks' own: n signups holding n/2 distinct addresses, each twice.

#[path = "../../figure.rs"]
mod figure;
#[path = "../../../exercises/ch02-measure/src/unique.rs"]
mod starter;

use std::cell::Cell;
use std::hash::{Hash, Hasher};

use ch02_measure::first_seen_unique;
use figure::Figure;

thread_local! {
    static OPS: Cell<u64> = const { Cell::new(0) };
}

/// An item that counts every comparison and hash done on it (the checks' probe).
#[derive(Clone)]
struct Probe(u64);

impl PartialEq for Probe {
    fn eq(&self, other: &Self) -> bool {
        OPS.with(|n| n.set(n.get() + 1));
        self.0 == other.0
    }
}
impl Eq for Probe {}
impl Hash for Probe {
    fn hash<H: Hasher>(&self, state: &mut H) {
        OPS.with(|n| n.set(n.get() + 1));
        self.0.hash(state);
    }
}

/// The checks' signups: n items, n/2 distinct values, in a scrambled order.
fn signups(n: u64) -> Vec<Probe> {
    (0..n).map(|i| Probe((i * 7919) % (n / 2))).collect()
}

/// Comparisons and hashes `f` makes on `n` signups.
fn ops(n: u64, f: fn(&[Probe]) -> Vec<Probe>) -> u64 {
    let input = signups(n);
    OPS.with(|c| c.set(0));
    std::hint::black_box(f(&input));
    OPS.with(|c| c.get())
}

fn main() {
    let sizes: Vec<u64> = (1..=8).map(|k| k * 1_000).collect();
    let count = |f: fn(&[Probe]) -> Vec<Probe>| -> Vec<(f64, f64)> {
        sizes
            .iter()
            .map(|&n| (n as f64, ops(n, f) as f64))
            .collect()
    };
    let scan = count(starter::first_seen_unique);
    let set = count(first_seen_unique);
    Figure::new(
        "work-by-size",
        "first_seen_unique: work against input size",
        "signups (n)",
        "comparisons and hashes",
    )
    .series("starter: Vec::contains, quadratic", &scan)
    // std's HashSet hashes with a random seed, so the `==` made on hash
    // collisions vary a little from run to run (a few per thousand items;
    // twelve runs: 10,585 to 10,627 at n = 7,000, ratios 1.987 to 2.016).
    .series_within("solution: HashSet::insert, linear", &set, 100.0)
    .print();

    // The doubling ratio the checks gate on: count(2n) / count(n).
    let doubling = |f: fn(&[Probe]) -> Vec<Probe>| -> Vec<(f64, f64)> {
        [500u64, 1_000, 2_000, 4_000, 8_000]
            .iter()
            .map(|&n| (n as f64, ops(2 * n, f) as f64 / ops(n, f) as f64))
            .collect()
    };
    Figure::new(
        "doubling-ratio",
        "first_seen_unique: count at 2n divided by count at n",
        "signups (n)",
        "doubling ratio",
    )
    .y_range(0.0, 5.0)
    .series(
        "starter: quadratic, about 4",
        &doubling(starter::first_seen_unique),
    )
    .series_within(
        "solution: linear, about 2",
        &doubling(first_seen_unique),
        0.05,
    )
    .print();
}
