//! PostgreSQL restarted mid-range, on a cluster of the test's own (never the
//! machine's shared one): the workers' pools reconnect without a process
//! restart, and every stuck order is filed exactly once (a report filed
//! while its ledger write failed is found on the order's page on the retry,
//! not filed again).

use std::time::Duration;

use test_support::private_services::PrivatePg;

use test_support::{redis_url, TestDb};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_range_workers_reconnect_and_every_order_is_filed_once() {
    let pg = PrivatePg::start();
    let db = TestDb::on(&pg.admin_url());
    let mut p = Pipeline::on(&[(600, 2, true), (400, 2, true)], &[], &redis_url(), db).await;
    let mut cfg = p.config.clone();
    cfg.report_delay_ms = 10;
    p.fake.configure(&cfg).await.unwrap();
    p.start_worker();
    p.start_worker();
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    p.wait_for_reports(50).await;
    pg.down();
    std::thread::sleep(Duration::from_secs(3));
    pg.up();
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed",
    );
    let reported = p.fake.reports().await.unwrap();
    let expected = p.expected_reports(2, &[true, true]);
    assert_eq!(reported, expected, "every stuck order filed exactly once");
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
    assert_eq!(p.ledger_count(), expected.len() as i64);
    // The restart was felt mid-run (else this test proved nothing).
    let logs = format!("{}{}", p.worker_log(0), p.worker_log(1));
    assert!(
        logs.contains("terminating connection") || logs.contains("Connection refused"),
        "no worker saw the restart:\n{}",
        tail(&logs)
    );
    // The workers that lived through it are still the ones working.
    for w in 0..2 {
        assert!(
            p.workers[w].try_wait().unwrap().is_none(),
            "worker {w} exited: {}",
            tail(&p.worker_log(w))
        );
    }
}
