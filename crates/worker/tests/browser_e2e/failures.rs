use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::harness::{d, stuck_between, BrowserPipeline, Options};

/// A wrong password and a blocked account end those users' part with the
/// Spanish message; the other user is reported as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_blocked_account_fail_only_their_user() {
    let p = BrowserPipeline::new(Options {
        orders: 40,
        ..Options::default()
    })
    .await;
    let (d1, d2) = (d("2026-03-02"), d("2026-03-03"));
    let day1 = p.baseline_day(d1).await;

    // User 2's stored password goes wrong; account 3 gets blocked.
    {
        let settings = p.db.settings(&p.prefix, &[]);
        let mut conn = p.db.connect();
        reporter_core::models::user::set_portal_credentials(
            &mut conn,
            p.user_ids[1],
            &p.emails[1],
            &settings.credentials_cipher().encrypt("clave-equivocada"),
        )
        .unwrap();
    }
    p.sim_post("/_sim/faults", json!({"blocked_accounts": [p.emails[2]]}))
        .await;
    p.sim_post("/_sim/advance-day", json!({})).await;
    let day2 = p.truth().await;
    p.trigger(d2).await;
    assert_eq!(
        p.wait_finished(d2, Duration::from_secs(180)).await,
        "failed",
        "a run with failed users ends failed"
    );

    let users = p.run_users(d2);
    let (s1, _) = &users[&p.user_ids[0]];
    assert_eq!(s1, "completed", "{users:?}");
    let (s2, m2) = &users[&p.user_ids[1]];
    assert_eq!(s2, "failed");
    assert_eq!(m2, "No pudimos entrar al portal: credenciales inválidas");
    let (s3, m3) = &users[&p.user_ids[2]];
    assert_eq!(s3, "failed");
    assert_eq!(m3, "No pudimos entrar al portal: la cuenta está bloqueada");

    let expected = stuck_between(&day1, &day2, &[p.emails[0].as_str()]);
    let reported = p.reports().await;
    let set: BTreeSet<(String, i64)> = reported.iter().cloned().collect();
    assert_eq!(reported.len(), set.len());
    assert_eq!(set, expected, "only the good user is reported");
    let s = p.stats().await;
    assert_eq!(s["duplicate_reports"], 0, "{s}");
    // One try each: permanent failures are not retried.
    assert_eq!(s["failed_logins"], 2, "{s}");
    let left = p.sessions.wait_none_live(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "WebDriver sessions left: {left:?}");
    let left = p.wait_no_browsers(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "browsers left: {left:?}");
}

/// 50 ms latency and 10% of answers 500 on every portal page: the run
/// still completes with every stuck order reported exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_and_error_rate_still_report_every_stuck_order_once() {
    let p = BrowserPipeline::new(Options {
        orders: 40,
        ..Options::default()
    })
    .await;
    p.sim_post("/_sim/faults", json!({"latency_ms": 50, "error_rate": 0.1}))
        .await;
    let (d1, d2) = (d("2026-03-02"), d("2026-03-03"));
    let day1 = p.truth().await;
    p.trigger(d1).await;
    assert_eq!(
        p.wait_finished(d1, Duration::from_secs(180)).await,
        "completed",
        "{}",
        p.logs_tail()
    );
    p.sim_post("/_sim/advance-day", json!({})).await;
    let day2 = p.truth().await;
    p.trigger(d2).await;
    assert_eq!(
        p.wait_finished(d2, Duration::from_secs(300)).await,
        "completed",
        "{}",
        p.logs_tail()
    );
    let accounts: Vec<&str> = p.emails.iter().map(String::as_str).collect();
    let expected = stuck_between(&day1, &day2, &accounts);
    let reported = p.reports().await;
    let set: BTreeSet<(String, i64)> = reported.iter().cloned().collect();
    assert_eq!(reported.len(), set.len(), "an order reported twice");
    assert_eq!(set, expected);
    let s = p.stats().await;
    println!("with faults: stuck {}, stats {s}", expected.len());
    assert_eq!(s["duplicate_reports"], 0, "{s}");
    let left = p.sessions.wait_none_live(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "WebDriver sessions left: {left:?}");
    let left = p.wait_no_browsers(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "browsers left: {left:?}");
}
