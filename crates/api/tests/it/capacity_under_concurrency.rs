//! The capacity rule must hold when hundreds of customers reserve at the
//! same moment: these tests fire 200+ requests at once and then check the
//! database, not the responses alone.

use diesel::prelude::*;
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const USERS: usize = 200;

fn used_points(app: &TestApp, slot: i32) -> i64 {
    use reporter_core::schema::reporter_reservations::dsl::*;
    let sum: Option<i64> = reporter_reservations
        .filter(slot_id.eq(slot))
        .select(diesel::dsl::sum(calculated_weight))
        .first(&mut app.conn())
        .unwrap();
    sum.unwrap_or(0)
}

fn reservations_in(app: &TestApp, slot: i32) -> i64 {
    use reporter_core::schema::reporter_reservations::dsl::*;
    reporter_reservations
        .filter(slot_id.eq(slot))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

fn monthly_for(i: usize) -> i64 {
    [100, 3000, 9000][i % 3]
}

async fn set_capacity(app: &TestApp, admin: &TestUser, hour: i32, cap: i32) {
    let (s, b) = app
        .call(
            Method::PATCH,
            &format!("/api/reporter/admin/slots/{}/", app.slot_id(hour)),
            Some(&admin.token),
            Some(json!({"capacity_points": cap})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_simultaneous_posts_to_one_hour_never_exceed_its_capacity() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    // A capacity that admits some dozens, so the race is on the sum, not on
    // the first request.
    set_capacity(&app, &admin, 9, 40).await;
    let slot = app.slot_id(9);
    let users: Vec<_> = (0..USERS)
        .map(|i| app.create_user(&format!("u{i}@example.com"), 0, false))
        .collect();

    let results = join_all(users.iter().enumerate().map(|(i, u)| {
        app.call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": slot, "monthly_orders_estimate": monthly_for(i)})),
        )
    }))
    .await;

    let accepted = results.iter().filter(|(s, _)| s.as_u16() == 201).count();
    for (s, b) in results.iter().filter(|(s, _)| s.as_u16() != 201) {
        assert_error(*s, b, 400, "slot_full");
    }
    let used = used_points(&app, slot);
    assert!(used <= 40, "slot over capacity: {used} > 40");
    assert!(
        used >= 38,
        "capacity left unused while requests were refused: {used}"
    );
    assert_eq!(
        accepted as i64,
        reservations_in(&app, slot),
        "every 201 is exactly one stored reservation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_first_fit_posts_fill_hours_in_order_without_overfilling_any() {
    let app = TestApp::spawn().await;
    let users: Vec<_> = (0..USERS)
        .map(|i| app.create_user(&format!("u{i}@example.com"), 0, false))
        .collect();
    let results = join_all(users.iter().enumerate().map(|(i, u)| {
        app.call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"monthly_orders_estimate": monthly_for(i)})),
        )
    }))
    .await;
    let accepted = results.iter().filter(|(s, _)| s.as_u16() == 201).count() as i64;
    for (s, b) in results.iter().filter(|(s, _)| s.as_u16() != 201) {
        assert_error(*s, b, 400, "no_slot_available");
    }
    let mut total = 0;
    for hour in 6..18 {
        let slot = app.slot_id(hour);
        assert!(used_points(&app, slot) <= 6, "hour {hour} over capacity");
        total += reservations_in(&app, slot);
    }
    assert_eq!(accepted, total);
    // 12 hours × 6 points, weights 1/2/3 in rotation: the window is full.
    for hour in 6..18 {
        assert!(
            used_points(&app, app.slot_id(hour)) >= 4,
            "hour {hour} left mostly empty"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_simultaneous_moves_into_one_hour_never_exceed_its_capacity() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("admin@example.com", 0, true);
    for hour in 6..17 {
        set_capacity(&app, &admin, hour, 60).await;
    }
    let target = app.slot_id(17);
    let users: Vec<_> = (0..USERS)
        .map(|i| app.create_user(&format!("u{i}@example.com"), 0, false))
        .collect();
    for (i, u) in users.iter().enumerate() {
        let (s, b) = app
            .call(Method::POST, "/api/reporter/reservations/", Some(&u.token), Some(json!({"slot_id": app.slot_id(6 + (i % 11) as i32), "monthly_orders_estimate": monthly_for(i)})))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let results = join_all(users.iter().map(|u| {
        app.call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": target})),
        )
    }))
    .await;
    let moved = results.iter().filter(|(s, _)| s.as_u16() == 200).count() as i64;
    for (s, b) in results.iter().filter(|(s, _)| s.as_u16() != 200) {
        assert_error(*s, b, 400, "slot_full");
    }
    assert!(used_points(&app, target) <= 6);
    assert!(moved >= 2);
    assert_eq!(moved, reservations_in(&app, target));
    // Nobody was lost or duplicated by the moves.
    let total: i64 = (6..18).map(|h| reservations_in(&app, app.slot_id(h))).sum();
    assert_eq!(total, USERS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_user_racing_themself_gets_exactly_one_reservation() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let results = join_all((0..20).map(|i| {
        app.call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(6 + (i % 12)), "monthly_orders_estimate": 10})),
        )
    }))
    .await;
    assert_eq!(results.iter().filter(|(s, _)| s.as_u16() == 201).count(), 1);
    for (s, b) in results.iter().filter(|(s, _)| s.as_u16() != 201) {
        assert_error(*s, b, 409, "already_reserved");
    }
}
