//! A regression gate: compares a candidate run's latencies with a baseline
//! taken in the same run, and says whether the candidate got slower.
//!
//! TODO: decide what "slower" should mean for a service whose users feel its
//! slow requests, then make the gate say so: it fails when that grows by more
//! than `MAX_GROWTH_PERCENT`.

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
    let baseline = mean(baseline);
    let candidate = mean(candidate);
    let limit = baseline.as_nanos() * u128::from(100 + MAX_GROWTH_PERCENT);
    Comparison {
        baseline,
        candidate,
        regressed: candidate.as_nanos() * 100 > limit,
    }
}

fn mean(values: &[Duration]) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let total: u128 = values.iter().map(Duration::as_nanos).sum();
    Duration::from_nanos((total / values.len() as u128) as u64)
}
