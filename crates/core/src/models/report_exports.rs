//! The customer's downloads of their reported orders: the ledger rows
//! (`reporter_order_reports`) of one part of a run, or of a range of
//! business dates, in the order a spreadsheet reads them (oldest first).

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable};

use crate::models::dashboard::ReportedOrder;
use crate::prepared::prepared;

/// The ledger outcomes a customer sees: filed by us, or found already
/// filed. Named in every query, never "any outcome": other outcomes (a
/// shadow run's `would_report`) must never reach a customer's file.
pub const CUSTOMER_OUTCOMES: [&str; 2] = ["reported", "already_reported"];

/// At most this many rows in one file. A year of a big customer is
/// ~15,000; a file past this means a range far wider than anyone reads.
pub const MAX_ROWS: i64 = 100_000;

/// One reported order, as the downloaded file lists it: the customer's
/// table row and its business date.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ExportRow {
    #[diesel(sql_type = Date)]
    pub business_date: NaiveDate,
    #[diesel(embed)]
    pub order: ReportedOrder,
}

/// What a query found: the rows, or that there are more than [`MAX_ROWS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    Rows(Vec<ExportRow>),
    TooMany,
}

fn bounded(mut rows: Vec<ExportRow>) -> Export {
    if rows.len() as i64 > MAX_ROWS {
        rows.clear();
        return Export::TooMany;
    }
    Export::Rows(rows)
}

/// The run-user of `user_id` in `run_id` and the run's business date, if
/// the user took part live (a run they were not in, or a shadow part, a
/// rehearsal customers never see, does not exist for them).
pub fn participation(
    conn: &mut PgConnection,
    run_id: i64,
    user_id: i64,
) -> QueryResult<Option<(i64, Option<NaiveDate>)>> {
    #[derive(QueryableByName)]
    struct Part {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Nullable<Date>)]
        business_date: Option<NaiveDate>,
    }
    let part: Option<Part> = prepared(
        "SELECT u.id, r.business_date
           FROM reporter_run_users u
           JOIN reporter_runs r ON r.id = u.run_id
          WHERE u.run_id = $1 AND u.user_id = $2 AND u.report_mode = 'live'",
    )
    .bind::<BigInt, _>(run_id)
    .bind::<BigInt, _>(user_id)
    .get_result(conn)
    .optional()?;
    Ok(part.map(|p| (p.id, p.business_date)))
}

/// The orders one part of a run filed (index `reporter_order_reports_run_user_idx`).
pub fn of_run_user(conn: &mut PgConnection, run_user_id: i64) -> QueryResult<Export> {
    let rows = prepared(
        "SELECT business_date, order_id, status, carrier, tracking_number, ticket, outcome,
                reported_at
           FROM reporter_order_reports
          WHERE run_user_id = $1 AND outcome IN ('reported', 'already_reported')
          ORDER BY reported_at, id
          LIMIT $2",
    )
    .bind::<BigInt, _>(run_user_id)
    .bind::<BigInt, _>(MAX_ROWS + 1)
    .load(conn)?;
    Ok(bounded(rows))
}

/// A customer's reported orders of the business dates `from..=to`
/// (index `reporter_order_reports_user_date_idx`).
pub fn of_user_between(
    conn: &mut PgConnection,
    user_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Export> {
    let rows = prepared(
        "SELECT business_date, order_id, status, carrier, tracking_number, ticket, outcome,
                reported_at
           FROM reporter_order_reports
          WHERE user_id = $1 AND business_date BETWEEN $2 AND $3
            AND outcome IN ('reported', 'already_reported')
          ORDER BY business_date, reported_at, id
          LIMIT $4",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Date, _>(from)
    .bind::<Date, _>(to)
    .bind::<BigInt, _>(MAX_ROWS + 1)
    .load(conn)?;
    Ok(bounded(rows))
}

#[cfg(test)]
mod tests {
    use super::CUSTOMER_OUTCOMES;

    /// The queries spell the outcomes out (a `'static` text for the
    /// statement cache); they must be the ones this list names.
    #[test]
    fn the_queries_name_the_customer_outcomes() {
        let src = include_str!("report_exports.rs");
        let listed = format!(
            "outcome IN ('{}', '{}')",
            CUSTOMER_OUTCOMES[0], CUSTOMER_OUTCOMES[1]
        );
        assert_eq!(src.matches(listed.as_str()).count(), 2, "both queries");
    }
}
