//! A customer's recent days: per business day, the stuck orders their runs
//! found, the orders filed, and whether a run started late or failed.
//! Two statements, both on indexes that start with the customer: their
//! run-users (`reporter_run_users_user_id_idx`, one a day) and the ledger
//! rows of the days (`reporter_order_reports_user_date_idx`). Shadow parts
//! (rehearsals that file nothing) are not the customer's history.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::domain::{DownloadStatus, RunUserFacts, RunUserResult};
use crate::prepared::prepared;

/// One business day of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryDay {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// The customer's runs that day (0: no run, e.g. before the
    /// reservation or an hour the schedule paused).
    pub runs: i64,
    /// Stuck orders the day's runs found.
    pub stuck_orders: i64,
    /// Orders filed that day (`reported` and `already_reported`).
    pub reported: i64,
    /// A run of the day started late (`late_start`: caught up or backfilled).
    pub late: bool,
    /// A run of the day failed: its download failed, or a range failed
    /// for good (`failed` or `completed_with_failures`).
    pub failed: bool,
    /// The day's worst result (`failed` first, then
    /// `completed_with_failures`, `running`, `waiting`, `completed`);
    /// `null` without runs.
    pub result: Option<RunUserResult>,
}

/// The facts of one run-user, as [`RunUserResult::of`] needs them.
#[derive(QueryableByName)]
struct PartRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Text)]
    download: DownloadStatus,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Integer)]
    total_ranges: i32,
    #[diesel(sql_type = Integer)]
    total_pending_orders: i32,
    #[diesel(sql_type = BigInt)]
    failed_ranges: i64,
    #[diesel(sql_type = Bool)]
    run_started: bool,
    #[diesel(sql_type = Bool)]
    late_start: bool,
}

#[derive(QueryableByName)]
struct ReportedRow {
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    reported: i64,
}

/// Higher is worse: the result a day shows when it had several runs.
fn severity(r: RunUserResult) -> u8 {
    match r {
        RunUserResult::Completed => 0,
        RunUserResult::Waiting => 1,
        RunUserResult::Running => 2,
        RunUserResult::CompletedWithFailures => 3,
        RunUserResult::Failed => 4,
    }
}

/// The days `from..=to`, oldest first, every day present.
pub fn days_between(
    conn: &mut PgConnection,
    user_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<HistoryDay>> {
    let parts: Vec<PartRow> = prepared(
        "SELECT r.business_date AS day, u.download_compare_status AS download, u.finished_at,
                u.total_ranges, u.total_pending_orders,
                (SELECT count(*) FROM reporter_ranges g
                  WHERE g.run_user_id = u.id AND g.status = 'failed') AS failed_ranges,
                r.started_at IS NOT NULL AS run_started, r.late_start
           FROM reporter_run_users u
           JOIN reporter_runs r ON r.id = u.run_id
          WHERE u.user_id = $1 AND u.report_mode = 'live'
            AND r.business_date BETWEEN $2 AND $3",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)?;
    // Every ledger row is one the customer sees: its CHECK allows only
    // `reported` and `already_reported` (a shadow run's checks have a table
    // of their own), so no outcome filter, and the count is read from the
    // (user_id, business_date) index alone, like the summary's.
    let reported: Vec<ReportedRow> = prepared(
        "SELECT business_date AS day, count(*) AS reported
           FROM reporter_order_reports
          WHERE user_id = $1 AND business_date BETWEEN $2 AND $3
          GROUP BY business_date",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .load(conn)?;
    Ok(assemble(from, to, &parts, &reported))
}

fn assemble(
    from: NaiveDate,
    to: NaiveDate,
    parts: &[PartRow],
    reported: &[ReportedRow],
) -> Vec<HistoryDay> {
    let mut days: BTreeMap<NaiveDate, HistoryDay> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|date| {
            let day = HistoryDay {
                date,
                runs: 0,
                stuck_orders: 0,
                reported: 0,
                late: false,
                failed: false,
                result: None,
            };
            (date, day)
        })
        .collect();
    for p in parts {
        let Some(day) = days.get_mut(&p.day) else {
            continue;
        };
        let result = RunUserResult::of(RunUserFacts {
            download: p.download,
            finished: p.finished_at.is_some(),
            total_ranges: p.total_ranges,
            failed_ranges: p.failed_ranges,
            run_started: p.run_started,
        });
        day.runs += 1;
        day.stuck_orders += i64::from(p.total_pending_orders);
        day.late |= p.late_start;
        day.failed |= matches!(
            result,
            RunUserResult::Failed | RunUserResult::CompletedWithFailures
        );
        if day.result.is_none_or(|r| severity(result) > severity(r)) {
            day.result = Some(result);
        }
    }
    for r in reported {
        if let Some(day) = days.get_mut(&r.day) {
            day.reported = r.reported;
        }
    }
    days.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn part(day: u32, download: DownloadStatus, finished: bool, failed_ranges: i64) -> PartRow {
        PartRow {
            day: d(day),
            download,
            finished_at: finished.then(Utc::now),
            total_ranges: 2,
            total_pending_orders: 10,
            failed_ranges,
            run_started: true,
            late_start: false,
        }
    }

    #[test]
    fn every_day_is_present_and_the_worst_result_wins() {
        let mut late = part(3, DownloadStatus::Completed, true, 0);
        late.late_start = true;
        let parts = [
            part(2, DownloadStatus::Completed, true, 0),
            part(2, DownloadStatus::Failed, false, 0),
            late,
            part(4, DownloadStatus::Completed, true, 1),
        ];
        let reported = [ReportedRow {
            day: d(3),
            reported: 7,
        }];
        let days = assemble(d(1), d(5), &parts, &reported);
        assert_eq!(days.len(), 5);
        assert_eq!((days[0].runs, days[0].result), (0, None));
        assert_eq!(days[1].runs, 2);
        assert_eq!(days[1].stuck_orders, 20);
        assert_eq!(days[1].result, Some(RunUserResult::Failed));
        assert!(days[1].failed && !days[1].late);
        assert!(days[2].late && !days[2].failed);
        assert_eq!(days[2].reported, 7);
        assert_eq!(days[3].result, Some(RunUserResult::CompletedWithFailures));
        assert!(days[3].failed);
        assert_eq!(days[4].date, d(5));
    }
}
