//! Issue 13, the edge: strict input (no control characters, bounded dates,
//! bodies that are JSON objects, length limits that name the limit) and a
//! tight HTTP edge (405 with `Allow`, `HEAD`, 415 with its own code,
//! security headers on every response kind).

use chrono::{Duration, Utc};
use reqwest::header::{
    ALLOW, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use reqwest::{redirect, Method};
use serde_json::json;

use crate::helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

fn header<'a>(res: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing on {}", res.url()))
        .to_str()
        .unwrap()
}

/// Finding 3: a NUL used to reach PostgreSQL (500); now 400 with a code.
#[tokio::test]
async fn nul_in_any_text_field_or_query_parameter_is_400_invalid_characters() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 1000, false);

    let (s, b) = app
        .call(
            Method::POST,
            "/api/auth/login/",
            None,
            Some(json!({"email": "ana\u{0}@example.com", "password": PASSWORD})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_characters");
    assert!(b["detail"].as_str().unwrap().contains("email"), "{b}");

    for body in [
        json!({"email": "a\u{0}@portal", "password": "secreto"}),
        json!({"email": "a@portal", "password": "se\u{0}creto"}),
    ] {
        let (s, b) = app
            .call(
                Method::PUT,
                "/api/me/portal-credentials/",
                Some(&u.token),
                Some(body),
            )
            .await;
        assert_error(s, &b, 400, "invalid_characters");
    }

    for query in ["q=%00", "status=ab%00c", "q=x%0Ay"] {
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/reporter/runs/1/reports/?{query}"),
                Some(&u.token),
                None,
            )
            .await;
        assert_error(s, &b, 400, "invalid_characters");
    }

    // The login form answers with its page, in Spanish, never JSON.
    let res = no_redirects()
        .post(app.url("/login"))
        .form(&[("email", "ana\u{0}@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(header(&res, &CONTENT_TYPE).starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("caracteres de control"), "{page}");
    assert!(page.contains("<form"), "the login form again: {page}");
}

/// Finding 4: admin dates are bounded (a year around today; no future
/// trigger).
#[tokio::test]
async fn admin_dates_outside_a_year_or_a_future_trigger_are_400() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("ops@example.com", 0, true);
    for date in ["-262143-01-01", "%2B262142-12-31", "1970-01-01"] {
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/reporter/admin/runs/?date={date}"),
                Some(&admin.token),
                None,
            )
            .await;
        assert_error(s, &b, 400, "date_out_of_range");
    }
    let tomorrow = (Utc::now() + Duration::days(2)).date_naive().to_string();
    for date in ["+262142-01-01", "1970-01-01", tomorrow.as_str()] {
        let (s, b) = app
            .call(
                Method::POST,
                "/api/reporter/admin/trigger-slot/",
                Some(&admin.token),
                Some(json!({"hour": 9, "date": date})),
            )
            .await;
        assert_error(s, &b, 400, "date_out_of_range");
    }
    let (_, queues) = app
        .call(
            Method::GET,
            "/api/reporter/admin/queues/",
            Some(&admin.token),
            None,
        )
        .await;
    assert!(
        queues
            .as_array()
            .unwrap()
            .iter()
            .all(|q| q["waiting"] == 0 && q["scheduled"] == 0),
        "nothing queued: {queues}"
    );
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/admin/schedule/backfill/",
            Some(&admin.token),
            Some(json!({"date": "-200000-01-01"})),
        )
        .await;
    assert_error(s, &b, 400, "date_out_of_range");
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/admin/schedule/pause/",
            Some(&admin.token),
            Some(json!({"until": "+200000-01-01T00:00:00Z"})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_until");
}

/// Finding 6: a known path with another method is 405 with `Allow`.
#[tokio::test]
async fn unsupported_methods_are_405_with_allow() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for (method, path, allow) in [
        (
            Method::PUT,
            "/api/reporter/reservations/",
            "GET, POST, PATCH, DELETE, HEAD",
        ),
        (Method::DELETE, "/api/me/", "GET, HEAD"),
        (Method::GET, "/api/auth/login/", "POST"),
        (Method::POST, "/api/v1/healthz", "GET, HEAD"),
        (Method::DELETE, "/login", "GET, POST, HEAD"),
        (Method::GET, "/logout", "POST"),
    ] {
        let res = app
            .req(method.clone(), path, Some(&u.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        let got: Vec<String> = header(&res, &ALLOW)
            .split(',')
            .map(|m| m.trim().to_string())
            .collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want: Vec<String> = allow.split(", ").map(str::to_string).collect();
        want.sort();
        assert_eq!(got_sorted, want, "{method} {path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["code"], "method_not_allowed", "{body}");
    }
    let (s, b) = app.call(Method::GET, "/api/nope/", None, None).await;
    assert_error(s, &b, 404, "not_found");
}

/// Finding 6: `HEAD` works wherever `GET` does, without a body.
#[tokio::test]
async fn head_is_answered_where_get_is() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for (path, token) in [
        ("/api/v1/livez", None),
        ("/api/me/", Some(u.token.as_str())),
        ("/api/openapi.json", None),
        ("/login", None),
        ("/static/app.css", None),
    ] {
        let res = app.req(Method::HEAD, path, token).send().await.unwrap();
        assert_eq!(res.status(), 200, "HEAD {path}");
        assert_eq!(header(&res, &X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(res.bytes().await.unwrap().is_empty(), "HEAD {path} body");
    }
    let res = app
        .req(Method::HEAD, "/api/me/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Finding 6: a JSON array is not a body (`[null, 100]` used to reserve).
#[tokio::test]
async fn json_arrays_and_scalars_are_not_bodies() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for body in ["[null, 100]", "[]", "100", "\"x\"", "null"] {
        let (s, b) = send(
            app.req(Method::POST, "/api/reporter/reservations/", Some(&u.token))
                .header("Content-Type", "application/json")
                .body(body),
        )
        .await;
        assert_error(s, &b, 400, "invalid_body");
    }
    let (s, r) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r, serde_json::Value::Null, "nothing reserved");
}

/// Finding 6: 415 says `unsupported_media_type` on JSON routes and forms.
#[tokio::test]
async fn wrong_content_type_is_415_unsupported_media_type_everywhere() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for (path, ct) in [
        ("/login", "application/json"),
        ("/logout", "text/plain"),
        ("/api/reporter/reservations/", "text/plain"),
        ("/api/auth/login/", "application/x-www-form-urlencoded"),
    ] {
        let (s, b) = send(
            app.req(Method::POST, path, Some(&u.token))
                .header("Content-Type", ct)
                .body("{}"),
        )
        .await;
        assert_error(s, &b, 415, "unsupported_media_type");
    }
}

/// Finding 6: a too-long portal password names the limit.
#[tokio::test]
async fn long_portal_password_names_the_limit() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/me/portal-credentials/",
            Some(&u.token),
            Some(json!({"email": "ana@portal", "password": "x".repeat(300)})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_portal_password");
    let d = b["detail"].as_str().unwrap();
    assert!(d.contains("256") && !d.contains("vacía"), "{d}");
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/me/portal-credentials/",
            Some(&u.token),
            Some(json!({"email": format!("{}@portal", "a".repeat(300)), "password": "x"})),
        )
        .await;
    assert_error(s, &b, 400, "invalid_portal_email");
    assert!(b["detail"].as_str().unwrap().contains("254"), "{b}");
}

/// Finding 6: security headers on JSON (success and error), pages, the
/// docs page and assets.
#[tokio::test]
async fn security_headers_on_every_response_kind() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let http = no_redirects();
    for (path, token) in [
        ("/api/me/", Some(u.token.as_str())),
        ("/api/me/", None),
        ("/api/nope", None),
        ("/api/openapi.json", None),
    ] {
        let res = app.req(Method::GET, path, token).send().await.unwrap();
        assert!(header(&res, &CONTENT_TYPE).starts_with("application/json"));
        assert_eq!(header(&res, &X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header(&res, &CACHE_CONTROL), "no-store", "{path}");
    }
    for path in ["/login", "/api/docs", "/nope-page"] {
        let res = http
            .get(app.url(path))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(
            header(&res, &CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&res, &X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
        assert_eq!(header(&res, &X_FRAME_OPTIONS), "DENY", "{path}");
        let csp = header(&res, &CONTENT_SECURITY_POLICY);
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src 'unsafe"), "{path}: {csp}");
        assert_eq!(header(&res, &CACHE_CONTROL), "no-store", "{path}");
    }
    let res = http.get(app.url("/static/app.css")).send().await.unwrap();
    assert_eq!(header(&res, &X_CONTENT_TYPE_OPTIONS), "nosniff");
}
