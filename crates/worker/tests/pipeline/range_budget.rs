//! A range's retry budget is spent by failures that made no progress, not
//! by takes: kills, pauses and rolling restarts alone never fail a range.
//! And a worker told to stop while it waits for a browser hands its job
//! back without opening one.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use reporter_core::browser_semaphore::{BrowserSemaphore, Holder};
use reporter_core::jobs::{Job, ReportRange};
use reporter_core::models::pipeline;
use reporter_core::schema::{reporter_ranges as ranges, reporter_run_users as ru};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeovers_and_hand_backs_cost_nothing_and_only_failures_without_progress_fail_a_range() {
    let p = Pipeline::new(&[(100, 2, true)], &[]).await;
    let id = p.one_range();
    let mut c = p.db.connect();
    let mut fence = 0;
    let mut take = |c: &mut PgConnection| {
        fence += 1;
        (
            pipeline::take_range(c, id, fence, "w", chrono_tz::America::Bogota)
                .unwrap()
                .expect("taken"),
            fence,
        )
    };
    fn release(
        c: &mut PgConnection,
        t: &pipeline::TakenRange,
        fence: i64,
        error: Option<&str>,
        progressed: bool,
    ) -> &'static str {
        let max = ReportRange::MAX_ATTEMPTS as i32;
        pipeline::release_range(c, t, fence, error, progressed, Utc::now(), max, None)
            .unwrap()
            .expect("our fence")
            .as_str()
    }
    // A transient failure that reported nothing: 1 of 3.
    let (t, f) = take(&mut c);
    assert_eq!(release(&mut c, &t, f, Some("portal 502"), false), "pending");
    // Killed mid-range (no release), taken over, paused past its lease and
    // taken over again, then handed back on SIGTERM: none of it counts.
    take(&mut c);
    take(&mut c);
    let (t, f) = take(&mut c);
    assert_eq!(release(&mut c, &t, f, None, false), "pending");
    // A second failure without progress: 2 of 3.
    let (t, f) = take(&mut c);
    assert_eq!(release(&mut c, &t, f, Some("portal 502"), false), "pending");
    // A failure after reporting some orders ends the streak.
    let (t, f) = take(&mut c);
    assert_eq!(release(&mut c, &t, f, Some("portal 502"), true), "pending");
    // Three failures in a row without progress fail it for good.
    for want in ["pending", "pending", "failed"] {
        let (t, f) = take(&mut c);
        assert_eq!(release(&mut c, &t, f, Some("portal 502"), false), want);
    }
    let (attempts, failures, status): (i32, i32, String) = ranges::table
        .find(id)
        .select((ranges::attempts, ranges::failures, ranges::status))
        .first(&mut c)
        .unwrap();
    assert_eq!((attempts, failures, status.as_str()), (9, 3, "failed"));
    // With a last chance on offer, the spent budget buys exactly one more
    // attempt, due at that instant; the next failure fails it for good.
    pipeline::retry_failed_range(&mut c, id).unwrap().unwrap();
    let chance = Utc::now() + chrono::Duration::seconds(30);
    let mut release_with_chance = |c: &mut PgConnection| {
        let (t, f) = take(c);
        pipeline::release_range(
            c,
            &t,
            f,
            Some("portal 502"),
            false,
            Utc::now(),
            ReportRange::MAX_ATTEMPTS as i32,
            Some(chance),
        )
        .unwrap()
        .expect("our fence")
    };
    for want in ["pending", "pending", "last_chance", "failed"] {
        let released = release_with_chance(&mut c);
        assert_eq!(released.as_str(), want);
        if want == "last_chance" {
            assert_eq!(released, pipeline::Released::LastChance(chance));
            let (status, due, given): (
                String,
                Option<chrono::DateTime<Utc>>,
                Option<chrono::DateTime<Utc>>,
            ) = ranges::table
                .find(id)
                .select((ranges::status, ranges::available_at, ranges::last_chance_at))
                .first(&mut c)
                .unwrap();
            assert_eq!(status, "pending");
            let micros = |t: chrono::DateTime<Utc>| t.timestamp_micros();
            assert_eq!(due.map(micros), Some(micros(chance)));
            assert_eq!(given.map(micros), Some(micros(chance)));
        }
    }
    // An operator retry starts the budget (and the last chance) again.
    pipeline::retry_failed_range(&mut c, id).unwrap().unwrap();
    let failures: i32 = ranges::table
        .find(id)
        .select(ranges::failures)
        .first(&mut c)
        .unwrap();
    assert_eq!(failures, 0);
    let given: Option<chrono::DateTime<Utc>> = ranges::table
        .find(id)
        .select(ranges::last_chance_at)
        .first(&mut c)
        .unwrap();
    assert_eq!(given, None);
}

#[test]
fn the_last_chance_comes_before_the_hour_ends_and_not_long_after_the_retry() {
    let at = |s: &str| s.parse::<chrono::DateTime<Utc>>().unwrap();
    let hour = at("2026-11-03T14:00:00Z");
    // Early in the hour: ten retry delays after the ordinary retry.
    assert_eq!(
        pipeline::last_chance_at(hour, at("2026-11-03T14:10:00Z"), 60),
        at("2026-11-03T14:20:00Z")
    );
    // Late in the hour: ten minutes before it ends.
    assert_eq!(
        pipeline::last_chance_at(hour, at("2026-11-03T14:45:00Z"), 60),
        at("2026-11-03T14:50:00Z")
    );
    // Past that point: no later than the ordinary retry.
    assert_eq!(
        pipeline::last_chance_at(hour, at("2026-11-03T14:58:00Z"), 60),
        at("2026-11-03T14:58:00Z")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_failing_until_its_budget_is_spent_completes_on_its_last_chance() {
    let mut p = Pipeline::new(&[(40, 2, true)], &[("REPORTER_RANGE_SIZE", "100")]).await;
    p.start_worker();
    p.baseline().await;
    // The portal refuses every filing until told otherwise.
    p.fake
        .fail_next("report", "cliente0@portal.test", 100_000)
        .await
        .unwrap();
    let date = d("2026-11-03");
    p.trigger(date).await;
    let given = || -> Option<chrono::DateTime<Utc>> {
        ranges::table
            .select(ranges::last_chance_at)
            .first::<Option<chrono::DateTime<Utc>>>(&mut p.db.connect())
            .ok()
            .flatten()
    };
    let start = Instant::now();
    while given().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the budget was never spent: {}",
            tail(&p.worker_log(0))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The portal recovers before the last chance is due.
    p.fake
        .fail_next("report", "cliente0@portal.test", 0)
        .await
        .unwrap();
    assert_eq!(
        p.wait_finished(date, Duration::from_secs(90)).await,
        "completed",
        "{}",
        tail(&p.worker_log(0))
    );
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[true])
    );
    let (failures, status): (i32, String) = ranges::table
        .select((ranges::failures, ranges::status))
        .first(&mut p.db.connect())
        .unwrap();
    // Completed on the attempt after its budget of 3 was spent.
    assert_eq!((failures, status.as_str()), (3, "completed"));
    assert!(given().is_some());
    assert!(p
        .worker_log(0)
        .contains("one more chance before the hour ends"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_waiting_for_a_browser_exits_without_opening_one() {
    let mut p = Pipeline::new(&[(100, 2, true)], &[("MAX_ACTIVE_SELENIUM", "1")]).await;
    // Every browser place is taken (by the test) for as long as it wants.
    let sem = BrowserSemaphore::new(p.redis.clone(), &p.prefix, 1, Duration::from_secs(4));
    let held = sem
        .acquire_held(
            Holder::new("test", "holds the only place"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    p.fake.set_day(1).await.unwrap();
    let w = p.start_worker();
    let date = d("2026-11-02");
    p.trigger(date).await;
    // The download-compare started (and is waiting for the place).
    let dc_status = || -> Vec<String> {
        ru::table
            .select(ru::download_compare_status)
            .load(&mut p.db.connect())
            .unwrap()
    };
    let start = Instant::now();
    while dc_status() != ["running"] {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the job never started: {}",
            tail(&p.worker_log(w))
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Wherever the job is between starting and its wait for the place,
    // SIGTERM must end it without a browser.
    p.signal(w, "TERM");
    // REPORTER_SELENIUM_SEMAPHORE_TTL (55 minutes) is how long the wait
    // would last without the fix; a minute bounds a broken build only.
    let start = Instant::now();
    let status = loop {
        if let Some(s) = p.workers[w].try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the worker kept waiting for a browser after SIGTERM: {}",
            tail(&p.worker_log(w))
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        p.worker_log(w).contains("job handed back"),
        "{}",
        tail(&p.worker_log(w))
    );
    assert_eq!(
        p.fake.stats().await.unwrap().logins,
        0,
        "no browser was opened"
    );
    assert_eq!(dc_status(), ["pending"], "handed back for another worker");
    // The job went back to the queue: a worker that stays finishes the run.
    held.release().await.unwrap();
    p.start_worker();
    assert_eq!(
        p.wait_finished(date, Duration::from_secs(90)).await,
        "completed"
    );
}
