//! Taking a range and giving it up: the Redis lock first, then the row,
//! which accepts only a newer fence than any before it
//! (`models::pipeline::fenced_ranges`).

use std::sync::Arc;

use chrono::Utc;
use reporter_core::jobs::{Job, ReportRange};
use reporter_core::models::pipeline::{self, Released, TakenRange};

use crate::environment::Environment;
use crate::lock_keeper::KeptLock;

/// Ready ranges looked at per take, heaviest first.
const CANDIDATES: i64 = 25;

/// Tries the candidates in priority order: the first whose Redis lock we get
/// and whose row accepts our fence is ours.
pub(super) async fn take_heaviest(
    env: &Arc<Environment>,
) -> anyhow::Result<Option<(TakenRange, KeptLock)>> {
    let candidates = env
        .db(|c| pipeline::range_candidates(c, CANDIDATES))
        .await?;
    for cand in candidates {
        let Some(lock) = env
            .range_locks
            .try_lock(cand.range_id, &env.worker_id)
            .await?
        else {
            continue;
        };
        let (id, fence, worker) = (cand.range_id, lock.fence, env.worker_id.clone());
        let tz = env.settings.timezone;
        match env
            .db(move |c| pipeline::take_range(c, id, fence, &worker, tz))
            .await?
        {
            Some(t) => return Ok(Some((t, KeptLock::keep(env.range_locks.clone(), lock)))),
            None => {
                let _ = env.range_locks.release(lock).await;
            }
        }
    }
    Ok(None)
}

/// Puts the range back, fenced: `pending` (handed back, or a failure
/// within its budget), its last chance, or `failed`; `None` if another
/// holder owns it now. `error`: the failure and whether it is permanent.
pub(super) async fn release(
    env: &Arc<Environment>,
    t: TakenRange,
    fence: i64,
    error: Option<(String, bool)>,
    progressed: bool,
) -> anyhow::Result<Option<Released>> {
    let retry_at = Utc::now()
        + chrono::Duration::seconds(if error.is_some() {
            env.settings.range_retry_secs as i64
        } else {
            0
        });
    let retry_secs = env.settings.range_retry_secs;
    let status = env
        .db(move |c| {
            let (msg, permanent) = match &error {
                Some((m, p)) => (Some(m.as_str()), *p),
                None => (None, false),
            };
            // A permanent error gives up at once; a transient one after the
            // budget of failures without progress.
            let (max, last_chance) = if permanent {
                (0, None)
            } else {
                let scheduled_at = pipeline::run_scheduled_at(c, t.run_id)?;
                let chance = pipeline::last_chance_at(scheduled_at, retry_at, retry_secs);
                (ReportRange::MAX_ATTEMPTS as i32, Some(chance))
            };
            pipeline::release_range(c, &t, fence, msg, progressed, retry_at, max, last_chance)
        })
        .await?;
    Ok(status)
}
