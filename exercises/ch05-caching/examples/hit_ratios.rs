//! Your cache's hit ratio beside a plain LRU, moka and Belady's optimal policy,
//! all on the same seeded trace, in one run:
//!
//! ```text
//! cargo run -p ch05-caching --example hit_ratios --release
//! ```

#[path = "../tests/workload/mod.rs"]
mod workload;

fn main() {
    println!("{}", workload::hit_ratio_table());
}
