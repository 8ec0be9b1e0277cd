//! report-range: take a browser lease, take the heaviest ready range, report
//! its orders that have no report yet (each recorded as it is filed), then
//! complete it. Every write is fenced by the range lock's token, and the
//! lease and lock are checked before every portal action, so a paused or
//! dead holder can never report over a live one.
//!
//! - `mod.rs`: the job, from the lease to the run's settlement.
//! - `range.rs`: taking a range (its Redis lock, then its fenced row) and
//!   releasing it.
//! - `orders.rs`: the per-order loop in one portal session, and why it
//!   stopped.
//! - `check.rs`: the same loop for a shadow part: each order's page and
//!   report form checked, recorded as `would_report`, nothing filed.
//! - `requeue.rs`: what follows a stop (complete, hand back, retry,
//!   replace) and every re-push of the job, each with its
//!   [`Repush`](reporter_core::jobs::Repush) reason.
//!
//! Closing the run is `settle_run`'s, shared with download-compare.

mod check;
mod orders;
mod range;
mod requeue;

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use reporter_core::browser_semaphore::{HeldLease, Holder, SemaphoreError};
use reporter_core::domain::ReportMode;
use reporter_core::jobs::{Job, ReportRange};
use reporter_core::models::pipeline::{self, TakenRange};
use reporter_core::models::user;
use reporter_core::progress;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::environment::Environment;
use crate::lock_keeper::KeptLock;
use crate::portal::PortalError;
use orders::Stop;
use requeue::{hand_back, recheck_later, replace_job};

/// How soon a job that found nothing to take looks again while ranges are
/// still open (held by others, or waiting for their retry time).
const RECHECK: Duration = Duration::from_secs(5);

pub async fn run(job: ReportRange, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let env: Arc<Environment> = (*env).clone();
    let key = format!("report-range:{}:{}", job.range_id, job.push);
    let guard = {
        let (env, job) = (env.clone(), job.clone());
        super::dropped::ReplaceIfDropped::new(ReportRange::KIND, move || {
            let (env, job) = (env.clone(), job.clone());
            Box::pin(async move { hand_back(&env, &job, RECHECK).await })
        })
    };
    let r = handle(&env, &job, &key).await;
    guard.disarm();
    env.done(&key);
    super::count_outcome(ReportRange::KIND, r.is_ok());
    let Err(e) = r else { return Ok(()) };
    let e = super::abort("report-range", e);
    // A database or Redis error may strike anywhere in the job, leaving the
    // range it held (or would have taken) without a job: one replacement
    // takes this one's place (surplus jobs find nothing and end). Only if
    // that push fails too does apalis retry this job.
    match hand_back(&env, &job, RECHECK).await {
        Ok(()) => Ok(()),
        Err(push) => {
            warn!(error = %push, "could not push a replacement report-range job");
            Err(e)
        }
    }
}

async fn handle(env: &Arc<Environment>, job: &ReportRange, key: &str) -> anyhow::Result<()> {
    if env.shutting_down() {
        return hand_back(env, job, Duration::ZERO).await;
    }
    if env
        .db(|c| pipeline::range_candidates(c, 1))
        .await?
        .is_empty()
    {
        return recheck_later(env, job).await;
    }
    let holder = Holder::new(env.worker_id.clone(), key.to_string());
    // SIGTERM ends the wait: a worker being replaced must not open a browser
    // only to hand its range back.
    let acquired = tokio::select! {
        r = env.acquire_browser(holder) => Some(r),
        () = env.shutdown_requested() => None,
    };
    let lease = match acquired {
        None => {
            info!("shutting down while waiting for a browser lease: job handed back");
            return hand_back(env, job, Duration::ZERO).await;
        }
        Some(Ok(l)) => l,
        Some(Err(SemaphoreError::Timeout { .. })) => {
            return hand_back(env, job, Duration::from_secs(30)).await
        }
        Some(Err(e)) => return Err(e.into()),
    };
    if env.shutting_down() {
        let _ = lease.release().await;
        return hand_back(env, job, Duration::ZERO).await;
    }
    let Some((taken, lock)) = range::take_heaviest(env).await? else {
        let _ = lease.release().await;
        return recheck_later(env, job).await;
    };
    env.doing(
        key,
        format!(
            "reportando órdenes {}–{} (rango {})",
            taken.range_start, taken.range_end, taken.range_id
        ),
    );
    let span = info_span!(
        "report_range",
        run.id = taken.run_id,
        user.id = taken.user_id,
        range.id = taken.range_id,
        range.start = taken.range_start,
        range.end = taken.range_end,
        fence = lock.lock.fence
    );
    let range_started = std::time::Instant::now();
    let outcome = report(env, &lease, &lock, &taken)
        .instrument(span.clone())
        .await;
    metrics::histogram!("reporter_range_duration_seconds")
        .record(range_started.elapsed().as_secs_f64());
    lock.release(&env.range_locks).await;
    let _ = lease.release().await;
    async {
        if let Err(e) = outcome {
            // A database or Redis error mid-range leaves it `processing`
            // with no job: a replacement takes it over (with a newer fence).
            // The run cannot be finished while this range is open; the
            // replacement finishes it, so this job ends here (a failure of
            // its own past this point would push a second replacement).
            warn!(error = %e, "range ended with an error; a replacement job will take it over");
            return replace_job(env, &taken).await;
        }
        super::settle_run::finish_if_done(env, taken.run_id).await
    }
    .instrument(span)
    .await
}

/// Reports the range we hold, then does what its stop calls for.
async fn report(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
) -> anyhow::Result<()> {
    let fence = lock.lock.fence;
    let (rid, uid) = (t.range_id, t.user_id);
    if !env
        .db(move |c| pipeline::mark_processing(c, rid, fence))
        .await?
    {
        info!("range taken over before it started; abandoning");
        return Ok(());
    }
    let shadow = t.report_mode == ReportMode::Shadow;
    let msg = if shadow {
        progress::checking(t.range_start, t.range_end, t.total_pending_orders)
    } else {
        progress::reporting(t.range_start, t.range_end, t.total_pending_orders)
    };
    let ru = t.run_user_id;
    env.db(move |c| pipeline::set_message(c, ru, &msg)).await?;

    let t2 = t.clone();
    let orders = if shadow {
        env.db(move |c| pipeline::orders_to_check(c, &t2)).await?
    } else {
        env.db(move |c| pipeline::orders_to_report(c, &t2)).await?
    };
    debug!(
        to_do = orders.len(),
        shadow, "orders without a report (or a check) yet"
    );
    let stop = if orders.is_empty() {
        Stop::Finished
    } else {
        let u = env.db(move |c| user::find(c, uid)).await?;
        let creds = u.and_then(|u| {
            u.portal_credentials(env.settings.credentials_cipher())
                .ok()
                .flatten()
        });
        match creds {
            None => Stop::Failed {
                error: PortalError::InvalidCredentials,
                progressed: false,
            },
            Some((email, password)) if shadow => {
                check::check_orders(env, lease, lock, t, &orders, &email, &password).await?
            }
            Some((email, password)) => {
                orders::report_orders(env, lease, lock, t, &orders, &email, &password).await?
            }
        }
    };
    requeue::after_stop(env, t, fence, stop).await
}
