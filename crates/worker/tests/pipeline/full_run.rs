use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_over_two_workers_reports_every_stuck_order_once_and_nothing_else() {
    let mut p = Pipeline::new(&[(400, 2, true), (300, 3, true), (250, 5, true)], &[]).await;
    p.start_worker();
    p.start_worker();
    let (s1, s2) = p.run_two_days(d("2026-11-02"), d("2026-11-03")).await;
    assert_eq!((s1.as_str(), s2.as_str()), ("completed", "completed"));

    let expected = p.expected_reports(2, &[true, true, true]);
    let reported = p.fake.reports().await.unwrap();
    assert_eq!(reported, expected, "exactly the stuck orders, each once");
    let stats = p.fake.stats().await.unwrap();
    assert_eq!(stats.duplicate_reports, 0);
    assert!(
        stats.max_open_sessions <= 3,
        "browser limit exceeded: {}",
        stats.max_open_sessions
    );
    assert_eq!(p.ledger_count(), expected.len() as i64);
    // Both processes took work (work stealing), and the semaphore is empty.
    let logs = [p.worker_log(0), p.worker_log(1)];
    assert!(
        logs.iter().all(|l| l.contains("range completed")),
        "both workers should report ranges"
    );
    assert_eq!(p.semaphore_in_use().await, 0);
    // One login per browser session: far fewer logins than reports.
    assert!(
        stats.logins < 60,
        "logins {} for {} reports",
        stats.logins,
        stats.reports
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_without_reservations_yields_a_completed_empty_run() {
    let mut p = Pipeline::new(&[], &[]).await;
    p.start_worker();
    p.trigger(d("2026-11-02")).await;
    let status = p
        .wait_finished(d("2026-11-02"), std::time::Duration::from_secs(30))
        .await;
    assert_eq!(status, "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_limit_holds_with_many_contending_jobs_across_three_processes() {
    // 3 processes × 4 concurrent jobs = 12 contenders for 2 browsers, over
    // 40 small ranges; sessions are counted at the fake portal itself.
    let mut p = Pipeline::new(
        &[(200, 2, true), (200, 2, true)],
        &[
            ("MAX_ACTIVE_SELENIUM", "2"),
            ("REPORTER_WORKER_CONCURRENCY", "4"),
            ("REPORTER_RANGE_SIZE", "5"),
        ],
    )
    .await;
    for _ in 0..3 {
        p.start_worker();
    }
    let (_, s2) = p.run_two_days(d("2026-11-02"), d("2026-11-03")).await;
    assert_eq!(s2, "completed");
    let stats = p.fake.stats().await.unwrap();
    assert_eq!(
        stats.max_open_sessions, 2,
        "never more than MAX_ACTIVE_SELENIUM sessions, and the limit was reached"
    );
    assert_eq!(stats.duplicate_reports, 0);
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[true, true])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_of_heavier_customers_are_reported_first() {
    use diesel::prelude::*;
    use reporter_core::schema::{reporter_order_reports as o, reporter_reservations as r};
    // One browser and one job at a time, so the order of ranges is the
    // order of claims. Customer i has weight [1, 2, 3][i % 3].
    let mut p = Pipeline::new(
        &[(100, 2, true), (100, 2, true), (100, 2, true)],
        &[
            ("MAX_ACTIVE_SELENIUM", "1"),
            ("REPORTER_WORKER_CONCURRENCY", "1"),
            ("REPORTER_RANGE_SIZE", "10"),
        ],
    )
    .await;
    p.start_worker();
    let (_, s2) = p.run_two_days(d("2026-11-02"), d("2026-11-03")).await;
    assert_eq!(s2, "completed");
    let rows: Vec<(i32, chrono::DateTime<chrono::Utc>)> = o::table
        .inner_join(r::table.on(r::user_id.eq(o::user_id)))
        .select((r::calculated_weight, o::reported_at))
        .order(o::id)
        .load(&mut p.db.connect())
        .unwrap();
    let weights: Vec<i32> = rows.iter().map(|(w, _)| *w).collect();
    let mut sorted = weights.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(weights, sorted, "reports in weight order 3, 2, 1");
    assert_eq!(weights.len(), 150);
}
