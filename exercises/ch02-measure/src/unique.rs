//! Removing duplicates while keeping the order in which things first appeared.
//!
//! The marketing team builds its mailing list from every signup form at once:
//! tens of thousands of addresses, many of them repeated, and the list must keep
//! the order in which people first signed up.

/// Each distinct item once, in the order of its first appearance:
/// `[b, a, b, c, a]` becomes `[b, a, c]`.
#[tracing::instrument(skip_all, fields(n = items.len()))]
pub fn first_seen_unique<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut seen = Vec::new();
    for item in items {
        if !seen.contains(item) {
            seen.push(item.clone());
        }
    }
    seen
}
