//! Removing duplicates while keeping the order in which things first appeared.
//!
//! The marketing team builds its mailing list from every signup form at once:
//! tens of thousands of addresses, many of them repeated, and the list must keep
//! the order in which people first signed up.
//!
//! Solution: the starter asked "have I seen this?" by scanning a Vec of
//! everything seen so far, so n items cost about n²/2 comparisons. A HashSet
//! answers the same question in constant time on average, so the whole pass is
//! linear. The set holds references into `items`, so nothing is cloned twice;
//! the output Vec still provides the first-seen order, which a set (or sorting
//! and `dedup`) would lose. The price is a `Hash` bound on `T`.

use std::collections::HashSet;
use std::hash::Hash;

/// Each distinct item once, in the order of its first appearance:
/// `[b, a, b, c, a]` becomes `[b, a, c]`.
#[tracing::instrument(skip_all, fields(n = items.len()))]
pub fn first_seen_unique<T: Eq + Hash + Clone>(items: &[T]) -> Vec<T> {
    let mut seen = HashSet::with_capacity(items.len());
    items
        .iter()
        .filter(|item| seen.insert(*item))
        .cloned()
        .collect()
}
