use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_endpoints_are_403_for_customers() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for (m, path) in [
        (Method::GET, "/api/reporter/admin/config/"),
        (Method::PATCH, "/api/reporter/admin/config/"),
        (Method::GET, "/api/reporter/admin/slots/"),
        (Method::PATCH, "/api/reporter/admin/slots/1/"),
        (Method::GET, "/api/reporter/admin/reservations/"),
    ] {
        let (s, b) = app.call(m, path, Some(&u.token), Some(json!({}))).await;
        assert_error(s, &b, 403, "forbidden");
    }
}

#[tokio::test]
async fn admin_changes_window_and_capacity_and_lists_reservations() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    let u = app.create_user("ana@example.com", 0, false);

    let (s, c) = app
        .call(
            Method::GET,
            "/api/reporter/admin/config/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["max_active_selenium"], 6);
    assert_eq!(c["slot_capacity"], 6);

    let (s, c) = app
        .call(
            Method::PATCH,
            "/api/reporter/admin/config/",
            Some(&admin.token),
            Some(json!({"reporter_hour_start": 8, "reporter_hour_end": 10, "slot_capacity": 9})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let (_, slots) = app
        .call(Method::GET, "/api/reporter/slots/", Some(&u.token), None)
        .await;
    let slots = slots.as_array().unwrap();
    assert_eq!(slots.len(), 2);
    assert!(slots.iter().all(|s| s["capacity_points"] == 9));

    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/admin/config/",
            Some(&admin.token),
            Some(json!({"reporter_hour_start": 12, "reporter_hour_end": 10})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_window");
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/admin/config/",
            Some(&admin.token),
            Some(json!({"slot_capacity": -1})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_capacity");

    let slot9 = app.slot_id(9);
    let (s, sl) = app
        .call(
            Method::PATCH,
            &format!("/api/reporter/admin/slots/{slot9}/"),
            Some(&admin.token),
            Some(json!({"capacity_points": 2})),
        )
        .await;
    assert_eq!(s, 200, "{sl}");
    assert_eq!(sl["capacity_points"], 2);
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/admin/slots/9999/",
            Some(&admin.token),
            Some(json!({"capacity_points": 2})),
        )
        .await;
    assert_error(s, &b, 404, "slot_not_found");

    let (s, _) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": slot9, "monthly_orders_estimate": 3000})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, all) = app
        .call(
            Method::GET,
            "/api/reporter/admin/reservations/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(all[0]["email"], "ana@example.com");
    assert_eq!(all[0]["hour_label"], "09:00");
    let (s, all_slots) = app
        .call(
            Method::GET,
            "/api/reporter/admin/slots/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(all_slots.as_array().unwrap().len(), 24);
}

#[tokio::test]
async fn operators_see_queues_semaphore_workers_and_can_trigger_a_slot() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    let u = app.create_user("ana@example.com", 0, false);
    for path in [
        "/api/reporter/admin/queues/",
        "/api/reporter/admin/semaphore/",
        "/api/reporter/admin/workers/",
    ] {
        let (s, b) = app.call(Method::GET, path, Some(&u.token), None).await;
        assert_error(s, &b, 403, "forbidden");
        let (s, b) = app.call(Method::GET, path, Some(&admin.token), None).await;
        assert_eq!(s, 200, "{path}: {b}");
    }
    let (_, sem) = app
        .call(
            Method::GET,
            "/api/reporter/admin/semaphore/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(
        (sem["limit"].as_u64(), sem["in_use"].as_u64()),
        (Some(6), Some(0))
    );

    let (s, t) = app
        .call(
            Method::POST,
            "/api/reporter/admin/trigger-slot/",
            Some(&admin.token),
            Some(json!({"hour": 9, "date": "2026-11-02"})),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    assert_eq!(t["scheduled_at"], "2026-11-02T14:00:00Z", "09:00 in Bogotá");
    let (_, queues) = app
        .call(
            Method::GET,
            "/api/reporter/admin/queues/",
            Some(&admin.token),
            None,
        )
        .await;
    let ps = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == "process-slot")
        .unwrap()
        .clone();
    // apalis-redis parks pushed jobs in `scheduled` until a worker fetches.
    let queued =
        |q: &serde_json::Value| q["waiting"].as_u64().unwrap() + q["scheduled"].as_u64().unwrap();
    assert_eq!(queued(&ps), 1, "{queues}");
    // Same hour again: the idempotency key keeps one job.
    app.call(
        Method::POST,
        "/api/reporter/admin/trigger-slot/",
        Some(&admin.token),
        Some(json!({"hour": 9, "date": "2026-11-02"})),
    )
    .await;
    let (_, queues) = app
        .call(
            Method::GET,
            "/api/reporter/admin/queues/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(queued(&queues[0]), 1, "{queues}");

    // A rehearsal goes to its own queue (never taken by a worker that does
    // not know shadow runs), stored a few seconds into the same hour.
    let (s, t) = app
        .call(
            Method::POST,
            "/api/reporter/admin/trigger-slot/",
            Some(&admin.token),
            Some(json!({"hour": 9, "date": "2026-11-02", "shadow": true})),
        )
        .await;
    assert_eq!(s, 202, "{t}");
    assert_eq!(t["shadow"], true);
    let at: chrono::DateTime<chrono::Utc> = t["scheduled_at"].as_str().unwrap().parse().unwrap();
    let hour: chrono::DateTime<chrono::Utc> = "2026-11-02T14:00:00Z".parse().unwrap();
    let offset = (at - hour).num_seconds();
    assert!((1..3600).contains(&offset), "{t}");
    let (_, queues) = app
        .call(
            Method::GET,
            "/api/reporter/admin/queues/",
            Some(&admin.token),
            None,
        )
        .await;
    let by_name = |name: &str| {
        queues
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["queue"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(queued(&by_name("shadow-slot")), 1, "{queues}");
    assert_eq!(queued(&by_name("process-slot")), 1, "{queues}");

    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/admin/trigger-slot/",
            Some(&admin.token),
            Some(json!({"hour": 24})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_hour");
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/admin/ranges/999/retry/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "range_not_failed");

    let (_, h) = app.call(Method::GET, "/api/v1/healthz", None, None).await;
    assert_eq!(h["fleet"]["workers"]["alive"], 0, "{h}");
    assert_eq!(h["status"], "degraded", "no workers alive: {h}");
}
