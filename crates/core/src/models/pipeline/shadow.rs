//! Shadow parts (`report_mode = 'shadow'`): every stuck order's page is
//! opened and its report form checked, and what would have been filed is
//! recorded in `reporter_shadow_reports`, never in the ledger. So a shadow
//! check never counts as reported and never blocks a live report of the
//! same order the same day (the ledger's once-per-day key is untouched).
//!
//! The writes are fenced like the ledger's: only the range's current
//! holder records.

use diesel::prelude::*;
use serde::Serialize;

use super::fenced_ranges::{write_fenced, LedgerWrite, StuckOrder, TakenRange};
use crate::schema::{reporter_shadow_reports as shadow, reporter_stuck_orders as stuck};

/// What the check of one order's page found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShadowOutcome {
    /// The report form has every field the report needs: a live run would
    /// file it.
    WouldReport,
    /// The portal shows the order as reported already.
    AlreadyReported,
}

impl ShadowOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ShadowOutcome::WouldReport => "would_report",
            ShadowOutcome::AlreadyReported => "already_reported",
        }
    }
}

/// The range's orders this shadow part has not checked yet.
pub fn orders_to_check(conn: &mut PgConnection, t: &TakenRange) -> QueryResult<Vec<StuckOrder>> {
    stuck::table
        .filter(stuck::run_user_id.eq(t.run_user_id))
        .filter(stuck::position.between(t.range_start, t.range_end))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            shadow::table
                .filter(shadow::run_user_id.eq(t.run_user_id))
                .filter(shadow::order_id.eq(stuck::order_id)),
        )))
        .order(stuck::position)
        .select(StuckOrder::as_select())
        .load(conn)
}

/// Records one order's check, only while `fence` still owns the range (one
/// statement, like [`super::record_report`]).
pub fn record_check(
    conn: &mut PgConnection,
    t: &TakenRange,
    fence: i64,
    order: &StuckOrder,
    outcome: ShadowOutcome,
    ticket: &str,
) -> QueryResult<LedgerWrite> {
    write_fenced(
        conn,
        "WITH owned AS (
            SELECT id FROM reporter_ranges
             WHERE id = $1 AND fence = $2 AND status = 'processing' FOR UPDATE),
         ins AS (
            INSERT INTO reporter_shadow_reports
                   (user_id, order_id, business_date, run_user_id, range_id, ticket, outcome, status, carrier, tracking_number)
            SELECT $3, $4, $5, $6, owned.id, $7, $8, $9, $10, $11 FROM owned
            ON CONFLICT (run_user_id, order_id) DO NOTHING
            RETURNING id)
         SELECT (SELECT count(*) FROM owned) AS owned, (SELECT count(*) FROM ins) AS inserted",
        t,
        fence,
        order,
        ticket,
        outcome.as_str(),
    )
}
