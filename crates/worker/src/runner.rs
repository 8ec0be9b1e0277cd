//! Wires every job kind to its queue in one visible list, and runs them
//! until SIGTERM, then drains.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::*;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::environment::Environment;
use crate::jobs;

/// How often an idle worker polls its queue (without it, an idle apalis
/// worker only polls on its heartbeat). A run crosses two queues before its
/// first report (download-compare, then report-range), each costing half a
/// poll on average; 50 ms (was 200 ms) cut the run-start-to-first-report
/// time of the pipeline bench from ~220–420 ms to ~80–130 ms, for about 20
/// fetch scripts a second per idle queue and process.
const POLL: Duration = Duration::from_millis(50);

/// Polls the queue every `every`, like apalis' `poll_with_interval`, without
/// its lost wake-up: apalis-core 1.0's `IntervalStrategy` re-arms its timer
/// without polling it, so when the fetch that follows completes within the
/// same poll (an empty queue answering at once), nothing is left to wake the
/// worker and that process stops fetching from the queue until one of its
/// own jobs ends, which for an idle one is never. (Seen as one process
/// taking every job of a run while the other's download-compare and
/// report-range workers sat idle.) Here the re-armed timer is polled at
/// once, so its waker is always registered.
struct Tick {
    every: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Tick {
    fn new(every: Duration) -> Self {
        Tick { every, sleep: None }
    }
}

impl PollStrategy for Tick {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        let every = self.every;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        sleep.as_mut().reset(Instant::now() + every);
        // Registers this task's waker for the next tick.
        let _ = sleep.as_mut().poll(cx);
        Poll::Ready(Some(()))
    }
}

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
                .backend(q1.process_slot.clone().poll_with_strategy(Tick::new(POLL)))
                .concurrency(1)
                .catch_panic()
                .data(e1.clone())
                .build(jobs::process_slot::run)
        })
        .register(move |restarts| {
            WorkerBuilder::new(format!("{i2}-download-compare-r{restarts}"))
                .backend(
                    q2.download_compare
                        .clone()
                        .poll_with_strategy(Tick::new(POLL)),
                )
                .concurrency(n)
                .catch_panic()
                .data(e2.clone())
                .build(jobs::download_compare::run)
        })
        .register(move |restarts| {
            WorkerBuilder::new(format!("{i3}-report-range-r{restarts}"))
                .backend(q3.report_range.clone().poll_with_strategy(Tick::new(POLL)))
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
