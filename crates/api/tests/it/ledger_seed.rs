//! Runs, run-users, ranges and ledger rows written straight to the
//! database, for the history and download tests (API and browser).
//! Shared by `tests/it` and `tests/ui` (`#[path]`), so it takes a plain
//! connection.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::schema::{
    reporter_order_reports, reporter_ranges, reporter_run_users, reporter_runs,
};

pub fn tz() -> chrono_tz::Tz {
    "America/Bogota".parse().unwrap()
}

/// Today's business date in the tests' zone (the default).
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&tz()).date_naive()
}

/// `hour:00` of `date` in the tests' zone.
pub fn at(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    tz().from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// How one customer's part of a run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ending {
    Completed,
    /// The download failed for good: nothing filed.
    DownloadFailed,
    /// A range failed for good.
    RangeFailed,
    /// Still filing.
    Running,
}

pub struct DayRun<'a> {
    pub user_id: i64,
    pub date: NaiveDate,
    pub hour: i32,
    pub stuck: i32,
    pub late_start: bool,
    pub ending: Ending,
    /// `(order_id, outcome)` of the ledger rows the run wrote.
    pub reports: &'a [(i64, &'a str)],
}

/// Writes the run (or reuses the hour's run of that day), the customer's
/// part in it and its ledger rows; returns `(run_id, run_user_id)`.
pub fn seed(c: &mut PgConnection, r: &DayRun) -> (i64, i64) {
    let slot = reporter_core::models::slot::find_by_hour(c, r.hour)
        .unwrap()
        .unwrap()
        .id;
    let scheduled = at(r.date, r.hour as u32);
    let started = scheduled + Duration::minutes(if r.late_start { 95 } else { 0 });
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(slot),
            reporter_runs::scheduled_at.eq(scheduled),
            reporter_runs::started_at.eq(Some(started)),
            reporter_runs::status.eq(if r.ending == Ending::Running {
                "running"
            } else {
                "completed"
            }),
            reporter_runs::business_date.eq(Some(r.date)),
            reporter_runs::late_start.eq(r.late_start),
        ))
        .on_conflict((reporter_runs::slot_id, reporter_runs::scheduled_at))
        .do_update()
        .set(reporter_runs::late_start.eq(r.late_start))
        .returning(reporter_runs::id)
        .get_result(c)
        .unwrap();
    let failed = r.ending == Ending::DownloadFailed;
    let finished = matches!(r.ending, Ending::Completed | Ending::RangeFailed);
    let run_user_id: i64 = diesel::insert_into(reporter_run_users::table)
        .values((
            reporter_run_users::run_id.eq(run_id),
            reporter_run_users::user_id.eq(r.user_id),
            reporter_run_users::download_compare_status.eq(if failed {
                "failed"
            } else {
                "completed"
            }),
            reporter_run_users::total_pending_orders.eq(if failed { 0 } else { r.stuck }),
            reporter_run_users::total_ranges.eq(if failed { 0 } else { 2 }),
            reporter_run_users::ranges_completed.eq(if finished { 2 } else { 1 }),
            reporter_run_users::progress_message.eq("Listo"),
            reporter_run_users::finished_at.eq(finished.then(|| started + Duration::minutes(20))),
        ))
        .returning(reporter_run_users::id)
        .get_result(c)
        .unwrap();
    if r.ending == Ending::RangeFailed {
        diesel::insert_into(reporter_ranges::table)
            .values((
                reporter_ranges::run_user_id.eq(run_user_id),
                reporter_ranges::range_start.eq(1),
                reporter_ranges::range_end.eq(r.stuck.max(1)),
                reporter_ranges::status.eq("failed"),
            ))
            .execute(c)
            .unwrap();
    }
    for (i, (order, outcome)) in r.reports.iter().enumerate() {
        report(
            c,
            r.user_id,
            run_user_id,
            r.date,
            *order,
            outcome,
            started + Duration::seconds(10 * i as i64 + 30),
        );
    }
    (run_id, run_user_id)
}

/// One ledger row.
pub fn report(
    c: &mut PgConnection,
    user_id: i64,
    run_user_id: i64,
    date: NaiveDate,
    order_id: i64,
    outcome: &str,
    reported_at: DateTime<Utc>,
) {
    diesel::insert_into(reporter_order_reports::table)
        .values((
            reporter_order_reports::user_id.eq(user_id),
            reporter_order_reports::order_id.eq(order_id),
            reporter_order_reports::business_date.eq(date),
            reporter_order_reports::run_user_id.eq(Some(run_user_id)),
            reporter_order_reports::ticket.eq(format!("TK-{order_id}")),
            reporter_order_reports::outcome.eq(outcome),
            reporter_order_reports::status.eq("En tránsito"),
            reporter_order_reports::carrier.eq("Servientrega"),
            reporter_order_reports::tracking_number.eq(format!("GU{order_id}")),
            reporter_order_reports::reported_at.eq(reported_at),
        ))
        .execute(c)
        .unwrap();
}
