//! The schedule through the API: the operators' view and levers, the
//! window that cannot be narrowed under reservations, what customers are
//! told about their next and late runs, and beat's freshness in health.

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::schema::{
    reporter_reservations, reporter_run_users, reporter_runs, reporter_schedule_missed_hours,
    reporter_schedule_state,
};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

fn bogota() -> chrono_tz::Tz {
    "America/Bogota".parse().unwrap()
}

/// `user` reserves `hour` (a small customer); the 201 body.
async fn reserve(app: &TestApp, user: &TestUser, hour: i32) -> serde_json::Value {
    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&user.token),
            Some(json!({"slot_id": app.slot_id(hour), "monthly_orders_estimate": 100})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    r
}

#[tokio::test]
async fn schedule_endpoints_are_for_admins_and_reject_bad_input_changing_nothing() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let admin = app.create_user("admin@example.com", 0, true);
    for (m, path) in [
        (Method::GET, "/api/reporter/admin/schedule/"),
        (Method::POST, "/api/reporter/admin/schedule/pause/"),
        (Method::POST, "/api/reporter/admin/schedule/resume/"),
        (Method::POST, "/api/reporter/admin/schedule/backfill/"),
    ] {
        let (s, b) = app.call(m, path, Some(&u.token), Some(json!({}))).await;
        assert_error(s, &b, 403, "forbidden");
    }
    let pause = "/api/reporter/admin/schedule/pause/";
    for (body, code) in [
        (json!({"hour": 24}), "invalid_hour"),
        (json!({"hour": -1}), "invalid_hour"),
        (json!({"until": "2020-01-01T00:00:00Z"}), "invalid_until"),
        (json!({"note": "x".repeat(201)}), "invalid_note"),
    ] {
        let (s, b) = app
            .call(Method::POST, pause, Some(&admin.token), Some(body))
            .await;
        assert_error(s, &b, 400, code);
    }
    let (s, b) = app
        .call(
            Method::POST,
            pause,
            Some(&admin.token),
            Some(json!({"hora": 3})),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    let backfill = "/api/reporter/admin/schedule/backfill/";
    let tomorrow =
        (Utc::now().with_timezone(&bogota()).date_naive() + Duration::days(2)).to_string();
    for (body, code) in [
        (json!({"date": tomorrow, "hour": 9}), "not_in_the_past"),
        (json!({"date": "2026-11-10", "hour": 3}), "outside_window"),
        (json!({"date": "2026-11-10", "hour": 9}), "nothing_owed"),
        (json!({"date": "2026-11-10", "hour": 30}), "invalid_hour"),
    ] {
        let (s, b) = app
            .call(
                Method::POST,
                backfill,
                Some(&admin.token),
                Some(body.clone()),
            )
            .await;
        assert_error(s, &b, 400, code);
        assert!(b["detail"].as_str().unwrap().len() > 10, "{body}: {b}");
    }
    let (s, o) = app
        .call(
            Method::GET,
            "/api/reporter/admin/schedule/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(o["pauses"], json!([]));
    assert_eq!(o["timezone"], "America/Bogota");
    assert_eq!(o["catch_up"], "rest of the business day");
    assert!(o["seconds_since_reconcile"].is_null());
}

#[tokio::test]
async fn an_admin_pauses_and_resumes_an_hour_and_sees_missed_hours() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    let ana = app.create_user("ana@example.com", 0, false);
    reserve(&app, &ana, 10).await;
    let (s, p) = app
        .call(
            Method::POST,
            "/api/reporter/admin/schedule/pause/",
            Some(&admin.token),
            Some(json!({"hour": 10, "note": "portal en mantenimiento"})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["hour"], 10);
    let (_, o) = app
        .call(
            Method::GET,
            "/api/reporter/admin/schedule/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(o["pauses"][0]["note"], "portal en mantenimiento");
    let ten = o["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["hour"] == 10)
        .expect("10:00 is within the next 24 hours")
        .clone();
    assert_eq!(ten["paused"], true);
    assert_eq!(ten["reservations"], 1);

    // A missed hour recorded by beat shows, with no run until backfilled.
    let yesterday = Utc::now().with_timezone(&bogota()).date_naive() - Duration::days(1);
    let at = bogota()
        .from_local_datetime(&yesterday.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    diesel::insert_into(reporter_schedule_missed_hours::table)
        .values((
            reporter_schedule_missed_hours::scheduled_at.eq(at),
            reporter_schedule_missed_hours::business_date.eq(yesterday),
            reporter_schedule_missed_hours::hour.eq(10),
            reporter_schedule_missed_hours::reservations.eq(1),
            reporter_schedule_missed_hours::recorded_by.eq("beat-test"),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let (_, o) = app
        .call(
            Method::GET,
            "/api/reporter/admin/schedule/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(o["missed"][0]["hour"], 10, "{o}");
    assert!(o["missed"][0]["run_id"].is_null());
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("reporter_schedule_missed_hours_total 1"),
        "{metrics}"
    );
    // (The pauses gauge is process-wide and other tests scrape too: only
    // its presence is checked.)
    assert!(
        metrics.contains("reporter_schedule_pauses_active"),
        "{metrics}"
    );

    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/admin/schedule/resume/",
            Some(&admin.token),
            Some(json!({"hour": 10})),
        )
        .await;
    assert_eq!((s.as_u16(), r["resumed"].as_i64()), (200, Some(1)), "{r}");
    let (_, r) = app
        .call(
            Method::POST,
            "/api/reporter/admin/schedule/resume/",
            Some(&admin.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(r["resumed"], 0);
}

#[tokio::test]
async fn the_window_cannot_be_narrowed_past_existing_reservations() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    let ana = app.create_user("ana@example.com", 0, false);
    reserve(&app, &ana, 16).await;
    let config = "/api/reporter/admin/config/";
    let (s, b) = app
        .call(
            Method::PATCH,
            config,
            Some(&admin.token),
            Some(json!({"reporter_hour_end": 12, "slot_capacity": 9})),
        )
        .await;
    assert_error(s, &b, 409, "reservations_outside_window");
    assert!(b["detail"].as_str().unwrap().contains("16:00"), "{b}");
    let (_, c) = app
        .call(Method::GET, config, Some(&admin.token), None)
        .await;
    assert_eq!(
        (c["reporter_hour_end"].as_i64(), c["slot_capacity"].as_i64()),
        (Some(18), Some(6)),
        "nothing changed: {c}"
    );
    // Widening, or narrowing around it, is fine.
    let (s, c) = app
        .call(
            Method::PATCH,
            config,
            Some(&admin.token),
            Some(json!({"reporter_hour_start": 12, "reporter_hour_end": 17})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
}

#[tokio::test]
async fn reservations_say_when_their_first_run_is() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 0, false);
    let r = reserve(&app, &ana, 12).await;
    let next: chrono::DateTime<Utc> = r["next_run_at"].as_str().unwrap().parse().unwrap();
    assert!(
        next > Utc::now() && next <= Utc::now() + Duration::hours(24),
        "{r}"
    );
    assert_eq!(
        next.with_timezone(&bogota()).format("%H:%M").to_string(),
        "12:00"
    );
    let note = r["next_run_note"].as_str().unwrap();
    // Before noon in Bogotá it runs today; after, the reservation was made
    // after today's 12:00 and waits for tomorrow, and says so.
    let noon_passed = chrono::Timelike::hour(&Utc::now().with_timezone(&bogota())) >= 12;
    assert_eq!(r["starts_tomorrow"], noon_passed, "{r}");
    if noon_passed {
        assert!(
            note.starts_with("Reservaste después de las 12:00 de hoy"),
            "{note}"
        );
    } else {
        assert_eq!(note, "Tu próxima ejecución es hoy a las 12:00");
    }
    let (_, got) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(got["next_run_note"], r["next_run_note"]);
}

#[tokio::test]
async fn a_late_run_tells_the_customer_when_it_was_recovered() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 0, false);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let local = |h, m| {
        bogota()
            .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let mut c = app.conn();
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(app.slot_id(9)),
            reporter_runs::scheduled_at.eq(local(9, 0)),
            reporter_runs::started_at.eq(local(11, 2)),
            reporter_runs::status.eq("running"),
            reporter_runs::origin.eq("schedule"),
            reporter_runs::late_start.eq(true),
        ))
        .returning(reporter_runs::id)
        .get_result(&mut c)
        .unwrap();
    diesel::insert_into(reporter_run_users::table)
        .values((
            reporter_run_users::run_id.eq(run_id),
            reporter_run_users::user_id.eq(ana.id),
        ))
        .execute(&mut c)
        .unwrap();
    let (s, runs) = app
        .call(Method::GET, "/api/reporter/runs/", Some(&ana.token), None)
        .await;
    assert_eq!(s, 200, "{runs}");
    assert_eq!(runs[0]["origin"], "schedule");
    assert_eq!(runs[0]["late_start"], true);
    assert_eq!(
        runs[0]["late_start_note"],
        "Tu ejecución de las 09:00 se recuperó a las 11:02"
    );
    let (_, summary) = app
        .call(
            Method::GET,
            "/api/reporter/summary/",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(
        summary["last_run"]["run"]["late_start_note"],
        "Tu ejecución de las 09:00 se recuperó a las 11:02",
        "{summary}"
    );
}

#[tokio::test]
async fn health_reads_beats_last_reconcile_from_the_database() {
    let app = TestApp::spawn().await;
    let beat = |h: &serde_json::Value| h["fleet"]["beat"].clone();
    let (_, h) = app.call(Method::GET, "/api/v1/healthz", None, None).await;
    assert_eq!(beat(&h)["status"], "degraded", "never reconciled: {h}");
    assert_ne!(h["status"], "healthy");
    for (ago, want) in [
        (30, "healthy"),
        (5 * 60, "degraded"),
        (11 * 60, "unhealthy"),
    ] {
        diesel::update(reporter_schedule_state::table)
            .set((
                reporter_schedule_state::last_reconcile_at.eq(Utc::now() - Duration::seconds(ago)),
                reporter_schedule_state::last_reconcile_by.eq("beat-test"),
            ))
            .execute(&mut app.conn())
            .unwrap();
        let (s, h) = app.call(Method::GET, "/api/v1/healthz", None, None).await;
        assert_eq!(beat(&h)["status"], want, "{h}");
        assert!(beat(&h)["seconds_since_reconcile"].as_i64().unwrap() >= ago);
        assert_eq!(s == 503, want == "unhealthy", "{h}");
    }
    // The reservation rows are untouched by all of this.
    let n: i64 = reporter_reservations::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(n, 0);
}
