//! Faults injected through `POST /_sim/faults`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn error_rate_one_fails_every_portal_page_but_not_sim_api() {
    let sim = start(config(2)).await;
    let client = logged_in(&sim, 1).await;
    sim_post(&sim, "/_sim/faults", json!({"error_rate": 1.0})).await;
    for path in ["/login", "/orders", "/orders/export.xlsx"] {
        assert_eq!(
            get(&client, &sim, path).await.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
    }
    let resp = post_login(&client, &sim, "cliente1@portal.test", "clave-1").await;
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    sim_get(&sim, "/_sim/state").await;

    sim_post(&sim, "/_sim/faults", json!({"error_rate": 0.0})).await;
    assert_eq!(get(&client, &sim, "/orders").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn latency_delays_portal_pages_only() {
    let sim = start(config(2)).await;
    let client = browser();
    sim_post(&sim, "/_sim/faults", json!({"latency_ms": 250})).await;
    let t = Instant::now();
    assert_eq!(get(&client, &sim, "/login").await.status(), StatusCode::OK);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    sim_get(&sim, "/_sim/stats").await;
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn login_error_rate_one_rejects_right_passwords() {
    let sim = start(config(2)).await;
    sim_post(&sim, "/_sim/faults", json!({"login_error_rate": 1.0})).await;
    let resp = post_login(&browser(), &sim, "cliente1@portal.test", "clave-1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Credenciales inválidas"));
    assert_eq!(sim_get(&sim, "/_sim/stats").await["failed_logins"], 1);
}

#[tokio::test]
async fn faults_update_only_the_fields_sent() {
    let sim = start(config(2)).await;
    let resp = sim_post(
        &sim,
        "/_sim/faults",
        json!({"latency_ms": 5, "blocked_accounts": ["cliente2@portal.test"]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let faults: Value = sim_post(&sim, "/_sim/faults", json!({"error_rate": 0.25}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        faults,
        json!({"latency_ms": 5, "error_rate": 0.25, "login_error_rate": 0.0,
               "blocked_accounts": ["cliente2@portal.test"]})
    );
    assert_eq!(sim_get(&sim, "/_sim/faults").await, faults);

    for bad in [
        json!({"error_rate": 1.5}),
        json!({"latency": 3}),
        json!([1]),
    ] {
        let resp = sim_post(&sim, "/_sim/faults", bad.clone()).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    }
}
