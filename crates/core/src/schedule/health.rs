//! How fresh the schedule is: beat reconciles every minute, so the age of
//! the last real-time reconcile says whether hours are being looked after.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::store::ScheduleState;
use crate::checks::Status;

/// Three missed reconciles: something is wrong, hours still catch up.
pub const DEGRADED_AFTER: Duration = Duration::minutes(3);
/// Ten: beat is down or cannot reach its database; page someone.
pub const UNHEALTHY_AFTER: Duration = Duration::minutes(10);

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BeatHealth {
    pub status: Status,
    pub last_reconcile_at: Option<DateTime<Utc>>,
    pub last_reconcile_by: Option<String>,
    pub seconds_since_reconcile: Option<i64>,
    /// Kept for consoles of the previous release (whole minutes).
    pub minutes_since_last_tick: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// No reconcile recorded yet is `degraded`, never healthy: a fleet whose
/// beat never ran is not looking after any hour.
pub fn beat_health(state: &ScheduleState, now: DateTime<Utc>) -> BeatHealth {
    let age = state.last_reconcile_at.map(|t| now - t);
    let status = match age {
        None => Status::Degraded,
        Some(a) if a > UNHEALTHY_AFTER => Status::Unhealthy,
        Some(a) if a > DEGRADED_AFTER => Status::Degraded,
        Some(_) => Status::Healthy,
    };
    BeatHealth {
        status,
        last_reconcile_at: state.last_reconcile_at,
        last_reconcile_by: state.last_reconcile_by.clone(),
        seconds_since_reconcile: age.map(|a| a.num_seconds().max(0)),
        minutes_since_last_tick: age.map(|a| a.num_minutes().max(0)),
        last_error: state.last_error.clone(),
        last_error_at: state.last_error_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(last: Option<DateTime<Utc>>) -> ScheduleState {
        ScheduleState {
            last_reconcile_at: last,
            last_reconcile_by: None,
            last_error: None,
            last_error_at: None,
        }
    }

    #[test]
    fn freshness_thresholds() {
        let now = Utc::now();
        let at = |secs| beat_health(&state(Some(now - Duration::seconds(secs))), now).status;
        assert_eq!(beat_health(&state(None), now).status, Status::Degraded);
        assert_eq!(at(60), Status::Healthy);
        assert_eq!(at(180), Status::Healthy);
        assert_eq!(at(181), Status::Degraded);
        assert_eq!(at(600), Status::Degraded);
        assert_eq!(at(601), Status::Unhealthy);
    }
}
