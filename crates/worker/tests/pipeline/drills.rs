//! Killing, pausing and stopping workers mid-range must lose nothing and
//! report nothing twice.

use std::time::{Duration, Instant};

use crate::harness::*;

/// Reports slow enough (15 ms) to stop a worker mid-range; `workers`
/// started, the baseline day run, day 2 triggered.
async fn day_two_in_progress(accounts: &[(u32, u32, bool)], workers: usize) -> Pipeline {
    let mut p = Pipeline::new(accounts, &[]).await;
    let mut cfg = p.config.clone();
    cfg.report_delay_ms = 15;
    p.fake.configure(&cfg).await.unwrap();
    for _ in 0..workers {
        p.start_worker();
    }
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    p
}

async fn assert_exactly_once(p: &Pipeline, good: &[bool]) {
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, good),
        "every stuck order reported exactly once"
    );
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_drill_sigkill_mid_range_loses_nothing_and_capacity_comes_back() {
    let mut p = day_two_in_progress(&[(600, 2, true), (400, 2, true)], 2).await;
    p.wait_for_reports(60).await;
    p.signal(0, "KILL");
    let _ = p.workers[0].wait();
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed"
    );
    assert_exactly_once(&p, &[true, true]).await;
    // The dead worker's leases expired and were reaped, sessions included.
    let start = Instant::now();
    loop {
        let open = p.fake.stats().await.unwrap().open_sessions;
        if p.semaphore_in_use().await == 0 && open == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "leases or sessions left behind (open sessions {open})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        p.fake.stats().await.unwrap().max_open_sessions <= 3 + 1,
        "at most one orphan beyond the limit, for at most a lease"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drill_worker_exits_cleanly_and_another_finishes_the_run() {
    let mut p = day_two_in_progress(&[(600, 2, true)], 1).await;
    p.wait_for_reports(30).await;
    p.signal(0, "TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = p.workers[0].try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "worker did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.success(),
        "worker exit status {status:?}\n{}",
        tail(&p.worker_log(0))
    );
    assert!(
        p.worker_log(0).contains("range handed back"),
        "the stopped worker handed its unfinished range back"
    );
    p.start_worker();
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(120))
            .await,
        "completed"
    );
    assert_exactly_once(&p, &[true]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_drill_a_stopped_lease_holder_cannot_report_twice_after_resuming() {
    let p = day_two_in_progress(&[(600, 2, true), (300, 2, true)], 2).await;
    p.wait_for_reports(40).await;
    p.signal(0, "STOP");
    // Longer than the 4 s lease and lock: worker 1 takes its work over.
    tokio::time::sleep(Duration::from_secs(9)).await;
    p.signal(0, "CONT");
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed"
    );
    assert_exactly_once(&p, &[true, true]).await;
}
