//! Work that should have a job but may not: what the sweep re-pushes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::domain::{DownloadStatus, RangeStatus};
use crate::schema::{
    reporter_ranges as ranges, reporter_run_users as run_users, reporter_runs as runs,
};

/// Pending run-users (id, download attempts so far) and open range ids.
pub type SweepCandidates = (Vec<(i64, i32)>, Vec<i64>);

/// Work that should have a job but may not (a push lost between a commit
/// and its enqueue, e.g. a crash in between): run-users still pending and
/// ranges still open in unfinished runs older than `older_than`.
pub fn sweep_candidates(
    conn: &mut PgConnection,
    older_than: DateTime<Utc>,
) -> QueryResult<SweepCandidates> {
    let users: Vec<(i64, i32)> = run_users::table
        .inner_join(runs::table)
        .filter(runs::finished_at.is_null())
        .filter(runs::created_at.lt(older_than))
        .filter(run_users::download_compare_status.eq(DownloadStatus::Pending))
        .filter(run_users::updated_at.lt(older_than))
        .select((run_users::id, run_users::download_attempts))
        .load(conn)?;
    let open: Vec<i64> = ranges::table
        .inner_join(run_users::table.inner_join(runs::table))
        .filter(runs::finished_at.is_null())
        .filter(runs::created_at.lt(older_than))
        .filter(ranges::status.eq_any([
            RangeStatus::Pending,
            RangeStatus::Locked,
            RangeStatus::Processing,
        ]))
        .select(ranges::id)
        .load(conn)?;
    Ok((users, open))
}
