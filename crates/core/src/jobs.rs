//! Job payloads and their queues. They live here, not in the worker, so the
//! API, beat and `reporterctl` can push jobs without depending on the worker.
//!
//! One apalis-redis queue per job kind. Retries are not left to apalis: a
//! handler that must retry pushes a new, delayed job with `attempt + 1` and
//! ends the current one, so the attempt count and the delay are ours
//! (apalis-redis would otherwise reschedule failed jobs up to 25 times).

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::{Config, RedisStorage};
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

/// How a run came to be: it decides who the run includes and whether it
/// counts as a late start (see `crate::schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOrigin {
    /// The reconciler: the hour's reservations as of its instant.
    Schedule,
    /// `trigger-slot` (CLI, console): every current reservation of the
    /// hour. Also what a job pushed before origins existed means.
    #[default]
    Manual,
    /// `reporterctl backfill`: a missed hour run on purpose, as the
    /// schedule would have run it.
    Backfill,
}

impl RunOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            RunOrigin::Schedule => "schedule",
            RunOrigin::Manual => "manual",
            RunOrigin::Backfill => "backfill",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "schedule" => Some(RunOrigin::Schedule),
            "manual" => Some(RunOrigin::Manual),
            "backfill" => Some(RunOrigin::Backfill),
            _ => None,
        }
    }

    /// Scheduled and backfilled runs include only reservations that had
    /// the hour at its instant; a manual trigger includes every one.
    pub fn as_of_instant(self) -> bool {
        !matches!(self, RunOrigin::Manual)
    }
}

/// Enqueued by beat (or `reporterctl trigger-slot`) for one slot hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSlot {
    /// The slot hour's start, as an instant (its wall-clock hour in
    /// REPORTER_TIMEZONE is the slot).
    pub scheduled_at: DateTime<Utc>,
    #[serde(default)]
    pub origin: RunOrigin,
    /// Enqueued late by the schedule (caught up or backfilled).
    #[serde(default)]
    pub late: bool,
    /// For pushes that repeat while the hour still has no run: the 5-minute
    /// bucket of the pusher's clock. Part of the idempotency key, so every
    /// beat pushes once per bucket, and a push whose job was lost (its key
    /// still remembered by apalis-redis) is made again in the next bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

impl ProcessSlot {
    pub const KIND: &'static str = "process-slot";
    /// Width of a push generation.
    pub const GENERATION_SECS: i64 = 300;

    /// A manual trigger of the hour.
    pub fn new(scheduled_at: DateTime<Utc>) -> Self {
        ProcessSlot {
            scheduled_at,
            origin: RunOrigin::Manual,
            late: false,
            generation: None,
        }
    }

    /// A push by the schedule (reconciler or backfill) made at `now`.
    pub fn scheduled(
        scheduled_at: DateTime<Utc>,
        origin: RunOrigin,
        late: bool,
        now: DateTime<Utc>,
    ) -> Self {
        ProcessSlot {
            scheduled_at,
            origin,
            late,
            generation: Some(now.timestamp().div_euclid(Self::GENERATION_SECS)),
        }
    }

    /// Every producer of the same hour (and generation) uses the same key,
    /// so two beats push one job. A manual trigger keeps the hour's plain
    /// key.
    pub fn idempotency_key(&self) -> String {
        match self.generation {
            None => format!("process-slot:{}", self.scheduled_at.timestamp()),
            Some(g) => format!(
                "process-slot:{}:{}:{g}",
                self.scheduled_at.timestamp(),
                self.origin.as_str()
            ),
        }
    }
}

/// Download the export of one customer in one run, compare, cut ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DownloadCompare {
    pub run_user_id: i64,
    /// 1 for the first try.
    pub attempt: u32,
}

impl DownloadCompare {
    pub const KIND: &'static str = "download-compare";
    /// 1 try + 5 retries.
    pub const MAX_ATTEMPTS: u32 = 6;

    pub fn new(run_user_id: i64) -> Self {
        DownloadCompare {
            run_user_id,
            attempt: 1,
        }
    }

    pub fn idempotency_key(&self) -> String {
        format!("download-compare:{}:{}", self.run_user_id, self.attempt)
    }
}

/// Report one range of stuck orders. The handler claims the heaviest ready
/// range of any run, not necessarily `range_id`: that is how weight-3
/// customers go first while every range still gets exactly one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRange {
    pub range_id: i64,
    /// Distinguishes re-pushes (retries, SIGTERM hand-backs, sweeps).
    pub push: u32,
}

impl ReportRange {
    pub const KIND: &'static str = "report-range";
    /// 1 try + 2 retries.
    pub const MAX_ATTEMPTS: i32 = 3;

    pub fn new(range_id: i64) -> Self {
        ReportRange { range_id, push: 0 }
    }
}

pub fn queue_name(prefix: &str, kind: &str) -> String {
    format!("{prefix}:queue:{kind}")
}

pub const ALL_KINDS: [&str; 3] = [ProcessSlot::KIND, DownloadCompare::KIND, ReportRange::KIND];

/// How long a worker may stay silent before its in-flight jobs are handed
/// to another worker: heartbeat × missed beats = 60 s. apalis sends the
/// heartbeat from the worker's polling loop, which pauses while every job
/// slot is busy, so this must exceed the longest job a slot may hold (a
/// 100-order range at ~0.3 s per order); a killed worker's ranges are still
/// taken over after their 60 s lock expires.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
pub const MISSED_HEARTBEATS: usize = 12;

fn storage<T>(conn: ConnectionManager, prefix: &str, kind: &str, batch: usize) -> RedisStorage<T> {
    RedisStorage::new(conn).with_config(
        Config::default()
            .queue(queue_name(prefix, kind))
            .batch_size(batch)
            .heartbeat_interval(HEARTBEAT)
            .missed_heartbeats(MISSED_HEARTBEATS)
            .idempotency_ttl(Some(Duration::from_secs(7 * 24 * 3600))),
    )
}

#[derive(Debug, thiserror::Error)]
#[error("enqueue {kind}: {message}")]
pub struct EnqueueError {
    pub kind: &'static str,
    pub message: String,
}

/// The three queues, for producers and workers alike. Cheap to clone.
#[derive(Clone)]
pub struct JobQueues {
    pub process_slot: RedisStorage<ProcessSlot>,
    pub download_compare: RedisStorage<DownloadCompare>,
    pub report_range: RedisStorage<ReportRange>,
}

impl JobQueues {
    /// `batch` = tasks a worker reserves per fetch; keep it at most the
    /// worker's concurrency so reserved tasks are not stuck behind busy ones.
    pub fn new(conn: ConnectionManager, prefix: &str, batch: usize) -> Self {
        JobQueues {
            process_slot: storage(conn.clone(), prefix, ProcessSlot::KIND, 1),
            download_compare: storage(conn.clone(), prefix, DownloadCompare::KIND, batch),
            report_range: storage(conn, prefix, ReportRange::KIND, batch),
        }
    }

    pub async fn push_process_slot(&self, job: ProcessSlot) -> Result<(), EnqueueError> {
        let key = job.idempotency_key();
        let mut q = self.process_slot.clone();
        q.push_task(TaskBuilder::new(job).idempotency_key(key).build())
            .await
            .map_err(|e| EnqueueError {
                kind: ProcessSlot::KIND,
                message: e.to_string(),
            })
    }

    pub async fn push_download_compare(
        &self,
        job: DownloadCompare,
        delay: Duration,
    ) -> Result<(), EnqueueError> {
        let key = job.idempotency_key();
        self.push_download_compare_keyed(job, delay, key).await
    }

    /// With a key of the caller's: the sweep re-pushes an attempt whose own
    /// key apalis-redis still remembers although its job is gone.
    pub async fn push_download_compare_keyed(
        &self,
        job: DownloadCompare,
        delay: Duration,
        key: String,
    ) -> Result<(), EnqueueError> {
        let mut q = self.download_compare.clone();
        q.push_task(delayed(TaskBuilder::new(job).idempotency_key(key), delay).build())
            .await
            .map_err(|e| EnqueueError {
                kind: DownloadCompare::KIND,
                message: e.to_string(),
            })
    }

    pub async fn push_report_range(
        &self,
        job: ReportRange,
        delay: Duration,
    ) -> Result<(), EnqueueError> {
        let mut q = self.report_range.clone();
        q.push_task(delayed(TaskBuilder::new(job), delay).build())
            .await
            .map_err(|e| EnqueueError {
                kind: ReportRange::KIND,
                message: e.to_string(),
            })
    }
}

/// Counts of one queue, read straight from apalis-redis' keys.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub queue: String,
    /// Ready to be taken now.
    pub waiting: u64,
    /// Delayed (retries, scheduled).
    pub scheduled: u64,
    /// Taken by a worker and not finished.
    pub in_flight: u64,
    /// Given up for good.
    pub dead: u64,
}

async fn card(conn: &mut ConnectionManager, key: &str) -> redis::RedisResult<u64> {
    let kind: String = redis::cmd("TYPE").arg(key).query_async(conn).await?;
    let cmd = match kind.as_str() {
        "list" => "LLEN",
        "set" => "SCARD",
        "zset" => "ZCARD",
        "hash" => "HLEN",
        _ => return Ok(0),
    };
    redis::cmd(cmd).arg(key).query_async(conn).await
}

pub async fn queue_stats(
    conn: &mut ConnectionManager,
    prefix: &str,
) -> redis::RedisResult<Vec<QueueStats>> {
    let mut out = Vec::new();
    for kind in ALL_KINDS {
        let q = queue_name(prefix, kind);
        // apalis-redis keeps one in-flight set per worker, named after the
        // worker's entry in `{q}:workers`: O(workers), never a `KEYS` scan
        // that blocks Redis in proportion to everything it holds.
        let workers: Vec<String> = redis::cmd("ZRANGE")
            .arg(format!("{q}:workers"))
            .arg(0)
            .arg(-1)
            .query_async(conn)
            .await?;
        let mut in_flight = 0;
        for w in workers {
            in_flight += card(conn, &format!("{q}:inflight:{w}")).await?;
        }
        out.push(QueueStats {
            queue: kind.to_string(),
            waiting: card(conn, &format!("{q}:active")).await?,
            scheduled: card(conn, &format!("{q}:scheduled")).await?,
            in_flight,
            dead: card(conn, &format!("{q}:dead")).await?,
        });
    }
    Ok(out)
}

/// A job due now goes straight to the queue's list, in push order (so a
/// run's download-compares start heaviest customer first); only a real delay
/// goes through the scheduled set, whose same-millisecond entries come out
/// in id order, not push order.
fn delayed<T>(b: TaskBuilder<T>, delay: Duration) -> TaskBuilder<T> {
    if delay.is_zero() {
        b
    } else {
        b.run_after(delay)
    }
}
