//! A job lost between a commit and its push (a crash in between) is found
//! by beat's sweep, and the run still completes.

use std::time::Duration;

use reporter_core::jobs::JobQueues;
use reporter_core::models::{pipeline, slot};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beats_sweep_re_enqueues_a_download_compare_whose_job_was_never_pushed() {
    let mut p = Pipeline::new(&[(100, 2, true)], &[]).await;
    p.start_worker();
    p.fake.set_day(1).await.unwrap();
    // What process-slot commits, without the pushes that follow it.
    let date = d("2026-11-02");
    let mut c = p.db.connect();
    let slot_id = slot::find_by_hour(&mut c, HOUR as i32).unwrap().unwrap().id;
    let (_run, created) =
        pipeline::create_run(&mut c, slot_id, Pipeline::slot_instant(date), date).unwrap();
    assert!(created);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        p.run_for(date).is_some_and(|r| !r.2),
        "nothing runs without a job"
    );

    let queues = JobQueues::new(p.redis.clone(), &p.prefix, 1);
    let pool = reporter_core::db::build_pool_lazy(&p.db.url, 1);
    let (users, _) = reporter_beat::sweep(&queues, &pool, chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(users, 1);
    assert_eq!(
        p.wait_finished(date, Duration::from_secs(60)).await,
        "completed"
    );
    // A second sweep finds nothing open and pushes nothing.
    assert_eq!(
        reporter_beat::sweep(&queues, &pool, chrono::Duration::zero())
            .await
            .unwrap(),
        (0, 0)
    );
}
