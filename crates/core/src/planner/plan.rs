//! The arithmetic of an hour: browser-minutes needed against available.

use super::estimate::FleetTimings;

/// What the fleet looks like to the planner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanParams {
    /// `MAX_ACTIVE_SELENIUM`.
    pub max_browsers: u32,
    /// `REPORTER_PLANNER_MARGIN`: share of the hour kept free.
    pub margin: f64,
    /// `REPORTER_RANGE_SIZE`: each range logs in once more.
    pub range_size: u32,
}

/// Browser-minutes the fleet has in one hour, keeping the margin free.
pub fn available_minutes(p: &PlanParams) -> f64 {
    60.0 * f64::from(p.max_browsers) * (1.0 - p.margin.clamp(0.0, 1.0))
}

/// Ranges a customer's stuck orders are cut into.
fn ranges(stuck: f64, range_size: u32) -> f64 {
    if stuck <= 0.0 {
        0.0
    } else {
        (stuck / f64::from(range_size.max(1))).ceil()
    }
}

/// Browser-minutes one customer needs: the download session (login and
/// export), every report, and one login per range.
pub fn customer_minutes(stuck: f64, t: &FleetTimings, range_size: u32) -> f64 {
    let stuck = stuck.max(0.0);
    t.login_minutes
        + t.export_minutes
        + stuck * t.report_minutes
        + ranges(stuck, range_size) * t.login_minutes
}

/// Browser-minutes an hour needs: the sum over its customers' stuck counts.
pub fn hour_minutes(stuck: &[f64], t: &FleetTimings, range_size: u32) -> f64 {
    stuck
        .iter()
        .map(|s| customer_minutes(*s, t, range_size))
        .sum()
}

/// Wall-clock minutes a run should take: the browser-minutes spread over
/// the fleet's browsers, but never less than the longest chain one customer
/// forces (its download, then its ranges, which run side by side: one
/// login plus a full range of reports).
pub fn run_duration_minutes(stuck: &[f64], t: &FleetTimings, p: &PlanParams) -> f64 {
    let spread = hour_minutes(stuck, t, p.range_size) / f64::from(p.max_browsers.max(1));
    let chain = stuck
        .iter()
        .map(|s| {
            let s = s.max(0.0);
            let longest_range = if s > 0.0 {
                t.login_minutes + s.min(f64::from(p.range_size.max(1))) * t.report_minutes
            } else {
                0.0
            };
            t.login_minutes + t.export_minutes + longest_range
        })
        .fold(0.0, f64::max);
    spread.max(chain)
}
