//! The prune log (`reporter_prune_runs`): what each finished prune
//! deleted, whether one ran today, and the newest success for the alert.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;

use super::database::PruneError;
use super::PruneReport;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The newest recorded prune, for the console and `reporterctl prune`.
#[derive(Debug, Clone, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct LastPrune {
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub finished_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub by: String,
    /// Rows deleted per table.
    #[diesel(sql_type = Jsonb)]
    #[schema(value_type = Object)]
    pub tables: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
}

/// Records a finished prune (not dry runs): when, by whom, what.
pub fn record_prune(
    conn: &mut PgConnection,
    started_at: DateTime<Utc>,
    by: &str,
    report: &PruneReport,
    error: Option<&str>,
) -> Result<(), PruneError> {
    diesel::sql_query(
        "INSERT INTO reporter_prune_runs (started_at, finished_at, by, tables, error)
         VALUES ($1, now(), $2, $3, $4)",
    )
    .bind::<Timestamptz, _>(started_at)
    .bind::<Text, _>(by)
    .bind::<Jsonb, _>(serde_json::to_value(&report.tables).unwrap_or_default())
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)?;
    Ok(())
}

pub fn last_prune(conn: &mut PgConnection) -> QueryResult<Option<LastPrune>> {
    diesel::sql_query(
        "SELECT started_at, finished_at, by, tables, error FROM reporter_prune_runs
          ORDER BY id DESC LIMIT 1",
    )
    .get_result(conn)
    .optional()
}

/// Whether a prune finished since `instant` (beat prunes once a day, and a
/// second beat or a restart must not prune again).
pub fn pruned_since(conn: &mut PgConnection, instant: DateTime<Utc>) -> Result<bool, PruneError> {
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM reporter_prune_runs WHERE started_at >= $1 AND error IS NULL",
    )
    .bind::<Timestamptz, _>(instant)
    .get_result(conn)?;
    Ok(c.n > 0)
}

#[derive(QueryableByName)]
struct LastSuccess {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// When the newest prune without error finished (for the
/// `reporter_prune_last_success_timestamp_seconds` gauge and its alert).
pub fn last_success_at(conn: &mut PgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    Ok(diesel::sql_query(
        "SELECT max(finished_at) AS at FROM reporter_prune_runs WHERE error IS NULL",
    )
    .get_result::<LastSuccess>(conn)?
    .at)
}
