//! The order page and the "no movement" report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn first_in_flight(sim: &portal_sim::RunningSim, email: &str) -> u64 {
    let orders = sim_get(sim, &format!("/_sim/export/{email}")).await;
    orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| !["ENTREGADO", "DEVUELTO", "CANCELADO"].contains(&o["status"].as_str().unwrap()))
        .expect("an order in flight")["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn report_then_duplicate_then_already_reported_page() {
    let sim = start(config(5)).await;
    let client = logged_in(&sim, 1).await;
    let id = first_in_flight(&sim, "cliente1@portal.test").await;

    let html = get(&client, &sim, &format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(r#"<span id="order-id">{id}</span>"#)));
    assert!(html.contains(r#"<span id="order-status">"#));
    assert!(html.contains(&format!(
        r#"<form id="report-form" method="post" action="/orders/{id}/report">"#
    )));
    assert!(html.contains(r#"<option value="sin_movimiento">"#));
    assert!(html.contains(r#"<textarea id="message" name="message""#));
    assert!(html.contains(r#"id="report-submit""#));
    assert!(!html.contains("already-reported"));

    let resp = report(&client, &sim, id, "sin_movimiento", "Orden sin movimiento").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ticket = data_ticket(&resp.text().await.unwrap(), "report-ok").expect("ticket");

    let resp = report(&client, &sim, id, "sin_movimiento", "otra vez").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        data_ticket(&resp.text().await.unwrap(), "already-reported"),
        Some(ticket.clone())
    );

    let html = get(&client, &sim, &format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(data_ticket(&html, "already-reported"), Some(ticket.clone()));
    assert!(!html.contains("report-form"));

    let reports = sim_get(&sim, "/_sim/reports").await;
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["account"], "cliente1@portal.test");
    assert_eq!(reports[0]["order_id"], id);
    assert_eq!(reports[0]["ticket"], ticket);
    assert_eq!(reports[0]["day"], START_DAY);
    assert!(reports[0]["at"].as_str().unwrap().ends_with('Z'));

    let stats = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(stats["reports"], 1);
    assert_eq!(stats["duplicate_reports"], 1);
    assert_eq!(stats["order_views"], 2);
}

#[tokio::test]
async fn an_order_can_be_reported_again_the_next_day() {
    let mut cfg = config(5);
    cfg.move_rate = 0.0;
    let sim = start(cfg).await;
    let client = logged_in(&sim, 1).await;
    let id = first_in_flight(&sim, "cliente1@portal.test").await;
    assert_eq!(
        report(&client, &sim, id, "sin_movimiento", "día 1")
            .await
            .status(),
        StatusCode::OK
    );
    sim_post(&sim, "/_sim/advance-day", json!({})).await;

    let html = get(&client, &sim, &format!("/orders/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("report-form"));
    assert_eq!(
        report(&client, &sim, id, "sin_movimiento", "día 2")
            .await
            .status(),
        StatusCode::OK
    );
    let reports = sim_get(&sim, "/_sim/reports").await;
    let days: Vec<_> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["day"].clone())
        .collect();
    assert_eq!(days, [json!("2025-03-10"), json!("2025-03-11")]);
}

#[tokio::test]
async fn other_accounts_and_unknown_orders_are_404() {
    let sim = start(config(5)).await;
    let client = logged_in(&sim, 1).await;
    let foreign = order_ids(&sim, "cliente2@portal.test").await[0];
    for path in [
        format!("/orders/{foreign}"),
        "/orders/1".into(),
        "/orders/abc".into(),
    ] {
        assert_eq!(
            get(&client, &sim, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let resp = report(&client, &sim, foreign, "sin_movimiento", "no es mía").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(sim_get(&sim, "/_sim/reports")
        .await
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn report_needs_a_known_reason_and_a_message() {
    let sim = start(config(5)).await;
    let client = logged_in(&sim, 1).await;
    let id = first_in_flight(&sim, "cliente1@portal.test").await;
    let url = sim.url(&format!("/orders/{id}/report"));
    for form in [
        vec![("message", "sin motivo")],
        vec![("reason", "sin_movimiento")],
        vec![("reason", "sin_movimiento"), ("message", "   ")],
        vec![("reason", "inventado"), ("message", "hola")],
    ] {
        let resp = client.post(&url).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{form:?}");
    }
    let stats = sim_get(&sim, "/_sim/stats").await;
    assert_eq!(stats["reports"], 0);
    assert_eq!(stats["duplicate_reports"], 0);
}
