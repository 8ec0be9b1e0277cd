//! Stored exports and the compare that finds the stuck orders and cuts
//! them into ranges.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;

use crate::domain::{cut_ranges, stuck_orders, DownloadStatus, OrderSnapshot};
use crate::models::run::RunUser;
use crate::progress;
use crate::schema::{
    reporter_export_batches as batches, reporter_export_rows as rows, reporter_ranges as ranges,
    reporter_run_users as run_users, reporter_stuck_orders as stuck,
};

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
                run_users::download_compare_status.eq(DownloadStatus::Completed),
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
