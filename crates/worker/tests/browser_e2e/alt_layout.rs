use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use diesel::prelude::*;
use portal_sim::Layout;

use crate::harness::{d, stuck_between, BrowserPipeline, Options};

/// The same two days against `portal-sim --layout alt` with its profile
/// (`profiles/portal-sim-alt.toml`): other paths, fields and export
/// columns, an orders list of 50 per page (each account has more), an
/// export built on demand after a button click, and tickets shown only as
/// text. Day 1 stores baselines and reports nothing; day 2 reports exactly
/// the simulator's stuck orders, once, and the ledger holds the ticket the
/// portal gave each one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alt_layout_day_two_reports_exactly_the_stuck_orders_with_their_text_tickets() {
    let p = BrowserPipeline::new(Options {
        accounts: 2,
        orders: 120,
        max_active: 2,
        layout: Layout::Alt,
        ..Options::default()
    })
    .await;
    let (d1, d2) = (d("2026-03-02"), d("2026-03-03"));

    let day1 = p.baseline_day(d1).await;
    assert_eq!(
        p.ledger_count(),
        0,
        "nothing is reported on the baseline day"
    );
    assert!(p.reports().await.is_empty());
    let s1 = p.stats().await;
    assert_eq!(s1["exports"], 2, "{s1}");
    // Every order of the export was stored, not only the first page's 50.
    assert_eq!(export_rows(&p), 240, "both accounts' 120 orders stored");

    p.sim_post("/_sim/advance-day", serde_json::json!({})).await;
    let day2 = p.truth().await;
    p.trigger(d2).await;
    let status = p.wait_finished(d2, Duration::from_secs(300)).await;
    assert_eq!(status, "completed", "{}", p.logs_tail());

    let accounts: Vec<&str> = p.emails.iter().map(String::as_str).collect();
    let expected = stuck_between(&day1, &day2, &accounts);
    let reported = p.reports().await;
    let reported_set: BTreeSet<(String, i64)> = reported.iter().cloned().collect();
    assert_eq!(
        reported.len(),
        reported_set.len(),
        "an order reported twice"
    );
    assert!(!expected.is_empty(), "the scenario has stuck orders");
    assert_eq!(reported_set, expected);
    let s = p.stats().await;
    assert_eq!(s["duplicate_reports"], 0, "{s}");
    assert_eq!(s["reports"].as_u64().unwrap(), expected.len() as u64, "{s}");

    // The ledger holds each order once with the ticket read from the text.
    let portal_tickets: BTreeMap<i64, String> = p
        .sim_get("/_sim/reports")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["order_id"].as_i64().unwrap(),
                r["ticket"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ledger = ledger_tickets(&p);
    assert_eq!(
        ledger.len(),
        expected.len(),
        "one ledger row per stuck order"
    );
    assert_eq!(
        ledger, portal_tickets,
        "the ledger has the portal's tickets"
    );
    assert!(ledger.values().all(|t| t.starts_with("TK-")), "{ledger:?}");

    let left = p.sessions.wait_none_live(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "WebDriver sessions left: {left:?}");
    let left = p.wait_no_browsers(Duration::from_secs(15)).await;
    assert!(left.is_empty(), "browser processes left: {left:?}");
}

/// order id -> ticket of every ledger row.
fn ledger_tickets(p: &BrowserPipeline) -> BTreeMap<i64, String> {
    use reporter_core::schema::reporter_order_reports as o;
    o::table
        .select((o::order_id, o::ticket))
        .load::<(i64, String)>(&mut p.db.connect())
        .unwrap()
        .into_iter()
        .collect()
}

fn export_rows(p: &BrowserPipeline) -> i64 {
    use reporter_core::schema::reporter_export_rows as r;
    r::table.count().get_result(&mut p.db.connect()).unwrap()
}
