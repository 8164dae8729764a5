//! A regression gate: compares a candidate run's latencies with a baseline
//! taken in the same run, and says whether the candidate got slower.
//!
//! The gate compares p95, not the mean. Users feel the slow requests: a
//! change that doubles the slowest 6% moves the mean by about 10% and p95 by
//! 100%, while a handful of outliers (a GC pause, one cold cache) can double
//! the mean without moving what 95% of requests see. p95 rather than p99: in a
//! short CI run of a few thousand requests, p99 rests on a few dozen samples
//! and flips from run to run; p95 rests on five times as many.

use std::time::Duration;

/// How much worse a candidate may be before the gate fails.
pub const MAX_GROWTH_PERCENT: u32 = 20;

/// The gate's verdict, with the two figures it compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The baseline's figure: the very one the verdict was decided on.
    pub baseline: Duration,
    /// The candidate's figure, computed the same way.
    pub candidate: Duration,
    /// True when the candidate is worse than the gate allows.
    pub regressed: bool,
}

/// Compares two runs' latencies (each in any order, either possibly empty:
/// a run with no latencies counts as zero, and any figure above zero is more
/// than 20% over zero). Gives a verdict for any input; never panics.
pub fn compare(baseline: &[Duration], candidate: &[Duration]) -> Comparison {
    let baseline = percentile(baseline, 95);
    let candidate = percentile(candidate, 95);
    let limit = baseline.as_nanos() * u128::from(100 + MAX_GROWTH_PERCENT);
    Comparison {
        baseline,
        candidate,
        regressed: candidate.as_nanos() * 100 > limit,
    }
}

/// Nearest-rank percentile; zero for no values.
fn percentile(values: &[Duration], p: usize) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}
