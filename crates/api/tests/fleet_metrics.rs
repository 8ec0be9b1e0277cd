//! The fleet gauges the alert rules read (deploy/prometheus/rules,
//! docs/monitoring.md): each computed from a real PostgreSQL and Redis, and
//! the scrape that still answers, quickly, with a dependency down. A test
//! binary of its own: the metrics recorder is per process, so no other
//! test's scrape overwrites the values this one reads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

#[path = "it/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::fleet_metrics::{self, ScheduleLag};
use reporter_core::jobs::{queue_name, JobQueues, ProcessSlot};
use reporter_core::schedule::CatchUp;
use reporter_core::schema::{reporter_reservations, reporter_runs};
use reqwest::Method;
use serde_json::json;

use helpers::*;

fn bogota() -> chrono_tz::Tz {
    "America/Bogota".parse().unwrap()
}

fn at(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    bogota()
        .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn insert_run(app: &TestApp, hour: i32, scheduled_at: DateTime<Utc>, finished: bool) {
    diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(app.slot_id(hour)),
            reporter_runs::scheduled_at.eq(scheduled_at),
            reporter_runs::started_at.eq(Some(scheduled_at + Duration::seconds(5))),
            reporter_runs::finished_at.eq(finished.then(|| scheduled_at + Duration::minutes(20))),
            reporter_runs::status.eq(if finished { "completed" } else { "running" }),
            reporter_runs::business_date
                .eq(Some(scheduled_at.with_timezone(&bogota()).date_naive())),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

#[tokio::test]
async fn runs_unfinished_past_their_hour_are_counted() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let count = || fleet_metrics::runs_unfinished_past_hour(&mut app.conn(), now).unwrap();
    assert_eq!(count(), 0);
    // open, its hour ended two hours ago: counted
    insert_run(&app, 8, now - Duration::hours(3), false);
    // finished: not counted, however old
    insert_run(&app, 9, now - Duration::hours(5), true);
    // open but still inside its hour: not counted
    insert_run(&app, 10, now - Duration::minutes(40), false);
    assert_eq!(count(), 1);
}

#[tokio::test]
async fn the_schedule_lag_is_the_reconcilers_plan() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let tz = bogota();
    let today = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    let lag =
        |now| fleet_metrics::schedule_lag(&mut app.conn(), now, tz, CatchUp::RestOfDay).unwrap();
    assert_eq!(
        lag(at(today, 10, 20)),
        ScheduleLag::default(),
        "no reservation: nothing owed"
    );

    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(9), "monthly_orders_estimate": 100})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    diesel::update(reporter_reservations::table)
        .set(reporter_reservations::slot_assigned_at.eq(at(today - Duration::days(20), 12, 0)))
        .execute(&mut app.conn())
        .unwrap();
    // 09:00 of the 7 days looked back fell out of the catch-up window
    // unrecorded (beat down) and today's is 80 minutes late: all overdue.
    assert_eq!(lag(at(today, 10, 20)), ScheduleLag { due: 1, overdue: 8 });
    for d in 1..=7 {
        insert_run(&app, 9, at(today - Duration::days(d), 9, 0), true);
    }
    assert_eq!(lag(at(today, 10, 20)), ScheduleLag { due: 1, overdue: 1 });
    // ten minutes into the hour it is due, not yet late
    assert_eq!(lag(at(today, 9, 10)), ScheduleLag { due: 1, overdue: 0 });
    insert_run(&app, 9, at(today, 9, 0), false);
    assert_eq!(lag(at(today, 10, 20)), ScheduleLag::default());
}

/// A ULID string whose time part is `ms` (what apalis-redis ids are).
fn ulid_at(ms: i64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut time = String::new();
    for i in (0..10).rev() {
        time.push(ALPHABET[((ms >> (5 * i)) & 31) as usize] as char);
    }
    time + "0000000000000000"
}

#[tokio::test]
async fn the_oldest_due_job_is_aged_from_the_queue_keys() {
    let app = TestApp::spawn().await;
    let mut conn = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let now = Utc::now();
    let ages =
        |v: Vec<(&'static str, f64)>| -> Vec<f64> { v.into_iter().map(|(_, a)| a).collect() };
    let empty = fleet_metrics::oldest_job_ages(&mut conn, &app.prefix, now)
        .await
        .unwrap();
    assert_eq!(
        empty.iter().map(|(q, _)| *q).collect::<Vec<_>>(),
        [
            "process-slot",
            "download-compare",
            "report-range",
            "shadow-slot",
            "portal-check"
        ]
    );
    assert_eq!(ages(empty), [0.0, 0.0, 0.0, 0.0, 0.0]);

    // A real push is due at once: a few seconds old at most.
    JobQueues::new(conn.clone(), &app.prefix, 1)
        .push(ProcessSlot::new(now - Duration::hours(1)))
        .await
        .unwrap();
    let pushed = fleet_metrics::oldest_job_ages(&mut conn, &app.prefix, Utc::now())
        .await
        .unwrap();
    assert!(pushed[0].1 < 5.0, "{pushed:?}");

    // Due 1000 s ago in the scheduled set; a job moved to the active list,
    // pushed 600 s ago; a retry due in the future does not count.
    let dc = queue_name(&app.prefix, "download-compare");
    let rr = queue_name(&app.prefix, "report-range");
    let secs = now.timestamp();
    redis::pipe()
        .cmd("ZADD")
        .arg(format!("{dc}:scheduled"))
        .arg(secs - 1000)
        .arg("old")
        .cmd("ZADD")
        .arg(format!("{dc}:scheduled"))
        .arg(secs + 600)
        .arg("later")
        .cmd("RPUSH")
        .arg(format!("{rr}:active"))
        .arg(ulid_at(now.timestamp_millis() - 600_000))
        .cmd("ZADD")
        .arg(format!("{rr}:scheduled"))
        .arg(secs + 600)
        .arg("later")
        .exec_async(&mut conn)
        .await
        .unwrap();
    let got = ages(
        fleet_metrics::oldest_job_ages(&mut conn, &app.prefix, now)
            .await
            .unwrap(),
    );
    assert!((got[1] - 1000.0).abs() < 1.0, "{got:?}");
    assert!((got[2] - 600.0).abs() < 1.0, "{got:?}");
}

fn gauge(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn metrics_export_the_fleet_gauges_and_answer_quickly_with_redis_down() {
    let app = TestApp::spawn().await;
    insert_run(&app, 8, Utc::now() - Duration::hours(3), false);
    let body = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (series, want) in [
        ("reporter_dependency_up{dependency=\"database\"}", Some(1.0)),
        ("reporter_dependency_up{dependency=\"redis\"}", Some(1.0)),
        ("reporter_runs_unfinished_past_hour", Some(1.0)),
        ("reporter_schedule_hours_overdue", Some(0.0)),
        ("reporter_schedule_hours_due", Some(0.0)),
        (
            "reporter_queue_oldest_job_age_seconds{queue=\"report-range\"}",
            Some(0.0),
        ),
        ("reporter_browser_lease_oldest_seconds", Some(0.0)),
        ("reporter_browser_leases_limit", Some(6.0)),
    ] {
        assert_eq!(gauge(&body, series), want, "{series} in:\n{body}");
    }

    // Nothing listens on this port: Redis is down for this API.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = TestApp::spawn_with(&[("REDIS_URL", &format!("redis://127.0.0.1:{closed}"))]).await;
    let started = Instant::now();
    let res = down.http.get(down.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(
        started.elapsed() < StdDuration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        gauge(&body, "reporter_dependency_up{dependency=\"redis\"}"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        gauge(&body, "reporter_dependency_up{dependency=\"database\"}"),
        Some(1.0),
        "{body}"
    );
}
