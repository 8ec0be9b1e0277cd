//! The run pipeline's writes: runs and run-users for a slot hour, stored
//! exports, stuck orders and ranges, fenced range ownership, the reports
//! ledger and the run's single finish. Every function is one transaction
//! or one statement, so a crash between two of them loses nothing.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamptz};

use super::run::{Run, RunUser};
use crate::domain::{cut_ranges, stuck_orders, OrderSnapshot};
use crate::jobs::RunOrigin;
use crate::prepared::prepared;
use crate::progress;
use crate::schema::{
    reporter_export_batches as batches, reporter_export_rows as rows,
    reporter_order_reports as reports, reporter_ranges as ranges,
    reporter_reservations as reservations, reporter_run_users as run_users, reporter_runs as runs,
    reporter_stuck_orders as stuck,
};

/// Creates the run of a slot hour with one run-user per reservation, or
/// finds the existing one (`created = false`): a slot hour never has two.
/// A scheduled or backfilled run includes the reservations that had the
/// hour at its instant (one made later waits for the next day); a manual
/// one includes every current reservation of the hour.
pub fn create_run(
    conn: &mut PgConnection,
    slot_id: i32,
    scheduled_at: DateTime<Utc>,
    business_date: NaiveDate,
    origin: RunOrigin,
    late_start: bool,
) -> QueryResult<(Run, bool)> {
    conn.transaction(|conn| {
        let inserted: Option<Run> = diesel::insert_into(runs::table)
            .values((
                runs::slot_id.eq(slot_id),
                runs::scheduled_at.eq(scheduled_at),
                runs::business_date.eq(business_date),
                runs::status.eq("running"),
                runs::started_at.eq(diesel::dsl::now),
                runs::origin.eq(origin.as_str()),
                runs::late_start.eq(late_start),
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
            .filter(reservations::slot_id.eq(slot_id))
            .into_boxed();
        if origin.as_of_instant() {
            members = members.filter(reservations::slot_assigned_at.le(scheduled_at));
        }
        let members: Vec<(i64, i32)> = members
            .order((reservations::calculated_weight.desc(), reservations::id))
            .select((reservations::user_id, reservations::calculated_weight))
            .load(conn)?;
        if members.is_empty() {
            let done = diesel::update(runs::table.find(run.id))
                .set((
                    runs::status.eq("completed"),
                    runs::finished_at.eq(diesel::dsl::now),
                ))
                .returning(Run::as_returning())
                .get_result(conn)?;
            return Ok((done, true));
        }
        let values: Vec<_> = members
            .iter()
            .map(|(user_id, weight)| {
                (
                    run_users::run_id.eq(run.id),
                    run_users::user_id.eq(*user_id),
                    run_users::weight.eq(*weight),
                    run_users::progress_message.eq(progress::queued()),
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
        .filter(run_users::download_compare_status.eq("pending"))
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
        .filter(run_users::download_compare_status.eq_any(["pending", "running"]))
        .set((
            run_users::download_compare_status.eq("running"),
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
        .filter(run_users::download_compare_status.ne("completed"))
        .set((
            run_users::download_compare_status.eq("failed"),
            run_users::progress_message.eq(message),
            run_users::error.eq(error),
            run_users::finished_at.eq(diesel::dsl::now),
            run_users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// What storing an export and comparing produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareOutcome {
    pub batch_id: i64,
    pub had_baseline: bool,
    pub stuck: i32,
    pub range_ids: Vec<i64>,
}

/// In one transaction: stores the export as a batch of snapshots, compares
/// it with the account's latest baseline export of an earlier business day,
/// stores the ordered stuck orders, cuts them into ranges and completes the
/// download-compare. Running it twice for a run-user returns the first result.
///
/// `baseline = false` stores an export that later compares must not use: a
/// backfill of a past day downloads today's orders under that day's date,
/// and today's run comparing against it would see nothing move.
pub fn store_and_compare(
    conn: &mut PgConnection,
    run_user: &RunUser,
    business_date: NaiveDate,
    export: &[OrderSnapshot],
    range_size: usize,
    baseline: bool,
) -> QueryResult<CompareOutcome> {
    conn.transaction(|conn| {
        let current: String = run_users::table
            .find(run_user.id)
            .for_update()
            .select(run_users::download_compare_status)
            .first(conn)?;
        if current == "completed" {
            return existing_outcome(conn, run_user.id);
        }
        let batch_id: i64 = diesel::insert_into(batches::table)
            .values((
                batches::user_id.eq(run_user.user_id),
                batches::run_user_id.eq(run_user.id),
                batches::business_date.eq(business_date),
                batches::row_count.eq(export.len() as i32),
                batches::baseline.eq(baseline),
            ))
            .returning(batches::id)
            .get_result(conn)?;
        insert_rows(conn, batch_id, export)?;

        let previous_batch: Option<i64> = batches::table
            .filter(batches::user_id.eq(run_user.user_id))
            .filter(batches::business_date.lt(business_date))
            .filter(batches::baseline)
            .order((batches::business_date.desc(), batches::id.desc()))
            .select(batches::id)
            .first(conn)
            .optional()?;
        let previous = previous_batch.map(|b| load_rows(conn, b)).transpose()?;
        let found = stuck_orders(export, previous.as_deref());

        let stuck_rows: Vec<_> = found
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (
                    stuck::run_user_id.eq(run_user.id),
                    stuck::position.eq(i as i32 + 1),
                    stuck::order_id.eq(o.order_id),
                    stuck::status.eq(o.status.clone()),
                    stuck::carrier.eq(o.carrier.clone()),
                    stuck::tracking_number.eq(o.tracking_number.clone()),
                    stuck::order_date.eq(o.order_date.clone()),
                )
            })
            .collect();
        for chunk in stuck_rows.chunks(5000) {
            diesel::insert_into(stuck::table)
                .values(chunk)
                .execute(conn)?;
        }
        let cuts = cut_ranges(found.len(), range_size);
        let range_values: Vec<_> = cuts
            .iter()
            .map(|(a, b)| {
                (
                    ranges::run_user_id.eq(run_user.id),
                    ranges::range_start.eq(*a),
                    ranges::range_end.eq(*b),
                )
            })
            .collect();
        let range_ids: Vec<i64> = if range_values.is_empty() {
            Vec::new()
        } else {
            diesel::insert_into(ranges::table)
                .values(range_values)
                .returning(ranges::id)
                .get_results(conn)?
        };
        let total = found.len() as i32;
        let message = match (previous.is_some(), total) {
            (false, _) => progress::baseline_only(),
            (true, 0) => progress::nothing_stuck(),
            (true, n) => progress::reporting(1, cuts[0].1, n),
        };
        let finished = total == 0;
        diesel::update(run_users::table.find(run_user.id))
            .set((
                run_users::download_compare_status.eq("completed"),
                run_users::total_pending_orders.eq(total),
                run_users::total_ranges.eq(range_ids.len() as i32),
                run_users::progress_message.eq(message),
                run_users::updated_at.eq(diesel::dsl::now),
                run_users::finished_at.eq(if finished { Some(Utc::now()) } else { None }),
            ))
            .execute(conn)?;
        Ok(CompareOutcome {
            batch_id,
            had_baseline: previous.is_some(),
            stuck: total,
            range_ids,
        })
    })
}

fn existing_outcome(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<CompareOutcome> {
    let batch_id = batches::table
        .filter(batches::run_user_id.eq(run_user_id))
        .select(batches::id)
        .first(conn)?;
    let range_ids = ranges::table
        .filter(ranges::run_user_id.eq(run_user_id))
        .order(ranges::id)
        .select(ranges::id)
        .load(conn)?;
    let stuck: i32 = run_users::table
        .find(run_user_id)
        .select(run_users::total_pending_orders)
        .first(conn)?;
    Ok(CompareOutcome {
        batch_id,
        had_baseline: true,
        stuck,
        range_ids,
    })
}

fn insert_rows(
    conn: &mut PgConnection,
    batch_id: i64,
    export: &[OrderSnapshot],
) -> QueryResult<()> {
    // Exports may repeat an order id; the first row wins, like the compare.
    let mut seen = std::collections::HashSet::new();
    let values: Vec<_> = export
        .iter()
        .filter(|o| seen.insert(o.order_id))
        .map(|o| {
            (
                rows::batch_id.eq(batch_id),
                rows::order_id.eq(o.order_id),
                rows::order_date.eq(&o.order_date),
                rows::status.eq(&o.status),
                rows::carrier.eq(&o.carrier),
                rows::tracking_number.eq(&o.tracking_number),
                rows::customer.eq(&o.customer),
                rows::city.eq(&o.city),
                rows::total.eq(o.total),
            )
        })
        .collect();
    // PostgreSQL allows 65535 bind parameters per statement; 9 per row.
    for chunk in values.chunks(7000) {
        diesel::insert_into(rows::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}

type RowTuple = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<f64>,
);

fn load_rows(conn: &mut PgConnection, batch_id: i64) -> QueryResult<Vec<OrderSnapshot>> {
    let r: Vec<RowTuple> = rows::table
        .filter(rows::batch_id.eq(batch_id))
        .select((
            rows::order_id,
            rows::order_date,
            rows::status,
            rows::carrier,
            rows::tracking_number,
            rows::customer,
            rows::city,
            rows::total,
        ))
        .load(conn)?;
    Ok(r.into_iter()
        .map(
            |(order_id, order_date, status, carrier, tracking_number, customer, city, total)| {
                OrderSnapshot {
                    order_id,
                    order_date,
                    status,
                    carrier,
                    tracking_number,
                    customer,
                    city,
                    total,
                }
            },
        )
        .collect())
}

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
    pub status: String,
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
        .filter(ranges::status.eq_any(["pending", "locked", "processing"]))
        .count()
        .get_result(conn)
}

/// Soonest time a pending range becomes due, if any is waiting.
pub fn next_due(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    ranges::table
        .filter(ranges::status.eq("pending"))
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
    #[diesel(sql_type = Nullable<Date>)]
    pub business_date: Option<NaiveDate>,
    #[diesel(sql_type = Timestamptz)]
    pub scheduled_at: DateTime<Utc>,
}

/// Takes the range for the holder of lock `fence`: refused (None) if a newer
/// fence owns it or it is finished. Counts a take in `attempts` (for
/// operators; the retry budget is `failures`, see [`release_range`]).
pub fn take_range(
    conn: &mut PgConnection,
    range_id: i64,
    fence: i64,
    worker: &str,
) -> QueryResult<Option<TakenRange>> {
    prepared(
        "WITH taken AS (
            UPDATE reporter_ranges SET status = 'locked', fence = $2, locked_by = $3, locked_at = now(),
                   attempts = attempts + 1, error = NULL
             WHERE id = $1 AND status IN ('pending', 'locked', 'processing') AND (fence IS NULL OR fence < $2)
            RETURNING id, run_user_id, range_start, range_end, attempts)
         SELECT t.id AS range_id, t.run_user_id, u.run_id, u.user_id, t.range_start, t.range_end, t.attempts,
                u.total_pending_orders, r.business_date, r.scheduled_at
           FROM taken t JOIN reporter_run_users u ON u.id = t.run_user_id JOIN reporter_runs r ON r.id = u.run_id",
    )
    .bind::<BigInt, _>(range_id)
    .bind::<BigInt, _>(fence)
    .bind::<Text, _>(worker)
    .get_result(conn)
    .optional()
}

/// locked → processing once the browser is ready; fenced.
pub fn mark_processing(conn: &mut PgConnection, range_id: i64, fence: i64) -> QueryResult<bool> {
    let n = diesel::update(ranges::table.find(range_id))
        .filter(ranges::fence.eq(fence))
        .filter(ranges::status.eq_any(["locked", "processing"]))
        .set(ranges::status.eq("processing"))
        .execute(conn)?;
    Ok(n == 1)
}

/// One stuck order of a range, to report.
#[derive(Debug, Clone, Queryable)]
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
    let date = t
        .business_date
        .unwrap_or_else(|| t.scheduled_at.date_naive());
    let all: Vec<StuckOrder> = stuck::table
        .filter(stuck::run_user_id.eq(t.run_user_id))
        .filter(stuck::position.between(t.range_start, t.range_end))
        .order(stuck::position)
        .select((
            stuck::position,
            stuck::order_id,
            stuck::status,
            stuck::carrier,
            stuck::tracking_number,
            stuck::order_date,
        ))
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
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = BigInt)]
        owned: i64,
        #[diesel(sql_type = BigInt)]
        inserted: i64,
    }
    let date = t
        .business_date
        .unwrap_or_else(|| t.scheduled_at.date_naive());
    let w: Written = prepared(
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
    )
    .bind::<BigInt, _>(t.range_id)
    .bind::<BigInt, _>(fence)
    .bind::<BigInt, _>(t.user_id)
    .bind::<BigInt, _>(order.order_id)
    .bind::<Date, _>(date)
    .bind::<BigInt, _>(t.run_user_id)
    .bind::<Text, _>(ticket)
    .bind::<Text, _>(if already_reported { "already_reported" } else { "reported" })
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
            .filter(ranges::status.eq("processing"))
            .set((
                ranges::status.eq("completed"),
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
            .filter(ranges::status.eq_any(["locked", "processing"]))
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
            (false, _, _) => (Released::Pending, "pending", retry_at, had_last_chance),
            (true, Some(at), None) => (Released::LastChance(at), "pending", at, Some(at)),
            (true, _, _) => (Released::Failed, "failed", retry_at, had_last_chance),
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

/// When the run's hour began.
pub fn run_scheduled_at(conn: &mut PgConnection, run_id: i64) -> QueryResult<DateTime<Utc>> {
    runs::table
        .find(run_id)
        .select(runs::scheduled_at)
        .first(conn)
}

/// Operator retry: a failed range goes back to pending with fresh attempts.
pub fn retry_failed_range(conn: &mut PgConnection, range_id: i64) -> QueryResult<Option<i64>> {
    conn.transaction(|conn| {
        let ru: Option<i64> = diesel::update(ranges::table.find(range_id))
            .filter(ranges::status.eq("failed"))
            .set((
                ranges::status.eq("pending"),
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
                    runs::status.eq("running"),
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

/// When every range of the run-user has ended, writes its final message.
fn settle_run_user(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<()> {
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
    }
    let c: Counts = prepared(
        "SELECT count(*) FILTER (WHERE g.status NOT IN ('completed', 'failed')) AS open,
                count(*) FILTER (WHERE g.status = 'failed') AS failed,
                (SELECT count(*) FROM reporter_order_reports o WHERE o.run_user_id = $1) AS reported,
                (SELECT total_pending_orders FROM reporter_run_users WHERE id = $1) AS total
           FROM reporter_ranges g WHERE g.run_user_id = $1",
    )
    .bind::<BigInt, _>(run_user_id)
    .get_result(conn)?;
    if c.open > 0 {
        return Ok(());
    }
    let message = if c.failed > 0 {
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
/// any run-user or range failed for good, else `completed`. Returns the
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
        .filter(run_users::download_compare_status.eq("running"))
        .set(run_users::download_compare_status.eq("pending"))
        .execute(conn)
}

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
        .filter(run_users::download_compare_status.eq("pending"))
        .filter(run_users::updated_at.lt(older_than))
        .select((run_users::id, run_users::download_attempts))
        .load(conn)?;
    let open: Vec<i64> = ranges::table
        .inner_join(run_users::table.inner_join(runs::table))
        .filter(runs::finished_at.is_null())
        .filter(runs::created_at.lt(older_than))
        .filter(ranges::status.eq_any(["pending", "locked", "processing"]))
        .select(ranges::id)
        .load(conn)?;
    Ok((users, open))
}
