use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use chrono::{DateTime, Utc};
use reporter_core::domain::ReportMode;
use reporter_core::jobs::{DownloadCompare, ProcessSlot, RunOrigin, ShadowSlot};
use reporter_core::models::{pipeline, slot};
use reporter_core::planner::{self, PlannerSettings};
use reporter_core::schedule::Occurrence;
use tracing::{info, info_span, warn, Instrument};

use crate::environment::Environment;

/// Creates the slot hour's run (or finds it) and enqueues one
/// download-compare per run-user still pending. Safe to run twice.
pub async fn run(job: ProcessSlot, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let hour_run = HourRun {
        scheduled_at: job.scheduled_at,
        origin: job.origin,
        late: job.late,
        mode: ReportMode::Live,
    };
    process(hour_run, &env, "process-slot").await
}

/// A rehearsal of the hour: its own run, in shadow mode for everyone in it.
pub async fn run_shadow(job: ShadowSlot, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let hour_run = HourRun {
        scheduled_at: job.scheduled_at(),
        origin: RunOrigin::Manual,
        late: false,
        mode: ReportMode::Shadow,
    };
    process(hour_run, &env, "shadow-slot").await
}

struct HourRun {
    scheduled_at: DateTime<Utc>,
    origin: RunOrigin,
    late: bool,
    mode: ReportMode,
}

async fn process(
    job: HourRun,
    env: &Arc<Environment>,
    kind: &'static str,
) -> Result<(), BoxDynError> {
    let occ = Occurrence::of(job.scheduled_at, env.settings.timezone);
    let hour = i32::from(occ.hour);
    let business_date = occ.business_date;
    let span = info_span!("process_slot", slot.hour = hour, scheduled_at = %job.scheduled_at,
                          origin = job.origin.as_str(), late = job.late, mode = job.mode.as_str());
    let fleet_mode = env.settings.report_mode;
    async move {
        let HourRun { scheduled_at, origin, late, mode } = job;
        let res = env
            .db(move |c| {
                let Some(s) = slot::find_by_hour(c, hour)? else { return Ok(None) };
                let (run, created) = pipeline::create_run(
                    c,
                    s.id,
                    scheduled_at,
                    business_date,
                    origin,
                    late,
                    mode,
                    fleet_mode,
                )?;
                let pending = pipeline::pending_run_users(c, run.id)?;
                Ok(Some((run, created, pending)))
            })
            .await
            .map_err(|e| super::abort(kind, e))?;
        let Some((run, created, pending)) = res else {
            return Err(super::abort(kind, format!("no slot row for hour {hour}")));
        };
        info!(run.id = run.id, created, users = pending.len(), status = %run.status, "slot processed");
        if created {
            record_prediction(env, run.id).await;
        }
        for ru in pending {
            env.queues
                .push(DownloadCompare::new(ru))
                .await
                .map_err(|e| super::abort(kind, e))?;
        }
        Ok(())
    }
    .instrument(span)
    .await
}

/// Stores the planner's prediction of a new run (console: predicted against
/// actual). A failure only costs the comparison, never the run: logged, not
/// retried.
async fn record_prediction(env: &Arc<Environment>, run_id: i64) {
    let ps = PlannerSettings::from_settings(&env.settings);
    match env
        .db(move |c| planner::record_run_prediction(c, run_id, &ps))
        .await
    {
        Ok(Some((browser, duration))) => info!(
            run.id = run_id,
            predicted_browser_minutes = browser,
            predicted_duration_minutes = duration,
            "run prediction recorded"
        ),
        Ok(None) => {}
        Err(e) => warn!(run.id = run_id, error = %e, "run prediction not recorded"),
    }
}
