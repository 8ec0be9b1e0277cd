//! Login, sessions, expiry and logout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_page_has_the_contract_form() {
    let sim = start(config(1)).await;
    let html = get(&browser(), &sim, "/login").await.text().await.unwrap();
    for needle in [
        r#"<form id="login-form" method="post" action="/login">"#,
        r#"name="email""#,
        r#"name="password""#,
        r#"id="login-submit""#,
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(!html.contains(r#"id="login-error""#));
}

#[tokio::test]
async fn valid_login_sets_session_cookie_and_opens_orders() {
    let sim = start(config(1)).await;
    let client = browser();
    let resp = post_login(&client, &sim, "cliente2@portal.test", "clave-2").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/orders");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("portal_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/"),
        "{cookie}"
    );

    let resp = get(&client, &sim, "/orders").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"<span id="account-email">cliente2@portal.test</span>"#));
    assert!(html.contains(r#"<a id="export-orders" href="/orders/export.xlsx">"#));
}

#[tokio::test]
async fn wrong_password_shows_invalid_credentials() {
    let sim = start(config(1)).await;
    let client = browser();
    for (email, password) in [
        ("cliente1@portal.test", "nope"),
        ("nadie@portal.test", "clave-1"),
    ] {
        let resp = post_login(&client, &sim, email, password).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let html = resp.text().await.unwrap();
        assert!(html.contains(r#"<div id="login-error" role="alert">Credenciales inválidas</div>"#));
        assert!(html.contains(r#"id="login-form""#));
    }
    assert_eq!(
        get(&client, &sim, "/orders").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn blocked_account_cannot_log_in_and_loses_its_session() {
    let sim = start(config(1)).await;
    let client = logged_in(&sim, 1).await;
    let resp = sim_post(
        &sim,
        "/_sim/faults",
        json!({"blocked_accounts": ["Cliente1@portal.test"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = get(&client, &sim, "/orders").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = post_login(&browser(), &sim, "cliente1@portal.test", "clave-1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains(">Cuenta bloqueada</div>"));

    // Other accounts are unaffected.
    logged_in(&sim, 2).await;
}

#[tokio::test]
async fn every_page_redirects_to_login_without_session() {
    let sim = start(config(1)).await;
    let id = order_ids(&sim, "cliente1@portal.test").await[0];
    let client = browser();
    for path in [
        "/orders",
        "/orders/export.xlsx",
        &format!("/orders/{id}"),
        "/orders/999",
    ] {
        let resp = get(&client, &sim, path).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&resp), "/login", "{path}");
    }
    let resp = report(&client, &sim, id, "sin_movimiento", "hola").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // A forged cookie is no session either.
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = forged
        .get(sim.url("/orders"))
        .header("cookie", "portal_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn idle_session_expires_and_relogin_works() {
    let mut cfg = config(1);
    cfg.session_ttl = Duration::from_millis(300);
    let sim = start(cfg).await;
    let client = logged_in(&sim, 1).await;
    assert_eq!(get(&client, &sim, "/orders").await.status(), StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(450)).await;
    let resp = get(&client, &sim, "/orders").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");

    let resp = post_login(&client, &sim, "cliente1@portal.test", "clave-1").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(get(&client, &sim, "/orders").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let sim = start(config(1)).await;
    let client = logged_in(&sim, 1).await;
    let resp = get(&client, &sim, "/logout").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login");
    assert_eq!(
        get(&client, &sim, "/orders").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(sim_get(&sim, "/_sim/stats").await["active_sessions"], 0);
}
