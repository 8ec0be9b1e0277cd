//! Redis restarted mid-run (with its append-only file, as production runs
//! it): workers reconnect and the run completes, every order filed once.

use std::time::{Duration, Instant};

use test_support::private_services::PrivateRedis;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_workers_reconnect_and_the_run_completes() {
    let mut redis = PrivateRedis::start();
    let mut p = Pipeline::with_redis(&[(600, 2, true), (400, 2, true)], &[], &redis.url()).await;
    let mut cfg = p.config.clone();
    cfg.report_delay_ms = 10;
    p.fake.configure(&cfg).await.unwrap();
    p.start_worker();
    p.start_worker();
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    p.wait_for_reports(50).await;
    redis.restart(Duration::from_secs(2));
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed"
    );
    // The test's own connection broke too; its first call after the restart
    // fails, then it reconnects.
    let start = Instant::now();
    while p.fake.stats().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "test connection did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every stuck order filed exactly once, nothing else. The fake portal
    // lives in the same Redis, so a report filed just as Redis went down can
    // lose its answer; the worker then retries the range, and the order's
    // page (the view before submit, as in the browser adapter) shows the
    // report already there, so nothing is filed twice.
    let reported = p.fake.reports().await.unwrap();
    let expected = p.expected_reports(2, &[true, true]);
    assert_eq!(
        reported.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let repeated: Vec<_> = reported.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "orders filed twice: {repeated:?}");
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
}
