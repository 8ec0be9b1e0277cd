//! From history to the planner's inputs: stuck orders per customer and the
//! fleet's time per login, export and report. Medians, so one slow day or
//! one portal outage does not move the plan.

use serde::Serialize;

/// Minutes a portal login takes when there is no history (a page load, the
/// form, the redirect: ~30 s on the real portal).
pub const DEFAULT_LOGIN_MINUTES: f64 = 0.5;
/// Minutes the orders export takes after the login when there is no history.
pub const DEFAULT_EXPORT_MINUTES: f64 = 1.0;
/// Minutes one report (open the order, fill the form, submit) takes when
/// there is no history.
pub const DEFAULT_REPORT_MINUTES: f64 = 0.25;

/// Median of the finite values, `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// A customer's expected stuck orders per run, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StuckEstimate {
    pub stuck: f64,
    /// `true`: the median of their runs; `false`: monthly orders × factor.
    pub from_history: bool,
}

/// Median of the customer's stuck counts per day, or, with no history,
/// `monthly_orders × pending_factor` (`REPORTER_ESTIMATED_PENDING_FACTOR`).
pub fn stuck_per_day(history: &[f64], monthly_orders: i32, pending_factor: f64) -> StuckEstimate {
    match median(history) {
        Some(m) => StuckEstimate {
            stuck: m.max(0.0),
            from_history: true,
        },
        None => StuckEstimate {
            stuck: (f64::from(monthly_orders.max(0)) * pending_factor).max(0.0),
            from_history: false,
        },
    }
}

/// The fleet's time per browser step, in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FleetTimings {
    pub login_minutes: f64,
    pub export_minutes: f64,
    pub report_minutes: f64,
    /// Which of the three came from history (the rest are the defaults).
    pub login_from_history: bool,
    pub export_from_history: bool,
    pub report_from_history: bool,
}

impl Default for FleetTimings {
    fn default() -> Self {
        Self::from_samples(&[], &[], &[])
    }
}

impl FleetTimings {
    /// Medians of the samples (minutes), each falling back to its default
    /// when it has none. Negative medians (clock skew) count as zero.
    pub fn from_samples(login: &[f64], export: &[f64], report: &[f64]) -> Self {
        let pick = |s: &[f64], d: f64| median(s).map_or((d, false), |m| (m.max(0.0), true));
        let (login_minutes, login_from_history) = pick(login, DEFAULT_LOGIN_MINUTES);
        let (export_minutes, export_from_history) = pick(export, DEFAULT_EXPORT_MINUTES);
        let (report_minutes, report_from_history) = pick(report, DEFAULT_REPORT_MINUTES);
        FleetTimings {
            login_minutes,
            export_minutes,
            report_minutes,
            login_from_history,
            export_from_history,
            report_from_history,
        }
    }
}
