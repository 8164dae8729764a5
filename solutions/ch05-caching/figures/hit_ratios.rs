//! Hit ratio against cache size: the solution's `Catalogue` (an LRU), moka (a
//! library: TinyLFU admission) and Belady's optimal policy (which knows the
//! future), all replaying the chapter's seeded trace (200,000 reads of 10,000
//! products, Zipf 0.99), at capacities from 1% to 40% of the products.
//!
//! ```text
//! cargo xtask figures 5
//! ```
//!
//! The workload and the reference caches are the checks' own
//! (`exercises/ch05-caching/tests/workload`). moka's admission filter hashes
//! with a random seed, so its points may move by a hair between runs.

#[path = "../../figure.rs"]
mod figure;
#[path = "../../../exercises/ch05-caching/tests/workload/mod.rs"]
mod workload;

use std::time::Duration;

use figure::Figure;
use workload::{belady_hits, catalogue_replay, moka_hits, ratio, standard_trace};

fn main() {
    let trace = standard_trace();
    let capacities = [100usize, 250, 500, 1_000, 2_000, 4_000];
    let curve = |hits: &dyn Fn(usize) -> u64| -> Vec<(f64, f64)> {
        capacities
            .iter()
            .map(|&c| (c as f64, 100.0 * ratio(hits(c), &trace)))
            .collect()
    };
    let ttl = Duration::from_secs(3_600);
    Figure::new(
        "hit-ratio-by-size",
        "Hit ratio against cache size (200,000 reads of 10,000 products, Zipf 0.99)",
        "cache capacity (entries)",
        "hit ratio (%)",
    )
    .y_range(0.0, 100.0)
    .legend("lower-right")
    .series(
        "Belady's optimal (knows the future)",
        &curve(&|c| belady_hits(&trace, c)),
    )
    // Half a point either way: moka's filter is seeded at random.
    .series_within(
        "moka 0.12 (TinyLFU admission)",
        &curve(&|c| moka_hits(&trace, c)),
        0.5,
    )
    .series(
        "solution: LRU (src/catalogue.rs)",
        &curve(&|c| catalogue_replay(&trace, c, ttl).hits),
    )
    .print();
}
