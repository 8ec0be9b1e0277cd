//! The customer's summary and reported-orders table, and the console's
//! day of runs, failed ranges (with screenshots) and 24-hour activity.

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::schema::{
    reporter_order_reports, reporter_ranges, reporter_run_users, reporter_runs,
};
use reqwest::Method;

use crate::helpers::*;

struct Seeded {
    run_id: i64,
    run_user_id: i64,
}

/// A run at `hour` today (Bogotá, the default zone) with one customer who
/// had `stuck` stuck orders, `reported` of them filed.
fn seed_run(app: &TestApp, hour: i32, user_id: i64, stuck: i32, reported: i64) -> Seeded {
    let mut c = app.conn();
    let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let at = tz
        .from_local_datetime(&today.and_hms_opt(hour as u32, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(app.slot_id(hour)),
            reporter_runs::scheduled_at.eq(at),
            reporter_runs::started_at.eq(Some(at + Duration::seconds(3))),
            reporter_runs::status.eq("running"),
            reporter_runs::business_date.eq(Some(today)),
        ))
        .returning(reporter_runs::id)
        .get_result(&mut c)
        .unwrap();
    let run_user_id: i64 = diesel::insert_into(reporter_run_users::table)
        .values((
            reporter_run_users::run_id.eq(run_id),
            reporter_run_users::user_id.eq(user_id),
            reporter_run_users::download_compare_status.eq("completed"),
            reporter_run_users::total_pending_orders.eq(stuck),
            reporter_run_users::total_ranges.eq(2),
            reporter_run_users::ranges_completed.eq(1),
            reporter_run_users::progress_message.eq("Reportando órdenes…"),
        ))
        .returning(reporter_run_users::id)
        .get_result(&mut c)
        .unwrap();
    for i in 0..reported {
        diesel::insert_into(reporter_order_reports::table)
            .values((
                reporter_order_reports::user_id.eq(user_id),
                reporter_order_reports::order_id.eq(5000 + i),
                reporter_order_reports::business_date.eq(today),
                reporter_order_reports::run_user_id.eq(Some(run_user_id)),
                reporter_order_reports::ticket.eq(format!("T-{i}")),
                reporter_order_reports::outcome.eq("reported"),
                reporter_order_reports::status.eq(if i % 2 == 0 {
                    "En tránsito"
                } else {
                    "Novedad"
                }),
                reporter_order_reports::carrier.eq(if i < 3 { "Servientrega" } else { "Envia" }),
                reporter_order_reports::tracking_number.eq(format!("GU{i:04}")),
            ))
            .execute(&mut c)
            .unwrap();
    }
    Seeded {
        run_id,
        run_user_id,
    }
}

#[tokio::test]
async fn summary_counts_reports_and_shows_the_latest_run() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    // Reports of earlier days count in the windows they fall in (the API
    // keeps earlier days' counts for a few minutes: written before the
    // first read, like the settled days they stand for).
    let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let mut c = app.conn();
    for (order, days_ago) in [(9001, 3), (9002, 8), (9003, 29), (9004, 30), (9005, 45)] {
        diesel::insert_into(reporter_order_reports::table)
            .values((
                reporter_order_reports::user_id.eq(ana.id),
                reporter_order_reports::order_id.eq(order),
                reporter_order_reports::business_date.eq(today - Duration::days(days_ago)),
                reporter_order_reports::ticket.eq("T-old"),
                reporter_order_reports::outcome.eq("reported"),
            ))
            .execute(&mut c)
            .unwrap();
    }

    let summary = || async {
        let (s, body) = app
            .call(Method::GET, "/api/reporter/summary", Some(&ana.token), None)
            .await;
        assert_eq!(s, 200, "{body}");
        body
    };
    let counts = |b: &serde_json::Value| {
        let r = &b["reports"];
        (
            r["today"].clone(),
            r["last_7_days"].clone(),
            r["last_30_days"].clone(),
        )
    };
    let empty = summary().await;
    assert_eq!(counts(&empty), (0.into(), 1.into(), 3.into()));
    assert!(empty["last_run"].is_null());

    seed_run(&app, 9, ana.id, 12, 5);
    let sum = summary().await;
    assert_eq!(counts(&sum), (5.into(), 6.into(), 8.into()));
    let last = &sum["last_run"];
    assert_eq!(last["run"]["hour_label"], "09:00");
    assert_eq!(last["total_pending_orders"], 12);
    assert_eq!(last["orders_reported"], 5);
    assert_eq!(last["result"], "running");
    assert_eq!(last["progress_message"], "Reportando órdenes…");

    // The newest run wins; other customers' runs and reports never show.
    let later = seed_run(&app, 11, ana.id, 4, 0);
    let bob = app.create_user("bob@example.com", 1000, false);
    seed_run(&app, 15, bob.id, 9, 9);
    let sum = summary().await;
    assert_eq!(counts(&sum), (5.into(), 6.into(), 8.into()));
    let last = &sum["last_run"];
    assert_eq!(last["run"]["id"], later.run_id);
    assert_eq!(last["run"]["hour_label"], "11:00");
    assert_eq!(last["total_pending_orders"], 4);
    assert_eq!(last["orders_reported"], 0);
    assert_eq!(last["download_compare_status"], "completed");
    assert_eq!(last["run"]["status"], "running");

    // One definition of the result (core's domain::RunUserResult): ended
    // with fewer filed than stuck is not a failure (the portal may have
    // moved them); a range that failed for good is.
    diesel::update(reporter_run_users::table.find(later.run_user_id))
        .set(reporter_run_users::finished_at.eq(Some(Utc::now())))
        .execute(&mut c)
        .unwrap();
    let result = || async { summary().await["last_run"]["result"].clone() };
    assert_eq!(result().await, "completed");
    diesel::insert_into(reporter_ranges::table)
        .values((
            reporter_ranges::run_user_id.eq(later.run_user_id),
            reporter_ranges::range_start.eq(1),
            reporter_ranges::range_end.eq(4),
            reporter_ranges::status.eq("failed"),
        ))
        .execute(&mut c)
        .unwrap();
    assert_eq!(result().await, "completed_with_failures");
    let (s, progress) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{}/progress/", later.run_id),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{progress}");
    assert_eq!(
        progress["users"][0]["result"], "completed_with_failures",
        "the run's progress uses the same definition"
    );
}

#[tokio::test]
async fn reported_orders_are_paginated_filtered_and_private() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let bob = app.create_user("bob@example.com", 1000, false);
    let run = seed_run(&app, 10, ana.id, 30, 25);
    let path = |q: &str| format!("/api/reporter/runs/{}/reports?{q}", run.run_id);

    let (s, p) = app
        .call(Method::GET, &path("per_page=10"), Some(&ana.token), None)
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["total"], 25);
    assert_eq!(p["items"].as_array().unwrap().len(), 10);
    assert_eq!(p["statuses"], serde_json::json!(["En tránsito", "Novedad"]));
    let (_, p3) = app
        .call(
            Method::GET,
            &path("per_page=10&page=3"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(p3["items"].as_array().unwrap().len(), 5);

    let (_, f) = app
        .call(Method::GET, &path("status=Novedad"), Some(&ana.token), None)
        .await;
    assert_eq!(f["total"], 12);
    let (_, f) = app
        .call(Method::GET, &path("q=servi"), Some(&ana.token), None)
        .await;
    assert_eq!(f["total"], 3, "carrier matches case-insensitively");
    let (_, f) = app
        .call(Method::GET, &path("q=5024"), Some(&ana.token), None)
        .await;
    assert_eq!(f["total"], 1);
    assert_eq!(f["items"][0]["order_id"], 5024);
    assert_eq!(f["items"][0]["ticket"], "T-24");
    // `%` is a literal, not a wildcard.
    let (_, f) = app
        .call(Method::GET, &path("q=%25"), Some(&ana.token), None)
        .await;
    assert_eq!(f["total"], 0);

    for bad in ["page=0", "per_page=500", "page=x", "color=red"] {
        let (s, b) = app
            .call(Method::GET, &path(bad), Some(&ana.token), None)
            .await;
        assert_eq!(s, 400, "{bad}: {b}");
    }
    let (s, b) = app
        .call(Method::GET, &path(""), Some(&bob.token), None)
        .await;
    assert_error(s, &b, 404, "run_not_found");
    let _ = run.run_user_id;
}

#[tokio::test]
async fn console_lists_todays_runs_failed_ranges_with_screenshots_and_activity() {
    let artifacts = std::env::temp_dir().join(format!("reporter-art-{}", uuid_like()));
    let art = artifacts.display().to_string();
    let app = TestApp::spawn_with(&[("REPORTER_ARTIFACTS_DIR", art.as_str())]).await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let ops = app.create_user("ops@example.com", 0, true);
    let run = seed_run(&app, 7, ana.id, 150, 40);

    let mut c = app.conn();
    let failed: i64 = diesel::insert_into(reporter_ranges::table)
        .values((
            reporter_ranges::run_user_id.eq(run.run_user_id),
            reporter_ranges::range_start.eq(101),
            reporter_ranges::range_end.eq(150),
            reporter_ranges::status.eq("failed"),
            reporter_ranges::attempts.eq(3),
            reporter_ranges::error.eq(Some("portal: the order page did not load")),
        ))
        .returning(reporter_ranges::id)
        .get_result(&mut c)
        .unwrap();
    let completed: i64 = diesel::insert_into(reporter_ranges::table)
        .values((
            reporter_ranges::run_user_id.eq(run.run_user_id),
            reporter_ranges::range_start.eq(1),
            reporter_ranges::range_end.eq(100),
            reporter_ranges::status.eq("completed"),
            reporter_ranges::orders_reported.eq(2),
        ))
        .returning(reporter_ranges::id)
        .get_result(&mut c)
        .unwrap();
    // Besides the 40 seeded without a range: 2 filed by the completed range
    // (which recorded its count) and 3 by the failed one before it failed.
    for (i, range) in [completed, completed, failed, failed, failed]
        .into_iter()
        .enumerate()
    {
        diesel::insert_into(reporter_order_reports::table)
            .values((
                reporter_order_reports::user_id.eq(ana.id),
                reporter_order_reports::order_id.eq(9000 + i as i64),
                reporter_order_reports::business_date.eq(chrono::Utc::now().date_naive()),
                reporter_order_reports::run_user_id.eq(Some(run.run_user_id)),
                reporter_order_reports::range_id.eq(Some(range)),
                reporter_order_reports::ticket.eq(format!("R-{i}")),
                reporter_order_reports::outcome.eq("reported"),
                reporter_order_reports::status.eq("EN_TRANSITO"),
                reporter_order_reports::carrier.eq("Envia"),
                reporter_order_reports::tracking_number.eq(format!("EN{i}")),
            ))
            .execute(&mut c)
            .unwrap();
    }

    let (s, day) = app
        .call(
            Method::GET,
            "/api/reporter/admin/runs",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{day}");
    let r = &day["runs"][0];
    assert_eq!(r["id"], run.run_id);
    assert_eq!(r["hour_label"], "07:00");
    assert_eq!(r["ranges_total"], 2);
    assert_eq!(r["ranges_completed"], 1);
    assert_eq!(r["ranges_failed"], 1);
    assert_eq!(r["orders_reported"], 45);
    assert_eq!(r["stuck_orders"], 150);
    assert!(r["duration_seconds"].as_i64().is_some());
    assert!(r["late"].is_boolean());
    // Another day (within the year admins may look at) has no runs.
    let month_ago = (chrono::Utc::now() - chrono::Duration::days(30)).date_naive();
    let (s, other_day) = app
        .call(
            Method::GET,
            &format!("/api/reporter/admin/runs?date={month_ago}"),
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(other_day["runs"], serde_json::json!([]));
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/admin/runs?date=ayer",
            Some(&ops.token),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_query");

    // No screenshot yet: no link, and the screenshot route says so.
    let (_, list) = app
        .call(
            Method::GET,
            "/api/reporter/admin/failed-ranges",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(list[0]["range_id"], failed);
    assert_eq!(list[0]["email"], "ana@example.com");
    assert_eq!(list[0]["error"], "portal: the order page did not load");
    assert!(list[0]["screenshot_url"].is_null());
    let shot = format!("/api/reporter/admin/ranges/{failed}/screenshot");
    let (s, b) = app.call(Method::GET, &shot, Some(&ops.token), None).await;
    assert_error(s, &b, 404, "screenshot_not_found");

    let dir = artifacts
        .join(format!("run-{}", run.run_id))
        .join(format!("user-{}", ana.id))
        .join(format!("range-{failed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let png = b"\x89PNG\r\n\x1a\nfake";
    std::fs::write(dir.join("report-20261123T100000.png"), png).unwrap();
    let (_, list) = app
        .call(
            Method::GET,
            "/api/reporter/admin/failed-ranges",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(list[0]["screenshot_url"], shot);
    let res = app
        .req(Method::GET, &shot, Some(&ops.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(&res.bytes().await.unwrap()[..], png);
    let (s, b) = app.call(Method::GET, &shot, Some(&ana.token), None).await;
    assert_error(s, &b, 403, "forbidden");

    // Activity: 24 hours, this hour holds the 45 reports.
    let (s, act) = app
        .call(
            Method::GET,
            "/api/reporter/admin/activity",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{act}");
    let hours = act.as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert_eq!(hours[23]["reports"], 45);
    assert_eq!(
        hours
            .iter()
            .map(|h| h["reports"].as_i64().unwrap())
            .sum::<i64>(),
        45
    );
    std::fs::remove_dir_all(&artifacts).ok();
}

#[tokio::test]
async fn activity_shows_the_browser_peak_workers_record() {
    let app = TestApp::spawn().await;
    let ops = app.create_user("ops@example.com", 0, true);
    let (_, before) = app
        .call(
            Method::GET,
            "/api/reporter/admin/activity",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(before[23]["browser_peak"], 0);
    let prefix = app.prefix.clone();
    let mut conn = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let now = Utc::now();
    for n in [2, 5, 3] {
        reporter_core::browser_activity::record(&mut conn, &prefix, now, n)
            .await
            .unwrap();
    }
    let (_, after) = app
        .call(
            Method::GET,
            "/api/reporter/admin/activity",
            Some(&ops.token),
            None,
        )
        .await;
    assert_eq!(after[23]["browser_peak"], 5, "the peak only rises");
    assert_eq!(after[22]["browser_peak"], 0);
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or(0)
    )
}

/// A finished run-user's table is served from the list kept in memory: the
/// same pages, filters and statuses as the statement that reads them, and
/// a list read again when a retried range finishes the run-user anew.
#[tokio::test]
async fn a_finished_run_users_reports_come_from_memory_exactly_as_the_database_would_answer() {
    use reporter_core::models::dashboard::{report_list, reports_page, ReportFilter};
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let run = seed_run(&app, 10, ana.id, 30, 25);

    let mut c = app.conn();
    let list = report_list(&mut c, run.run_user_id).unwrap();
    for (search, status) in [
        ("", ""),
        ("servi", ""),
        ("SERVI", ""),
        ("5024", ""),
        ("50", ""),
        ("gu00", ""),
        ("t-2", ""),
        ("%", ""),
        ("", "Novedad"),
        ("envia", "En tránsito"),
        ("nothing", ""),
    ] {
        let filter = ReportFilter {
            search: search.into(),
            status: status.into(),
        };
        for (page, per_page) in [(1, 10), (3, 10), (2, 7), (9, 10), (1, 200)] {
            let db = reports_page(&mut c, run.run_user_id, &filter, page, per_page).unwrap();
            let mem = list.page(&filter, page, per_page);
            assert_eq!(
                serde_json::to_value(&mem).unwrap(),
                serde_json::to_value(&db).unwrap(),
                "q={search:?} status={status:?} page={page} per_page={per_page}"
            );
        }
    }

    let finish = |c: &mut PgConnection, at: chrono::DateTime<Utc>| {
        diesel::update(reporter_run_users::table.find(run.run_user_id))
            .set(reporter_run_users::finished_at.eq(Some(at)))
            .execute(c)
            .unwrap();
    };
    let first_finish = Utc::now() - Duration::minutes(5);
    finish(&mut c, first_finish);
    let path = |q: &str| format!("/api/reporter/runs/{}/reports?{q}", run.run_id);
    async fn get(app: &TestApp, path: String, token: &str) -> serde_json::Value {
        let (s, p) = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(s, 200, "{p}");
        p
    }
    let total = |_: &TestApp, q: &'static str| get(&app, path(q), &ana.token);
    assert_eq!(total(&app, "per_page=10").await["total"], 25);
    assert_eq!(total(&app, "q=servi").await["total"], 3);
    assert_eq!(total(&app, "status=Novedad").await["total"], 12);

    // A failed range retried from the console clears finished_at; its
    // report lands; the run-user finishes again, later.
    diesel::insert_into(reporter_order_reports::table)
        .values((
            reporter_order_reports::user_id.eq(ana.id),
            reporter_order_reports::order_id.eq(6001),
            reporter_order_reports::business_date.eq(Utc::now().date_naive()),
            reporter_order_reports::run_user_id.eq(Some(run.run_user_id)),
            reporter_order_reports::ticket.eq("T-RETRY"),
            reporter_order_reports::outcome.eq("reported"),
            reporter_order_reports::status.eq("Novedad"),
        ))
        .execute(&mut c)
        .unwrap();
    finish(&mut c, Utc::now());
    let p = total(&app, "q=retry").await;
    assert_eq!(p["total"], 1, "{p}");
    assert_eq!(total(&app, "per_page=10").await["total"], 26);
}
