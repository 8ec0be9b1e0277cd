//! `reporter-beat`: at minute 0 of every hour in REPORTER_TIMEZONE, push the
//! process-slot job of that hour. Beat only enqueues; workers do the work.
//!
//! Several beats may run (e.g. during a deploy): every one fires every tick,
//! and the job's idempotency key (the hour's timestamp) makes the first push
//! win; the unique (slot, scheduled_at) run constraint is the second guard.

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use chrono_tz::Tz;
use redis::AsyncCommands;
use reporter_core::jobs::{JobQueues, ProcessSlot};
use tracing::{info, warn};

pub use reporter_core::fleet::last_tick_key;

/// Start of the wall-clock hour containing `now` in `tz`.
pub fn hour_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    // Truncating the local time (not UTC) keeps half-hour-offset zones right.
    let truncated = local
        .naive_local()
        .duration_trunc(Duration::hours(1))
        .expect("an hour divides a day");
    tz.from_local_datetime(&truncated)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

/// On start: the current hour's slot if its tick was at most `catchup`
/// minutes ago (beat was down at the tick), else `None` (too late: skip).
pub fn catch_up(
    now: DateTime<Utc>,
    tz: Tz,
    catchup_minutes: u32,
) -> Result<DateTime<Utc>, DateTime<Utc>> {
    let start = hour_start(now, tz);
    if now - start <= Duration::minutes(i64::from(catchup_minutes)) {
        Ok(start)
    } else {
        Err(start)
    }
}

/// Pushes the hour's job and records the tick for the health check.
pub async fn enqueue_hour(
    queues: &JobQueues,
    redis: &mut redis::aio::ConnectionManager,
    prefix: &str,
    scheduled_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    queues
        .push_process_slot(ProcessSlot::new(scheduled_at))
        .await?;
    let _: () = redis
        .set(last_tick_key(prefix), Utc::now().timestamp())
        .await?;
    metrics::counter!("reporter_beat_ticks_total").increment(1);
    info!(scheduled_at = %scheduled_at, "slot job enqueued");
    Ok(())
}

pub async fn start_up(
    queues: &JobQueues,
    redis: &mut redis::aio::ConnectionManager,
    prefix: &str,
    tz: Tz,
    catchup_minutes: u32,
) -> anyhow::Result<()> {
    match catch_up(Utc::now(), tz, catchup_minutes) {
        Ok(hour) => enqueue_hour(queues, redis, prefix, hour).await,
        Err(hour) => {
            warn!(missed_hour = %hour, catchup_minutes, "started too long after this hour's tick; not catching it up");
            Ok(())
        }
    }
}

/// Each tick, re-enqueue work whose job may have been lost: a pending
/// download-compare gets a job with its next attempt's idempotency key (a
/// no-op if that job exists); each open range gets one more report-range job
/// (surplus range jobs find nothing to take and end).
pub async fn sweep(
    queues: &JobQueues,
    pool: &reporter_core::db::DbPool,
    stale_after: Duration,
) -> anyhow::Result<(usize, usize)> {
    use reporter_core::jobs::{DownloadCompare, ReportRange};
    let pool = pool.clone();
    let cutoff = Utc::now() - stale_after;
    let (users, ranges) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut c = pool.get()?;
        Ok(reporter_core::models::pipeline::sweep_candidates(
            &mut c, cutoff,
        )?)
    })
    .await??;
    for (run_user_id, attempts) in &users {
        let job = DownloadCompare {
            run_user_id: *run_user_id,
            attempt: (*attempts as u32).max(1),
        };
        queues
            .push_download_compare(job, std::time::Duration::ZERO)
            .await?;
    }
    for id in &ranges {
        queues
            .push_report_range(
                ReportRange {
                    range_id: *id,
                    push: 9000,
                },
                std::time::Duration::ZERO,
            )
            .await?;
    }
    if !users.is_empty() || !ranges.is_empty() {
        warn!(
            download_compare = users.len(),
            ranges = ranges.len(),
            "sweep re-enqueued open work"
        );
    }
    Ok((users.len(), ranges.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_start_is_local_wall_clock() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 42, 10).unwrap(); // 10:42 in Bogotá
        assert_eq!(
            hour_start(now, tz),
            Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
        );
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap(); // +05:30
        let s = hour_start(now, kolkata);
        assert_eq!(
            s.with_timezone(&kolkata).format("%M:%S").to_string(),
            "00:00"
        );
    }

    #[test]
    fn catch_up_only_within_the_window() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        let at = |m| Utc.with_ymd_and_hms(2026, 11, 23, 15, m, 0).unwrap();
        assert_eq!(catch_up(at(29), tz, 30), Ok(at(0)));
        assert_eq!(catch_up(at(30), tz, 30), Ok(at(0)));
        assert_eq!(catch_up(at(31), tz, 30), Err(at(0)));
    }
}
