//! The PostgreSQL half of the pruner: exports, runs (with their users,
//! ranges and stuck lists) and the reports ledger, in bounded statements.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Date, Timestamptz};

use super::{Cutoffs, Policy, PruneReport};

/// The `reported_at` bound of the ledger's cutoff: a day of slack for the
/// time zone, so the index picks the candidates and the business day decides.
fn ledger_bound(c: &Cutoffs) -> DateTime<Utc> {
    DateTime::<Utc>::from_naive_utc_and_offset(
        (c.reports + chrono::Duration::days(1)).and_time(NaiveTime::MIN),
        Utc,
    )
}

/// Session advisory lock key: one pruner at a time across the fleet.
pub const PRUNE_LOCK_KEY: i64 = 0x7072_756e_6500_0001;

#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
}

/// The tables the database part prunes (and one pseudo-table: ledger rows
/// unlinked from their deleted run).
pub const TABLES: [&str; 9] = [
    "reporter_export_rows",
    "reporter_export_batches",
    "reporter_stuck_orders",
    "reporter_ranges",
    "reporter_run_users",
    "reporter_runs",
    "reporter_order_reports",
    "reporter_order_reports (unlinked)",
    "api_tokens",
];

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Prunes what `policy` no longer keeps, seen from business day `today`.
/// With `dry_run` only counts. Returns `skipped` when another pruner runs.
pub fn prune_database(
    conn: &mut PgConnection,
    policy: &Policy,
    today: NaiveDate,
    dry_run: bool,
) -> Result<PruneReport, PruneError> {
    if !try_lock(conn)? {
        return Ok(PruneReport {
            dry_run,
            skipped: true,
            ..PruneReport::default()
        });
    }
    let result = prune_tables(conn, policy, today, dry_run);
    unlock(conn);
    result
}

/// Takes the fleet-wide pruner lock for this session, if free.
pub fn try_lock(conn: &mut PgConnection) -> Result<bool, PruneError> {
    let got: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<BigInt, _>(PRUNE_LOCK_KEY)
        .get_result(conn)?;
    Ok(got.locked)
}

/// Releases it; a broken connection drops it anyway.
pub fn unlock(conn: &mut PgConnection) {
    let _ = diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(PRUNE_LOCK_KEY)
        .execute(conn);
}

/// The database part, for a caller holding the lock.
pub fn prune_tables(
    conn: &mut PgConnection,
    policy: &Policy,
    today: NaiveDate,
    dry_run: bool,
) -> Result<PruneReport, PruneError> {
    let mut report = PruneReport {
        dry_run,
        ..PruneReport::default()
    };
    // Every table appears in the report, pruned or not.
    for table in TABLES {
        report.add(table, 0);
    }
    let cutoffs = policy.cutoffs(today);
    Pruner {
        conn,
        batch: policy.batch.max(1),
        token_ttl_days: policy.token_ttl_days,
        dry_run,
        report: &mut report,
    }
    .run(&cutoffs)?;
    Ok(report)
}

struct Pruner<'a> {
    conn: &'a mut PgConnection,
    batch: i64,
    token_ttl_days: i64,
    dry_run: bool,
    report: &'a mut PruneReport,
}

impl Pruner<'_> {
    fn run(&mut self, c: &Cutoffs) -> Result<(), PruneError> {
        self.exports(c)?;
        // The ledger first: the runs it no longer points at can then go
        // without touching a ledger row.
        self.reports(c)?;
        self.runs(c)?;
        self.tokens()?;
        Ok(())
    }

    /// Revoked and expired API tokens (one row per login: a small table,
    /// one statement).
    fn tokens(&mut self) -> Result<(), PruneError> {
        let (now, ttl) = (Utc::now(), chrono::Duration::days(self.token_ttl_days));
        let n = if self.dry_run {
            crate::models::token::count_prunable(self.conn, now, ttl)? as u64
        } else {
            self.report.statements += 1;
            crate::models::token::prune(self.conn, now, ttl)? as u64
        };
        self.report.add("api_tokens", n);
        Ok(())
    }

    /// Runs `sql` (binding the id and the batch size) until it touches
    /// fewer rows than a batch; returns the rows touched.
    fn drain(&mut self, sql: &str, id: i64) -> Result<u64, PruneError> {
        let mut total = 0;
        loop {
            let n = diesel::sql_query(sql)
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(self.batch)
                .execute(self.conn)? as u64;
            self.report.statements += 1;
            total += n;
            if (n as i64) < self.batch {
                return Ok(total);
            }
        }
    }

    /// Deletes the row `id` of `table` (one of [`TABLES`]) and counts it.
    fn delete_row(&mut self, table: &'static str, id: i64) -> Result<(), PruneError> {
        let n = diesel::sql_query(format!("DELETE FROM {table} WHERE id = $1"))
            .bind::<BigInt, _>(id)
            .execute(self.conn)?;
        self.report.statements += 1;
        self.report.add(table, n as u64);
        Ok(())
    }

    fn count(&mut self, sql: &str, ids: &[i64]) -> Result<u64, PruneError> {
        let c: Count = diesel::sql_query(sql)
            .bind::<Array<BigInt>, _>(ids)
            .get_result(self.conn)?;
        Ok(c.n as u64)
    }

    /// Export batches older than the cutoff, except each customer's newest
    /// baseline and newest baseline of an earlier day, and any of a run
    /// that is not finished.
    fn exports(&mut self, c: &Cutoffs) -> Result<(), PruneError> {
        let batches: Vec<Id> = diesel::sql_query(
            "WITH keep AS (
                 (SELECT DISTINCT ON (user_id) id FROM reporter_export_batches
                   WHERE baseline ORDER BY user_id, business_date DESC, id DESC)
                 UNION
                 (SELECT DISTINCT ON (user_id) id FROM reporter_export_batches
                   WHERE baseline AND business_date < $1 ORDER BY user_id, business_date DESC, id DESC))
             SELECT b.id FROM reporter_export_batches b
              WHERE b.business_date < $2
                AND b.id NOT IN (SELECT id FROM keep)
                AND NOT EXISTS (SELECT 1 FROM reporter_run_users ru
                                  JOIN reporter_runs r ON r.id = ru.run_id
                                 WHERE ru.id = b.run_user_id AND r.finished_at IS NULL)
              ORDER BY b.id",
        )
        .bind::<Date, _>(c.today)
        .bind::<Date, _>(c.exports)
        .load(self.conn)?;
        let ids: Vec<i64> = batches.into_iter().map(|b| b.id).collect();
        if self.dry_run {
            let rows = self.count(
                "SELECT count(*) AS n FROM reporter_export_rows WHERE batch_id = ANY($1)",
                &ids,
            )?;
            self.report.add("reporter_export_rows", rows);
            self.report.add("reporter_export_batches", ids.len() as u64);
            return Ok(());
        }
        for id in ids {
            let rows = self.drain(
                "DELETE FROM reporter_export_rows WHERE batch_id = $1 AND order_id IN
                   (SELECT order_id FROM reporter_export_rows WHERE batch_id = $1 LIMIT $2)",
                id,
            )?;
            self.report.add("reporter_export_rows", rows);
            self.delete_row("reporter_export_batches", id)?;
        }
        Ok(())
    }

    /// Finished runs' stuck lists (the bulk: one row per stuck order) go
    /// after the runs' retention; the runs themselves, with their users and
    /// ranges (a few hundred bytes each), stay as long as the ledger rows
    /// that point at them, and go with them. So deleting a run never
    /// rewrites ledger rows (which would grow the ledger's files by the
    /// size of every report it unlinks). Ledger rows still linked to a run
    /// that goes (none, normally: the ledger step runs first) are unlinked
    /// in batches before it.
    fn runs(&mut self, c: &Cutoffs) -> Result<(), PruneError> {
        let before = ledger_bound(c);
        let old = self.finished_run_users(c.runs)?;
        let gone_runs: Vec<Id> = diesel::sql_query(
            "SELECT id FROM reporter_runs
              WHERE finished_at IS NOT NULL
                AND COALESCE(business_date, (scheduled_at AT TIME ZONE 'UTC')::date) < $1
              ORDER BY id",
        )
        .bind::<Date, _>(c.reports)
        .load(self.conn)?;
        let run_ids: Vec<i64> = gone_runs.into_iter().map(|r| r.id).collect();
        let gone = self.run_users_of(&run_ids)?;
        if self.dry_run {
            let stuck = self.count(
                "SELECT count(*) AS n FROM reporter_stuck_orders WHERE run_user_id = ANY($1)",
                &old,
            )?;
            let ranges = self.count(
                "SELECT count(*) AS n FROM reporter_ranges WHERE run_user_id = ANY($1)",
                &gone,
            )?;
            // What the ledger step (not run in a dry run) would leave linked.
            let linked: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM reporter_order_reports
                  WHERE run_user_id = ANY($1) AND NOT (reported_at < $2 AND business_date < $3)",
            )
            .bind::<Array<BigInt>, _>(&gone)
            .bind::<Timestamptz, _>(before)
            .bind::<Date, _>(c.reports)
            .get_result(self.conn)?;
            self.report.add("reporter_stuck_orders", stuck);
            self.report.add("reporter_ranges", ranges);
            self.report
                .add("reporter_order_reports (unlinked)", linked.n as u64);
            self.report.add("reporter_run_users", gone.len() as u64);
            self.report.add("reporter_runs", run_ids.len() as u64);
            return Ok(());
        }
        for ru in old {
            let stuck = self.drain(
                "DELETE FROM reporter_stuck_orders WHERE run_user_id = $1 AND position IN
                   (SELECT position FROM reporter_stuck_orders WHERE run_user_id = $1 LIMIT $2)",
                ru,
            )?;
            self.report.add("reporter_stuck_orders", stuck);
        }
        for ru in gone {
            let unlinked = self.drain(
                "UPDATE reporter_order_reports SET run_user_id = NULL, range_id = NULL
                  WHERE id IN (SELECT id FROM reporter_order_reports WHERE run_user_id = $1 LIMIT $2)",
                ru,
            )?;
            self.report
                .add("reporter_order_reports (unlinked)", unlinked);
            let ranges = self.drain(
                "DELETE FROM reporter_ranges WHERE id IN
                   (SELECT id FROM reporter_ranges WHERE run_user_id = $1 LIMIT $2)",
                ru,
            )?;
            self.report.add("reporter_ranges", ranges);
            self.delete_row("reporter_run_users", ru)?;
        }
        for run in run_ids {
            self.delete_row("reporter_runs", run)?;
        }
        Ok(())
    }

    /// Run-users of finished runs of business days before `day` that still
    /// have a stuck list.
    ///
    /// Looked for in windows of run-user ids: after the first prune nearly
    /// every old run-user has none left, and one statement probing them all
    /// took 1.35 s on a year of history (`scripts/bench-growth.sh`), holding
    /// its (shared) locks as long; a window takes tens of milliseconds.
    fn finished_run_users(&mut self, day: NaiveDate) -> Result<Vec<i64>, PruneError> {
        const WINDOW: i64 = 2_000;
        #[derive(QueryableByName)]
        struct Last {
            #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
            id: Option<i64>,
        }
        let last = diesel::sql_query("SELECT max(id) AS id FROM reporter_run_users")
            .get_result::<Last>(self.conn)?
            .id
            .unwrap_or(0);
        let mut found = Vec::new();
        let mut after = 0;
        while after < last {
            let rows: Vec<Id> = diesel::sql_query(
                "SELECT ru.id FROM reporter_run_users ru JOIN reporter_runs r ON r.id = ru.run_id
                  WHERE ru.id > $2 AND ru.id <= $2 + $3
                    AND r.finished_at IS NOT NULL
                    -- Runs from before migration 000005 have no business date;
                    -- their UTC date is at most a day off the local one, on a
                    -- 90-day cutoff.
                    AND COALESCE(r.business_date, (r.scheduled_at AT TIME ZONE 'UTC')::date) < $1
                    AND EXISTS (SELECT 1 FROM reporter_stuck_orders s WHERE s.run_user_id = ru.id)
                  ORDER BY ru.id",
            )
            .bind::<Date, _>(day)
            .bind::<BigInt, _>(after)
            .bind::<BigInt, _>(WINDOW)
            .load(self.conn)?;
            found.extend(rows.into_iter().map(|r| r.id));
            after += WINDOW;
        }
        Ok(found)
    }

    fn run_users_of(&mut self, runs: &[i64]) -> Result<Vec<i64>, PruneError> {
        let rows: Vec<Id> = diesel::sql_query(
            "SELECT id FROM reporter_run_users WHERE run_id = ANY($1) ORDER BY id",
        )
        .bind::<Array<BigInt>, _>(runs)
        .load(self.conn)?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Ledger rows of business days before the ledger's cutoff. The
    /// `reported_at` bound (a day of slack for the time zone) lets the
    /// index pick the candidates; the business day decides.
    fn reports(&mut self, c: &Cutoffs) -> Result<(), PruneError> {
        let before = ledger_bound(c);
        if self.dry_run {
            let n: Count = diesel::sql_query(
                "SELECT count(*) AS n FROM reporter_order_reports
                  WHERE reported_at < $1 AND business_date < $2",
            )
            .bind::<Timestamptz, _>(before)
            .bind::<Date, _>(c.reports)
            .get_result(self.conn)?;
            self.report.add("reporter_order_reports", n.n as u64);
            return Ok(());
        }
        loop {
            let n = diesel::sql_query(
                "DELETE FROM reporter_order_reports WHERE id IN
                   (SELECT id FROM reporter_order_reports
                     WHERE reported_at < $1 AND business_date < $2 LIMIT $3)",
            )
            .bind::<Timestamptz, _>(before)
            .bind::<Date, _>(c.reports)
            .bind::<BigInt, _>(self.batch)
            .execute(self.conn)? as u64;
            self.report.statements += 1;
            self.report.add("reporter_order_reports", n);
            if (n as i64) < self.batch {
                return Ok(());
            }
        }
    }
}
