//! `reporter-beat`: reconciles the schedule every minute and re-enqueues
//! work whose job was lost. Beat only enqueues; workers do the work.
//!
//! A tick is one reconcile (`reporter_core::schedule`): every due slot hour
//! without a run is enqueued, so a tick lost to a Redis outage or a beat
//! restart is repaired a minute later. Several beats may run (e.g. during a
//! deploy): every one reconciles, the push's idempotency key makes one job
//! per hour and the unique (slot, scheduled_at) run constraint one run.

pub mod prune;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use reporter_core::jobs::{Dedup, DownloadCompare, Job, JobQueues, ReportRange, Repush};
use tracing::warn;

/// How often pending download-compares are checked for a lost job.
pub const DOWNLOAD_SWEEP_EVERY: Duration = Duration::minutes(10);

/// When the next reconcile is due after `now`: the start of the next
/// minute (plus a second, so a beat whose clock runs slightly behind the
/// database's still sees the new hour).
pub fn next_tick(now: DateTime<Utc>) -> DateTime<Utc> {
    let secs = now.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(60) + 61, 0)
        .unwrap_or(now + Duration::minutes(1))
}

/// The sweep's idempotency key for a download-compare: a pending run-user's
/// next attempt, once per sweep period. Its own key (`download-compare:<id>:
/// <attempt>`) may be remembered by apalis-redis for days although its job
/// is gone (a lost retry), so re-pushing under it would do nothing.
pub fn sweep_key(run_user_id: i64, attempt: u32, now: DateTime<Utc>) -> String {
    let bucket = now
        .timestamp()
        .div_euclid(DOWNLOAD_SWEEP_EVERY.num_seconds());
    format!("download-compare:{run_user_id}:{attempt}:sweep:{bucket}")
}

/// Re-enqueues work whose job may have been lost: every pending
/// download-compare untouched for `stale_after` gets its next attempt (under
/// a sweep key: see [`sweep_key`]); with `ranges`, each open range gets one
/// more report-range job (surplus ones find nothing to take and end).
pub async fn sweep(
    queues: &JobQueues,
    pool: &reporter_core::db::DbPool,
    stale_after: Duration,
    now: DateTime<Utc>,
    ranges: bool,
) -> anyhow::Result<(usize, usize)> {
    let pool = pool.clone();
    let cutoff = now - stale_after;
    let (users, open) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut c = pool.get()?;
        Ok(reporter_core::models::pipeline::sweep_candidates(
            &mut c, cutoff,
        )?)
    })
    .await??;
    for (run_user_id, attempts) in &users {
        let attempt = (*attempts as u32 + 1).min(DownloadCompare::MAX_ATTEMPTS);
        let job = DownloadCompare {
            run_user_id: *run_user_id,
            attempt,
        };
        queues
            .push_keyed(
                job,
                StdDuration::ZERO,
                Dedup::Key(sweep_key(*run_user_id, attempt, now)),
            )
            .await?;
    }
    let open = if ranges { open } else { Vec::new() };
    for id in &open {
        queues
            .push(ReportRange::repushed(*id, Repush::Sweep))
            .await?;
    }
    if !users.is_empty() || !open.is_empty() {
        warn!(
            download_compare = users.len(),
            ranges = open.len(),
            "sweep re-enqueued open work"
        );
    }
    Ok((users.len(), open.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_land_one_second_into_the_next_minute() {
        let t: DateTime<Utc> = "2026-12-01T14:59:59Z".parse().unwrap();
        assert_eq!(
            next_tick(t),
            "2026-12-01T15:00:01Z".parse::<DateTime<Utc>>().unwrap()
        );
        let t: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
        assert_eq!(
            next_tick(t),
            "2026-12-01T15:01:01Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn sweep_keys_change_every_period_and_never_match_the_attempts_own_key() {
        let t: DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
        let a = sweep_key(7, 2, t);
        assert_eq!(a, sweep_key(7, 2, t + Duration::minutes(9)));
        assert_ne!(a, sweep_key(7, 2, t + Duration::minutes(10)));
        assert_ne!(
            Some(a),
            DownloadCompare {
                run_user_id: 7,
                attempt: 2
            }
            .idempotency_key()
        );
    }
}
