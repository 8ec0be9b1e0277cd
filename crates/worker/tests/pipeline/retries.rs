use std::time::Duration;

use diesel::prelude::*;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_failing_twice_then_succeeding_completes_the_run() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut p = Pipeline::new(&[(120, 2, true)], &[("REPORTER_METRICS_BIND", &bind)]).await;
    p.start_worker();
    p.fake
        .fail_next("export", "cliente0@portal.test", 2)
        .await
        .unwrap();
    p.fake.set_day(1).await.unwrap();
    p.trigger(d("2026-11-02")).await;
    assert_eq!(
        p.wait_finished(d("2026-11-02"), Duration::from_secs(60))
            .await,
        "completed"
    );
    p.fake.set_day(2).await.unwrap();
    p.fake
        .fail_next("report", "cliente0@portal.test", 2)
        .await
        .unwrap();
    p.trigger(d("2026-11-03")).await;
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(90))
            .await,
        "completed"
    );
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[true])
    );
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
    // The report errors were retried on the same order in the same session:
    // every range was taken once and none spent its retry budget.
    {
        use reporter_core::schema::reporter_ranges as r;
        let takes: Vec<(i32, i32)> = r::table
            .select((r::attempts, r::failures))
            .load(&mut p.db.connect())
            .unwrap();
        assert!(!takes.is_empty());
        assert!(takes.iter().all(|t| *t == (1, 0)), "{takes:?}");
    }
    let metrics = http_get(&bind, "/metrics");
    for needle in [
        "reporter_orders_reported_total",
        "reporter_job_retries_total{queue=\"download-compare\"} 2",
        "reporter_range_duration_seconds_bucket",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from worker metrics:\n{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_fail_that_user_at_once_and_the_run_still_finishes() {
    let mut p = Pipeline::new(&[(100, 2, true), (100, 2, false)], &[]).await;
    p.start_worker();
    let (_, s2) = p.run_two_days(d("2026-11-02"), d("2026-11-03")).await;
    assert_eq!(s2, "failed", "a run with a failed user ends failed");
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[true, false])
    );
    use reporter_core::schema::reporter_run_users as ru;
    let rows: Vec<(String, String, i32)> = ru::table
        .filter(ru::download_compare_status.eq("failed"))
        .select((
            ru::download_compare_status,
            ru::progress_message,
            ru::download_attempts,
        ))
        .load(&mut p.db.connect())
        .unwrap();
    assert_eq!(rows.len(), 2, "the bad user fails on both days");
    for (_, msg, attempts) in rows {
        assert_eq!(msg, "No pudimos entrar al portal: credenciales inválidas");
        assert_eq!(attempts, 1, "no retries for rejected credentials");
    }
}

/// A bare HTTP GET (the worker's metrics listener), without an HTTP client dependency.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}
