use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn slots_show_only_the_window_with_points_and_legacy_fields() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    for path in ["/api/reporter/slots/", "/api/reporter/slots"] {
        let (s, body) = app.call(Method::GET, path, Some(&u.token), None).await;
        assert_eq!(s, 200);
        let slots = body.as_array().unwrap();
        let hours: Vec<i64> = slots.iter().map(|s| s["hour"].as_i64().unwrap()).collect();
        assert_eq!(hours, (6..18).collect::<Vec<_>>());
        let first = &slots[0];
        assert_eq!(first["hour_label"], "06:00");
        for field in [
            "id",
            "used_points",
            "capacity_points",
            "available",
            "max_users",
            "current_users",
        ] {
            assert!(first[field].is_number(), "{field} missing in {first}");
        }
        assert_eq!(first["capacity_points"], 6);
        assert_eq!(first["available"], 6);
    }
}

#[tokio::test]
async fn reserving_computes_weight_and_updates_the_slot_load() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let slot = app.slot_id(9);
    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": slot, "monthly_orders_estimate": 4000})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["calculated_weight"], 2);
    assert_eq!(r["size_label"], "mediano");
    assert_eq!(r["estimated_pending_orders"], 320);
    assert_eq!(r["hour_label"], "09:00");

    let (_, got) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(got["id"], r["id"]);
    let (_, slots) = app
        .call(Method::GET, "/api/reporter/slots/", Some(&u.token), None)
        .await;
    let nine = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hour"] == 9)
        .unwrap()
        .clone();
    assert_eq!(
        (
            nine["used_points"].as_i64(),
            nine["available"].as_i64(),
            nine["current_users"].as_i64()
        ),
        (Some(2), Some(4), Some(1))
    );
}

#[tokio::test]
async fn a_full_hour_answers_400_slot_full_with_the_spanish_message() {
    let app = TestApp::spawn().await;
    let slot = app.slot_id(10);
    for i in 0..2 {
        let u = app.create_user(&format!("big{i}@example.com"), 0, false);
        let (s, b) = app
            .call(
                Method::POST,
                "/api/reporter/reservations",
                Some(&u.token),
                Some(json!({"slot_id": slot, "monthly_orders_estimate": 9000})),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
    let small = app.create_user("small@example.com", 0, false);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&small.token),
            Some(json!({"slot_id": slot, "monthly_orders_estimate": 10})),
        )
        .await;
    assert_error(s, &b, 400, "slot_full");
    assert_eq!(b["detail"], "Hora llena por capacidad");
    assert_eq!(
        app.call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&small.token),
            None
        )
        .await
        .1,
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn outside_window_second_reservation_and_unknown_slot_are_rejected() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(3), "monthly_orders_estimate": 10})),
        )
        .await;
    assert_error(s, &b, 400, "outside_window");
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": 99999, "monthly_orders_estimate": 10})),
        )
        .await;
    assert_error(s, &b, 400, "slot_not_found");
    let (s, _) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(7), "monthly_orders_estimate": 10})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(8), "monthly_orders_estimate": 10})),
        )
        .await;
    assert_error(s, &b, 409, "already_reserved");
}

#[tokio::test]
async fn omitting_slot_id_picks_the_earliest_hour_with_room() {
    let app = TestApp::spawn().await;
    let filler = app.create_user("filler@example.com", 0, false);
    let f2 = app.create_user("filler2@example.com", 0, false);
    for (u, n) in [(&filler, 9000), (&f2, 6000)] {
        let (s, _) = app
            .call(
                Method::POST,
                "/api/reporter/reservations/",
                Some(&u.token),
                Some(json!({"slot_id": app.slot_id(6), "monthly_orders_estimate": n})),
            )
            .await;
        assert_eq!(s, 201);
    }
    let u = app.create_user("ana@example.com", 0, false);
    let (s, r) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"monthly_orders_estimate": 100})),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["hour"], 7);
}

#[tokio::test]
async fn patch_moves_and_reweighs_under_the_capacity_rule_and_delete_cancels() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let other = app.create_user("big@example.com", 0, false);
    let (s, _) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&other.token),
            Some(json!({"slot_id": app.slot_id(12), "monthly_orders_estimate": 9000})),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(11), "monthly_orders_estimate": 100})),
        )
        .await;
    assert_eq!(s, 201);

    // Re-weigh in place: 3 points in an empty hour fits.
    let (s, r) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"monthly_orders_estimate": 9000})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["calculated_weight"].as_i64(), r["hour"].as_i64()),
        (Some(3), Some(11))
    );
    // Move to 12:00 (3 used) with weight 3: 3 + 3 <= 6 fits.
    let (s, r) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(12)})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Now 12:00 is full: the other user cannot grow to... stays 3, but a third user cannot enter.
    let third = app.create_user("third@example.com", 0, false);
    let (s, b) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&third.token),
            Some(json!({"slot_id": app.slot_id(12), "monthly_orders_estimate": 1})),
        )
        .await;
    assert_error(s, &b, 400, "slot_full");
    // Moving the third user's (nonexistent) reservation is a 404.
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&third.token),
            Some(json!({"slot_id": app.slot_id(13)})),
        )
        .await;
    assert_error(s, &b, 404, "no_reservation");
    // Moving outside the window is refused and changes nothing.
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({"slot_id": app.slot_id(20)})),
        )
        .await;
    assert_error(s, &b, 400, "outside_window");
    let (s, b) = app
        .call(
            Method::PATCH,
            "/api/reporter/reservations/",
            Some(&u.token),
            Some(json!({})),
        )
        .await;
    assert_error(s, &b, 400, "empty_change");
    let (_, still) = app
        .call(
            Method::GET,
            "/api/reporter/reservations/",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(still["hour"], 12);

    let (s, _) = app
        .call(
            Method::DELETE,
            "/api/reporter/reservations/",
            Some(&u.token),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, b) = app
        .call(
            Method::DELETE,
            "/api/reporter/reservations/",
            Some(&u.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "no_reservation");
    let (s, _) = app
        .call(
            Method::POST,
            "/api/reporter/reservations/",
            Some(&third.token),
            Some(json!({"slot_id": app.slot_id(12), "monthly_orders_estimate": 1})),
        )
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn config_endpoint_carries_the_weight_ui_flag_and_window() {
    let app = TestApp::spawn().await;
    let u = app.create_user("ana@example.com", 0, false);
    let (s, c) = app
        .call(Method::GET, "/api/reporter/config/", Some(&u.token), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["use_weight_ui"], true);
    assert_eq!(
        (
            c["reporter_hour_start"].as_i64(),
            c["reporter_hour_end"].as_i64()
        ),
        (Some(6), Some(18))
    );
    assert_eq!(c["timezone"], "America/Bogota");
    assert_eq!(c["weights"][2]["label"], "grande");
}
