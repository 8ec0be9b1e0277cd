//! Range ownership under a fence, and the reports ledger written under it.
//!
//! A range is taken with a fence (a number that only grows); every later
//! write of its holder (marking it processing, each report, completing or
//! handing it back) is conditional on the range still carrying that fence,
//! so a holder that was taken over can no longer change anything.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text, Timestamptz};

use super::runs::settle_run_user;
use crate::domain::{RangeStatus, ReportMode, RunStatus};
use crate::prepared::prepared;
use crate::schema::{
    reporter_order_reports as reports, reporter_ranges as ranges, reporter_run_users as run_users,
    reporter_runs as runs, reporter_stuck_orders as stuck,
};

/// A range that a worker may take now: pending and due, or held by a lock
/// that may have expired (the Redis lock decides).
#[derive(Debug, Clone, QueryableByName)]
pub struct RangeCandidate {
    #[diesel(sql_type = BigInt)]
    pub range_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_user_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Integer)]
    pub weight: i32,
    #[diesel(sql_type = Text)]
    pub status: RangeStatus,
}

/// Heaviest customers first, then oldest range.
pub fn range_candidates(conn: &mut PgConnection, limit: i64) -> QueryResult<Vec<RangeCandidate>> {
    diesel::sql_query(
        "SELECT g.id AS range_id, u.id AS run_user_id, u.run_id, u.user_id, u.weight, g.status
           FROM reporter_ranges g JOIN reporter_run_users u ON u.id = g.run_user_id
          WHERE (g.status = 'pending' AND (g.available_at IS NULL OR g.available_at <= now()))
             OR g.status IN ('locked', 'processing')
          ORDER BY (g.status = 'pending') DESC, u.weight DESC, g.id
          LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}

/// Ranges not yet done: while any exist, surplus jobs keep checking.
pub fn unfinished_ranges(conn: &mut PgConnection) -> QueryResult<i64> {
    ranges::table
        .filter(ranges::status.eq_any([
            RangeStatus::Pending,
            RangeStatus::Locked,
            RangeStatus::Processing,
        ]))
        .count()
        .get_result(conn)
}

/// Soonest time a pending range becomes due, if any is waiting.
pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    ranges::table
        .filter(ranges::status.eq(RangeStatus::Pending))
        .select(diesel::dsl::min(ranges::available_at))
        .first(conn)
}

/// Everything a report-range job needs about the range it took.
#[derive(Debug, Clone, QueryableByName)]
pub struct TakenRange {
    #[diesel(sql_type = BigInt)]
    pub range_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_user_id: i64,
    #[diesel(sql_type = BigInt)]
    pub run_id: i64,
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    #[diesel(sql_type = Integer)]
    pub range_start: i32,
    #[diesel(sql_type = Integer)]
    pub range_end: i32,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub total_pending_orders: i32,
    /// The run's business date (for a run from before migration 000005,
    /// which has none stored: its hour's date in the reporter's zone).
    #[diesel(sql_type = Date)]
    pub business_date: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub scheduled_at: DateTime<Utc>,
    /// `shadow`: check the orders, file nothing ([`super::shadow`]).
    #[diesel(sql_type = Text)]
    pub report_mode: ReportMode,
}

/// Takes the range for the holder of lock `fence`: refused (None) if a newer
/// fence owns it or it is finished. Counts a take in `attempts` (for
/// operators; the retry budget is `failures`, see [`release_range`]).
pub fn take_range(
    conn: &mut PgConnection,
    range_id: i64,
    fence: i64,
    worker: &str,
    tz: Tz,
) -> QueryResult<Option<TakenRange>> {
    prepared(
        "WITH taken AS (
            UPDATE reporter_ranges SET status = 'locked', fence = $2, locked_by = $3, locked_at = now(),
                   attempts = attempts + 1, error = NULL
             WHERE id = $1 AND status IN ('pending', 'locked', 'processing') AND (fence IS NULL OR fence < $2)
            RETURNING id, run_user_id, range_start, range_end, attempts)
         SELECT t.id AS range_id, t.run_user_id, u.run_id, u.user_id, t.range_start, t.range_end, t.attempts,
                u.total_pending_orders,
                COALESCE(r.business_date, (r.scheduled_at AT TIME ZONE $4)::date) AS business_date,
                r.scheduled_at, u.report_mode
           FROM taken t JOIN reporter_run_users u ON u.id = t.run_user_id JOIN reporter_runs r ON r.id = u.run_id",
    )
    .bind::<BigInt, _>(range_id)
    .bind::<BigInt, _>(fence)
    .bind::<Text, _>(worker)
    .bind::<Text, _>(tz.name())
    .get_result(conn)
    .optional()
}

/// locked → processing once the browser is ready; fenced.
pub fn mark_processing(conn: &mut PgConnection, range_id: i64, fence: i64) -> QueryResult<bool> {
    let n = diesel::update(ranges::table.find(range_id))
        .filter(ranges::fence.eq(fence))
        .filter(ranges::status.eq_any([RangeStatus::Locked, RangeStatus::Processing]))
        .set(ranges::status.eq(RangeStatus::Processing))
        .execute(conn)?;
    Ok(n == 1)
}

/// One stuck order of a range, to report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = stuck, check_for_backend(diesel::pg::Pg))]
pub struct StuckOrder {
    pub position: i32,
    pub order_id: i64,
    pub status: String,
    pub carrier: String,
    pub tracking_number: String,
    pub order_date: String,
}

/// The range's orders that have no report yet for the business day.
pub fn orders_to_report(conn: &mut PgConnection, t: &TakenRange) -> QueryResult<Vec<StuckOrder>> {
    let date = t.business_date;
    let all: Vec<StuckOrder> = stuck::table
        .filter(stuck::run_user_id.eq(t.run_user_id))
        .filter(stuck::position.between(t.range_start, t.range_end))
        .order(stuck::position)
        .select(StuckOrder::as_select())
        .load(conn)?;
    let ids: Vec<i64> = all.iter().map(|o| o.order_id).collect();
    let done: std::collections::HashSet<i64> = reports::table
        .filter(reports::user_id.eq(t.user_id))
        .filter(reports::business_date.eq(date))
        .filter(reports::order_id.eq_any(&ids))
        .select(reports::order_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    Ok(all
        .into_iter()
        .filter(|o| !done.contains(&o.order_id))
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerWrite {
    Recorded,
    /// The order already had a report today (another holder filed it).
    AlreadyThere,
    /// Our fence no longer owns the range: stop.
    Fenced,
}

/// Records one filed report, only while `fence` still owns the range.
///
/// One statement, one round trip (it runs once per reported order), and a
/// [`prepared`] one: planning this CTE was about half of PostgreSQL's CPU
/// per order. The range row is locked and must still carry our fence, so a
/// takeover (which updates the fence) either waits for us or refuses us.
pub fn record_report(
    conn: &mut PgConnection,
    t: &TakenRange,
    fence: i64,
    order: &StuckOrder,
    ticket: &str,
    already_reported: bool,
) -> QueryResult<LedgerWrite> {
    write_fenced(
        conn,
        "WITH owned AS (
            SELECT id FROM reporter_ranges
             WHERE id = $1 AND fence = $2 AND status = 'processing' FOR UPDATE),
         ins AS (
            INSERT INTO reporter_order_reports
                   (user_id, order_id, business_date, run_user_id, range_id, ticket, outcome, status, carrier, tracking_number)
            SELECT $3, $4, $5, $6, owned.id, $7, $8, $9, $10, $11 FROM owned
            ON CONFLICT (user_id, order_id, business_date) DO NOTHING
            RETURNING id)
         SELECT (SELECT count(*) FROM owned) AS owned, (SELECT count(*) FROM ins) AS inserted",
        t,
        fence,
        order,
        ticket,
        if already_reported { "already_reported" } else { "reported" },
    )
}

/// Runs a fenced insert of one order's row: `sql` locks the range only if
/// it still carries `$2` = `fence` (`owned`) and inserts `$3..$11` = user,
/// order, business date, run-user, ticket, outcome, status, carrier and
/// tracking number (`inserted`). Shared by the ledger and the shadow table.
pub(super) fn write_fenced(
    conn: &mut PgConnection,
    sql: &'static str,
    t: &TakenRange,
    fence: i64,
    order: &StuckOrder,
    ticket: &str,
    outcome: &str,
) -> QueryResult<LedgerWrite> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = BigInt)]
        owned: i64,
        #[diesel(sql_type = BigInt)]
        inserted: i64,
    }
    let w: Written = prepared(sql)
        .bind::<BigInt, _>(t.range_id)
        .bind::<BigInt, _>(fence)
        .bind::<BigInt, _>(t.user_id)
        .bind::<BigInt, _>(order.order_id)
        .bind::<Date, _>(t.business_date)
        .bind::<BigInt, _>(t.run_user_id)
        .bind::<Text, _>(ticket)
        .bind::<Text, _>(outcome)
        .bind::<Text, _>(&order.status)
        .bind::<Text, _>(&order.carrier)
        .bind::<Text, _>(&order.tracking_number)
        .get_result(conn)?;
    Ok(match (w.owned, w.inserted) {
        (0, _) => LedgerWrite::Fenced,
        (_, 0) => LedgerWrite::AlreadyThere,
        _ => LedgerWrite::Recorded,
    })
}

/// Completes the range and bumps the run-user's counter, once, if `fence`
/// still owns it. Returns the run-user's (completed, total) ranges.
pub fn complete_range(
    conn: &mut PgConnection,
    t: &TakenRange,
    fence: i64,
) -> QueryResult<Option<(i32, i32)>> {
    conn.transaction(|conn| {
        let reported: i64 = reports::table
            .filter(reports::range_id.eq(t.range_id))
            .count()
            .get_result(conn)?;
        let n = diesel::update(ranges::table.find(t.range_id))
            .filter(ranges::fence.eq(fence))
            .filter(ranges::status.eq(RangeStatus::Processing))
            .set((
                ranges::status.eq(RangeStatus::Completed),
                ranges::completed_at.eq(diesel::dsl::now),
                ranges::error.eq(None::<String>),
                ranges::orders_reported.eq(reported as i32),
            ))
            .execute(conn)?;
        if n == 0 {
            return Ok(None);
        }
        let (done, total): (i32, i32) = diesel::update(run_users::table.find(t.run_user_id))
            .set((
                run_users::ranges_completed.eq(run_users::ranges_completed + 1),
                run_users::updated_at.eq(diesel::dsl::now),
            ))
            .returning((run_users::ranges_completed, run_users::total_ranges))
            .get_result(conn)?;
        settle_run_user(conn, t.run_user_id)?;
        Ok(Some((done, total)))
    })
}

/// When a range whose budget is spent gets its one more chance: ten
/// minutes before its hour ends (the portal has had the longest to recover
/// while the report still lands inside the hour), but not before the
/// ordinary retry and at most ten retry delays after it, so a failure early
/// in the hour does not wait most of it.
pub fn last_chance_at(
    scheduled_at: DateTime<Utc>,
    retry_at: DateTime<Utc>,
    retry_secs: u64,
) -> DateTime<Utc> {
    let before_hour_ends = scheduled_at + chrono::Duration::minutes(50);
    let latest = retry_at + chrono::Duration::seconds(10 * retry_secs as i64);
    before_hour_ends.min(latest).max(retry_at)
}

/// What [`release_range`] did with the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// Pending again, due at its ordinary retry.
    Pending,
    /// Its budget was spent and it got its one more chance, due then (its
    /// status is `pending`).
    LastChance(DateTime<Utc>),
    /// Failed for good.
    Failed,
}

impl Released {
    pub fn as_str(self) -> &'static str {
        match self {
            Released::Pending => "pending",
            Released::LastChance(_) => "last_chance",
            Released::Failed => "failed",
        }
    }
}

/// Gives the range back (pending, due after `retry_at`), or, when its retry
/// budget is spent, once gives it one more chance at `last_chance` and
/// after that fails it for good. Fenced. Returns what it did, `None` when
/// the fence is no longer ours.
///
/// The budget counts failures without progress, not takes: `error = None`
/// (a SIGTERM hand-back) costs nothing, an attempt that reported at least
/// one order (`progressed`) starts the count again, and only `max_failures`
/// failed attempts in a row that reported nothing fail the range. Kills,
/// pauses and rolling restarts alone therefore never fail a range.
#[allow(clippy::too_many_arguments)]
pub fn release_range(
    conn: &mut PgConnection,
    t: &TakenRange,
    fence: i64,
    error: Option<&str>,
    progressed: bool,
    retry_at: DateTime<Utc>,
    max_failures: i32,
    last_chance: Option<DateTime<Utc>>,
) -> QueryResult<Option<Released>> {
    conn.transaction(|conn| {
        let row: Option<(i32, Option<DateTime<Utc>>)> = ranges::table
            .find(t.range_id)
            .filter(ranges::fence.eq(fence))
            .filter(ranges::status.eq_any([RangeStatus::Locked, RangeStatus::Processing]))
            .select((ranges::failures, ranges::last_chance_at))
            .for_update()
            .first(conn)
            .optional()?;
        let Some((failures, had_last_chance)) = row else {
            return Ok(None);
        };
        let failures = match (error, progressed) {
            (None, _) => failures,
            // Progress ends the streak; a range always reporting something
            // before failing still finishes (its orders are finite).
            (Some(_), true) => 0,
            (Some(_), false) => failures + 1,
        };
        let spent = error.is_some() && failures >= max_failures;
        let (released, status, due, chance) = match (spent, last_chance, had_last_chance) {
            (false, _, _) => (
                Released::Pending,
                RangeStatus::Pending,
                retry_at,
                had_last_chance,
            ),
            (true, Some(at), None) => {
                (Released::LastChance(at), RangeStatus::Pending, at, Some(at))
            }
            (true, _, _) => (
                Released::Failed,
                RangeStatus::Failed,
                retry_at,
                had_last_chance,
            ),
        };
        diesel::update(ranges::table.find(t.range_id))
            .set((
                ranges::status.eq(status),
                ranges::error.eq(error),
                ranges::failures.eq(failures),
                ranges::available_at.eq(Some(due)),
                ranges::locked_by.eq(None::<String>),
                ranges::last_chance_at.eq(chance),
            ))
            .execute(conn)?;
        if released == Released::Failed {
            settle_run_user(conn, t.run_user_id)?;
        }
        Ok(Some(released))
    })
}

/// Operator retry: a failed range goes back to pending with fresh attempts.
pub fn retry_failed_range(conn: &mut PgConnection, range_id: i64) -> QueryResult<Option<i64>> {
    conn.transaction(|conn| {
        let ru: Option<i64> = diesel::update(ranges::table.find(range_id))
            .filter(ranges::status.eq(RangeStatus::Failed))
            .set((
                ranges::status.eq(RangeStatus::Pending),
                ranges::attempts.eq(0),
                ranges::failures.eq(0),
                ranges::available_at.eq(None::<DateTime<Utc>>),
                ranges::last_chance_at.eq(None::<DateTime<Utc>>),
            ))
            .returning(ranges::run_user_id)
            .get_result(conn)
            .optional()?;
        if let Some(ru) = ru {
            let run_id: i64 = run_users::table
                .find(ru)
                .select(run_users::run_id)
                .first(conn)?;
            diesel::update(runs::table.find(run_id))
                .set((
                    runs::status.eq(RunStatus::Running),
                    runs::finished_at.eq(None::<DateTime<Utc>>),
                ))
                .execute(conn)?;
            diesel::update(run_users::table.find(ru))
                .set(run_users::finished_at.eq(None::<DateTime<Utc>>))
                .execute(conn)?;
            return Ok(Some(run_id));
        }
        Ok(None)
    })
}
