//! Bad input gets a clear JSON error with the right status, never a 500 or
//! an HTML page, and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn post_raw(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (reqwest::StatusCode, serde_json::Value) {
    send(
        app.req(Method::POST, "/api/reporter/reservations/", Some(token))
            .header("Content-Type", content_type)
            .body(body),
    )
    .await
}

#[tokio::test]
async fn malformed_json_wrong_types_unknown_fields_and_bad_numbers_are_400() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let slot = app.slot_id(9);
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "malformed_json"),
        (format!("{{\"slot_id\": {slot}}}"), "invalid_body"),
        (
            r#"{"slot_id": "nine", "monthly_orders_estimate": 10}"#.to_string(),
            "invalid_body",
        ),
        (
            format!("{{\"slot_id\": {slot}, \"monthly_orders_estimate\": 10, \"extra\": 1}}"),
            "invalid_body",
        ),
        (
            format!("{{\"slot_id\": {slot}, \"monthly_orders_estimate\": -1}}"),
            "invalid_body",
        ),
        (
            format!("{{\"slot_id\": {slot}, \"monthly_orders_estimate\": 12.5}}"),
            "invalid_body",
        ),
        (
            format!("{{\"slot_id\": {slot}, \"monthly_orders_estimate\": \"100\"}}"),
            "invalid_body",
        ),
        ("[]".into(), "invalid_body"),
    ];
    for (body, code) in cases {
        let (s, b) = post_raw(&app, &u.token, "application/json", body.clone()).await;
        assert_error(s, &b, 400, code);
        assert!(!b.to_string().is_empty(), "{body}");
    }
    let (s, b) = post_raw(
        &app,
        &u.token,
        "application/json",
        format!("{{\"slot_id\": {slot}, \"monthly_orders_estimate\": -1}}"),
    )
    .await;
    assert_error(s, &b, 400, "invalid_body");
    assert!(
        b["detail"].as_str().unwrap().contains("entero"),
        "Spanish reason for the bad estimate: {b}"
    );
    // Nothing was stored by any of them.
    assert_eq!(
        app.call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&u.token),
            None
        )
        .await
        .1,
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn oversized_bodies_and_wrong_content_type_are_rejected_as_json() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let big = format!(
        "{{\"slot_id\": 1, \"monthly_orders_estimate\": 1, \"pad\": \"{}\"}}",
        "x".repeat(64 * 1024)
    );
    let (s, b) = post_raw(&app, &u.token, "application/json", big).await;
    assert_error(s, &b, 413, "payload_too_large");
    let (s, b) = post_raw(&app, &u.token, "text/plain", "hola").await;
    assert_error(s, &b, 415, "unsupported_media_type");
}

#[tokio::test]
async fn unknown_routes_methods_and_ids_are_json_errors() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let (s, b) = app
        .call(Method::GET, "/api/nope/", Some(&u.token), None)
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/runs/abc/progress/",
            Some(&u.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "not_found");
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/runs/424242/progress/",
            Some(&u.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "run_not_found");
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({})),
        )
        .await;
    assert!(s.as_u16() == 405 || s.as_u16() == 404, "{s}");
    assert!(b["code"].is_string(), "{b}");
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/runs/?limit=0",
            Some(&u.token),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_limit");
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/runs/?limit=abc",
            Some(&u.token),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_query");
}
