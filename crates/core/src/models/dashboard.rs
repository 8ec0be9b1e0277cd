//! Read-only views for the customer's page: report counts, the latest run
//! the customer took part in, and the orders filed in a run.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamptz};
use serde::Serialize;

use super::run::{Run, RunUser};
use crate::prepared::prepared;
use crate::schema::{reporter_hour_slots, reporter_run_users, reporter_runs};

/// Orders filed for a customer (both outcomes: `already_reported` means the
/// portal already had our report, typically from a retried attempt).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, QueryableByName, utoipa::ToSchema,
)]
pub struct ReportCounts {
    #[diesel(sql_type = BigInt)]
    pub today: i64,
    #[diesel(sql_type = BigInt)]
    pub last_7_days: i64,
    #[diesel(sql_type = BigInt)]
    pub last_30_days: i64,
}

/// `today` is the business date in the reporter's time zone; the 7 and 30
/// day windows include it.
pub fn report_counts(
    conn: &mut PgConnection,
    user_id: i64,
    today: NaiveDate,
) -> QueryResult<ReportCounts> {
    prepared(
        "SELECT count(*) FILTER (WHERE business_date = $2) AS today,
                count(*) FILTER (WHERE business_date > $2 - 7) AS last_7_days,
                count(*) AS last_30_days
           FROM reporter_order_reports
          WHERE user_id = $1 AND business_date > $2 - 30 AND business_date <= $2",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Date, _>(today)
    .get_result(conn)
}

/// The newest run a customer took part in, with the slot hour, their part in
/// it and how many of their orders it has filed so far.
#[derive(Debug, Clone)]
pub struct Participation {
    pub run: Run,
    pub hour: i32,
    pub run_user: RunUser,
    pub orders_reported: i64,
}

pub fn latest_participation(
    conn: &mut PgConnection,
    user_id: i64,
) -> QueryResult<Option<Participation>> {
    let found: Option<(Run, i32, RunUser)> = reporter_runs::table
        .inner_join(reporter_run_users::table)
        .inner_join(reporter_hour_slots::table)
        .filter(reporter_run_users::user_id.eq(user_id))
        .order((reporter_runs::scheduled_at.desc(), reporter_runs::id.desc()))
        .select((
            Run::as_select(),
            reporter_hour_slots::hour,
            RunUser::as_select(),
        ))
        .first(conn)
        .optional()?;
    let Some((run, hour, run_user)) = found else {
        return Ok(None);
    };
    let orders_reported = reported_in(conn, run_user.id)?;
    Ok(Some(Participation {
        run,
        hour,
        run_user,
        orders_reported,
    }))
}

fn reported_in(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<i64> {
    use crate::schema::reporter_order_reports as r;
    r::table
        .filter(r::run_user_id.eq(run_user_id))
        .count()
        .get_result(conn)
}

/// The run-user row of `user_id` in `run_id`, if they took part.
pub fn run_user_of(
    conn: &mut PgConnection,
    run_id: i64,
    user_id: i64,
) -> QueryResult<Option<RunUser>> {
    reporter_run_users::table
        .filter(reporter_run_users::run_id.eq(run_id))
        .filter(reporter_run_users::user_id.eq(user_id))
        .select(RunUser::as_select())
        .first(conn)
        .optional()
}

/// One filed order, as the customer's table shows it.
#[derive(Debug, Clone, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct ReportedOrder {
    #[diesel(sql_type = BigInt)]
    pub order_id: i64,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub carrier: String,
    #[diesel(sql_type = Text)]
    pub tracking_number: String,
    #[diesel(sql_type = Text)]
    pub ticket: String,
    /// `reported`, or `already_reported` when the portal had it already.
    #[diesel(sql_type = Text)]
    pub outcome: String,
    #[diesel(sql_type = Timestamptz)]
    pub reported_at: DateTime<Utc>,
}

/// Filters of the reported-orders table. Empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Matches the start of the order id, or part of the tracking number,
    /// carrier or ticket (case-insensitive).
    pub search: String,
    /// Exact order status as the export wrote it.
    pub status: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportPage {
    pub items: Vec<ReportedOrder>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// Every status present in this run's reports, for the filter.
    pub statuses: Vec<String>,
}

/// Escapes `%`, `_` and `\` so a customer's search is matched literally.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The reports table's filter: `$1` run-user, `$2` search (already
/// [`like_literal`]), `$3` status; empty strings match everything.
macro_rules! reports_where {
    () => {
        "WHERE run_user_id = $1
          AND ($2 = '' OR order_id::text LIKE $2 || '%' OR tracking_number ILIKE '%' || $2 || '%'
               OR carrier ILIKE '%' || $2 || '%' OR ticket ILIKE '%' || $2 || '%')
          AND ($3 = '' OR status = $3)"
    };
}

pub fn reports_page(
    conn: &mut PgConnection,
    run_user_id: i64,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<ReportPage> {
    #[derive(QueryableByName)]
    struct Total {
        #[diesel(sql_type = BigInt)]
        total: i64,
    }
    #[derive(QueryableByName)]
    struct Status {
        #[diesel(sql_type = Text)]
        status: String,
    }
    let search = like_literal(filter.search.trim());
    let status = filter.status.trim().to_string();
    let total: Total = prepared(concat!(
        "SELECT count(*) AS total FROM reporter_order_reports ",
        reports_where!()
    ))
    .bind::<BigInt, _>(run_user_id)
    .bind::<Text, _>(&search)
    .bind::<Text, _>(&status)
    .get_result(conn)?;
    let items: Vec<ReportedOrder> = prepared(concat!(
        "SELECT order_id, status, carrier, tracking_number, ticket, outcome, reported_at
           FROM reporter_order_reports ",
        reports_where!(),
        " ORDER BY reported_at DESC, id DESC LIMIT $4 OFFSET $5"
    ))
    .bind::<BigInt, _>(run_user_id)
    .bind::<Text, _>(&search)
    .bind::<Text, _>(&status)
    .bind::<BigInt, _>(per_page)
    .bind::<BigInt, _>((page - 1).max(0) * per_page)
    .load(conn)?;
    let statuses: Vec<Status> = prepared(
        "SELECT DISTINCT status FROM reporter_order_reports WHERE run_user_id = $1 ORDER BY status",
    )
    .bind::<BigInt, _>(run_user_id)
    .load(conn)?;
    Ok(ReportPage {
        items,
        total: total.total,
        page,
        per_page,
        statuses: statuses.into_iter().map(|s| s.status).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(like_literal("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(like_literal("ABC123"), "ABC123");
    }
}
