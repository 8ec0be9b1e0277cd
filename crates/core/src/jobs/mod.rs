//! Job payloads and their queues. They live here, not in the worker, so the
//! API, beat and `reporterctl` can push jobs without depending on the worker.
//!
//! One apalis-redis queue per job kind. Retries are not left to apalis: a
//! handler that must retry pushes a new, delayed job with `attempt + 1` and
//! ends the current one, so the attempt count and the delay are ours
//! (apalis-redis would otherwise reschedule failed jobs up to 25 times).
//!
//! Each kind is a [`Job`] (`payloads.rs`): its name, its queue, its
//! idempotency key. Every push goes through [`JobQueues::push`] (or its
//! delayed and keyed variants), the one place a job reaches Redis.

mod payloads;
mod stats;

use std::time::Duration;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_redis::{Config, RedisStorage};
use redis::aio::ConnectionManager;
use serde::{de::DeserializeOwned, Serialize};

pub use payloads::{
    DownloadCompare, PortalCheck, ProcessSlot, ReportRange, Repush, RunOrigin, ShadowSlot,
};
pub use stats::{queue_stats, QueueStats};

/// A job kind: what a payload needs to be pushed by [`JobQueues::push`].
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The kind's name: its queue is `{prefix}:queue:{KIND}` ([`queue_name`]),
    /// and metrics and logs label the kind with it.
    const KIND: &'static str;
    /// Tries the handler's own retries allow before it gives up for good (an
    /// infrastructure failure is not a try: apalis runs the job again).
    const MAX_ATTEMPTS: u32;

    /// This kind's queue in `queues`.
    fn queue(queues: &JobQueues) -> &RedisStorage<Self>;

    /// The key under which apalis-redis keeps two pushes of the same job
    /// one ([`Dedup::Own`]); `None`: every push is a job.
    fn idempotency_key(&self) -> Option<String>;
}

/// Which idempotency key a push goes under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// The job's own ([`Job::idempotency_key`]).
    Own,
    /// One of the caller's: a re-push of a job whose own key apalis-redis
    /// still remembers (for 7 days) although the job may be gone, which
    /// under its own key would do nothing.
    Key(String),
    /// None: a new job whatever was pushed before (the same attempt handed
    /// back by the job that used its own key).
    None,
}

pub fn queue_name(prefix: &str, kind: &str) -> String {
    format!("{prefix}:queue:{kind}")
}

pub const ALL_KINDS: [&str; 5] = [
    ProcessSlot::KIND,
    DownloadCompare::KIND,
    ReportRange::KIND,
    ShadowSlot::KIND,
    PortalCheck::KIND,
];

/// How long a worker may stay silent before its in-flight jobs are handed
/// to another worker: heartbeat × missed beats = 60 s. apalis sends the
/// heartbeat from the worker's polling loop, which pauses while every job
/// slot is busy, so this must exceed the longest job a slot may hold (a
/// 100-order range at ~0.3 s per order); a killed worker's ranges are still
/// taken over after their 60 s lock expires.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
pub const MISSED_HEARTBEATS: usize = 12;

fn storage<J: Job>(conn: ConnectionManager, prefix: &str, batch: usize) -> RedisStorage<J> {
    RedisStorage::new(conn).with_config(
        Config::default()
            .queue(queue_name(prefix, J::KIND))
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

/// The queues, for producers and workers alike. Cheap to clone.
#[derive(Clone)]
pub struct JobQueues {
    pub process_slot: RedisStorage<ProcessSlot>,
    pub download_compare: RedisStorage<DownloadCompare>,
    pub report_range: RedisStorage<ReportRange>,
    pub shadow_slot: RedisStorage<ShadowSlot>,
    pub portal_check: RedisStorage<PortalCheck>,
}

impl JobQueues {
    /// `batch` = tasks a worker reserves per fetch; keep it at most the
    /// worker's concurrency so reserved tasks are not stuck behind busy ones.
    /// process-slot and shadow-slot always take one at a time.
    pub fn new(conn: ConnectionManager, prefix: &str, batch: usize) -> Self {
        JobQueues {
            process_slot: storage(conn.clone(), prefix, 1),
            download_compare: storage(conn.clone(), prefix, batch),
            report_range: storage(conn.clone(), prefix, batch),
            shadow_slot: storage(conn.clone(), prefix, 1),
            portal_check: storage(conn, prefix, 1),
        }
    }

    /// Pushes `job` to its kind's queue, due now, under its own key.
    pub async fn push<J: Job>(&self, job: J) -> Result<(), EnqueueError> {
        self.push_keyed(job, Duration::ZERO, Dedup::Own).await
    }

    /// Pushes `job`, due after `delay`, under its own key.
    pub async fn push_after<J: Job>(&self, job: J, delay: Duration) -> Result<(), EnqueueError> {
        self.push_keyed(job, delay, Dedup::Own).await
    }

    /// Pushes `job`, due after `delay`, under the key `dedup` says.
    pub async fn push_keyed<J: Job>(
        &self,
        job: J,
        delay: Duration,
        dedup: Dedup,
    ) -> Result<(), EnqueueError> {
        let key = match dedup {
            Dedup::Own => job.idempotency_key(),
            Dedup::Key(k) => Some(k),
            Dedup::None => None,
        };
        let mut b = TaskBuilder::new(job);
        if let Some(key) = key {
            b = b.idempotency_key(key);
        }
        // A job due now goes straight to the queue's list, in push order (so
        // a run's download-compares start heaviest customer first); only a
        // real delay goes through the scheduled set, whose same-millisecond
        // entries come out in id order, not push order.
        if !delay.is_zero() {
            b = b.run_after(delay);
        }
        let mut q = J::queue(self).clone();
        q.push_task(b.build()).await.map_err(|e| EnqueueError {
            kind: J::KIND,
            message: e.to_string(),
        })
    }
}
