//! The customer's 30-day history: per business day, stuck orders found,
//! orders reported, late starts and failures.

use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::ledger_seed::{self, DayRun, Ending};

type Reports = &'static [(i64, &'static str)];

fn day(h: &Value, date: chrono::NaiveDate) -> &Value {
    h["days"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["date"] == date.to_string())
        .unwrap_or_else(|| panic!("{date} missing in {h}"))
}

#[tokio::test]
async fn history_shows_each_day_reported_late_and_failed() {
    let app = TestApp::spawn().await;
    let ana = app.create_user("ana@example.com", 1000, false);
    let bob = app.create_user("bob@example.com", 1000, false);
    let today = ledger_seed::today();
    let ago = |n: i64| today - Duration::days(n);
    let mut c = app.conn();
    // (days ago, stuck, late start, ending, ledger rows)
    let runs: [(i64, i32, bool, Ending, Reports); 5] = [
        (
            0,
            5,
            false,
            Ending::Running,
            &[(1, "reported"), (2, "already_reported")],
        ),
        (
            1,
            3,
            true,
            Ending::Completed,
            &[(3, "reported"), (4, "reported"), (5, "reported")],
        ),
        (2, 0, false, Ending::DownloadFailed, &[]),
        (3, 4, false, Ending::RangeFailed, &[(6, "reported")]),
        // Outside the 30 days.
        (30, 9, false, Ending::Completed, &[(7, "reported")]),
    ];
    for (days_ago, stuck, late_start, ending, reports) in runs {
        ledger_seed::seed(
            &mut c,
            &DayRun {
                user_id: ana.id,
                date: ago(days_ago),
                hour: 9,
                stuck,
                late_start,
                ending,
                reports,
            },
        );
    }
    // Another customer's bad day in the same run never shows in Ana's.
    ledger_seed::seed(
        &mut c,
        &DayRun {
            user_id: bob.id,
            date: ago(5),
            hour: 9,
            stuck: 50,
            late_start: true,
            ending: Ending::DownloadFailed,
            reports: &[(8, "reported")],
        },
    );

    let (s, h) = app
        .call(
            Method::GET,
            "/api/reporter/history/",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["to"], today.to_string());
    assert_eq!(h["from"], ago(29).to_string());
    let days = h["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[0]["date"], ago(29).to_string(), "oldest first");
    assert_eq!(days[29]["date"], today.to_string());

    let pick = |d: &Value| {
        json!([
            d["runs"],
            d["stuck_orders"],
            d["reported"],
            d["late"],
            d["failed"],
            d["result"]
        ])
    };
    assert_eq!(
        pick(day(&h, ago(0))),
        json!([1, 5, 2, false, false, "running"])
    );
    assert_eq!(
        pick(day(&h, ago(1))),
        json!([1, 3, 3, true, false, "completed"])
    );
    assert_eq!(
        pick(day(&h, ago(2))),
        json!([1, 0, 0, false, true, "failed"])
    );
    assert_eq!(
        pick(day(&h, ago(3))),
        json!([1, 4, 1, false, true, "completed_with_failures"])
    );
    assert_eq!(pick(day(&h, ago(5))), json!([0, 0, 0, false, false, null]));
    assert_eq!(
        h["totals"],
        json!({"stuck_orders": 12, "reported": 6, "late_days": 1, "failed_days": 2})
    );

    let (s, h7) = app
        .call(
            Method::GET,
            "/api/reporter/history?days=7",
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{h7}");
    assert_eq!(h7["days"].as_array().unwrap().len(), 7);
    for bad in ["days=0", "days=91", "days=-3"] {
        let (s, b) = app
            .call(
                Method::GET,
                &format!("/api/reporter/history?{bad}"),
                Some(&ana.token),
                None,
            )
            .await;
        assert_error(s, &b, 400, "invalid_days");
    }
    let (s, b) = app
        .call(
            Method::GET,
            "/api/reporter/history?days=muchos",
            Some(&ana.token),
            None,
        )
        .await;
    assert_error(s, &b, 400, "invalid_query");
    let (s, b) = app
        .call(Method::GET, "/api/reporter/history", None, None)
        .await;
    assert_error(s, &b, 401, "not_authenticated");
}
