//! The skewed read workload, and the references a cache is compared with.
//!
//! Shared by the checks (`mod workload;`), the bench and the `hit_ratios`
//! example (both through `#[path]`), so that all of them replay the very same
//! seeded trace. Each of those targets uses a different part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use ch05_caching::Sku;
use support::rng::Rng;

/// The workload of the hit-ratio checks and of the comparison in the bench:
/// 200,000 reads over 10,000 products, Zipf-distributed with exponent 0.99,
/// replayed through a cache that holds a tenth of the products.
pub const PRODUCTS: u32 = 10_000;
pub const READS: usize = 200_000;
pub const EXPONENT: f64 = 0.99;
pub const CAPACITY: usize = 1_000;
pub const SEED: u64 = 5;

/// The trace of the checks and the bench.
pub fn standard_trace() -> Vec<Sku> {
    zipf_trace(SEED, PRODUCTS, READS, EXPONENT)
}

/// The standard workload's shape (Zipf, exponent 0.99, over the same
/// products) with the product numbers shuffled: popularity no longer follows
/// the number, as in a real catalogue. Half as many reads, to keep the check
/// quick.
pub fn shuffled_trace() -> Vec<Sku> {
    let renumber = permutation(SEED + 1, PRODUCTS);
    zipf_trace(SEED + 2, PRODUCTS, READS / 2, EXPONENT)
        .into_iter()
        .map(|sku| renumber[sku.0 as usize])
        .collect()
}

/// A workload whose popular products keep changing (a sale ends, the front
/// page changes): 120,000 reads in 4 phases of 30,000, each Zipf over its own
/// shuffled numbering of the products, so the favourites of one phase are
/// read only now and then in the next.
pub fn shifting_trace() -> Vec<Sku> {
    const PHASES: usize = 4;
    const PHASE_READS: usize = 30_000;
    let numberings: Vec<Vec<Sku>> = (0..PHASES as u64)
        .map(|phase| permutation(SEED + 3 + phase, PRODUCTS))
        .collect();
    zipf_trace(SEED + 7, PRODUCTS, PHASES * PHASE_READS, EXPONENT)
        .into_iter()
        .enumerate()
        .map(|(i, sku)| numberings[i / PHASE_READS][sku.0 as usize])
        .collect()
}

/// A seeded shuffle of the products `0..products` (Fisher-Yates).
fn permutation(seed: u64, products: u32) -> Vec<Sku> {
    let mut all: Vec<Sku> = (0..products).map(Sku).collect();
    let mut rng = Rng::new(seed);
    for i in (1..all.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        all.swap(i, j);
    }
    all
}

// ANCHOR: zipf
/// `reads` product ids where product `k` (counting from 0) is read with a
/// probability proportional to `1 / (k + 1)^exponent`: product 0 is the most
/// popular, and a long tail of products is read now and then.
pub fn zipf_trace(seed: u64, products: u32, reads: usize, exponent: f64) -> Vec<Sku> {
    // The cumulative distribution, once; each read is then a binary search.
    let weights: Vec<f64> = (1..=products)
        .map(|rank| 1.0 / f64::from(rank).powf(exponent))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(weights.len());
    let mut sum = 0.0;
    for w in weights {
        sum += w / total;
        cumulative.push(sum);
    }
    let mut rng = Rng::new(seed);
    (0..reads)
        .map(|_| {
            let u = rng.unit();
            let k = cumulative.partition_point(|&c| c < u);
            Sku(k.min(products as usize - 1) as u32)
        })
        .collect()
}
// ANCHOR_END: zipf

/// Hits of a textbook LRU cache of `capacity` entries replaying `trace`:
/// on a miss when full, the entry whose last use is oldest goes.
pub fn lru_hits(trace: &[Sku], capacity: usize) -> u64 {
    let mut last_use: HashMap<Sku, usize> = HashMap::new();
    let mut by_age: BTreeMap<usize, Sku> = BTreeMap::new();
    let mut hits = 0;
    for (now, &sku) in trace.iter().enumerate() {
        if let Some(previous) = last_use.insert(sku, now) {
            hits += 1;
            by_age.remove(&previous);
        } else if last_use.len() > capacity {
            let (_, oldest) = by_age.pop_first().expect("the cache is not empty");
            last_use.remove(&oldest);
        }
        by_age.insert(now, sku);
    }
    hits
}

/// Hits of an LFU cache whose counts never fade: on a miss when full, the
/// cached product read least often since the start goes (the least recently
/// used among equals), and the counts of every product ever read are kept.
pub fn lfu_hits(trace: &[Sku], capacity: usize) -> u64 {
    let mut counts: HashMap<Sku, u64> = HashMap::new();
    let mut last_use: HashMap<Sku, usize> = HashMap::new();
    let mut hits = 0;
    for (now, &sku) in trace.iter().enumerate() {
        *counts.entry(sku).or_default() += 1;
        if last_use.insert(sku, now).is_some() {
            hits += 1;
        } else if last_use.len() > capacity {
            let victim = last_use
                .iter()
                .filter(|&(&k, _)| k != sku)
                .min_by_key(|&(k, &at)| (counts[k], at))
                .map(|(&k, _)| k)
                .expect("the cache is not empty");
            last_use.remove(&victim);
        }
    }
    hits
}

/// Hits of a FIFO cache: on a miss when full, the entry inserted longest ago
/// goes, however often it was read since.
pub fn fifo_hits(trace: &[Sku], capacity: usize) -> u64 {
    let mut cached: HashSet<Sku> = HashSet::new();
    let mut order: VecDeque<Sku> = VecDeque::new();
    let mut hits = 0;
    for &sku in trace {
        if cached.contains(&sku) {
            hits += 1;
            continue;
        }
        if cached.len() == capacity
            && let Some(oldest) = order.pop_front()
        {
            cached.remove(&oldest);
        }
        if capacity > 0 {
            cached.insert(sku);
            order.push_back(sku);
        }
    }
    hits
}

// ANCHOR: belady
/// Hits of Belady's optimal policy: knowing the whole trace in advance, keep
/// what is needed soonest. On a miss when full, whichever of the cached
/// products and the new one is next needed furthest in the future is left out.
/// No cache that only knows the past can do better, so this is the ceiling.
pub fn belady_hits(trace: &[Sku], capacity: usize) -> u64 {
    // next[i]: where trace[i] is read again (trace.len() when never).
    let never = trace.len();
    let mut next = vec![never; trace.len()];
    let mut seen_at: HashMap<Sku, usize> = HashMap::new();
    for (i, &sku) in trace.iter().enumerate().rev() {
        next[i] = seen_at.insert(sku, i).unwrap_or(never);
    }
    // Cached products with their next use; a max-heap on next use, whose
    // outdated entries are skipped when they come up.
    let mut cached: HashMap<Sku, usize> = HashMap::new();
    let mut furthest: BinaryHeap<(usize, Sku)> = BinaryHeap::new();
    let mut hits = 0;
    for (i, &sku) in trace.iter().enumerate() {
        if cached.contains_key(&sku) {
            hits += 1;
        } else if cached.len() == capacity {
            while let Some(&(when, victim)) = furthest.peek() {
                if cached.get(&victim) == Some(&when) {
                    break;
                }
                furthest.pop();
            }
            match furthest.peek() {
                // A cached product is needed later than the new one: evict it.
                Some(&(when, victim)) if when > next[i] => {
                    furthest.pop();
                    cached.remove(&victim);
                }
                // The new product is needed last of all: do not keep it.
                _ => continue,
            }
        }
        if capacity > 0 {
            cached.insert(sku, next[i]);
            furthest.push((next[i], sku));
        }
    }
    hits
}
// ANCHOR_END: belady

/// Hits of moka (a concurrent cache after Caffeine: TinyLFU admission, so a
/// newcomer must be read more often than the entry it would push out) with
/// `capacity` entries, replaying `trace`. Its admission filter hashes with a
/// random seed, so this figure may move by a hair between runs.
pub fn moka_hits(trace: &[Sku], capacity: usize) -> u64 {
    let cache: moka::sync::Cache<Sku, ()> = moka::sync::Cache::builder()
        .max_capacity(capacity as u64)
        .build();
    let mut hits = 0;
    for &sku in trace {
        if cache.get(&sku).is_some() {
            hits += 1;
        } else {
            cache.insert(sku, ());
        }
    }
    hits
}

/// The share of `trace` that `hits` represents.
pub fn ratio(hits: u64, trace: &[Sku]) -> f64 {
    hits as f64 / trace.len() as f64
}

/// How many different products `trace` reads: each costs at least one store
/// call, whatever the cache (the first read of a product cannot hit).
pub fn distinct(trace: &[Sku]) -> usize {
    let mut all: Vec<Sku> = trace.to_vec();
    all.sort();
    all.dedup();
    all.len()
}

/// What the bench and the example see of the learner's cache on a trace.
pub struct Replay {
    /// Reads that did not reach the store.
    pub hits: u64,
    /// Hits according to the catalogue's own `stats()`.
    pub hits_by_stats: u64,
    /// The most entries the cache held at once.
    pub largest: usize,
}

/// Replays `trace` through the learner's `Catalogue`, one read at a time, 1 ms
/// apart (so 200,000 reads span 200 s), with the given TTL.
pub fn catalogue_replay(trace: &[Sku], capacity: usize, ttl: Duration) -> Replay {
    use std::sync::Arc;

    use ch05_caching::{CacheConfig, Catalogue, ManualClock, SlowStore};

    let store = Arc::new(SlowStore::new(Duration::ZERO, 1));
    for k in 0..PRODUCTS {
        store.insert(Sku(k), 1_000 + u64::from(k));
    }
    let clock = Arc::new(ManualClock::new());
    let config = CacheConfig { ttl, capacity };
    let cat = Catalogue::new(Arc::clone(&store), Arc::clone(&clock), config);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let mut largest = 0;
    rt.block_on(async {
        for &sku in trace {
            clock.advance(Duration::from_millis(1));
            cat.price(sku).await;
            largest = largest.max(cat.len());
        }
    });
    Replay {
        hits: trace.len() as u64 - store.gets(),
        hits_by_stats: cat.stats().hits,
        largest,
    }
}

/// 200000 → "200,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The comparison printed by the bench and the `hit_ratios` example: every
/// cache replays the same trace with the same capacity, in this one run.
pub fn hit_ratio_table() -> String {
    hit_ratio_report().0
}

/// The table, and the same run's hit ratios of yours (left out when your
/// cache held more than its capacity), moka and the optimum as one line for
/// the live panel of the book the runner serves:
/// `hit-ratio yours=0.612 moka=0.655 optimal=0.741`.
pub fn hit_ratio_report() -> (String, String) {
    // ANCHOR: table
    let trace = standard_trace();
    let reads = trace.len() as u64;
    let lru = lru_hits(&trace, CAPACITY);
    let fifo = fifo_hits(&trace, CAPACITY);
    let yours = catalogue_replay(&trace, CAPACITY, Duration::from_secs(3_600));
    let moka = moka_hits(&trace, CAPACITY);
    let optimal = belady_hits(&trace, CAPACITY);
    // ANCHOR_END: table
    let mut out = format!(
        "Hit ratios on one seeded trace: {} reads of {} products (Zipf, exponent \
         {EXPONENT}, seed {SEED}), capacity {}.\nWithout a cache: {} store calls.\n\n  \
         {:<32} {:>9} {:>12}\n",
        thousands(reads),
        thousands(u64::from(PRODUCTS)),
        thousands(CAPACITY as u64),
        thousands(reads),
        "cache",
        "hit ratio",
        "store calls"
    );
    for (name, hits) in [
        ("FIFO (reference)", fifo),
        ("plain LRU (reference)", lru),
        ("yours (src/catalogue.rs)", yours.hits),
        ("moka 0.12 (TinyLFU admission)", moka),
        ("Belady's optimal (offline)", optimal),
    ] {
        out.push_str(&format!(
            "  {name:<32} {:>9.3} {:>12}\n",
            ratio(hits, &trace),
            thousands(reads - hits)
        ));
    }
    out.push_str(&format!(
        "\nThe price of freshness: yours again, one read per millisecond, with a \
         shorter TTL.\n\n  {:<32} {:>9} {:>12}\n",
        "TTL", "hit ratio", "store calls"
    ));
    for secs in [1, 10, 60] {
        let r = catalogue_replay(&trace, CAPACITY, Duration::from_secs(secs));
        out.push_str(&format!(
            "  {:<32} {:>9.3} {:>12}\n",
            format!("{secs} s"),
            ratio(r.hits, &trace),
            thousands(reads - r.hits)
        ));
    }
    out.push_str(&format!(
        "\nTraces that popularity-by-number and memory-for-ever policies get wrong \
         (capacity {}):\n\n  {:<32} {:>9} {:>9} {:>9} {:>9}\n",
        thousands(CAPACITY as u64),
        "trace",
        "LRU",
        "LFU*",
        "moka",
        "yours"
    ));
    for (name, t) in [
        ("numbers shuffled (100,000)", shuffled_trace()),
        ("4 shifting phases (120,000)", shifting_trace()),
    ] {
        let r = catalogue_replay(&t, CAPACITY, Duration::from_secs(3_600));
        out.push_str(&format!(
            "  {:<32} {:>9.3} {:>9.3} {:>9.3} {:>9.3}\n",
            name,
            ratio(lru_hits(&t, CAPACITY), &t),
            ratio(lfu_hits(&t, CAPACITY), &t),
            ratio(moka_hits(&t, CAPACITY), &t),
            ratio(r.hits, &t)
        ));
    }
    out.push_str("  (LFU*: counts that never fade.)\n");
    if yours.largest > CAPACITY {
        out.push_str(&format!(
            "\n  Your cache held up to {} entries, more than its capacity: its ratio \
             is not comparable with the others.\n",
            thousands(yours.largest as u64)
        ));
    }
    if yours.hits_by_stats != yours.hits {
        out.push_str(&format!(
            "\n  Your stats() counted {} hits; the store saw {} reads that never \
             reached it.\n",
            thousands(yours.hits_by_stats),
            thousands(yours.hits)
        ));
    }
    let yours_word = if yours.largest > CAPACITY {
        String::new()
    } else {
        format!(" yours={:.3}", ratio(yours.hits, &trace))
    };
    let panel = format!(
        "hit-ratio{yours_word} moka={:.3} optimal={:.3}\n",
        ratio(moka, &trace),
        ratio(optimal, &trace)
    );
    (out, panel)
}
