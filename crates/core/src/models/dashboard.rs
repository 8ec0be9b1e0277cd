//! Read-only views for the customer's page: report counts, the latest run
//! the customer took part in, and the orders filed in a run.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, Text, Timestamptz};
use serde::Serialize;

use super::run::{Run, RunUser};
use crate::domain::{DownloadStatus, ReportMode, RunStatus, RunUserResult};
use crate::prepared::prepared;
use crate::schema::reporter_run_users;

/// Orders filed for a customer (both outcomes: `already_reported` means the
/// portal already had our report, typically from a retried attempt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReportCounts {
    pub today: i64,
    pub last_7_days: i64,
    pub last_30_days: i64,
}

/// The newest run a customer took part in, with the slot hour, their part in
/// it and how many of their orders it has filed so far.
#[derive(Debug, Clone)]
pub struct Participation {
    pub run: Run,
    pub hour: i32,
    pub run_user: RunUser,
    pub orders_reported: i64,
    /// Ranges of the customer's part that failed for good.
    pub failed_ranges: i64,
}

impl Participation {
    /// What the customer's part came to (the one definition, in `domain`).
    pub fn result(&self) -> RunUserResult {
        super::run::result_of(&self.run, &self.run_user, self.failed_ranges)
    }
}

/// What the customer's dashboard shows, read in one statement.
#[derive(Debug, Clone)]
pub struct Summary {
    pub reports: ReportCounts,
    pub last: Option<Participation>,
    /// The earlier days' part of `reports`, for the caller to keep.
    pub earlier: EarlierDays,
}

/// Reports of the days before today inside the summary's windows: the 6
/// days before it (with today, the 7-day count) and the 29 days before it
/// (the 30-day count). Earlier business days are settled: only a range of
/// an earlier day's run still ending after midnight, or a backfill of a
/// past day, adds to them, so callers may keep them for a few minutes
/// (the API does: `crates/api/src/earlier_reports.rs`) and have
/// [`summary`] count only today's reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EarlierDays {
    pub last_6_days: i64,
    pub last_29_days: i64,
}

/// The summary's row: the counts, then the latest participation's columns,
/// all NULL when the customer never took part in a run.
#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = BigInt)]
    today: i64,
    #[diesel(sql_type = BigInt)]
    earlier_6: i64,
    #[diesel(sql_type = BigInt)]
    earlier_29: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    run_id: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    run_slot_id: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    run_scheduled_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    run_started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    run_finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    run_status: Option<RunStatus>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    run_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Date>)]
    run_business_date: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    run_origin: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    run_late_start: Option<bool>,
    #[diesel(sql_type = Nullable<Integer>)]
    hour: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    ru_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    ru_download_compare_status: Option<DownloadStatus>,
    #[diesel(sql_type = Nullable<Integer>)]
    ru_total_pending_orders: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    ru_total_ranges: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    ru_ranges_completed: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    ru_progress_message: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ru_created_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ru_updated_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    ru_weight: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    ru_download_attempts: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    ru_error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    ru_finished_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    orders_reported: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    failed_ranges: Option<i64>,
}

impl SummaryRow {
    fn into_summary(self, user_id: i64, known: Option<EarlierDays>) -> Summary {
        let earlier = known.unwrap_or(EarlierDays {
            last_6_days: self.earlier_6,
            last_29_days: self.earlier_29,
        });
        let reports = ReportCounts {
            today: self.today,
            last_7_days: self.today + earlier.last_6_days,
            last_30_days: self.today + earlier.last_29_days,
        };
        let last = (|| {
            let run = Run {
                id: self.run_id?,
                slot_id: self.run_slot_id?,
                scheduled_at: self.run_scheduled_at?,
                started_at: self.run_started_at,
                finished_at: self.run_finished_at,
                status: self.run_status?,
                created_at: self.run_created_at?,
                business_date: self.run_business_date,
                origin: self.run_origin?,
                late_start: self.run_late_start?,
                // The statement reads live parts only.
                report_mode: ReportMode::Live,
            };
            let run_user = RunUser {
                id: self.ru_id?,
                run_id: run.id,
                user_id,
                download_compare_status: self.ru_download_compare_status?,
                total_pending_orders: self.ru_total_pending_orders?,
                total_ranges: self.ru_total_ranges?,
                ranges_completed: self.ru_ranges_completed?,
                progress_message: self.ru_progress_message?,
                created_at: self.ru_created_at?,
                updated_at: self.ru_updated_at?,
                weight: self.ru_weight?,
                download_attempts: self.ru_download_attempts?,
                error: self.ru_error,
                finished_at: self.ru_finished_at,
                report_mode: ReportMode::Live,
            };
            Some(Participation {
                run,
                hour: self.hour?,
                run_user,
                orders_reported: self.orders_reported?,
                failed_ranges: self.failed_ranges?,
            })
        })();
        Summary {
            reports,
            last,
            earlier,
        }
    }
}

/// The dashboard in one round trip (it is what every customer's page polls):
/// the report counts (`today` is the business date in the reporter's time
/// zone; the 7 and 30 day windows include it) and the newest run the
/// customer took part in, with how many of their orders it has filed.
///
/// With `earlier` known, only today's reports are counted: for a customer
/// with 500 reports a day the 30-day count reads 15,000 index entries
/// (2.8 ms of the statement's ~3.5 ms on a year of history), today's 500.
pub fn summary(
    conn: &mut PgConnection,
    user_id: i64,
    today: NaiveDate,
    earlier: Option<EarlierDays>,
) -> QueryResult<Summary> {
    let days_read: i32 = if earlier.is_some() { 1 } else { 30 };
    let row: SummaryRow = prepared(
        "SELECT c.today, c.earlier_6, c.earlier_29,
                p.run_id, p.run_slot_id, p.run_scheduled_at, p.run_started_at, p.run_finished_at,
                p.run_status, p.run_created_at, p.run_business_date, p.run_origin,
                p.run_late_start, p.hour, p.ru_id, p.ru_download_compare_status,
                p.ru_total_pending_orders, p.ru_total_ranges, p.ru_ranges_completed,
                p.ru_progress_message, p.ru_created_at, p.ru_updated_at, p.ru_weight,
                p.ru_download_attempts, p.ru_error, p.ru_finished_at,
                (SELECT count(*) FROM reporter_order_reports o
                  WHERE o.run_user_id = p.ru_id) AS orders_reported,
                (SELECT count(*) FROM reporter_ranges g
                  WHERE g.run_user_id = p.ru_id AND g.status = 'failed') AS failed_ranges
           FROM (SELECT count(*) FILTER (WHERE business_date = $2) AS today,
                        count(*) FILTER (WHERE business_date > $2 - 7
                                           AND business_date < $2) AS earlier_6,
                        count(*) FILTER (WHERE business_date < $2) AS earlier_29
                   FROM reporter_order_reports
                  WHERE user_id = $1 AND business_date > $2 - $3 AND business_date <= $2) c
           LEFT JOIN LATERAL (
                 SELECT r.id AS run_id, r.slot_id AS run_slot_id,
                        r.scheduled_at AS run_scheduled_at, r.started_at AS run_started_at,
                        r.finished_at AS run_finished_at, r.status AS run_status,
                        r.created_at AS run_created_at, r.business_date AS run_business_date,
                        r.origin AS run_origin, r.late_start AS run_late_start, s.hour,
                        u.id AS ru_id, u.download_compare_status AS ru_download_compare_status,
                        u.total_pending_orders AS ru_total_pending_orders,
                        u.total_ranges AS ru_total_ranges,
                        u.ranges_completed AS ru_ranges_completed,
                        u.progress_message AS ru_progress_message,
                        u.created_at AS ru_created_at, u.updated_at AS ru_updated_at,
                        u.weight AS ru_weight, u.download_attempts AS ru_download_attempts,
                        u.error AS ru_error, u.finished_at AS ru_finished_at
                   FROM reporter_run_users u
                   JOIN reporter_runs r ON r.id = u.run_id
                   JOIN reporter_hour_slots s ON s.id = r.slot_id
                  WHERE u.user_id = $1 AND u.report_mode = 'live'
                  ORDER BY u.scheduled_at DESC, u.run_id DESC
                  LIMIT 1) p ON true",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Date, _>(today)
    .bind::<Integer, _>(days_read)
    .get_result(conn)?;
    Ok(row.into_summary(user_id, earlier))
}

/// The run-user row of `user_id` in `run_id`, if they took part live (a
/// shadow part is a rehearsal customers never see).
pub fn run_user_of(
    conn: &mut PgConnection,
    run_id: i64,
    user_id: i64,
) -> QueryResult<Option<RunUser>> {
    reporter_run_users::table
        .filter(reporter_run_users::run_id.eq(run_id))
        .filter(reporter_run_users::user_id.eq(user_id))
        .filter(reporter_run_users::report_mode.eq(ReportMode::Live))
        .select(RunUser::as_select())
        .first(conn)
        .optional()
}

/// One filed order, as the customer's table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName, utoipa::ToSchema)]
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

/// One row per order of a page (or list), or one row of NULLs when it is
/// empty (so the total and the statuses still arrive).
#[derive(QueryableByName)]
struct PageRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Array<Text>)]
    statuses: Vec<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    order_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    carrier: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    tracking_number: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ticket: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    outcome: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    reported_at: Option<DateTime<Utc>>,
}

impl PageRow {
    /// The rows' total and statuses (from the first row) and their orders.
    fn split(rows: Vec<PageRow>) -> (i64, Vec<String>, Vec<ReportedOrder>) {
        let (total, statuses) = rows
            .first()
            .map(|r| (r.total, r.statuses.clone()))
            .unwrap_or_default();
        let items = rows
            .into_iter()
            .filter_map(|r| {
                Some(ReportedOrder {
                    order_id: r.order_id?,
                    status: r.status?,
                    carrier: r.carrier?,
                    tracking_number: r.tracking_number?,
                    ticket: r.ticket?,
                    outcome: r.outcome?,
                    reported_at: r.reported_at?,
                })
            })
            .collect();
        (total, statuses, items)
    }
}

/// One page of a run-user's reports, its filtered total and every status
/// of the run-user's reports, in one statement: the page the customer's
/// table shows (and polls while a run files), one round trip.
pub fn reports_page(
    conn: &mut PgConnection,
    run_user_id: i64,
    filter: &ReportFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<ReportPage> {
    let search = like_literal(filter.search.trim());
    let status = filter.status.trim().to_string();
    let rows: Vec<PageRow> = prepared(concat!(
        "WITH matching AS MATERIALIZED (
              SELECT id, order_id, status, carrier, tracking_number, ticket, outcome, reported_at
                FROM reporter_order_reports ",
        reports_where!(),
        ")
         SELECT t.total,
                ARRAY(SELECT DISTINCT status FROM reporter_order_reports
                       WHERE run_user_id = $1 ORDER BY status) AS statuses,
                p.order_id, p.status, p.carrier, p.tracking_number, p.ticket, p.outcome,
                p.reported_at
           FROM (SELECT count(*) AS total FROM matching) t
           LEFT JOIN (SELECT * FROM matching
                       ORDER BY reported_at DESC, id DESC LIMIT $4 OFFSET $5) p ON true
          ORDER BY p.reported_at DESC, p.id DESC"
    ))
    .bind::<BigInt, _>(run_user_id)
    .bind::<Text, _>(&search)
    .bind::<Text, _>(&status)
    .bind::<BigInt, _>(per_page)
    .bind::<BigInt, _>((page - 1).max(0) * per_page)
    .load(conn)?;
    let (total, statuses, items) = PageRow::split(rows);
    Ok(ReportPage {
        items,
        total,
        page,
        per_page,
        statuses,
    })
}

/// Every report of a run-user, newest first (with the ledger ids that break
/// ties), and its statuses: what [`ReportList::page`] serves pages of once
/// the run-user has finished and its list no longer changes.
#[derive(Debug, Clone, Default)]
pub struct ReportList {
    /// Newest first, as [`reports_page`] orders them.
    pub rows: Vec<ReportedOrder>,
    /// Sorted as PostgreSQL sorts them (the filter's options).
    pub statuses: Vec<String>,
}

/// Reads a run-user's whole [`ReportList`] in one statement.
pub fn report_list(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<ReportList> {
    let rows: Vec<PageRow> = prepared(
        "SELECT 0::int8 AS total,
                ARRAY(SELECT DISTINCT status FROM reporter_order_reports
                       WHERE run_user_id = $1 ORDER BY status) AS statuses,
                o.order_id, o.status, o.carrier, o.tracking_number, o.ticket, o.outcome,
                o.reported_at
           FROM (SELECT 1) one
           LEFT JOIN reporter_order_reports o ON o.run_user_id = $1
          ORDER BY o.reported_at DESC, o.id DESC",
    )
    .bind::<BigInt, _>(run_user_id)
    .load(conn)?;
    let (_, statuses, rows) = PageRow::split(rows);
    Ok(ReportList { rows, statuses })
}

impl ReportList {
    /// The page [`reports_page`] would answer for this list: the same
    /// filter (order id prefix, or case-insensitive part of the tracking
    /// number, carrier or ticket; exact status), order and paging.
    pub fn page(&self, filter: &ReportFilter, page: i64, per_page: i64) -> ReportPage {
        let search = filter.search.trim().to_lowercase();
        let status = filter.status.trim();
        let contains = |field: &str| field.to_lowercase().contains(&search);
        let matching: Vec<&ReportedOrder> = self
            .rows
            .iter()
            .filter(|r| status.is_empty() || r.status == status)
            .filter(|r| {
                search.is_empty()
                    || r.order_id.to_string().starts_with(&search)
                    || contains(&r.tracking_number)
                    || contains(&r.carrier)
                    || contains(&r.ticket)
            })
            .collect();
        let skip =
            usize::try_from((page - 1).max(0).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(per_page).unwrap_or(0);
        ReportPage {
            total: matching.len() as i64,
            items: matching
                .into_iter()
                .skip(skip)
                .take(take)
                .cloned()
                .collect(),
            page,
            per_page,
            statuses: self.statuses.clone(),
        }
    }
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
