//! Runs and their run-users: created once per slot hour, the download
//! step's state, and the run's single finish.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::domain::{DownloadStatus, ReportMode, RunStatus};
use crate::jobs::RunOrigin;
use crate::models::run::{Run, RunUser};
use crate::prepared::prepared;
use crate::progress;
use crate::schema::{
    reporter_reservations as reservations, reporter_run_users as run_users, reporter_runs as runs,
    users,
};

/// Creates the run of a slot hour with one run-user per reservation, or
/// finds the existing one (`created = false`): a slot hour never has two.
/// A scheduled or backfilled run includes the reservations that had the
/// hour at its instant (one made later waits for the next day); a manual
/// one includes every current reservation of the hour.
///
/// `mode` is the run's own (shadow: a rehearsal, for everyone in it); each
/// run-user's mode is fixed here by [`ReportMode::of_part`] with the
/// customer's override and the fleet's `fleet_mode`, so changing a mode
/// never flips a run that has started.
#[allow(clippy::too_many_arguments)]
pub fn create_run(
    conn: &mut PgConnection,
    slot_id: i32,
    scheduled_at: DateTime<Utc>,
    business_date: NaiveDate,
    origin: RunOrigin,
    late_start: bool,
    mode: ReportMode,
    fleet_mode: ReportMode,
) -> QueryResult<(Run, bool)> {
    conn.transaction(|conn| {
        let inserted: Option<Run> = diesel::insert_into(runs::table)
            .values((
                runs::slot_id.eq(slot_id),
                runs::scheduled_at.eq(scheduled_at),
                runs::business_date.eq(business_date),
                runs::status.eq(RunStatus::Running),
                runs::started_at.eq(diesel::dsl::now),
                runs::origin.eq(origin.as_str()),
                runs::late_start.eq(late_start),
                runs::report_mode.eq(mode),
            ))
            .on_conflict((runs::slot_id, runs::scheduled_at))
            .do_nothing()
            .returning(Run::as_returning())
            .get_result(conn)
            .optional()?;
        let Some(run) = inserted else {
            let existing = runs::table
                .filter(runs::slot_id.eq(slot_id))
                .filter(runs::scheduled_at.eq(scheduled_at))
                .select(Run::as_select())
                .first(conn)?;
            return Ok((existing, false));
        };
        let mut members = reservations::table
            .inner_join(users::table)
            .filter(reservations::slot_id.eq(slot_id))
            .into_boxed();
        if origin.as_of_instant() {
            members = members.filter(reservations::slot_assigned_at.le(scheduled_at));
        }
        let members: Vec<(i64, i32, Option<String>)> = members
            .order((reservations::calculated_weight.desc(), reservations::id))
            .select((
                reservations::user_id,
                reservations::calculated_weight,
                users::reporter_report_mode,
            ))
            .load(conn)?;
        if members.is_empty() {
            let done = diesel::update(runs::table.find(run.id))
                .set((
                    runs::status.eq(RunStatus::Completed),
                    runs::finished_at.eq(diesel::dsl::now),
                ))
                .returning(Run::as_returning())
                .get_result(conn)?;
            return Ok((done, true));
        }
        let values: Vec<_> = members
            .iter()
            .map(|(user_id, weight, own)| {
                let own = own.as_deref().and_then(ReportMode::parse);
                (
                    run_users::run_id.eq(run.id),
                    run_users::user_id.eq(*user_id),
                    run_users::weight.eq(*weight),
                    run_users::progress_message.eq(progress::queued()),
                    run_users::report_mode.eq(ReportMode::of_part(mode, own, fleet_mode)),
                )
            })
            .collect();
        diesel::insert_into(run_users::table)
            .values(values)
            .execute(conn)?;
        Ok((run, true))
    })
}

/// Run-users whose download-compare has not started: those need a job.
pub fn pending_run_users(conn: &mut PgConnection, run_id: i64) -> QueryResult<Vec<i64>> {
    run_users::table
        .filter(run_users::run_id.eq(run_id))
        .filter(run_users::download_compare_status.eq(DownloadStatus::Pending))
        .order(run_users::id)
        .select(run_users::id)
        .load(conn)
}

/// The context a download-compare job needs.
pub fn load_run_user(
    conn: &mut PgConnection,
    run_user_id: i64,
) -> QueryResult<Option<(RunUser, Run)>> {
    run_users::table
        .inner_join(runs::table)
        .filter(run_users::id.eq(run_user_id))
        .select((RunUser::as_select(), Run::as_select()))
        .first(conn)
        .optional()
}

pub fn set_message(conn: &mut PgConnection, run_user_id: i64, message: &str) -> QueryResult<usize> {
    diesel::update(run_users::table.find(run_user_id))
        .set((
            run_users::progress_message.eq(message),
            run_users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Marks the download-compare as started (attempt counted); false if it
/// already ended (a duplicate job).
pub fn start_download(
    conn: &mut PgConnection,
    run_user_id: i64,
    attempt: u32,
) -> QueryResult<bool> {
    let n = diesel::update(run_users::table.find(run_user_id))
        .filter(
            run_users::download_compare_status
                .eq_any([DownloadStatus::Pending, DownloadStatus::Running]),
        )
        .set((
            run_users::download_compare_status.eq(DownloadStatus::Running),
            run_users::download_attempts.eq(attempt as i32),
            run_users::progress_message.eq(progress::downloading()),
            run_users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends the run-user's part as failed for good (no ranges will follow).
pub fn fail_run_user(
    conn: &mut PgConnection,
    run_user_id: i64,
    message: &str,
    error: &str,
) -> QueryResult<usize> {
    diesel::update(run_users::table.find(run_user_id))
        .filter(run_users::download_compare_status.ne(DownloadStatus::Completed))
        .set((
            run_users::download_compare_status.eq(DownloadStatus::Failed),
            run_users::progress_message.eq(message),
            run_users::error.eq(error),
            run_users::finished_at.eq(diesel::dsl::now),
            run_users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// When the run's hour began.
pub fn run_scheduled_at(conn: &mut PgConnection, run_id: i64) -> QueryResult<DateTime<Utc>> {
    runs::table
        .find(run_id)
        .select(runs::scheduled_at)
        .first(conn)
}

/// When every range of the run-user has ended, writes its final message.
pub(super) fn settle_run_user(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        open: i64,
        #[diesel(sql_type = BigInt)]
        failed: i64,
        #[diesel(sql_type = BigInt)]
        reported: i64,
        #[diesel(sql_type = Integer)]
        total: i32,
        #[diesel(sql_type = Text)]
        mode: ReportMode,
        #[diesel(sql_type = BigInt)]
        would_report: i64,
    }
    let c: Counts = prepared(
        "SELECT count(*) FILTER (WHERE g.status NOT IN ('completed', 'failed')) AS open,
                count(*) FILTER (WHERE g.status = 'failed') AS failed,
                (SELECT count(*) FROM reporter_order_reports o WHERE o.run_user_id = $1) AS reported,
                (SELECT total_pending_orders FROM reporter_run_users WHERE id = $1) AS total,
                (SELECT report_mode FROM reporter_run_users WHERE id = $1) AS mode,
                (SELECT count(*) FROM reporter_shadow_reports s
                  WHERE s.run_user_id = $1 AND s.outcome = 'would_report') AS would_report
           FROM reporter_ranges g WHERE g.run_user_id = $1",
    )
    .bind::<BigInt, _>(run_user_id)
    .get_result(conn)?;
    if c.open > 0 {
        return Ok(());
    }
    let message = if c.mode == ReportMode::Shadow {
        progress::shadow_done(c.would_report as i32, c.total, c.failed > 0)
    } else if c.failed > 0 {
        progress::done_with_failures(c.reported as i32, c.total)
    } else {
        progress::done(c.total)
    };
    diesel::update(run_users::table.find(run_user_id))
        .filter(run_users::finished_at.is_null())
        .set((
            run_users::progress_message.eq(message),
            run_users::finished_at.eq(diesel::dsl::now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Finishes the run exactly once, when its last piece has ended: `failed` if
/// any run-user or range failed for good, else `completed`. Records the
/// run's actual duration beside the planner's prediction. Returns the
/// status if this call finished it.
pub fn finish_run_if_done(conn: &mut PgConnection, run_id: i64) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Finished {
        #[diesel(sql_type = Text)]
        status: String,
    }
    let r: Option<Finished> = diesel::sql_query(
        "UPDATE reporter_runs r
            SET finished_at = now(),
                actual_duration_minutes = extract(epoch FROM now() - coalesce(r.started_at, r.created_at)) / 60.0,
                status = CASE WHEN EXISTS (SELECT 1 FROM reporter_run_users u WHERE u.run_id = r.id AND u.download_compare_status = 'failed')
                           OR EXISTS (SELECT 1 FROM reporter_ranges g JOIN reporter_run_users u ON u.id = g.run_user_id
                                       WHERE u.run_id = r.id AND g.status = 'failed')
                         THEN 'failed' ELSE 'completed' END
          WHERE r.id = $1 AND r.finished_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM reporter_run_users u WHERE u.run_id = r.id AND u.download_compare_status IN ('pending', 'running'))
            AND NOT EXISTS (SELECT 1 FROM reporter_ranges g JOIN reporter_run_users u ON u.id = g.run_user_id
                             WHERE u.run_id = r.id AND g.status NOT IN ('completed', 'failed'))
        RETURNING r.status",
    )
    .bind::<BigInt, _>(run_id)
    .get_result(conn)
    .optional()?;
    Ok(r.map(|f| f.status))
}

/// A download-compare that will be tried again later goes back to pending
/// (the run stays open meanwhile).
pub fn download_back_to_pending(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<usize> {
    diesel::update(run_users::table.find(run_user_id))
        .filter(run_users::download_compare_status.eq(DownloadStatus::Running))
        .set(run_users::download_compare_status.eq(DownloadStatus::Pending))
        .execute(conn)
}
