//! Rollout stickiness: as a feature's percentage rises step by step, the share
//! of the users who had it at the step before who still have it. The
//! solution's `Rollout` (a user's fixed bucket from SHA-256 of flag and user)
//! beside the decoy `rollout-percentage-in-the-hash` (the same code with the
//! percentage hashed in too, so each step draws a new sample), over 20,000
//! users.
//!
//! ```text
//! cargo xtask figures 8
//! ```

#[path = "../../figure.rs"]
mod figure;

use ch08_growth::Rollout;
use figure::Figure;

const USERS: usize = 20_000;
const FLAG: &str = "new-checkout";

/// Users who get the feature at `percent`, by `enabled`.
fn reached(percent: u32, enabled: &dyn Fn(u32, &str) -> bool) -> Vec<bool> {
    (0..USERS)
        .map(|i| enabled(percent, &format!("user-{i}")))
        .collect()
}

/// (percentage, % of the users of the step before who kept the feature).
fn kept(enabled: &dyn Fn(u32, &str) -> bool) -> Vec<(f64, f64)> {
    let steps: Vec<u32> = (1..=10).map(|k| k * 10).collect();
    let mut before = reached(5, enabled);
    let mut points = Vec::new();
    for &percent in &steps {
        let now = reached(percent, enabled);
        let had = before.iter().filter(|&&b| b).count();
        let still = before.iter().zip(&now).filter(|(b, n)| **b && **n).count();
        points.push((f64::from(percent), 100.0 * still as f64 / had as f64));
        before = now;
    }
    points
}

fn main() {
    let sticky = |percent: u32, user: &str| {
        Rollout {
            percent,
            killed: false,
        }
        .is_enabled_for(FLAG, user)
    };
    // The decoy's edit, made through the solution's own function: the
    // percentage goes into the hashed flag name.
    let redrawn = |percent: u32, user: &str| {
        Rollout {
            percent,
            killed: false,
        }
        .is_enabled_for(&format!("{FLAG}/{percent}"), user)
    };
    Figure::new(
        "rollout-stickiness",
        "Raising a rollout: who keeps the feature (20,000 users)",
        "rollout percentage (each step up from the one before, from 5%)",
        "users of the step before who kept it (%)",
    )
    .x_range(0.0, 100.0)
    .y_range(0.0, 105.0)
    .legend("lower-right")
    .series("reference solution", &kept(&sticky))
    .series("a new draw at each percentage (a decoy)", &kept(&redrawn))
    .print();
}
