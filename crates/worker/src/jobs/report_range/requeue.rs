//! Handing back and retrying: what follows a stop, and every re-push of a
//! report-range job. Each push says why ([`Repush`]), which is all its
//! payload's `push` number means.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reporter_core::jobs::{Job, ReportRange, Repush};
use reporter_core::models::pipeline::{self, Released, TakenRange};
use tracing::{info, warn};

use super::orders::Stop;
use super::{range, RECHECK};
use crate::environment::Environment;

/// Completes the range, hands it back, replaces its job or schedules its
/// retry, as `stop` calls for. Every write is fenced.
pub(super) async fn after_stop(
    env: &Arc<Environment>,
    t: &TakenRange,
    fence: i64,
    stop: Stop,
) -> anyhow::Result<()> {
    match stop {
        Stop::Finished => {
            let t2 = t.clone();
            match env
                .db(move |c| pipeline::complete_range(c, &t2, fence))
                .await?
            {
                Some((done, total)) => {
                    info!(ranges_done = done, ranges_total = total, "range completed")
                }
                None => info!("range completion refused by fence; another holder owns it"),
            }
        }
        Stop::HandBack => {
            let t2 = t.clone();
            range::release(env, t2, fence, None, false).await?;
            info!("shutting down: range handed back");
            let why = Repush::ShutdownMidRange {
                attempts: t.attempts,
            };
            env.queues
                .push(ReportRange::repushed(t.range_id, why))
                .await?;
        }
        Stop::Abandon(why) => {
            warn!(why, "abandoning range");
            replace_job(env, t).await?;
        }
        Stop::Failed {
            error: e,
            progressed,
        } => {
            let permanent = !e.is_retryable();
            let t2 = t.clone();
            let status =
                range::release(env, t2, fence, Some((e.to_string(), permanent)), progressed)
                    .await?;
            warn!(error = %e, status = ?status, takes = t.attempts, progressed, "range attempt failed");
            let delay = match status {
                Some(Released::Pending) => Some(Duration::from_secs(env.settings.range_retry_secs)),
                Some(Released::LastChance(due)) => {
                    info!(%due, "retry budget spent: one more chance before the hour ends");
                    Some((due - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                }
                Some(Released::Failed) | None => None,
            };
            if let Some(delay) = delay {
                crate::jobs::count_retry(ReportRange::KIND);
                let why = Repush::Retry {
                    attempts: t.attempts,
                };
                env.queues
                    .push_after(ReportRange::repushed(t.range_id, why), delay)
                    .await?;
            }
        }
    }
    Ok(())
}

/// A job that leaves its range unfinished without handing it back pushes a
/// replacement: whoever owns the range now may die too, and a range must
/// never be left without a job that will look at it again.
pub(super) async fn replace_job(env: &Arc<Environment>, t: &TakenRange) -> anyhow::Result<()> {
    let why = Repush::Replacement {
        attempts: t.attempts,
    };
    env.queues
        .push_after(ReportRange::repushed(t.range_id, why), RECHECK)
        .await?;
    Ok(())
}

/// This job ends without a range of its own: one job takes its place in
/// `delay`.
pub(super) async fn hand_back(
    env: &Arc<Environment>,
    job: &ReportRange,
    delay: Duration,
) -> anyhow::Result<()> {
    let why = Repush::Requeued { previous: job.push };
    env.queues
        .push_after(ReportRange::repushed(job.range_id, why), delay)
        .await?;
    Ok(())
}

/// Nothing to take now: if ranges are still open (held by others, or
/// waiting for their retry time), look again later; else this job is done.
pub(super) async fn recheck_later(env: &Arc<Environment>, job: &ReportRange) -> anyhow::Result<()> {
    let open = env.db(pipeline::unfinished_ranges).await?;
    if open > 0 {
        let due = env.db(pipeline::next_due).await?;
        let wait = due
            .map(|d| {
                (d - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .max(Duration::from_millis(200))
            })
            .unwrap_or(RECHECK)
            .min(RECHECK);
        hand_back(env, job, wait).await?;
    }
    Ok(())
}
