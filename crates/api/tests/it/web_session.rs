//! The browser session: login form, HttpOnly cookie, CSRF on changes,
//! logout, the console's admin gate, and the embedded assets.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect, Method, StatusCode};

use crate::helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in through the form; returns the `name=value` cookie pair.
async fn web_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    no_redirects()
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

pub async fn session_cookie(app: &TestApp, email: &str) -> String {
    let res = web_login(app, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token the page embeds for this session.
async fn page_csrf(app: &TestApp, cookie: &str, path: &str) -> String {
    let html = no_redirects()
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html
        .find("name=\"csrf-token\" content=\"")
        .expect("csrf meta")
        + 27;
    html[start..start + 64].to_string()
}

#[tokio::test]
async fn login_form_sets_an_httponly_strict_cookie_that_opens_the_pages() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 1000, false);
    let http = no_redirects();

    let res = http.get(app.url("/app")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/login");
    let res = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()[LOCATION], "/login");

    let login = http.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert!(login.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self'"));
    assert!(login.text().await.unwrap().contains("Iniciar sesión"));

    let bad = web_login(&app, "ana@example.com", "otra-clave").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers().get(SET_COOKIE).is_none());
    let body = bad.text().await.unwrap();
    assert!(body.contains("Correo o contraseña incorrectos"), "{body}");
    assert!(
        body.contains("value=\"ana@example.com\""),
        "email kept: {body}"
    );

    let res = web_login(&app, "ana@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/app");
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP in tests: {set}");
    let cookie = set.split(';').next().unwrap().to_string();

    let page = http
        .get(app.url("/app"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("ana@example.com"));
    assert!(html.contains("/static/customer.js"));

    // The JSON API accepts the cookie for reads, with no header.
    let me = http
        .get(app.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn cookie_authenticated_changes_need_the_csrf_header() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 1000, false);
    let cookie = session_cookie(&app, "ana@example.com").await;
    let csrf = page_csrf(&app, &cookie, "/app").await;
    let slot = app.slot_id(8);
    let body = serde_json::json!({"slot_id": slot, "monthly_orders_estimate": 1000});

    for header in [None, Some("nope"), Some(&csrf[..63])] {
        let mut b = app
            .http
            .post(app.url("/api/reporter/reservations"))
            .header(COOKIE, &cookie)
            .json(&body);
        if let Some(h) = header {
            b = b.header("X-CSRF-Token", h);
        }
        let (s, err) = send(b).await;
        assert_error(s, &err, 403, "csrf_failed");
    }
    let (s, r) = send(
        app.http
            .post(app.url("/api/reporter/reservations"))
            .header(COOKIE, &cookie)
            .header("X-CSRF-Token", &csrf)
            .json(&body),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["hour_label"], "08:00");
}

#[tokio::test]
async fn logout_ends_the_session_at_once() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 1000, false);
    let cookie = session_cookie(&app, "ana@example.com").await;
    let csrf = page_csrf(&app, &cookie, "/app").await;
    let http = no_redirects();

    // Without the form's CSRF field, nothing happens.
    let res = http
        .post(app.url("/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let me = http.get(app.url("/api/me")).header(COOKIE, &cookie);
    assert_eq!(me.send().await.unwrap().status(), 200);

    let res = http
        .post(app.url("/logout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/login?bye=1");
    let cleared = res.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let me = http
        .get(app.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    let page = http
        .get(app.url("/app"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()[LOCATION], "/login");
}

#[tokio::test]
async fn a_login_post_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 1000, false);
    let res = no_redirects()
        .post(app.url("/login"))
        .header("Origin", "https://evil.example")
        .form(&[("email", "ana@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn customers_cannot_open_the_console_nor_call_its_api() {
    let app = TestApp::spawn().await;
    app.create_user("ana@example.com", 1000, false);
    app.create_user("ops@example.com", 0, true);
    let http = no_redirects();

    let ana = session_cookie(&app, "ana@example.com").await;
    let page = http
        .get(app.url("/admin"))
        .header(COOKIE, &ana)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("solo para operadores"));
    for path in [
        "/api/reporter/admin/queues",
        "/api/reporter/admin/runs",
        "/api/reporter/admin/failed-ranges",
        "/api/reporter/admin/activity",
    ] {
        let (s, b) = send(app.http.get(app.url(path)).header(COOKIE, &ana)).await;
        assert_error(s, &b, 403, "forbidden");
    }

    let ops = session_cookie(&app, "ops@example.com").await;
    let page = http
        .get(app.url("/admin"))
        .header(COOKIE, &ops)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Consola de operación"));
    let res = http
        .get(app.url("/"))
        .header(COOKIE, &ops)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[LOCATION], "/admin");
}

#[tokio::test]
async fn assets_are_embedded_and_revalidated_by_etag() {
    let app = TestApp::spawn().await;
    for (path, ty) in [
        ("/static/app.css", "text/css"),
        ("/static/customer.js", "text/javascript"),
        ("/static/console.js", "text/javascript"),
        ("/static/common.js", "text/javascript"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let res = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(ty));
        let etag = res.headers()["etag"].to_str().unwrap().to_string();
        let again = app
            .http
            .get(app.url(path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let (s, b) = app
        .call(Method::GET, "/static/../Cargo.toml", None, None)
        .await;
    assert_eq!(s, 404, "{b}");
    let (s, b) = app.call(Method::GET, "/static/nope.js", None, None).await;
    assert_error(s, &b, 404, "not_found");

    // A person's browser on an unknown page gets a page; programs get JSON.
    let page = app
        .http
        .get(app.url("/no-existe"))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("Esta página no existe"));
    let (s, b) = send(
        app.http
            .get(app.url("/api/no-existe"))
            .header("Accept", "text/html"),
    )
    .await;
    assert_error(s, &b, 404, "not_found");
}
