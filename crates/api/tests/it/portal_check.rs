//! `POST /api/reporter/admin/portal-check/` and its `GET`: the API only
//! enqueues (a worker runs the browser) and reads back what the worker
//! stored; admins only; unknown emails and ids are JSON errors.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_error, TestApp};

#[tokio::test]
async fn portal_check_is_enqueued_polled_and_guarded() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("ops@example.com", 0, true);
    let ana = app.create_user("ana@example.com", 1000, false);
    app.create_user("sin-portal@example.com", 1000, false);
    {
        let settings = app.db.settings(&app.prefix, &[]);
        let mut c = app.conn();
        reporter_core::models::user::set_portal_credentials(
            &mut c,
            ana.id,
            "cliente1@portal.test",
            &settings.credentials_cipher().encrypt("clave-1"),
        )
        .unwrap();
    }
    let path = "/api/reporter/admin/portal-check/";

    // Non-admins may neither start nor read a check.
    let (s, b) = app
        .call(
            Method::POST,
            path,
            Some(&ana.token),
            Some(json!({"email": "ana@example.com"})),
        )
        .await;
    assert_error(s, &b, 403, "forbidden");

    // Unknown email, and a customer without portal credentials: 400.
    let (s, b) = app
        .call(
            Method::POST,
            path,
            Some(&admin.token),
            Some(json!({"email": "nadie@example.com"})),
        )
        .await;
    assert_error(s, &b, 400, "unknown_email");
    let (s, b) = app
        .call(
            Method::POST,
            path,
            Some(&admin.token),
            Some(json!({"email": "sin-portal@example.com"})),
        )
        .await;
    assert_error(s, &b, 400, "no_portal_credentials");

    // Enqueued: 202 with an id, `queued`, one job on the portal-check queue.
    let (s, b) = app
        .call(
            Method::POST,
            path,
            Some(&admin.token),
            Some(json!({"email": " ANA@example.com "})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["status"], "queued");
    let id = b["id"].as_str().unwrap().to_string();
    let (s, q) = app
        .call(
            Method::GET,
            "/api/reporter/admin/queues/",
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let queue = q
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["queue"] == "portal-check")
        .unwrap_or_else(|| panic!("{q}"))
        .clone();
    let waiting = queue["waiting"].as_u64().unwrap_or(0) + queue["scheduled"].as_u64().unwrap_or(0);
    assert_eq!(waiting, 1, "{queue}");

    let one = format!("{path}{id}/");
    let (s, b) = app.call(Method::GET, &one, Some(&admin.token), None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "queued");
    assert_eq!(b["email"], "ana@example.com");
    assert!(b["report"].is_null());
    let (s, b) = app.call(Method::GET, &one, Some(&ana.token), None).await;
    assert_error(s, &b, 403, "forbidden");

    // What a worker stores when it is done is what the GET answers.
    let mut conn = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let report = json!({"ok": true, "email": "ana@example.com", "rows": []});
    reporter_core::portal_checks::store(
        &mut conn,
        &app.prefix,
        &id,
        &reporter_core::portal_checks::StoredCheck {
            status: reporter_core::portal_checks::CheckStatus::Done,
            email: "ana@example.com".into(),
            report: Some(report.clone()),
        },
    )
    .await
    .unwrap();
    let (s, b) = app.call(Method::GET, &one, Some(&admin.token), None).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "done");
    assert_eq!(b["report"], report);

    // Unknown ids: 404 JSON, whatever their shape.
    for unknown in ["0123456789abcdef", "nope", "..%2f"] {
        let (s, b) = app
            .call(
                Method::GET,
                &format!("{path}{unknown}/"),
                Some(&admin.token),
                None,
            )
            .await;
        assert_error(s, &b, 404, "portal_check_not_found");
    }
}
