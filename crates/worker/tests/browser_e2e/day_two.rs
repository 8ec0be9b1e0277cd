use std::collections::BTreeSet;
use std::time::Duration;

use crate::harness::{d, stuck_between, BrowserPipeline, Options};

/// Day 1 stores baselines and reports nothing; day 2 reports exactly the
/// orders whose status did not move (per the simulator's own truth), once,
/// with one login per browser session. With MAX_ACTIVE_SELENIUM=2 and three
/// users, never more than two WebDriver sessions are live at once (counted
/// at the proxy in front of chromedriver), and both places are used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_two_reports_exactly_the_stuck_orders_with_two_browsers_at_most() {
    let p = BrowserPipeline::new(Options {
        accounts: 3,
        orders: 100,
        max_active: 2,
        ..Options::default()
    })
    .await;
    let (d1, d2) = (d("2026-03-02"), d("2026-03-03"));

    let day1 = p.baseline_day(d1).await;
    assert_eq!(
        p.ledger_count(),
        0,
        "nothing is reported on the baseline day"
    );
    assert!(p.reports().await.is_empty());
    let s1 = p.stats().await;
    assert_eq!(s1["exports"], 3, "{s1}");

    p.sim_post("/_sim/advance-day", serde_json::json!({})).await;
    let day2 = p.truth().await;
    p.trigger(d2).await;
    let status = p.wait_finished(d2, Duration::from_secs(300)).await;
    assert_eq!(status, "completed", "{}", p.logs_tail());

    let accounts: Vec<&str> = p.emails.iter().map(String::as_str).collect();
    let expected = stuck_between(&day1, &day2, &accounts);
    let reported = p.reports().await;
    let reported_set: BTreeSet<(String, i64)> = reported.iter().cloned().collect();
    assert_eq!(
        reported.len(),
        reported_set.len(),
        "an order reported twice"
    );
    assert!(!expected.is_empty(), "the scenario has stuck orders");
    assert_eq!(reported_set, expected);
    assert_eq!(p.ledger_count(), expected.len() as i64);

    let s = p.stats().await;
    println!(
        "stuck {}, stats {s}, WebDriver sessions: {} created, at most {} at once",
        expected.len(),
        p.sessions.created(),
        p.sessions.max()
    );
    assert_eq!(s["duplicate_reports"], 0, "{s}");
    let logins = s["logins"].as_u64().unwrap();
    let reports = s["reports"].as_u64().unwrap();
    assert_eq!(reports, expected.len() as u64);
    // One login per session: 3 downloads a day + one per range (20 orders).
    let ranges: u64 = expected.len().div_ceil(20) as u64 + 3;
    assert!(
        logins <= 6 + ranges + 2,
        "logins {logins} for {reports} reports"
    );
    assert!(
        logins * 3 < reports,
        "logins {logins} for {reports} reports"
    );

    // Each download and each range had a session of its own.
    assert!(
        p.sessions.created() as u64 >= ranges,
        "{} sessions for {ranges} downloads and ranges",
        p.sessions.created()
    );
    assert!(
        p.sessions.max() <= 2,
        "{} WebDriver sessions at once with MAX_ACTIVE_SELENIUM=2",
        p.sessions.max()
    );
    assert_eq!(
        p.sessions.max(),
        2,
        "three users' jobs ran on both browser places"
    );
    let left = p.sessions.wait_none_live(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "WebDriver sessions left: {left:?}");
    assert_eq!(p.sessions.deleted(), p.sessions.created());
    let left = p.wait_no_browsers(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "browser processes left: {left:?}");
}
