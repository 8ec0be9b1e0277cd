//! Wires every job kind to its queue in one visible list, and runs them
//! until SIGTERM, then drains.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use tokio::sync::watch;

use crate::environment::Environment;
use crate::jobs;

/// How often an idle worker polls its queue (without it, an idle apalis
/// worker only polls on its heartbeat).
const POLL: Duration = Duration::from_millis(200);

/// Runs the workers until `shutdown` flips, then lets in-flight jobs finish
/// (report-range hands its remaining orders back after the current one).
pub async fn run(
    env: Arc<Environment>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) -> anyhow::Result<()> {
    let id = env.worker_id.clone();
    let n = env.settings.worker_concurrency as usize;
    let (e1, e2, e3) = (env.clone(), env.clone(), env.clone());
    let q = env.queues.clone();
    let (q1, q2, q3) = (q.clone(), q.clone(), q);
    let (i1, i2, i3) = (id.clone(), id.clone(), id);
    Monitor::new()
        .register(move |restarts| {
            WorkerBuilder::new(format!("{i1}-process-slot-r{restarts}"))
                .backend(q1.process_slot.clone().poll_with_interval(POLL))
                .concurrency(1)
                .catch_panic()
                .data(e1.clone())
                .build(jobs::process_slot::run)
        })
        .register(move |restarts| {
            WorkerBuilder::new(format!("{i2}-download-compare-r{restarts}"))
                .backend(q2.download_compare.clone().poll_with_interval(POLL))
                .concurrency(n)
                .catch_panic()
                .data(e2.clone())
                .build(jobs::download_compare::run)
        })
        .register(move |restarts| {
            WorkerBuilder::new(format!("{i3}-report-range-r{restarts}"))
                .backend(q3.report_range.clone().poll_with_interval(POLL))
                .concurrency(n)
                .catch_panic()
                .data(e3.clone())
                .build(jobs::report_range::run)
        })
        // A worker whose loop ended with an error (a broken Redis stream, or
        // being taken for dead while all its slots were busy) is started
        // again under a new name, so this process keeps serving every queue.
        .should_restart(|ctx, error| {
            tracing::warn!(worker = %ctx.name(), ?error, "job worker ended; restarting it");
            true
        })
        .shutdown_timeout(grace)
        .run_with_signal(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
            Ok(())
        })
        .await?;
    Ok(())
}
