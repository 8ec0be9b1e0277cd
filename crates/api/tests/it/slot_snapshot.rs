//! The slot list is served from a per-replica snapshot: these tests pin
//! that a write through any replica is visible at once through every other,
//! and that the list stays right when Redis, which carries the version, is
//! gone.

use std::time::Instant;

use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn used_points_at(app: &TestApp, base: &str, token: &str, hour: i64) -> i64 {
    let b = app
        .http
        .get(format!("{base}/api/reporter/slots/"))
        .header("Authorization", format!("Token {token}"));
    let (s, body) = send(b).await;
    assert_eq!(s, 200, "{body}");
    slot_at(&body, hour)["used_points"].as_i64().unwrap()
}

fn slot_at(body: &Value, hour: i64) -> &Value {
    body.as_array()
        .unwrap()
        .iter()
        .find(|s| s["hour"] == hour)
        .unwrap_or_else(|| panic!("no hour {hour} in {body}"))
}

async fn on(
    app: &TestApp,
    base: &str,
    method: Method,
    token: &str,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut b = app
        .http
        .request(method, format!("{base}/api/reporter/reservations/"))
        .header("Authorization", format!("Token {token}"));
    if let Some(body) = body {
        b = b.json(&body);
    }
    send(b).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_is_seen_at_once_through_the_other() {
    let app = TestApp::spawn().await;
    let b = app.spawn_replica();
    let a = app.base.clone();
    let u = app.create_user("ana@example.com", 0, false);
    let (nine, ten) = (app.slot_id(9), app.slot_id(10));

    // Both replicas hold a snapshot before any write.
    assert_eq!(used_points_at(&app, &a, &u.token, 9).await, 0);
    assert_eq!(used_points_at(&app, &b.base, &u.token, 9).await, 0);

    for round in 0..10 {
        let (writer, reader) = if round % 2 == 0 {
            (a.as_str(), b.base.as_str())
        } else {
            (b.base.as_str(), a.as_str())
        };
        let (s, r) = on(
            &app,
            writer,
            Method::POST,
            &u.token,
            Some(json!({"slot_id": nine, "monthly_orders_estimate": 9000})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(used_points_at(&app, reader, &u.token, 9).await, 3);

        let (s, r) = on(
            &app,
            reader,
            Method::PATCH,
            &u.token,
            Some(json!({"slot_id": ten, "monthly_orders_estimate": 100})),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(used_points_at(&app, writer, &u.token, 9).await, 0);
        assert_eq!(used_points_at(&app, writer, &u.token, 10).await, 1);

        let (s, r) = on(&app, writer, Method::DELETE, &u.token, None).await;
        assert_eq!(s, 204, "{r}");
        assert_eq!(used_points_at(&app, reader, &u.token, 10).await, 0);
    }

    // An admin's capacity change too.
    let admin = app.create_user("admin@example.com", 0, true);
    let (s, r) = send(
        app.http
            .patch(format!("{}/api/reporter/admin/slots/{nine}/", b.base))
            .header("Authorization", format!("Token {}", admin.token))
            .json(&json!({"capacity_points": 9})),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (_, slots) = app
        .call(Method::GET, "/api/reporter/slots/", Some(&u.token), None)
        .await;
    assert_eq!(slot_at(&slots, 9)["capacity_points"], 9);
}

#[tokio::test]
async fn between_writes_the_list_comes_from_memory_until_the_version_moves() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let other = app.create_user("bea@example.com", 0, false);
    let slot = app.slot_id(11);
    assert_eq!(used_points_at(&app, &app.base, &u.token, 11).await, 0);
    let warmed = Instant::now();

    // A write that bypasses the API (and so the version).
    {
        use reporter_core::schema::reporter_reservations as r;
        diesel::insert_into(r::table)
            .values((
                r::user_id.eq(other.id),
                r::slot_id.eq(slot),
                r::calculated_weight.eq(2),
                r::monthly_orders_estimate.eq(3000),
                r::estimated_pending_orders.eq(240),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let seen = used_points_at(&app, &app.base, &u.token, 11).await;
    // Only meaningful while the snapshot is young; on a very slow machine
    // it may have expired, which is also correct behaviour.
    if warmed.elapsed() < reporter_api::slot_snapshot::MAX_AGE / 2 {
        assert_eq!(seen, 0, "served from the snapshot, not the database");
    }

    let mut redis = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    reporter_core::slot_version::bump(&mut redis, &app.prefix)
        .await
        .unwrap();
    assert_eq!(used_points_at(&app, &app.base, &u.token, 11).await, 2);
}

#[tokio::test]
async fn without_redis_the_list_is_read_from_the_database() {
    let app = TestApp::spawn_with(&[("REDIS_URL", "redis://127.0.0.1:1/")]).await;
    let u = app.create_user("ana@example.com", 0, false);
    assert_eq!(used_points_at(&app, &app.base, &u.token, 8).await, 0);
    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(8), "monthly_orders_estimate": 4000})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(used_points_at(&app, &app.base, &u.token, 8).await, 2);
}

#[tokio::test]
async fn a_full_hour_refusal_makes_the_next_list_show_the_hour_full() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let others = [
        app.create_user("bea@example.com", 0, false),
        app.create_user("eva@example.com", 0, false),
    ];
    let slot = app.slot_id(11);
    assert_eq!(used_points_at(&app, &app.base, &u.token, 11).await, 0);

    // Two fill the hour outside the API: the snapshot still says 0/6.
    for other in &others {
        use reporter_core::schema::reporter_reservations as r;
        diesel::insert_into(r::table)
            .values((
                r::user_id.eq(other.id),
                r::slot_id.eq(slot),
                r::calculated_weight.eq(3),
                r::monthly_orders_estimate.eq(9000),
                r::estimated_pending_orders.eq(720),
            ))
            .execute(&mut app.conn())
            .unwrap();
    }
    let (s, r) = on(
        &app,
        &app.base,
        Method::POST,
        &u.token,
        Some(json!({"slot_id": slot, "monthly_orders_estimate": 100})),
    )
    .await;
    assert_eq!(s, 400, "{r}");
    assert_eq!(r["code"], "slot_full");
    // The page reloads the grid right after the refusal: it must agree.
    assert_eq!(used_points_at(&app, &app.base, &u.token, 11).await, 6);
}
