//! `/_sim/stats` counts what the portal was used for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn counters_follow_a_session() {
    let sim = start(config(8)).await;
    let fresh = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(
        fresh,
        json!({"logins": 0, "failed_logins": 0, "exports": 0, "order_views": 0,
               "reports": 0, "duplicate_reports": 0, "active_sessions": 0})
    );

    post_login(&browser(), &sim, "cliente1@portal.test", "mal").await;
    let client = logged_in(&sim, 1).await;
    let _other = logged_in(&sim, 2).await;
    get(&client, &sim, "/orders/export.xlsx").await;
    get(&client, &sim, "/orders/export.xlsx").await;
    let ids = order_ids(&sim, "cliente1@portal.test").await;
    get(&client, &sim, &format!("/orders/{}", ids[0])).await;
    get(&client, &sim, "/orders/1").await; // 404s are not views
    report(&client, &sim, ids[1], "sin_movimiento", "m").await;
    report(&client, &sim, ids[1], "sin_movimiento", "m").await;
    report(&client, &sim, ids[1], "sin_movimiento", "m").await;

    let stats = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(
        stats,
        json!({"logins": 2, "failed_logins": 1, "exports": 2, "order_views": 1,
               "reports": 1, "duplicate_reports": 2, "active_sessions": 2})
    );
}

#[tokio::test]
async fn accounts_endpoint_lists_the_credentials() {
    let sim = start(config(8)).await;
    assert_eq!(
        sim_get(&sim, "/_sim/accounts").await,
        json!([{"email": "cliente1@portal.test", "password": "clave-1"},
               {"email": "cliente2@portal.test", "password": "clave-2"}])
    );
}
