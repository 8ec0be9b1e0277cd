use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::schema::{reporter_run_users, reporter_runs};
use reqwest::Method;

use crate::helpers::*;

fn insert_run(app: &TestApp, hour: i32, users: &[i64]) -> i64 {
    let mut c = app.conn();
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(app.slot_id(hour)),
            reporter_runs::scheduled_at.eq(Utc
                .with_ymd_and_hms(2026, 11, 20, hour as u32 + 5, 0, 0)
                .unwrap()),
            reporter_runs::status.eq("running"),
        ))
        .returning(reporter_runs::id)
        .get_result(&mut c)
        .unwrap();
    for u in users {
        diesel::insert_into(reporter_run_users::table)
            .values((
                reporter_run_users::run_id.eq(run_id),
                reporter_run_users::user_id.eq(u),
                reporter_run_users::progress_message.eq("Reportando órdenes 1–100 de 340…"),
                reporter_run_users::total_ranges.eq(4),
                reporter_run_users::ranges_completed.eq(1),
            ))
            .execute(&mut c)
            .unwrap();
    }
    run_id
}

#[tokio::test]
async fn customers_see_their_own_runs_and_progress_only_admins_see_everyone() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 0, false);
    let bob = app.create_user("bob@example.com", 0, false);
    let admin = app.create_user("admin@example.com", 0, true);
    let both = insert_run(&app, 9, &[ana.id, bob.id]);
    let only_bob = insert_run(&app, 10, &[bob.id]);

    let (s, runs) = app
        .call(Method::GET, "/api/reporter/runs/", Some(&ana.token), None)
        .await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![both]);
    assert_eq!(runs[0]["hour_label"], "09:00");

    let (s, p) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{both}/progress/"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let users = p["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], "ana@example.com");
    assert_eq!(
        users[0]["progress_message"],
        "Reportando órdenes 1–100 de 340…"
    );

    let (s, b) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{only_bob}/progress/"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_error(s, &b, 404, "run_not_found");

    let (s, p) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{both}/progress/"),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(p["users"].as_array().unwrap().len(), 2);
}
