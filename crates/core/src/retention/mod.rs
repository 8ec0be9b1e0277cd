//! Data lifecycle: what is kept how long, and the pruner that deletes the
//! rest in bounded batches.
//!
//! Every statement the pruner runs deletes (or unlinks) at most
//! [`Policy::batch`] rows and commits on its own, so no lock is held longer
//! than one small statement and no table is rewritten; a pruner stopped
//! half-way leaves a consistent database and the next one carries on. Two
//! pruners (two beats, or beat and `reporterctl prune`) never run at once:
//! the second one finds the advisory lock taken and does nothing.
//!
//! What is never deleted, whatever its age:
//! - a customer's newest baseline export, and its newest baseline export of
//!   an earlier business day than today (the next compare, or a re-run of
//!   today, reads it);
//! - an export, a stuck list or a range of a run that is not finished;
//! - reports younger than the ledger's retention (the customers' evidence).

mod database;
mod prune_log;
mod redis_jobs;

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

pub use database::{prune_database, prune_tables, try_lock, unlock, PruneError, PRUNE_LOCK_KEY};
pub use prune_log::{last_prune, last_success_at, pruned_since, record_prune, LastPrune};
pub use redis_jobs::prune_finished_jobs;

use crate::config::Settings;

/// How long each kind of data is kept (documented in docs/configuration.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Export rows (one per order per run): `REPORTER_EXPORT_RETENTION_DAYS`.
    pub export_days: i64,
    /// Finished runs' stuck lists: `REPORTER_RUN_RETENTION_DAYS` (the runs, with
    /// their users and ranges, go with their last ledger rows).
    pub run_days: i64,
    /// The reports ledger: `REPORTER_REPORT_RETENTION_DAYS`.
    pub report_days: i64,
    /// Finished queue jobs' payloads in Redis: `REPORTER_JOB_RETENTION_DAYS`.
    pub job_days: i64,
    /// Rows per statement: `REPORTER_PRUNE_BATCH`.
    pub batch: i64,
    /// Login tokens without a stored expiry expire after this many days
    /// (`REPORTER_TOKEN_TTL_DAYS`).
    pub token_ttl_days: i64,
}

impl Policy {
    pub fn from_settings(s: &Settings) -> Self {
        Policy {
            export_days: s.export_retention_days as i64,
            run_days: s.run_retention_days as i64,
            report_days: s.report_retention_days as i64,
            job_days: s.job_retention_days as i64,
            batch: s.prune_batch as i64,
            token_ttl_days: i64::from(s.token_ttl_days),
        }
    }

    /// The first business day each kind keeps, seen from `today`.
    pub fn cutoffs(&self, today: NaiveDate) -> Cutoffs {
        Cutoffs {
            today,
            exports: today - Duration::days(self.export_days),
            runs: today - Duration::days(self.run_days),
            reports: today - Duration::days(self.report_days),
        }
    }
}

/// Rows dated before these business days go (see [`Policy::cutoffs`]).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Cutoffs {
    pub today: NaiveDate,
    pub exports: NaiveDate,
    pub runs: NaiveDate,
    pub reports: NaiveDate,
}

/// What one prune did (or, in a dry run, would do), per table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Rows deleted (or that would be) per table; `reporter_order_reports
    /// (unlinked)` counts ledger rows whose run/range link was cleared
    /// before their run was deleted.
    pub tables: BTreeMap<String, u64>,
    /// Statements run: each touched at most `batch` rows.
    pub statements: u64,
    /// Another pruner held the lock, or (`done_already`) today's prune was
    /// done: nothing was done.
    pub skipped: bool,
    pub done_already: bool,
}

impl PruneReport {
    fn add(&mut self, table: &str, rows: u64) {
        *self.tables.entry(table.to_string()).or_default() += rows;
    }

    pub fn total(&self) -> u64 {
        self.tables.values().sum()
    }

    /// Counts each table into `reporter_rows_pruned_total{table}`.
    pub fn record_metrics(&self, seconds: f64) {
        if self.dry_run || self.skipped {
            return;
        }
        for (table, rows) in &self.tables {
            metrics::counter!("reporter_rows_pruned_total", "table" => table.clone())
                .increment(*rows);
        }
        metrics::histogram!("reporter_prune_duration_seconds").record(seconds);
    }
}

/// One whole prune, as beat runs it daily and `reporterctl prune` on demand:
/// under the fleet-wide lock (held on one connection from start to record),
/// the database, then Redis' finished jobs; then metrics and a
/// `reporter_prune_runs` row unless dry run. `unless_pruned_since`: beat's
/// once-a-day rule, checked under the lock so two beats never both prune.
pub async fn run(
    pool: &crate::db::DbPool,
    redis: Option<&mut redis::aio::ConnectionManager>,
    settings: &Settings,
    by: &str,
    dry_run: bool,
    unless_pruned_since: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<PruneReport, RunError> {
    let started = chrono::Utc::now();
    let clock = std::time::Instant::now();
    let policy = Policy::from_settings(settings);
    let today = crate::schedule::clock::business_date(started, settings.timezone);
    let pool_for_task = pool.clone();
    let (conn, mut report) = tokio::task::spawn_blocking(move || {
        // Waiting for a pooled connection blocks too: not on the async threads.
        let mut conn = pool_for_task.get()?;
        let skipped = PruneReport {
            dry_run,
            skipped: true,
            ..PruneReport::default()
        };
        if !try_lock(&mut conn)? {
            return Ok::<_, RunError>((conn, skipped));
        }
        if let Some(since) = unless_pruned_since {
            if pruned_since(&mut conn, since)? {
                unlock(&mut conn);
                return Ok((
                    conn,
                    PruneReport {
                        done_already: true,
                        ..skipped
                    },
                ));
            }
        }
        match prune_tables(&mut conn, &policy, today, dry_run) {
            Ok(report) => Ok((conn, report)),
            Err(e) => {
                unlock(&mut conn);
                Err(e.into())
            }
        }
    })
    .await??;
    if report.skipped {
        return Ok(report);
    }
    let mut error = None;
    if let Some(redis) = redis {
        match prune_finished_jobs(
            redis,
            &settings.redis_prefix,
            policy.job_days,
            policy.batch,
            dry_run,
        )
        .await
        {
            Ok(per_queue) => {
                for (kind, n) in per_queue {
                    report.add(&format!("redis {kind} jobs"), n);
                }
            }
            Err(e) => error = Some(e),
        }
    }
    report.record_metrics(clock.elapsed().as_secs_f64());
    let by = by.to_string();
    let saved = report.clone();
    let err = error.as_ref().map(|e| format!("redis: {e}"));
    tokio::task::spawn_blocking(move || -> Result<(), RunError> {
        let mut conn = conn;
        let recorded = if dry_run {
            Ok(())
        } else {
            record_prune(&mut conn, started, &by, &saved, err.as_deref())
        };
        unlock(&mut conn);
        Ok(recorded?)
    })
    .await??;
    match error {
        Some(e) => Err(RunError::Redis(e)),
        None => Ok(report),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Prune(#[from] PruneError),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    /// The database part finished and was recorded; Redis' did not.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("prune task: {0}")]
    Join(#[from] tokio::task::JoinError),
}
