use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{d, stuck_between, BrowserPipeline, Options};

fn signal(pid: u32, sig: &str) {
    assert!(test_support::signal(pid, sig), "kill -{sig} {pid}");
}

/// Log lines without terminal colours.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The WebDriver sessions a worker logged in with.
fn sessions_of(log: &str) -> BTreeSet<String> {
    plain(log)
        .lines()
        .filter(|l| l.contains("logged in to the portal"))
        .filter_map(|l| l.split("session=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|s| s.trim_matches('"').to_string())
        .collect()
}

/// A worker paused (SIGSTOP) in the middle of a range for longer than its
/// browser lease, then resumed, while another worker reaps its browser and
/// takes its range over: once resumed, the paused worker sends no command to
/// its browser (at the proxy in front of chromedriver, nothing but the
/// cleanup DELETE of its own, already reaped, session), the run completes
/// and no order is reported twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_resumed_after_its_lease_expired_makes_no_webdriver_call() {
    let mut p = BrowserPipeline::new(Options {
        accounts: 1,
        orders: 200,
        workers: 1,
        max_active: 2,
        extra_env: vec![("REPORTER_RANGE_SIZE", "15".into())],
        ..Options::default()
    })
    .await;
    let (d1, d2) = (d("2026-03-02"), d("2026-03-03"));
    let day1 = p.baseline_day(d1).await;
    p.sim_post("/_sim/advance-day", json!({})).await;
    let day2 = p.truth().await;
    // Slow pages: the pause lands in the middle of a range.
    p.sim_post("/_sim/faults", json!({ "latency_ms": 150 }))
        .await;
    p.trigger(d2).await;
    let start = Instant::now();
    while p.stats().await["reports"].as_u64().unwrap() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no reports; {}",
            p.logs_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let paused = p.workers[0].id();
    signal(paused, "STOP");
    let paused_at = Instant::now();
    p.start_worker();
    // Past the lease (5 s) and long enough for the other worker to reap the
    // paused one's browsers and go on with its range.
    let reports_at_pause = p.stats().await["reports"].as_u64().unwrap();
    loop {
        let now = p.stats().await["reports"].as_u64().unwrap();
        if now > reports_at_pause + 2 && paused_at.elapsed() > Duration::from_secs(8) {
            break;
        }
        assert!(
            paused_at.elapsed() < Duration::from_secs(120),
            "nobody took the paused worker's work over; {}",
            p.logs_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sessions = sessions_of(&p.worker_log(0));
    assert!(!sessions.is_empty(), "{}", p.logs_tail());
    let resumed_at = Instant::now();
    signal(paused, "CONT");
    let status = p.wait_finished(d2, Duration::from_secs(240)).await;
    assert_eq!(status, "completed", "{}", p.logs_tail());
    // The resumed worker's job has ended once it says why; whatever it
    // would have sent its browser it has sent by then.
    let start = Instant::now();
    while !plain(&p.worker_log(0)).contains("browser lease lost") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the resumed worker did not notice its lease was gone:\n{}",
            p.logs_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &sessions {
        let driven: Vec<String> = p
            .sessions
            .commands_on(id, resumed_at)
            .into_iter()
            .filter(|c| !c.starts_with("DELETE "))
            .collect();
        assert!(
            driven.is_empty(),
            "the resumed worker drove its browser {id}: {driven:?}\n{}",
            p.logs_tail()
        );
    }
    let expected = stuck_between(&day1, &day2, &[p.emails[0].as_str()]);
    let reported = p.reports().await;
    let set: BTreeSet<(String, i64)> = reported.iter().cloned().collect();
    assert_eq!(reported.len(), set.len(), "an order reported twice");
    assert_eq!(set, expected);
    assert_eq!(p.stats().await["duplicate_reports"], 0);
}
