//! The browser semaphore against a real Redis (`TEST_REDIS_URL`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{
    connect, delete_prefix, eventually, redis_time_ms, unique_prefix, until_redis_time_passes,
};
use reporter_core::browser_semaphore::{BrowserSemaphore, Holder, LeaseInfo, SemaphoreError};
use tokio::task::JoinSet;

/// Bounds broken tests only; never a speed expectation.
const PATIENCE: Duration = Duration::from_secs(60);

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_is_never_exceeded_across_connections() {
    const LIMIT: usize = 3;
    const TASKS: usize = 40;
    let prefix = unique_prefix();
    let conns = [connect().await, connect().await, connect().await];
    let live = Arc::new(AtomicUsize::new(0));
    let max_live = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));

    let mut tasks = JoinSet::new();
    for i in 0..TASKS {
        let mut sem = BrowserSemaphore::new(
            conns[i % conns.len()].clone(),
            &prefix,
            LIMIT as u32,
            Duration::from_secs(30),
        );
        // Half the waiters are woken on release, half only poll.
        if i % 2 == 0 {
            sem = sem.with_wakeups(redis::Client::open(common::redis_url()).unwrap());
        }
        let (live, max_live, done) = (live.clone(), max_live.clone(), done.clone());
        tasks.spawn(async move {
            let holder = Holder::new(format!("worker-{}", i % 3), format!("job-{i}"));
            let lease = sem
                .acquire(holder, PATIENCE)
                .await
                .expect("every task gets a place eventually");
            let now_live = live.fetch_add(1, Ordering::SeqCst) + 1;
            max_live.fetch_max(now_live, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(5 + 5 * (i as u64 % 4))).await;
            // Leave the count before freeing the place, so the counter can
            // only over-report what Redis allows.
            live.fetch_sub(1, Ordering::SeqCst);
            assert!(sem.release(lease).await.unwrap(), "lease was still live");
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
    }

    let max = max_live.load(Ordering::SeqCst);
    assert!((1..=LIMIT).contains(&max), "max concurrent holders {max}");
    assert_eq!(done.load(Ordering::SeqCst), TASKS);
    let sem = BrowserSemaphore::new(
        conns[0].clone(),
        &prefix,
        LIMIT as u32,
        Duration::from_secs(30),
    );
    assert_eq!(sem.in_use().await.unwrap(), 0);
    delete_prefix(&conns[0], &prefix).await;
}

#[tokio::test]
async fn acquire_times_out_when_full_and_succeeds_after_release() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, Duration::from_secs(30));
    let first = sem
        .acquire(Holder::new("w1", "j1"), PATIENCE)
        .await
        .unwrap();

    let wait = Duration::from_millis(300);
    match sem.acquire(Holder::new("w2", "j2"), wait).await {
        Err(SemaphoreError::Timeout { waited }) => {
            assert!(waited >= wait, "gave up early: {waited:?}")
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(sem
        .try_acquire(&Holder::new("w2", "j2"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(sem.in_use().await.unwrap(), 1);

    assert!(sem.release(first).await.unwrap());
    let second = sem
        .acquire(Holder::new("w2", "j2"), PATIENCE)
        .await
        .unwrap();
    assert!(sem.is_held(&second).await.unwrap());
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_wakes_a_waiter_before_its_next_poll() {
    let prefix = unique_prefix();
    let conn = connect().await;
    // A poll interval longer than the test's patience: only the release's
    // wake-up can get the waiter its place in time.
    let hour = Duration::from_secs(3600);
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, Duration::from_secs(30))
        .with_poll_interval(hour, hour)
        .with_wakeups(redis::Client::open(common::redis_url()).unwrap());
    let first = sem
        .acquire(Holder::new("w1", "j1"), PATIENCE)
        .await
        .unwrap();
    let waiter = {
        let sem = sem.clone();
        tokio::spawn(async move { sem.acquire(Holder::new("w2", "j2"), 2 * hour).await })
    };
    // Let the waiter find the place taken and block (a token pushed before
    // it blocks waits for it in the list, so this is not a race).
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished());
    assert!(sem.release(first).await.unwrap());
    let second = tokio::time::timeout(PATIENCE, waiter)
        .await
        .expect("the release woke the waiter")
        .unwrap()
        .unwrap();
    assert!(sem.is_held(&second).await.unwrap());
    assert_eq!(sem.in_use().await.unwrap(), 1);
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn holders_lists_live_leases_for_operators() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 2, Duration::from_secs(30));
    let a = sem
        .acquire(Holder::new("worker-a", "job-a"), PATIENCE)
        .await
        .unwrap();
    let b = sem
        .acquire(Holder::new("worker-b", "job-b"), PATIENCE)
        .await
        .unwrap();
    assert!(sem.set_webdriver_session(&a, "session-a").await.unwrap());

    let mut holders = sem.holders().await.unwrap();
    holders.sort_by(|x, y| x.worker.cmp(&y.worker));
    assert_eq!(holders.len(), 2);
    let expected_a = LeaseInfo {
        lease_id: a.id().to_string(),
        worker: "worker-a".into(),
        job: "job-a".into(),
        since: holders[0].since,
        expires_at: a.expires_at(),
        webdriver_session: Some("session-a".into()),
        browser_tag: None,
    };
    assert_eq!(holders[0], expected_a);
    assert_eq!(
        (
            holders[1].lease_id.as_str(),
            holders[1].webdriver_session.as_deref()
        ),
        (b.id(), None)
    );
    assert_eq!(
        holders[0].since.timestamp_millis(),
        a.since().timestamp_millis()
    );

    sem.reset().await.unwrap();
    assert_eq!(sem.in_use().await.unwrap(), 0);
    assert!(sem.holders().await.unwrap().is_empty());
    assert!(!sem.renew(&a).await.unwrap(), "reset forgets every lease");
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn unrenewed_lease_expires_and_its_session_is_reaped_once() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, Duration::from_secs(1));
    let dead = sem
        .acquire(Holder::new("dead-worker", "dead-job"), PATIENCE)
        .await
        .unwrap();
    assert!(sem
        .set_webdriver_session(&dead, "session-dead")
        .await
        .unwrap());

    // The only place comes back once the lease expires; this acquire purges it.
    let next = sem
        .acquire(Holder::new("next-worker", "next-job"), PATIENCE)
        .await
        .unwrap();
    assert!(
        !sem.renew(&dead).await.unwrap(),
        "an expired lease must not be renewed"
    );
    assert!(!sem.is_held(&dead).await.unwrap());
    assert!(!sem.set_webdriver_session(&dead, "late").await.unwrap());
    assert!(!sem.release(dead.clone()).await.unwrap());
    assert!(
        sem.is_held(&next).await.unwrap(),
        "a stale release must not free someone else's place"
    );

    let reaped = sem.reap_expired().await.unwrap();
    assert_eq!(reaped.len(), 1, "{reaped:?}");
    assert_eq!(reaped[0].lease_id, dead.id());
    assert_eq!(reaped[0].worker, "dead-worker");
    assert_eq!(reaped[0].job, "dead-job");
    assert_eq!(reaped[0].webdriver_session.as_deref(), Some("session-dead"));
    assert!(
        sem.reap_expired().await.unwrap().is_empty(),
        "each reaped session is handed out once"
    );
    delete_prefix(&conn, &prefix).await;
}

/// A holder killed while its browser starts has recorded only the browser
/// tag: reaping its lease keeps the tag in the orphan set (for any reaper to
/// sweep, as often as needed) until it is forgotten; a lease whose session id
/// is known is not an orphan, and setting one field keeps the others.
#[tokio::test]
async fn a_tag_without_a_session_becomes_an_orphan_until_forgotten() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 3, Duration::from_secs(1));
    let starting = sem
        .acquire(Holder::new("dead", "starting"), PATIENCE)
        .await
        .unwrap();
    let started = sem
        .acquire(Holder::new("dead", "started"), PATIENCE)
        .await
        .unwrap();
    let untagged = sem
        .acquire(Holder::new("dead", "untagged"), PATIENCE)
        .await
        .unwrap();
    assert!(sem
        .set_browser_tag(&starting, "/tmp/reporter-chrome-1")
        .await
        .unwrap());
    assert!(sem
        .set_browser_tag(&started, "/tmp/reporter-chrome-2")
        .await
        .unwrap());
    assert!(sem
        .set_webdriver_session(&started, "session-2")
        .await
        .unwrap());
    let mut holders = sem.holders().await.unwrap();
    holders.sort_by(|a, b| a.job.cmp(&b.job));
    let fields = |h: &LeaseInfo| {
        (
            h.job.clone(),
            h.browser_tag.clone(),
            h.webdriver_session.clone(),
        )
    };
    let expected = [
        ("started", Some("/tmp/reporter-chrome-2"), Some("session-2")),
        ("starting", Some("/tmp/reporter-chrome-1"), None),
        ("untagged", None, None),
    ]
    .map(|(j, t, s)| (j.to_string(), t.map(String::from), s.map(String::from)));
    assert_eq!(holders.iter().map(fields).collect::<Vec<_>>(), expected);
    assert_eq!(
        holders[0].since.timestamp_millis(),
        started.since().timestamp_millis(),
        "a field update keeps the rest of the record"
    );
    assert!(sem.orphan_browser_tags().await.unwrap().is_empty());

    let last_expiry = [&starting, &started, &untagged]
        .iter()
        .map(|l| l.expires_at().timestamp_millis())
        .max()
        .unwrap();
    until_redis_time_passes(&conn, last_expiry).await;
    assert!(
        !sem.set_browser_tag(&starting, "late").await.unwrap(),
        "an expired lease takes no tag"
    );
    let mut reaped = sem.reap_expired().await.unwrap();
    reaped.sort_by(|a, b| a.job.cmp(&b.job));
    assert_eq!(reaped.iter().map(fields).collect::<Vec<_>>(), expected);

    let orphans = vec!["/tmp/reporter-chrome-1".to_string()];
    assert_eq!(sem.orphan_browser_tags().await.unwrap(), orphans);
    assert!(sem.reap_expired().await.unwrap().is_empty());
    assert_eq!(
        sem.orphan_browser_tags().await.unwrap(),
        orphans,
        "an orphan tag stays until it is forgotten"
    );
    sem.forget_orphan_browser_tags(&orphans).await.unwrap();
    assert!(sem.orphan_browser_tags().await.unwrap().is_empty());

    // A tag kept past its time is dropped.
    let now = redis_time_ms(&conn).await;
    redis::cmd("ZADD")
        .arg(format!("{prefix}:semaphore:orphans"))
        .arg(now - 1)
        .arg("/tmp/reporter-chrome-stale")
        .exec_async(&mut conn.clone())
        .await
        .unwrap();
    assert!(sem.orphan_browser_tags().await.unwrap().is_empty());
    delete_prefix(&conn, &prefix).await;
}

/// Holder records written before a field existed still parse.
#[tokio::test]
async fn holder_records_of_older_versions_parse() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 2, Duration::from_secs(30));
    let expires = redis_time_ms(&conn).await + 30_000;
    for (id, record) in [
        (
            "old-1",
            r#"{"worker":"w","job":"j1","since":"2026-01-01T00:00:00Z","webdriver_session":"s1"}"#,
        ),
        (
            "old-2",
            r#"{"worker":"w","job":"j2","since":"2026-01-01T00:00:00Z"}"#,
        ),
    ] {
        redis::pipe()
            .cmd("ZADD")
            .arg(format!("{prefix}:semaphore:leases"))
            .arg(expires)
            .arg(id)
            .cmd("HSET")
            .arg(format!("{prefix}:semaphore:holders"))
            .arg(id)
            .arg(record)
            .exec_async(&mut conn.clone())
            .await
            .unwrap();
    }
    let mut holders = sem.holders().await.unwrap();
    holders.sort_by(|a, b| a.job.cmp(&b.job));
    let got: Vec<_> = holders
        .iter()
        .map(|h| {
            (
                h.lease_id.as_str(),
                h.webdriver_session.as_deref(),
                h.browser_tag.as_deref(),
            )
        })
        .collect();
    assert_eq!(got, [("old-1", Some("s1"), None), ("old-2", None, None)]);
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn reap_expired_purges_by_itself() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 2, Duration::from_secs(1));
    let with_session = sem
        .acquire(Holder::new("w", "with"), PATIENCE)
        .await
        .unwrap();
    let without = sem
        .acquire(Holder::new("w", "without"), PATIENCE)
        .await
        .unwrap();
    assert!(sem
        .set_webdriver_session(&with_session, "session-1")
        .await
        .unwrap());

    let mut reaped: Vec<LeaseInfo> = Vec::new();
    let deadline = std::time::Instant::now() + PATIENCE;
    while reaped.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "leases never reaped: {reaped:?}"
        );
        reaped.extend(sem.reap_expired().await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reaped.sort_by(|a, b| a.job.cmp(&b.job));
    let ids: Vec<&str> = reaped.iter().map(|r| r.lease_id.as_str()).collect();
    assert_eq!(
        ids,
        [with_session.id(), without.id()],
        "each expired lease reaped exactly once"
    );
    assert_eq!(reaped[0].webdriver_session.as_deref(), Some("session-1"));
    assert_eq!(reaped[1].webdriver_session, None);
    assert_eq!(sem.in_use().await.unwrap(), 0);
    assert!(sem.reap_expired().await.unwrap().is_empty());
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_keeps_lease_beyond_its_ttl() {
    let prefix = unique_prefix();
    let conn = connect().await;
    // Renewals every second leave two seconds of slack for a busy machine.
    let ttl = Duration::from_secs(3);
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, ttl);
    let held = sem
        .acquire_held(Holder::new("w", "long-job"), PATIENCE)
        .await
        .unwrap();
    let first_expiry = held.lease().expires_at().timestamp_millis();

    until_redis_time_passes(&conn, first_expiry + ttl_ms(ttl)).await;

    assert!(!held.is_lost());
    held.ensure_held().unwrap();
    assert!(sem.is_held(held.lease()).await.unwrap());
    let holders = sem.holders().await.unwrap();
    assert!(
        holders[0].expires_at.timestamp_millis() > first_expiry,
        "{holders:?}"
    );
    assert!(sem
        .try_acquire(&Holder::new("w2", "j2"))
        .await
        .unwrap()
        .is_none());
    assert!(held.release().await.unwrap());
    assert_eq!(sem.in_use().await.unwrap(), 0);
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn heartbeat_marks_lease_lost_when_renewal_is_refused() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, Duration::from_secs(1));
    let held = sem
        .acquire_held(Holder::new("w", "j"), PATIENCE)
        .await
        .unwrap();
    let mut signal = held.lost_signal();
    assert!(!*signal.borrow());

    sem.reset().await.unwrap();

    tokio::time::timeout(PATIENCE, held.lost())
        .await
        .expect("keeper notices the lost lease");
    assert!(held.is_lost());
    assert!(*signal.borrow_and_update());
    assert!(matches!(
        held.ensure_held(),
        Err(SemaphoreError::LeaseLost { .. })
    ));
    assert!(!held.release().await.unwrap());
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn dropping_a_held_lease_frees_its_place() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, 1, Duration::from_secs(30));
    drop(
        sem.acquire_held(Holder::new("w", "j"), PATIENCE)
            .await
            .unwrap(),
    );
    // Well under the 30 s TTL, so the place can only come back through the drop.
    let wait = Duration::from_secs(20);
    sem.acquire(Holder::new("w", "next"), wait)
        .await
        .expect("drop released the lease");
    delete_prefix(&conn, &prefix).await;
}

/// A Redis of our own that the test can take away from under a holder.
struct DisposableRedis(Child);

impl DisposableRedis {
    fn start() -> Option<(Self, String)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        Some((DisposableRedis(child), format!("redis://127.0.0.1:{port}")))
    }
}

impl Drop for DisposableRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn heartbeat_marks_lease_lost_when_redis_stays_unreachable() {
    // scripts/test.sh installs redis-server: without it this case would
    // pass without testing anything.
    let Some((mut redis, url)) = DisposableRedis::start() else {
        panic!("redis-server is not on PATH: install redis-server (scripts/test.sh does)");
    };
    let conn = eventually(PATIENCE, "the disposable redis-server", || async {
        reporter_core::redis_conn::connect(&url).await.ok()
    })
    .await;
    let sem = BrowserSemaphore::new(conn, "test:unreachable", 1, Duration::from_secs(1));
    let held = sem
        .acquire_held(Holder::new("w", "j"), PATIENCE)
        .await
        .unwrap();

    redis.0.kill().unwrap();
    redis.0.wait().unwrap();

    tokio::time::timeout(PATIENCE, held.lost())
        .await
        .expect("keeper gives up once the lease would have expired");
    assert!(held.is_lost());
}

const CHILD_ENV: &str = "REPORTER_TEST_HOLD_LEASE_PREFIX";
const DRILL_LIMIT: u32 = 2;
const DRILL_TTL: Duration = Duration::from_secs(3);

/// Runs only inside the process that `sigkill_drill` starts: holds a lease
/// with a live heartbeat until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process for sigkill_drill"]
async fn hold_lease_child() {
    let Ok(prefix) = std::env::var(CHILD_ENV) else {
        return;
    };
    let sem = BrowserSemaphore::new(connect().await, &prefix, DRILL_LIMIT, DRILL_TTL);
    let held = sem
        .acquire_held(Holder::new("drill-child", "drill-job"), PATIENCE)
        .await
        .unwrap();
    assert!(held.set_webdriver_session("drill-session").await.unwrap());
    println!("HELD {}", held.id());
    held.lost().await;
    panic!("the drill child lost its lease while alive");
}

/// Kills the child on every exit path of the test.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_lease_holder(prefix: &str) -> (ChildGuard, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "hold_lease_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, prefix)
        .env("TEST_REDIS_URL", common::redis_url())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = ChildGuard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest prints "test hold_lease_child ... " on the same line first.
            if let Some((_, id)) = line.split_once("HELD ") {
                let _ = tx.send(id.trim().to_string());
            }
        }
    });
    let lease_id = rx.recv_timeout(PATIENCE).expect("child reports its lease");
    (guard, lease_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_drill() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let sem = BrowserSemaphore::new(conn.clone(), &prefix, DRILL_LIMIT, DRILL_TTL);
    let (mut child, child_lease) = spawn_lease_holder(&prefix);

    let holders = sem.holders().await.unwrap();
    let entry = holders
        .iter()
        .find(|h| h.lease_id == child_lease)
        .expect("child's lease is listed");
    assert_eq!(
        (entry.worker.as_str(), entry.webdriver_session.as_deref()),
        ("drill-child", Some("drill-session"))
    );
    let first_expiry = entry.expires_at.timestamp_millis();

    // Alive, its heartbeat keeps the lease well past the first expiry.
    until_redis_time_passes(&conn, first_expiry + ttl_ms(DRILL_TTL)).await;
    let holders = sem.holders().await.unwrap();
    let entry = holders
        .iter()
        .find(|h| h.lease_id == child_lease)
        .expect("renewed lease still listed");
    assert!(entry.expires_at.timestamp_millis() > first_expiry + ttl_ms(DRILL_TTL));
    assert_eq!(sem.in_use().await.unwrap(), 1);

    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    let killed_at = redis_time_ms(&conn).await;

    // Full capacity comes back with no operator action. Held, because the
    // first place must outlive the wait for the second.
    let mut leases = Vec::new();
    for job in ["after-kill-1", "after-kill-2"] {
        leases.push(
            sem.acquire_held(Holder::new("drill-parent", job), DRILL_TTL + PATIENCE)
                .await
                .unwrap(),
        );
    }
    assert_eq!(sem.in_use().await.unwrap(), DRILL_LIMIT);

    let reaped = sem.reap_expired().await.unwrap();
    assert_eq!(reaped.len(), 1, "{reaped:?}");
    assert_eq!(reaped[0].lease_id, child_lease);
    assert_eq!(
        reaped[0].webdriver_session.as_deref(),
        Some("drill-session")
    );
    // On the Redis clock, the place was free again within one TTL of the kill.
    assert!(reaped[0].expires_at.timestamp_millis() <= killed_at + ttl_ms(DRILL_TTL));

    let ids: HashSet<&str> = leases.iter().map(|l| l.id()).collect();
    assert_eq!(ids.len(), 2);
    for lease in leases {
        assert!(lease.release().await.unwrap());
    }
    delete_prefix(&conn, &prefix).await;
}
