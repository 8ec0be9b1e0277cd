//! `jobs::queue_stats` against a real apalis worker: a job held by a worker
//! counts as in flight (read from the queue's worker set, not a `KEYS` scan),
//! and stops counting once it finished.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use reporter_core::jobs::{self, Job, JobQueues, ReportRange};
use tokio::sync::Notify;

struct Gate {
    started: Notify,
    release: Notify,
}

async fn held(_job: ReportRange, gate: Data<Arc<Gate>>) -> Result<(), BoxDynError> {
    gate.started.notify_one();
    gate.release.notified().await;
    Ok(())
}

async fn stats_of(
    conn: &mut redis::aio::ConnectionManager,
    prefix: &str,
    queue: &str,
) -> jobs::QueueStats {
    jobs::queue_stats(conn, prefix)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.queue == queue)
        .unwrap()
}

#[tokio::test]
async fn a_job_held_by_a_worker_is_in_flight_until_it_finishes() {
    let conn = common::connect().await;
    let prefix = common::unique_prefix();
    let queues = JobQueues::new(conn.clone(), &prefix, 1);
    queues.push(ReportRange::new(1)).await.unwrap();
    queues.push(ReportRange::new(2)).await.unwrap();
    let mut c = conn.clone();
    let before = stats_of(&mut c, &prefix, ReportRange::KIND).await;
    assert_eq!(
        (before.waiting + before.scheduled, before.in_flight),
        (2, 0)
    );

    let gate = Arc::new(Gate {
        started: Notify::new(),
        release: Notify::new(),
    });
    let worker = WorkerBuilder::new("queue-stats-test")
        .backend(queues.report_range.clone())
        .concurrency(1)
        .data(gate.clone())
        .build(held);
    let running = tokio::spawn(worker.run());
    tokio::time::timeout(Duration::from_secs(60), gate.started.notified())
        .await
        .expect("the worker took the first job");

    let during = stats_of(&mut c, &prefix, ReportRange::KIND).await;
    assert_eq!(during.in_flight, 1, "the held job is in flight: {during:?}");
    assert_eq!(
        during.waiting + during.scheduled,
        1,
        "the other one still waits: {during:?}"
    );

    gate.release.notify_one();
    tokio::time::timeout(Duration::from_secs(60), gate.started.notified())
        .await
        .expect("the worker took the second job");
    gate.release.notify_one();
    common::eventually(Duration::from_secs(60), "both jobs done", || {
        let mut c = conn.clone();
        let prefix = prefix.clone();
        async move {
            let s = stats_of(&mut c, &prefix, ReportRange::KIND).await;
            (s.in_flight == 0 && s.waiting + s.scheduled == 0).then_some(())
        }
    })
    .await;
    running.abort();
    common::delete_prefix(&conn, &prefix).await;
}
