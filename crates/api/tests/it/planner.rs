//! The hour planner at the API: a heavy customer's history makes an hour
//! over its browser-time budget; `points` admission warns, `time` refuses.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;
use crate::ledger_seed::{seed, today, DayRun, Ending};

/// Gives the user three past days of 3,000 stuck orders each (in hour 10):
/// at the default 0.25 min per report that alone is 750 browser-minutes,
/// past the default budget of 60 × 6 × 0.8 = 288.
fn heavy_history(app: &TestApp, user_id: i64) {
    let mut c = app.conn();
    for back in 1..=3 {
        seed(
            &mut c,
            &DayRun {
                user_id,
                date: today() - chrono::Duration::days(back),
                hour: 10,
                stuck: 3000,
                late_start: false,
                ending: Ending::Completed,
                reports: &[],
            },
        );
    }
}

async fn reserve(
    app: &TestApp,
    token: &str,
    slot: i32,
    monthly: i32,
) -> (reqwest::StatusCode, serde_json::Value) {
    app.call(
        Method::POST,
        "/api/reporter/reservations/",
        Some(token),
        Some(json!({"slot_id": slot, "monthly_orders_estimate": monthly})),
    )
    .await
}

#[tokio::test]
async fn points_mode_accepts_an_over_budget_hour_with_a_warning() {
    let app = TestApp::spawn().await;
    let light = app.create_user("light@example.com", 100, false);
    let heavy = app.create_user("heavy@example.com", 1000, false);
    let admin = app.create_user("ops@example.com", 0, true);
    heavy_history(&app, heavy.id);
    let slot = app.slot_id(9);

    let (s, r) = reserve(&app, &light.token, slot, 100).await;
    assert_eq!(s, 201, "{r}");
    assert!(
        r.get("warning").is_none(),
        "a light hour has no warning: {r}"
    );

    // Weight 1 by its monthly orders, but its history says 3,000 stuck.
    let (s, r) = reserve(&app, &heavy.token, slot, 1000).await;
    assert_eq!(s, 201, "{r}");
    let warning = r["warning"].as_str().expect("warning");
    assert!(
        warning.contains("09:00") && warning.contains("288"),
        "{warning}"
    );

    // The console's plan shows the hour over budget, with the customers.
    let (s, plan) = app
        .call(
            Method::GET,
            "/api/reporter/admin/plan/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(plan["admission"], "points");
    assert_eq!(plan["available_minutes"], 288.0);
    let hour = plan["hours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hour"] == 9)
        .expect("09:00 in the plan");
    assert_eq!(hour["over_budget"], true, "{hour}");
    assert!(
        hour["predicted_minutes"].as_f64().unwrap() > 750.0,
        "{hour}"
    );
    let customers = hour["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 2);
    let h = customers
        .iter()
        .find(|c| c["email"] == "heavy@example.com")
        .unwrap();
    assert_eq!(h["from_history"], true);
    assert_eq!(h["stuck_per_day"], 3000.0);
    let l = customers
        .iter()
        .find(|c| c["email"] == "light@example.com")
        .unwrap();
    assert_eq!(l["from_history"], false);
    let other = plan["hours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hour"] == 11)
        .unwrap();
    assert_eq!(other["over_budget"], false);
    assert_eq!(plan["prediction_error"]["runs"], 0);
    assert!(plan["prediction_error"]["bias_minutes"].is_null());

    // Customers cannot read the plan.
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/admin/plan/",
            Some(&light.token),
            None,
        )
        .await;
    assert_eq!(s, 403, "{b}");
}

#[tokio::test]
async fn time_mode_refuses_an_over_budget_hour() {
    let app = TestApp::spawn_with(&[("REPORTER_ADMISSION", "time")]).await;
    let light = app.create_user("light@example.com", 100, false);
    let heavy = app.create_user("heavy@example.com", 1000, false);
    heavy_history(&app, heavy.id);
    let slot = app.slot_id(9);

    let (s, r) = reserve(&app, &light.token, slot, 100).await;
    assert_eq!(s, 201, "{r}");

    let (s, b) = reserve(&app, &heavy.token, slot, 1000).await;
    assert_error(s, &b, 400, "hour_over_time_budget");
    let detail = b["detail"].as_str().unwrap();
    assert!(
        detail.contains("minutos") && detail.contains("288"),
        "{detail}"
    );
    // First fit finds no hour with the time either, and says why.
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&heavy.token),
            Some(json!({"monthly_orders_estimate": 1000})),
        )
        .await;
    assert_error(s, &b, 400, "hour_over_time_budget");
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&heavy.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(b.is_null(), "nothing was reserved: {b}");

    // A light customer moving in is fine; the points rule is unchanged.
    let (s, r) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&light.token),
            Some(json!({"monthly_orders_estimate": 200})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert!(r.get("warning").is_none(), "{r}");
}

#[tokio::test]
async fn time_mode_refuses_a_move_into_an_hour_it_would_overload() {
    let app = TestApp::spawn_with(&[
        ("REPORTER_ADMISSION", "time"),
        ("MAX_ACTIVE_SELENIUM", "20"),
    ])
    .await;
    let heavy = app.create_user("heavy@example.com", 1000, false);
    let second = app.create_user("second@example.com", 1000, false);
    heavy_history(&app, heavy.id);
    heavy_history(&app, second.id);
    // 20 browsers: 960 minutes, room for one 3,000-stuck customer, not two.
    let (s, r) = reserve(&app, &heavy.token, app.slot_id(9), 1000).await;
    assert_eq!(s, 201, "{r}");
    let (s, r) = reserve(&app, &second.token, app.slot_id(11), 1000).await;
    assert_eq!(s, 201, "{r}");
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&second.token),
            Some(json!({"slot_id": app.slot_id(9)})),
        )
        .await;
    assert_error(s, &b, 400, "hour_over_time_budget");
    let (_, r) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&second.token),
            None,
        )
        .await;
    assert_eq!(r["hour"], 11, "the refused move changed nothing: {r}");
}
