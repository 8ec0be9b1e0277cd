//! Fleet-wide numbers for alerting (docs/monitoring.md), read at scrape time
//! by the API's `/metrics` from the same state the schedule, the console and
//! `reporterctl` read: the reconciler's own plan, the runs table, apalis'
//! queue keys, the browser semaphore's holders and the deploy's
//! `WORKER_REPLICAS`. Every API replica reports the same fleet value, so the
//! alert rules take `max()`/`min()` across replicas, never `sum()`.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use redis::aio::ConnectionManager;

use crate::browser_semaphore::LeaseInfo;
use crate::jobs::{queue_name, ALL_KINDS};
use crate::schedule::CatchUp;
use crate::schema::reporter_runs;

/// Runs still open after their slot hour ended: what the console marks late
/// while the run is unfinished (`RunSummary::is_late` of an open run).
pub fn runs_unfinished_past_hour(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<i64> {
    reporter_runs::table
        .filter(reporter_runs::finished_at.is_null())
        .filter(reporter_runs::scheduled_at.lt(now - Duration::hours(1)))
        .count()
        .get_result(conn)
}

/// Owed slot hours that have no run, as the reconciler sees them at `now`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleLag {
    /// Due now and without a run (a healthy beat enqueues these within a
    /// minute, so this is briefly 1 at the top of an hour).
    pub due: usize,
    /// Without a run more than [`crate::schedule::LATE_GRACE`] after their
    /// hour began, plus those past the catch-up window that no beat has
    /// recorded missed yet (beat down): an hour that is late *now*.
    pub overdue: usize,
}

/// The schedule's lag, from the reconciler's own plan (no query of its own).
pub fn schedule_lag(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    tz: Tz,
    catch_up: CatchUp,
) -> QueryResult<ScheduleLag> {
    let plan = crate::schedule::runner::plan_at(conn, now, tz, catch_up)?;
    Ok(ScheduleLag {
        due: plan.due.len(),
        overdue: plan.due.iter().filter(|d| d.late).count() + plan.missed.len(),
    })
}

/// Per queue kind, seconds the oldest job that is due has been waiting for a
/// worker (0 when none waits). A job is due when its time in the
/// `:scheduled` set has come (every push goes there, delayed or not, until a
/// worker's fetch moves it) or when it sits in the `:active` list (moved by a
/// fetch, not taken yet; its age counts from its push, read from its ULID id).
pub async fn oldest_job_ages(
    conn: &mut ConnectionManager,
    prefix: &str,
    now: DateTime<Utc>,
) -> redis::RedisResult<Vec<(&'static str, f64)>> {
    let now_ms = now.timestamp_millis();
    let mut out = Vec::new();
    for kind in ALL_KINDS {
        let q = queue_name(prefix, kind);
        let due: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
            .arg(format!("{q}:scheduled"))
            .arg("-inf")
            .arg(now.timestamp())
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(1)
            .query_async(conn)
            .await?;
        let head: Option<String> = redis::cmd("LINDEX")
            .arg(format!("{q}:active"))
            .arg(0)
            .query_async(conn)
            .await?;
        let scheduled_age = due
            .first()
            .map_or(0.0, |(_, at)| (now_ms as f64 / 1000.0 - at).max(0.0));
        let active_age = head
            .and_then(|id| ulid::Ulid::from_string(&id).ok())
            .map_or(0.0, |u| {
                (now_ms - i64::try_from(u.timestamp_ms()).unwrap_or(now_ms)).max(0) as f64 / 1000.0
            });
        out.push((kind, scheduled_age.max(active_age)));
    }
    Ok(out)
}

/// Seconds the longest-held live browser lease has been held (0 when none).
/// A range of a hundred orders holds one for minutes; hours means a holder
/// that renews without working (a hung worker).
pub fn oldest_lease_seconds(holders: &[LeaseInfo], now: DateTime<Utc>) -> f64 {
    holders
        .iter()
        .map(|h| (now - h.since).num_milliseconds().max(0) as f64 / 1000.0)
        .fold(0.0, f64::max)
}

/// The worker containers the deploy keeps: `WORKER_REPLICAS` of `.env`
/// (scripts/deploy.sh scales to it; every app container reads `.env`).
/// `None` when unset or not a whole number: the alert then has nothing to
/// compare with and stays quiet.
pub fn workers_expected(value: Option<&str>) -> Option<u32> {
    value.and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_expected_reads_a_whole_number_or_nothing() {
        assert_eq!(workers_expected(Some("3")), Some(3));
        assert_eq!(workers_expected(Some(" 2 ")), Some(2));
        assert_eq!(workers_expected(Some("")), None);
        assert_eq!(workers_expected(Some("two")), None);
        assert_eq!(workers_expected(None), None);
    }

    #[test]
    fn oldest_lease_is_the_longest_held() {
        let now = Utc::now();
        let lease = |secs: i64| LeaseInfo {
            lease_id: "l".into(),
            worker: "w".into(),
            job: "j".into(),
            since: now - Duration::seconds(secs),
            expires_at: now + Duration::seconds(60),
            webdriver_session: None,
            browser_tag: None,
        };
        assert_eq!(oldest_lease_seconds(&[], now), 0.0);
        assert_eq!(
            oldest_lease_seconds(&[lease(5), lease(700), lease(30)], now),
            700.0
        );
    }
}
