use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::domain::{
    DownloadStatus, RangeStatus, ReportMode, RunStatus, RunUserFacts, RunUserResult,
};
use crate::schema::{reporter_hour_slots, reporter_run_users, reporter_runs, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = reporter_runs, check_for_backend(diesel::pg::Pg))]
pub struct Run {
    pub id: i64,
    pub slot_id: i32,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub created_at: DateTime<Utc>,
    pub business_date: Option<chrono::NaiveDate>,
    /// `schedule`, `manual` or `backfill`.
    pub origin: String,
    /// Enqueued late by the schedule (caught up or backfilled).
    pub late_start: bool,
    /// `shadow`: a rehearsal that files nothing (customers never see it).
    pub report_mode: ReportMode,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = reporter_run_users, check_for_backend(diesel::pg::Pg))]
pub struct RunUser {
    pub id: i64,
    pub run_id: i64,
    pub user_id: i64,
    pub download_compare_status: DownloadStatus,
    pub total_pending_orders: i32,
    pub total_ranges: i32,
    pub ranges_completed: i32,
    pub progress_message: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub weight: i32,
    pub download_attempts: i32,
    pub error: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `shadow`: this part checks its orders and files nothing.
    pub report_mode: ReportMode,
}

pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Run>> {
    reporter_runs::table
        .find(id)
        .select(Run::as_select())
        .first(conn)
        .optional()
}

/// The runs a user took part in, newest first, with the slot hour.
pub fn list_for_user(
    conn: &mut PgConnection,
    user_id: i64,
    limit: i64,
) -> QueryResult<Vec<(Run, i32)>> {
    // Ordered by the run-user's copy of the run's slot time so the index
    // (user_id, scheduled_at DESC, run_id DESC) of migration 000016 reads
    // just this customer's newest rows. Its `LIMIT $n` would have it
    // re-planned on every call.
    crate::prepared::generic_plan(conn, |conn| {
        reporter_run_users::table
            .inner_join(reporter_runs::table.inner_join(reporter_hour_slots::table))
            .filter(reporter_run_users::user_id.eq(user_id))
            .filter(reporter_run_users::report_mode.eq(ReportMode::Live))
            .order((
                reporter_run_users::scheduled_at.desc(),
                reporter_run_users::run_id.desc(),
            ))
            .limit(limit)
            .select((Run::as_select(), reporter_hour_slots::hour))
            .load(conn)
    })
}

/// All runs, newest first, with the slot hour.
pub fn list_recent(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<(Run, i32)>> {
    reporter_runs::table
        .inner_join(reporter_hour_slots::table)
        .order(reporter_runs::scheduled_at.desc())
        .limit(limit)
        .select((Run::as_select(), reporter_hour_slots::hour))
        .load(conn)
}

/// A customer's part in a run, with what it came to.
#[derive(Debug, Clone)]
pub struct UserPart {
    pub run_user: RunUser,
    pub email: String,
    /// Its ranges that failed for good.
    pub failed_ranges: i64,
}

/// What a customer's part in `run` came to: the one definition
/// ([`RunUserResult::of`]) fed from the stored rows.
pub fn result_of(run: &Run, u: &RunUser, failed_ranges: i64) -> RunUserResult {
    RunUserResult::of(RunUserFacts {
        download: u.download_compare_status,
        finished: u.finished_at.is_some(),
        total_ranges: u.total_ranges,
        failed_ranges,
        run_started: run.started_at.is_some(),
    })
}

/// Every customer's part in a run (or only `only_user`'s live part), in the
/// order they were added.
pub fn progress(
    conn: &mut PgConnection,
    run_id: i64,
    only_user: Option<i64>,
) -> QueryResult<Vec<UserPart>> {
    use crate::schema::reporter_ranges as ranges;
    let mut q = reporter_run_users::table
        .inner_join(users::table)
        .filter(reporter_run_users::run_id.eq(run_id))
        .into_boxed();
    if let Some(u) = only_user {
        // A customer sees only their live parts: a shadow one is a rehearsal.
        q = q
            .filter(reporter_run_users::user_id.eq(u))
            .filter(reporter_run_users::report_mode.eq(ReportMode::Live));
    }
    let parts: Vec<(RunUser, String)> = q
        .order(reporter_run_users::id)
        .select((RunUser::as_select(), users::email))
        .load(conn)?;
    let failed: std::collections::HashMap<i64, i64> = ranges::table
        .inner_join(reporter_run_users::table)
        .filter(reporter_run_users::run_id.eq(run_id))
        .filter(ranges::status.eq(RangeStatus::Failed))
        .group_by(ranges::run_user_id)
        .select((ranges::run_user_id, diesel::dsl::count_star()))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(parts
        .into_iter()
        .map(|(run_user, email)| UserPart {
            failed_ranges: failed.get(&run_user.id).copied().unwrap_or(0),
            run_user,
            email,
        })
        .collect())
}
