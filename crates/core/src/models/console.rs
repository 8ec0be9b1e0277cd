//! Read-only views for the operators' console: a day's runs with their
//! timing, failed ranges, and reports filed per hour.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::domain::{ReportMode, RunStatus};
use crate::prepared::{generic_plan, prepared};

/// One run of a day, with the numbers an operator scans for.
#[derive(Debug, Clone, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct RunSummary {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Integer)]
    pub hour: i32,
    #[diesel(sql_type = Text)]
    pub status: RunStatus,
    #[diesel(sql_type = Timestamptz)]
    pub scheduled_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    pub users: i64,
    #[diesel(sql_type = BigInt)]
    pub users_failed: i64,
    #[diesel(sql_type = BigInt)]
    pub ranges_total: i64,
    #[diesel(sql_type = BigInt)]
    pub ranges_completed: i64,
    #[diesel(sql_type = BigInt)]
    pub ranges_failed: i64,
    #[diesel(sql_type = BigInt)]
    pub stuck_orders: i64,
    #[diesel(sql_type = BigInt)]
    pub orders_reported: i64,
    /// `schedule`, `manual` or `backfill`.
    #[diesel(sql_type = Text)]
    pub origin: String,
    /// Started late by the schedule (caught up or backfilled).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub late_start: bool,
    /// `shadow`: a rehearsal run (triggered with `shadow`), nothing filed.
    #[diesel(sql_type = Text)]
    pub report_mode: ReportMode,
    /// Customers whose part is shadow (all of them in a shadow run).
    #[diesel(sql_type = BigInt)]
    pub users_shadow: i64,
    /// Orders the shadow parts checked and would have filed.
    #[diesel(sql_type = BigInt)]
    pub would_report: i64,
}

impl RunSummary {
    /// Seconds from start to finish (or to `now` while it runs).
    pub fn duration_seconds(&self, now: DateTime<Utc>) -> Option<i64> {
        let start = self.started_at?;
        Some(
            (self.finished_at.unwrap_or(now) - start)
                .num_seconds()
                .max(0),
        )
    }

    /// A run is late when it finished after its hour ended, or is still
    /// unfinished once the hour is over.
    pub fn is_late(&self, now: DateTime<Utc>) -> bool {
        let hour_end = self.scheduled_at + chrono::Duration::hours(1);
        self.finished_at.unwrap_or(now) > hour_end
    }
}

/// Runs scheduled in `[from, to)`, by slot time.
///
/// One pass per run over its run-users and ranges. Filed orders are not
/// counted report by report (a day's runs hold tens of thousands): a
/// completed range recorded its count when it completed (under its fence,
/// so no report of it can come later), and only the ranges still open or
/// failed, and reports without a range, are counted in the ledger.
pub fn runs_between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<RunSummary>> {
    generic_plan(conn, |conn| {
        prepared(
        "SELECT r.id, s.hour, r.status, r.scheduled_at, r.started_at, r.finished_at,
                u.users, u.users_failed, u.stuck_orders,
                g.ranges_total, g.ranges_completed, g.ranges_failed,
                g.reported_completed + open_reports.n + loose_reports.n AS orders_reported,
                r.origin, r.late_start, r.report_mode, u.users_shadow, shadow.would_report
           FROM reporter_runs r JOIN reporter_hour_slots s ON s.id = r.slot_id
           CROSS JOIN LATERAL (
                SELECT count(*) AS users,
                       count(*) FILTER (WHERE ru.download_compare_status = 'failed') AS users_failed,
                       count(*) FILTER (WHERE ru.report_mode = 'shadow') AS users_shadow,
                       coalesce(sum(ru.total_pending_orders), 0)::int8 AS stuck_orders
                  FROM reporter_run_users ru WHERE ru.run_id = r.id) u
           CROSS JOIN LATERAL (
                SELECT count(*) AS ranges_total,
                       count(*) FILTER (WHERE g.status = 'completed') AS ranges_completed,
                       count(*) FILTER (WHERE g.status = 'failed') AS ranges_failed,
                       coalesce(sum(g.orders_reported) FILTER (WHERE g.status = 'completed'), 0)::int8
                           AS reported_completed
                  FROM reporter_ranges g JOIN reporter_run_users ru ON ru.id = g.run_user_id
                 WHERE ru.run_id = r.id) g
           CROSS JOIN LATERAL (
                SELECT count(*) AS n
                  FROM reporter_ranges g
                  JOIN reporter_run_users ru ON ru.id = g.run_user_id
                  JOIN reporter_order_reports o ON o.range_id = g.id
                 WHERE ru.run_id = r.id AND g.status <> 'completed') open_reports
           CROSS JOIN LATERAL (
                SELECT count(*) AS n
                  FROM reporter_run_users ru
                  JOIN reporter_order_reports o ON o.run_user_id = ru.id AND o.range_id IS NULL
                 WHERE ru.run_id = r.id) loose_reports
           CROSS JOIN LATERAL (
                SELECT count(*) AS would_report
                  FROM reporter_run_users ru
                  JOIN reporter_shadow_reports sr ON sr.run_user_id = ru.id
                 WHERE ru.run_id = r.id AND ru.report_mode = 'shadow'
                   AND sr.outcome = 'would_report') shadow
          WHERE r.scheduled_at >= $1 AND r.scheduled_at < $2
          ORDER BY r.scheduled_at, r.id",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    })
}

/// A range that failed for good, or a customer's download that did.
#[derive(Debug, Clone, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct FailedRange {
    #[diesel(sql_type = BigInt)]
    pub range_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Integer)]
    pub hour: i32,
    #[diesel(sql_type = Integer)]
    pub range_start: i32,
    #[diesel(sql_type = Integer)]
    pub range_end: i32,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub orders_reported: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub scheduled_at: DateTime<Utc>,
}

/// The newest failed ranges first.
pub fn failed_ranges(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<FailedRange>> {
    generic_plan(conn, |conn| {
        prepared(
            "SELECT g.id AS range_id, r.id AS run_id, u.user_id, us.email, s.hour,
                g.range_start, g.range_end, g.attempts, g.orders_reported, g.error, r.scheduled_at
           FROM reporter_ranges g
           JOIN reporter_run_users u ON u.id = g.run_user_id
           JOIN reporter_runs r ON r.id = u.run_id
           JOIN reporter_hour_slots s ON s.id = r.slot_id
           JOIN users us ON us.id = u.user_id
          WHERE g.status = 'failed'
          ORDER BY g.id DESC LIMIT $1",
        )
        .bind::<BigInt, _>(limit)
        .load(conn)
    })
}

/// Where a range's failure artifacts live: `run-{run}/user-{user}/range-{id}`
/// under the artifacts directory (the worker's layout).
pub fn range_location(conn: &mut PgConnection, range_id: i64) -> QueryResult<Option<(i64, i64)>> {
    use crate::schema::{reporter_ranges as g, reporter_run_users as u};
    g::table
        .inner_join(u::table)
        .filter(g::id.eq(range_id))
        .select((u::run_id, u::user_id))
        .first(conn)
        .optional()
}

/// Reports filed per hour since `from` (hours without reports are absent).
#[derive(Debug, Clone, Serialize, QueryableByName)]
pub struct HourCount {
    #[diesel(sql_type = Timestamptz)]
    pub hour: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub reports: i64,
}

pub fn reports_per_hour(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
) -> QueryResult<Vec<HourCount>> {
    prepared(
        "SELECT date_trunc('hour', reported_at) AS hour, count(*) AS reports
           FROM reporter_order_reports WHERE reported_at >= $1
          GROUP BY 1 ORDER BY 1",
    )
    .bind::<Timestamptz, _>(from)
    .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn run(finished: Option<DateTime<Utc>>) -> RunSummary {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        RunSummary {
            id: 1,
            hour: 10,
            status: RunStatus::Running,
            scheduled_at: at,
            started_at: Some(at + chrono::Duration::seconds(2)),
            finished_at: finished,
            users: 1,
            users_failed: 0,
            ranges_total: 1,
            ranges_completed: 0,
            ranges_failed: 0,
            stuck_orders: 0,
            orders_reported: 0,
            origin: "schedule".into(),
            late_start: false,
            report_mode: ReportMode::Live,
            users_shadow: 0,
            would_report: 0,
        }
    }

    #[test]
    fn lateness_is_finishing_after_the_hour() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let hour = chrono::Duration::hours(1);
        assert!(!run(Some(at + hour)).is_late(at));
        assert!(run(Some(at + hour + chrono::Duration::seconds(1))).is_late(at));
        assert!(!run(None).is_late(at + chrono::Duration::minutes(30)));
        assert!(run(None).is_late(at + hour + chrono::Duration::minutes(1)));
        assert_eq!(
            run(None).duration_seconds(at + chrono::Duration::seconds(12)),
            Some(10)
        );
    }
}
