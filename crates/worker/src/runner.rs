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

/// The factory of one apalis worker: named `{worker id}-{kind}-r{restarts}`
/// (restarted under a new name, see `should_restart` below), polling its
/// queue with [`Tick`], catching handler panics, with the environment as
/// its data.
macro_rules! job_worker {
    ($env:expr, $kind:literal, $queue:ident, $concurrency:expr, $handler:path) => {{
        let env = $env.clone();
        let concurrency = $concurrency;
        move |restarts| {
            WorkerBuilder::new(format!("{}-{}-r{restarts}", env.worker_id, $kind))
                .backend(
                    env.queues
                        .$queue
                        .clone()
                        .poll_with_strategy(Tick::new(POLL)),
                )
                .concurrency(concurrency)
                .catch_panic()
                .data(env.clone())
                .build($handler)
        }
    }};
}

/// Runs the workers until `shutdown` flips, then lets in-flight jobs finish
/// (report-range hands its remaining orders back after the current one).
pub async fn run(
    env: Arc<Environment>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) -> anyhow::Result<()> {
    let n = env.settings.worker_concurrency as usize;
    Monitor::new()
        .register(job_worker!(
            env,
            "process-slot",
            process_slot,
            1,
            jobs::process_slot::run
        ))
        .register(job_worker!(
            env,
            "shadow-slot",
            shadow_slot,
            1,
            jobs::process_slot::run_shadow
        ))
        .register(job_worker!(
            env,
            "portal-check",
            portal_check,
            1,
            jobs::portal_check::run
        ))
        .register(job_worker!(
            env,
            "download-compare",
            download_compare,
            n,
            jobs::download_compare::run
        ))
        .register(job_worker!(
            env,
            "report-range",
            report_range,
            n,
            jobs::report_range::run
        ))
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
