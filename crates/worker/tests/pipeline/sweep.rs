//! A job lost between a commit and its push (a crash in between), or a
//! retry whose job vanished from Redis, is found by beat's sweep, and the
//! run still completes.

use std::time::Duration;

use diesel::prelude::*;
use reporter_core::jobs::{queue_name, DownloadCompare, Job, JobQueues};
use reporter_core::models::pipeline;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beats_sweep_re_enqueues_a_download_compare_whose_job_was_never_pushed() {
    let mut p = Pipeline::new(&[(100, 2, true)], &[]).await;
    p.start_worker();
    p.fake.set_day(1).await.unwrap();
    // What process-slot commits, without the pushes that follow it.
    let date = d("2026-11-02");
    p.create_run(date);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        p.run_for(date).is_some_and(|r| !r.2),
        "nothing runs without a job"
    );

    let queues = JobQueues::new(p.redis.clone(), &p.prefix, 1);
    let pool = reporter_core::db::build_pool_lazy(&p.db.url, 1);
    let now = chrono::Utc::now();
    let (users, _) = reporter_beat::sweep(&queues, &pool, chrono::Duration::zero(), now, true)
        .await
        .unwrap();
    assert_eq!(users, 1);
    assert_eq!(
        p.wait_finished(date, Duration::from_secs(60)).await,
        "completed"
    );
    // A second sweep finds nothing open and pushes nothing.
    assert_eq!(
        reporter_beat::sweep(&queues, &pool, chrono::Duration::zero(), now, true)
            .await
            .unwrap(),
        (0, 0)
    );
}

/// The bug this guards: the sweep re-pushed `attempt: attempts.max(1)`,
/// whose idempotency key apalis-redis had already seen (keys live 7 days),
/// so a run-user whose retry job was lost stayed pending forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_user_whose_retry_job_vanished_from_redis_is_swept_and_completes() {
    let mut p = Pipeline::new(&[(100, 2, true)], &[]).await;
    p.fake.set_day(1).await.unwrap();
    let date = d("2026-11-03");
    let run_id = p.create_run(date);
    let ru_id = *pipeline::pending_run_users(&mut p.db.connect(), run_id)
        .unwrap()
        .first()
        .unwrap();
    // Attempt 1 was pushed and ran (it failed); its retry, attempt 2, was
    // pushed and then lost from Redis. Both keys stay remembered.
    let queues = JobQueues::new(p.redis.clone(), &p.prefix, 1);
    for attempt in [1, 2] {
        queues
            .push(DownloadCompare {
                run_user_id: ru_id,
                attempt,
            })
            .await
            .unwrap();
    }
    {
        use reporter_core::schema::reporter_run_users as ru;
        diesel::update(ru::table.find(ru_id))
            .set((
                ru::download_attempts.eq(1),
                ru::download_compare_status.eq("pending"),
            ))
            .execute(&mut p.db.connect())
            .unwrap();
    }
    let queue = queue_name(&p.prefix, DownloadCompare::KIND);
    let mut r = p.redis.clone();
    let keys: Vec<String> = redis::AsyncCommands::keys(&mut r, format!("{queue}*"))
        .await
        .unwrap();
    let idem = |k: &&String| k.contains(":idempotency:");
    assert_eq!(
        keys.iter().filter(idem).count(),
        2,
        "apalis-redis keeps the keys it saw: {keys:?}"
    );
    for k in keys.iter().filter(|k| !idem(k)) {
        let _: () = redis::AsyncCommands::del(&mut r, k).await.unwrap();
    }
    // The attempts' own keys are remembered: pushing them again does nothing.
    queues
        .push(DownloadCompare {
            run_user_id: ru_id,
            attempt: 2,
        })
        .await
        .unwrap();
    p.start_worker();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        p.run_for(date).is_some_and(|r| !r.2),
        "the lost retry's job is gone: nothing runs"
    );

    let pool = reporter_core::db::build_pool_lazy(&p.db.url, 1);
    let (users, _) = reporter_beat::sweep(
        &queues,
        &pool,
        chrono::Duration::zero(),
        chrono::Utc::now(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(users, 1);
    assert_eq!(
        p.wait_finished(date, Duration::from_secs(60)).await,
        "completed"
    );
}
