//! The payload of each job kind and what the [`Job`] trait says about it.
//! Payloads are stored in Redis as JSON while their job waits: a field's
//! name, type or serde attribute must not change without a reader for what
//! is already queued.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Job, JobQueues};
use apalis_redis::RedisStorage;

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
}

impl Job for ProcessSlot {
    const KIND: &'static str = "process-slot";
    /// The handler never pushes a retry of its own: a failure is
    /// infrastructure (apalis runs it again), and the schedule pushes the
    /// hour again every generation until it has a run.
    const MAX_ATTEMPTS: u32 = 1;

    fn queue(queues: &JobQueues) -> &RedisStorage<Self> {
        &queues.process_slot
    }

    /// Every producer of the same hour (and generation) uses the same key,
    /// so two beats push one job. A manual trigger keeps the hour's plain
    /// key.
    fn idempotency_key(&self) -> Option<String> {
        Some(match self.generation {
            None => format!("process-slot:{}", self.scheduled_at.timestamp()),
            Some(g) => format!(
                "process-slot:{}:{}:{g}",
                self.scheduled_at.timestamp(),
                self.origin.as_str()
            ),
        })
    }
}

/// A rehearsal of one slot hour (`reporterctl trigger-slot --shadow`, the
/// console's trigger): the hour's run in shadow mode, which files nothing.
/// A kind and queue of its own, so a worker from before shadow runs (mid
/// deploy, or after a rollback) never takes it and runs the hour for real.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShadowSlot {
    /// The slot hour's start (as [`ProcessSlot::scheduled_at`]).
    pub hour_at: DateTime<Utc>,
    /// The rehearsal's run is stored this many seconds (1-3599) after the
    /// hour's start: still the same slot hour and business day, but never
    /// the (slot, scheduled_at) of the hour's live run, which it must not
    /// take the place of. Taken from the clock when asked, so two
    /// rehearsals of one hour are two runs.
    pub offset_secs: u32,
}

impl ShadowSlot {
    pub fn new(hour_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        ShadowSlot {
            hour_at,
            offset_secs: 1 + now.timestamp().rem_euclid(3599) as u32,
        }
    }

    /// The instant the rehearsal's run is stored under.
    pub fn scheduled_at(&self) -> DateTime<Utc> {
        self.hour_at + chrono::Duration::seconds(i64::from(self.offset_secs.clamp(1, 3599)))
    }
}

impl Job for ShadowSlot {
    const KIND: &'static str = "shadow-slot";
    const MAX_ATTEMPTS: u32 = 1;

    fn queue(queues: &JobQueues) -> &RedisStorage<Self> {
        &queues.shadow_slot
    }

    fn idempotency_key(&self) -> Option<String> {
        Some(format!("shadow-slot:{}", self.scheduled_at().timestamp()))
    }
}

/// `POST /api/reporter/admin/portal-check/`: a worker logs into the
/// customer's portal account and checks the profile's selectors and
/// columns (`reporterctl portal check`), filing nothing, and stores the
/// report under `check_id` (see `crate::portal_checks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalCheck {
    pub check_id: String,
    /// The customer's email in the users table.
    pub email: String,
}

impl Job for PortalCheck {
    const KIND: &'static str = "portal-check";
    const MAX_ATTEMPTS: u32 = 1;

    fn queue(queues: &JobQueues) -> &RedisStorage<Self> {
        &queues.portal_check
    }

    fn idempotency_key(&self) -> Option<String> {
        Some(format!("portal-check:{}", self.check_id))
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
    pub fn new(run_user_id: i64) -> Self {
        DownloadCompare {
            run_user_id,
            attempt: 1,
        }
    }
}

impl Job for DownloadCompare {
    const KIND: &'static str = "download-compare";
    /// 1 try + 5 retries.
    const MAX_ATTEMPTS: u32 = 6;

    fn queue(queues: &JobQueues) -> &RedisStorage<Self> {
        &queues.download_compare
    }

    /// One job per run-user and attempt. Re-pushes of an attempt whose key
    /// is already used go under a key of the caller's or none
    /// ([`super::Dedup`]).
    fn idempotency_key(&self) -> Option<String> {
        Some(format!(
            "download-compare:{}:{}",
            self.run_user_id, self.attempt
        ))
    }
}

/// Report one range of stuck orders. The handler claims the heaviest ready
/// range of any run, not necessarily `range_id`: that is how weight-3
/// customers go first while every range still gets exactly one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRange {
    pub range_id: i64,
    /// Distinguishes re-pushes (retries, SIGTERM hand-backs, sweeps): 0 for
    /// the first push, else [`Repush::push`].
    pub push: u32,
}

impl ReportRange {
    /// The first job of a range (cut by a compare, or retried by an
    /// operator).
    pub fn new(range_id: i64) -> Self {
        ReportRange { range_id, push: 0 }
    }

    /// One more job for `range_id`, pushed for `why`.
    pub fn repushed(range_id: i64, why: Repush) -> Self {
        ReportRange {
            range_id,
            push: why.push(),
        }
    }
}

impl Job for ReportRange {
    const KIND: &'static str = "report-range";
    /// 1 try + 2 retries: failures without progress before the range fails
    /// for good (see `models::pipeline::release_range`).
    const MAX_ATTEMPTS: u32 = 3;

    fn queue(queues: &JobQueues) -> &RedisStorage<Self> {
        &queues.report_range
    }

    /// None: every push is a job. A surplus job finds nothing to take and
    /// ends, while a range must never be left without one.
    fn idempotency_key(&self) -> Option<String> {
        None
    }
}

/// Why a report-range job was pushed again. Its number is the payload's
/// `push` (in Redis while the job waits, and in the job's browser-lease
/// holder name), so each reason keeps the number it always had; the ranges
/// of numbers only tell reasons apart, nothing reads them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repush {
    /// The job ends without a range of its own and puts one job back in its
    /// place: shutting down before it took a range, no browser lease in
    /// time, nothing ready to take while ranges are still open, an
    /// infrastructure error, or a job apalis dropped. `previous` + 1.
    Requeued { previous: u32 },
    /// A failed attempt of the range goes back to `pending` and is retried
    /// after its delay. The range's `attempts`.
    Retry { attempts: i32 },
    /// SIGTERM mid-range: the order in hand was finished and the rest of the
    /// range handed back (`pending`) for a worker that stays.
    /// 1000 + the range's `attempts`.
    ShutdownMidRange { attempts: i32 },
    /// The job left its range unfinished without handing it back (browser
    /// lease or range lock lost, a fenced write refused, an error mid-range):
    /// a replacement for whoever owns it now, who may die too.
    /// 2000 + the range's `attempts`.
    Replacement { attempts: i32 },
    /// Beat's sweep: one more job for an open range whose job may have been
    /// lost (surplus jobs find nothing and end). Always 9000.
    Sweep,
}

impl Repush {
    /// The payload's `push` for this reason.
    pub fn push(self) -> u32 {
        match self {
            Repush::Requeued { previous } => previous + 1,
            Repush::Retry { attempts } => attempts as u32,
            Repush::ShutdownMidRange { attempts } => 1000 + attempts as u32,
            Repush::Replacement { attempts } => 2000 + attempts as u32,
            Repush::Sweep => 9000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// Jobs already queued are read with these payloads, and apalis-redis
    /// remembers these keys for 7 days: both must stay byte-identical.
    #[test]
    fn payloads_and_keys_are_the_ones_already_in_redis() {
        let hour = at("2026-12-01T15:00:00Z");
        let manual = ProcessSlot::new(hour);
        assert_eq!(
            serde_json::to_string(&manual).unwrap(),
            r#"{"scheduled_at":"2026-12-01T15:00:00Z","origin":"manual","late":false}"#
        );
        assert_eq!(
            manual.idempotency_key().as_deref(),
            Some("process-slot:1796137200")
        );
        let sched =
            ProcessSlot::scheduled(hour, RunOrigin::Schedule, true, at("2026-12-01T15:07:00Z"));
        assert_eq!(
            serde_json::to_string(&sched).unwrap(),
            r#"{"scheduled_at":"2026-12-01T15:00:00Z","origin":"schedule","late":true,"generation":5987125}"#
        );
        assert_eq!(
            sched.idempotency_key().as_deref(),
            Some("process-slot:1796137200:schedule:5987125")
        );
        // A job pushed before origins existed still reads as manual.
        let old: ProcessSlot =
            serde_json::from_str(r#"{"scheduled_at":"2026-12-01T15:00:00Z"}"#).unwrap();
        assert_eq!(old, manual);

        let dc = DownloadCompare {
            run_user_id: 7,
            attempt: 2,
        };
        assert_eq!(
            serde_json::to_string(&dc).unwrap(),
            r#"{"run_user_id":7,"attempt":2}"#
        );
        assert_eq!(
            dc.idempotency_key().as_deref(),
            Some("download-compare:7:2")
        );
        assert_eq!(DownloadCompare::new(7).attempt, 1);

        let rr = ReportRange::new(4);
        assert_eq!(
            serde_json::to_string(&rr).unwrap(),
            r#"{"range_id":4,"push":0}"#
        );
        assert_eq!(rr.idempotency_key(), None);

        assert_eq!(
            [ProcessSlot::KIND, DownloadCompare::KIND, ReportRange::KIND],
            ["process-slot", "download-compare", "report-range"]
        );
    }

    #[test]
    fn repush_reasons_keep_their_numbers() {
        let cases = [
            (Repush::Requeued { previous: 0 }, 1),
            (Repush::Requeued { previous: 1002 }, 1003),
            (Repush::Retry { attempts: 2 }, 2),
            (Repush::ShutdownMidRange { attempts: 3 }, 1003),
            (Repush::Replacement { attempts: 1 }, 2001),
            (Repush::Sweep, 9000),
        ];
        for (why, push) in cases {
            assert_eq!(why.push(), push, "{why:?}");
            assert_eq!(
                ReportRange::repushed(9, why),
                ReportRange { range_id: 9, push }
            );
        }
    }
}
