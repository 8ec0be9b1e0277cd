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

/// The list reads the run-users' copy of their run's slot time (filled by
/// the insert trigger of migration 000015, which this insert does not
/// mention, as code from before it would not): newest slot first even when
/// the run ids say otherwise (a backfilled earlier hour created last).
#[tokio::test]
async fn a_customers_runs_come_newest_slot_first_whatever_order_they_were_created_in() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 0, false);
    let later = insert_run(&app, 12, &[ana.id]);
    let earlier = insert_run(&app, 8, &[ana.id]);
    let middle = insert_run(&app, 10, &[ana.id]);

    let copied: Vec<(i64, Option<chrono::DateTime<Utc>>, chrono::DateTime<Utc>)> =
        reporter_run_users::table
            .inner_join(reporter_runs::table)
            .filter(reporter_run_users::user_id.eq(ana.id))
            .select((
                reporter_runs::id,
                reporter_run_users::scheduled_at,
                reporter_runs::scheduled_at,
            ))
            .load(&mut app.conn())
            .unwrap();
    assert_eq!(copied.len(), 3);
    for (run, copy, scheduled) in copied {
        assert_eq!(
            copy,
            Some(scheduled),
            "run {run}: the trigger copies the slot time"
        );
    }

    let (s, runs) = app
        .call(Method::GET, "/api/reporter/runs/", Some(&ana.token), None)
        .await;
    assert_eq!(s, 200, "{runs}");
    let ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![later, middle, earlier]);

    let (s, runs) = app
        .call(
            Method::GET,
            "/api/reporter/runs/?limit=1",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(runs[0]["id"], later);

    let (s, summary) = app
        .call(Method::GET, "/api/reporter/summary", Some(&ana.token), None)
        .await;
    assert_eq!(s, 200, "{summary}");
    assert_eq!(summary["last_run"]["run"]["id"], later, "{summary}");
}

/// A shadow part is a rehearsal: the customer's list, summary, progress and
/// reports never show it (as if the run did not exist for them); an admin
/// sees it, marked.
#[tokio::test]
async fn customers_never_see_their_shadow_parts_admins_do() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 0, false);
    let admin = app.create_user("admin@example.com", 0, true);
    let live = insert_run(&app, 9, &[ana.id]);
    let rehearsal = insert_run(&app, 11, &[ana.id]);
    {
        let mut c = app.conn();
        diesel::update(reporter_runs::table.find(rehearsal))
            .set(reporter_runs::report_mode.eq("shadow"))
            .execute(&mut c)
            .unwrap();
        diesel::update(reporter_run_users::table.filter(reporter_run_users::run_id.eq(rehearsal)))
            .set(reporter_run_users::report_mode.eq("shadow"))
            .execute(&mut c)
            .unwrap();
    }

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
    assert_eq!(ids, vec![live], "the newer shadow run is not listed");

    let (s, summary) = app
        .call(Method::GET, "/api/reporter/summary", Some(&ana.token), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(summary["last_run"]["run"]["id"], live, "{summary}");

    for path in [
        format!("/api/reporter/runs/{rehearsal}/progress/"),
        format!("/api/reporter/runs/{rehearsal}/reports/"),
    ] {
        let (s, b) = app.call(Method::GET, &path, Some(&ana.token), None).await;
        assert_eq!(s, 404, "{path}: {b}");
    }

    let (s, p) = app
        .call(
            Method::GET,
            &format!("/api/reporter/runs/{rehearsal}/progress/"),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["run"]["report_mode"], "shadow");
    assert_eq!(p["users"][0]["report_mode"], "shadow");
}
