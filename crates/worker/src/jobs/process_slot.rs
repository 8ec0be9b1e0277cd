use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use reporter_core::jobs::{DownloadCompare, ProcessSlot};
use reporter_core::models::{pipeline, slot};
use reporter_core::schedule::Occurrence;
use tracing::{info, info_span, Instrument};

use crate::environment::Environment;

/// Creates the slot hour's run (or finds it) and enqueues one
/// download-compare per run-user still pending. Safe to run twice.
pub async fn run(job: ProcessSlot, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let occ = Occurrence::of(job.scheduled_at, env.settings.timezone);
    let hour = i32::from(occ.hour);
    let business_date = occ.business_date;
    let span = info_span!("process_slot", slot.hour = hour, scheduled_at = %job.scheduled_at,
                          origin = job.origin.as_str(), late = job.late);
    async move {
        let (scheduled_at, origin, late) = (job.scheduled_at, job.origin, job.late);
        let res = env
            .db(move |c| {
                let Some(s) = slot::find_by_hour(c, hour)? else { return Ok(None) };
                let (run, created) =
                    pipeline::create_run(c, s.id, scheduled_at, business_date, origin, late)?;
                let pending = pipeline::pending_run_users(c, run.id)?;
                Ok(Some((run, created, pending)))
            })
            .await
            .map_err(|e| super::abort("process-slot", e))?;
        let Some((run, created, pending)) = res else {
            return Err(super::abort("process-slot", format!("no slot row for hour {hour}")));
        };
        info!(run.id = run.id, created, users = pending.len(), status = %run.status, "slot processed");
        for ru in pending {
            env.queues
                .push(DownloadCompare::new(ru))
                .await
                .map_err(|e| super::abort("process-slot", e))?;
        }
        Ok(())
    }
    .instrument(span)
    .await
}
