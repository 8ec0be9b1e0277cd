//! The real `reporter-beat` binary on the real clock. Beat reconciles at
//! start and every minute, so the test picks a time zone in which it is now
//! the reserved hour (`HOUR`, 09:xx) and lets the beats find it due.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Timelike, Utc};
use diesel::prelude::*;
use reporter_core::schema::{reporter_reservations, reporter_runs, reporter_schedule_state};

use crate::harness::*;
use test_support::private_services::PrivateRedis;

/// A fixed-offset zone in which the current UTC hour is local `HOUR`
/// (`Etc/GMT-5` is UTC+5: the sign is inverted), and the `HOUR` instant of
/// today in it. Waits out the last two minutes of an hour so the test does
/// not straddle one.
async fn zone_where_it_is_now_the_reserved_hour() -> (String, DateTime<Utc>) {
    while Utc::now().minute() >= 58 {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let now = Utc::now();
    let mut offset = (HOUR as i32 - now.hour() as i32).rem_euclid(24);
    if offset > 14 {
        offset -= 24;
    }
    let name = match offset {
        0 => "Etc/GMT".to_string(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    let tz: chrono_tz::Tz = name.parse().unwrap();
    let local = now.with_timezone(&tz);
    assert_eq!(local.hour(), HOUR);
    let at = tz
        .from_local_datetime(&local.date_naive().and_hms_opt(HOUR, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    (name, at)
}

/// The harness's reservations were made just now, after today's `HOUR`
/// instant, so today's scheduled run would not owe them (they wait for
/// tomorrow); these tests want them owed today.
fn reserved_long_ago(p: &Pipeline) {
    diesel::update(reporter_reservations::table)
        .set(reporter_reservations::slot_assigned_at.eq(Utc::now() - chrono::Duration::days(2)))
        .execute(&mut p.db.connect())
        .unwrap();
}

fn runs(p: &Pipeline) -> Vec<(DateTime<Utc>, String)> {
    reporter_runs::table
        .select((reporter_runs::scheduled_at, reporter_runs::origin))
        .load(&mut p.db.connect())
        .unwrap()
}

fn spawn_beat(p: &Pipeline) -> Child {
    p.command(&bin("reporter-beat"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_for_a_run(p: &Pipeline, limit: Duration) {
    let start = Instant::now();
    while runs(p).is_empty() {
        assert!(start.elapsed() < limit, "no run created within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_beats_one_killed_and_a_manual_trigger_for_the_same_hour_make_exactly_one_run() {
    let (zone, at) = zone_where_it_is_now_the_reserved_hour().await;
    let mut p = Pipeline::new(&[(120, 3, true)], &[("REPORTER_TIMEZONE", zone.as_str())]).await;
    reserved_long_ago(&p);
    p.start_worker();
    let mut doomed = spawn_beat(&p);
    let mut beats = vec![spawn_beat(&p), spawn_beat(&p)];
    let out = p
        .command(&bin("reporterctl"))
        .args(["trigger-slot", "--hour", &HOUR.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SIGKILL one beat while the others reconcile.
    let _ = doomed.kill();
    let _ = doomed.wait();
    wait_for_a_run(&p, Duration::from_secs(30)).await;
    // Give duplicates every chance to appear: every beat has reconciled at
    // start, and a restarted one reconciles again at once.
    beats.push(spawn_beat(&p));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = runs(&p);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].0, at);
    for b in &mut beats {
        let _ = b.kill();
        let _ = b.wait();
    }
    // The beats recorded their reconcile where health and console read it.
    let last: Option<DateTime<Utc>> = reporter_schedule_state::table
        .select(reporter_schedule_state::last_reconcile_at)
        .first(&mut p.db.connect())
        .unwrap();
    let last = last.expect("a real-time reconcile was recorded");
    assert!((Utc::now() - last).num_seconds() < 120, "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_beat_started_while_redis_is_down_enqueues_the_hour_once_redis_is_back() {
    let (zone, at) = zone_where_it_is_now_the_reserved_hour().await;
    let mut redis = PrivateRedis::start();
    let mut p = Pipeline::with_redis(
        &[(120, 3, true)],
        &[("REPORTER_TIMEZONE", zone.as_str())],
        &redis.url(),
    )
    .await;
    reserved_long_ago(&p);
    redis.stop();
    let mut beat = spawn_beat(&p);
    // Beat's first reconcile finds the hour due, cannot push it and says so.
    let start = Instant::now();
    loop {
        let failed: Option<String> = reporter_schedule_state::table
            .select(reporter_schedule_state::last_error)
            .first(&mut p.db.connect())
            .unwrap();
        if failed.is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "beat never tried to push"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(runs(&p).is_empty());
    redis.spawn();
    p.start_worker();
    // Beat reconciles every minute: the hour is pushed at the next one.
    wait_for_a_run(&p, Duration::from_secs(90)).await;
    let all = runs(&p);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!((all[0].0, all[0].1.as_str()), (at, "schedule"));
    let _ = beat.kill();
    let _ = beat.wait();
}
