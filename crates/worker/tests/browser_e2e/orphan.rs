//! A worker killed while its browser is starting (its `POST /session` still
//! running at chromedriver) never learns the session id. What it left on its
//! lease is the browser's tag, its `--user-data-dir`, recorded before the
//! `POST`. This plays that dead worker by hand, deterministically: a lease
//! that is never renewed, a tag on it, and a session started at chromedriver
//! with that user-data-dir whose id nobody records. The reaper of a real
//! `reporter-worker` process must find the session and delete it, both when
//! the session exists by the time the lease expires and when it appears only
//! after the lease was reaped.

use std::time::{Duration, Instant};

use reporter_core::browser_semaphore::{BrowserSemaphore, Holder};
use reporter_worker::portal::webdriver::CHROME_ARGS;
use serde_json::{json, Value};

use crate::harness::{BrowserPipeline, Options};

/// Bounds a broken test only; never a speed expectation.
const PATIENCE: Duration = Duration::from_secs(90);

/// Starts a Chromium session at chromedriver (through the counting proxy)
/// with `data_dir` as its user-data-dir, the way the adapter does.
async fn start_session(p: &BrowserPipeline, data_dir: &str) -> String {
    let mut args: Vec<String> = CHROME_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={data_dir}"));
    let body = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"args": args},
    }}});
    let answer: Value = p
        .http
        .post(format!("{}/session", p.webdriver_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["value"]["sessionId"].as_str().unwrap().to_string()
}

async fn wait_for(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_whose_worker_died_while_starting_it_is_deleted() {
    let p = BrowserPipeline::new(Options {
        accounts: 1,
        workers: 1,
        max_active: 2,
        ..Options::default()
    })
    .await;
    // The dead worker's view of the semaphore: its leases last 1 s and
    // nobody renews them. The live worker reaps (every 5 s).
    let dead = BrowserSemaphore::new(p.redis.clone(), &p.prefix, 2, Duration::from_secs(1));
    let tag = |n: u32| {
        p.tmp
            .join(format!("reporter-chrome-dead-{n}"))
            .display()
            .to_string()
    };

    // 1. The session exists by the time the lease expires (started first
    // here, so that the order is certain; the reaper sees the same record).
    let first = start_session(&p, &tag(1)).await;
    let lease = dead
        .acquire(Holder::new("dead-worker", "report-range:1"), PATIENCE)
        .await
        .unwrap();
    assert!(dead.set_browser_tag(&lease, &tag(1)).await.unwrap());
    assert_eq!(p.sessions.live(), 1);
    let left = p.sessions.wait_none_live(PATIENCE).await;
    assert!(
        left.is_empty(),
        "session {first} was never deleted: {left:?}"
    );

    // 2. The session appears only after the lease was reaped: the reaper's
    // first look finds nothing, a later sweep must still delete it.
    let lease = dead
        .acquire(Holder::new("dead-worker", "report-range:2"), PATIENCE)
        .await
        .unwrap();
    assert!(dead.set_browser_tag(&lease, &tag(2)).await.unwrap());
    wait_for("the lease to be reaped", async || {
        dead.orphan_browser_tags().await.unwrap().contains(&tag(2))
    })
    .await;
    let second = start_session(&p, &tag(2)).await;
    let left = p.sessions.wait_none_live(PATIENCE).await;
    assert!(
        left.is_empty(),
        "session {second} was never deleted: {left:?}"
    );
    wait_for("the swept tag to be forgotten", async || {
        dead.orphan_browser_tags().await.unwrap().is_empty()
    })
    .await;

    assert_eq!((p.sessions.created(), p.sessions.deleted()), (2, 2));
    let log = p.worker_log(0);
    assert!(
        log.contains("found the session of a browser whose worker died while starting it"),
        "{log}"
    );
    let left = p.wait_no_browsers(Duration::from_secs(30)).await;
    assert!(left.is_empty(), "Chromium processes left: {left:?}");
}
