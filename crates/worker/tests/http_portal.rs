//! The http portal driver (`REPORTER_PORTAL_DRIVER=http`) against a real
//! portal-sim started in-process: what it does is checked from the outside,
//! through the simulator's truth and counters (`/_sim/`). No PostgreSQL,
//! Redis or browser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use portal_sim::{AccountSpec, RunningSim, SimConfig};
use reporter_core::models::pipeline::StuckOrder;
use reporter_worker::portal::http::{HttpPortal, HttpPortalOptions};
use reporter_worker::portal::webdriver::{default_message_template, Profile};
use reporter_worker::portal::{
    BrowserStarted, BrowserStarting, Portal, PortalError, PortalSession, SessionContext, StillHeld,
};
use serde_json::{json, Value};

async fn start_sim(session_ttl: Option<Duration>) -> RunningSim {
    let mut cfg = SimConfig {
        seed: 11,
        accounts: AccountSpec::numbered_list(2),
        orders_per_account: 12,
        start_day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        ..SimConfig::default()
    };
    if let Some(ttl) = session_ttl {
        cfg.session_ttl = ttl;
    }
    portal_sim::spawn(cfg).await.expect("portal-sim starts")
}

fn portal(sim: &RunningSim, page_timeout: Duration) -> HttpPortal {
    HttpPortal::new(HttpPortalOptions {
        portal_url: sim.base_url(),
        profile: Profile::portal_sim(),
        page_timeout,
        message_template: default_message_template().into(),
        page_attempts: 4,
    })
    .expect("the built-in profile suits the http driver")
}

fn account(n: usize) -> AccountSpec {
    AccountSpec::numbered(n)
}

async fn sim_get(sim: &RunningSim, path: &str) -> Value {
    let resp = reqwest::get(sim.url(path)).await.unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn set_faults(sim: &RunningSim, body: Value) {
    let resp = reqwest::Client::new()
        .post(sim.url("/_sim/faults"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "POST /_sim/faults {body}");
}

async fn stats(sim: &RunningSim) -> Value {
    sim_get(sim, "/_sim/stats").await
}

/// The account's orders according to the simulator.
async fn truth(sim: &RunningSim, email: &str) -> Vec<Value> {
    sim_get(sim, &format!("/_sim/export/{email}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn stuck(order: &Value) -> StuckOrder {
    StuckOrder {
        position: 1,
        order_id: order["id"].as_i64().unwrap(),
        status: order["status"].as_str().unwrap().into(),
        carrier: order["carrier"].as_str().unwrap().into(),
        tracking_number: order["tracking"].as_str().unwrap().into(),
        order_date: order["date"].as_str().unwrap().into(),
    }
}

async fn first_order(sim: &RunningSim, email: &str) -> StuckOrder {
    stuck(&truth(sim, email).await[0])
}

/// Session ids told to `on_browser_started`, and tags to `on_browser_starting`.
#[derive(Default, Clone)]
struct Recorded {
    tags: Arc<Mutex<Vec<String>>>,
    sessions: Arc<Mutex<Vec<String>>>,
}

fn recording_ctx(rec: &Recorded, allow_start: bool) -> SessionContext {
    let (tags, sessions) = (rec.tags.clone(), rec.sessions.clone());
    SessionContext {
        on_browser_starting: BrowserStarting::new(move |tag| {
            tags.lock().unwrap().push(tag);
            async move { allow_start }
        }),
        on_browser_started: BrowserStarted::new(move |id| sessions.lock().unwrap().push(id.into())),
        ..SessionContext::default()
    }
}

async fn login(
    portal: &HttpPortal,
    n: usize,
    ctx: &SessionContext,
) -> Result<Box<dyn PortalSession>, PortalError> {
    let a = account(n);
    portal.login(&a.email, &a.password, ctx).await
}

fn err<T>(r: Result<T, PortalError>) -> PortalError {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn login_ok_wrong_password_and_blocked_account() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let rec = Recorded::default();
    let ctx = recording_ctx(&rec, true);

    let session = login(&portal, 1, &ctx).await.expect("login");
    let id = session.webdriver_session().expect("a session id");
    assert_eq!(id.len(), 32, "the portal_session cookie: {id}");
    assert_eq!(*rec.sessions.lock().unwrap(), vec![id.clone()]);
    let tags = rec.tags.lock().unwrap().clone();
    assert_eq!(tags.len(), 1);
    assert!(tags[0].starts_with("reporter-http-"), "{tags:?}");
    let s = stats(&sim).await;
    assert_eq!(
        (s["logins"].as_u64(), s["active_sessions"].as_u64()),
        (Some(1), Some(1))
    );

    let e = err(portal
        .login(&account(2).email, "not-the-password", &ctx)
        .await);
    assert_eq!(e, PortalError::InvalidCredentials);

    set_faults(&sim, json!({"blocked_accounts": [account(2).email]})).await;
    let e = err(login(&portal, 2, &ctx).await);
    assert_eq!(e, PortalError::Blocked);
    // Neither failure is retried: one try each.
    assert_eq!(stats(&sim).await["failed_logins"].as_u64(), Some(2));
    // Nor is a session recorded for them.
    assert_eq!(rec.sessions.lock().unwrap().len(), 1);

    session.close().await;
    assert_eq!(stats(&sim).await["active_sessions"].as_u64(), Some(0));
}

#[tokio::test]
async fn a_refused_start_makes_no_request() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let rec = Recorded::default();
    let e = err(login(&portal, 1, &recording_ctx(&rec, false)).await);
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("not logging in"), "{e}");
    let s = stats(&sim).await;
    assert_eq!(
        (s["logins"].as_u64(), s["failed_logins"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(rec.sessions.lock().unwrap().is_empty());
}

#[tokio::test]
async fn export_equals_the_simulators_truth() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let a = account(1);
    let mut session = login(&portal, 1, &SessionContext::default()).await.unwrap();
    let rows = session.export().await.expect("export");
    session.close().await;

    let truth = truth(&sim, &a.email).await;
    assert!(!truth.is_empty());
    let got: Vec<(i64, String)> = rows
        .iter()
        .map(|r| (r.order_id, r.status.clone()))
        .collect();
    let want: Vec<(i64, String)> = truth
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().unwrap(),
                o["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    for (row, o) in rows.iter().zip(&truth) {
        assert_eq!(row.tracking_number, o["tracking"].as_str().unwrap());
        assert_eq!(row.order_date, o["date"].as_str().unwrap());
    }
    assert_eq!(stats(&sim).await["exports"].as_u64(), Some(1));
}

#[tokio::test]
async fn open_then_report_files_exactly_one_report() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let a = account(1);
    let order = first_order(&sim, &a.email).await;
    let mut session = login(&portal, 1, &SessionContext::default()).await.unwrap();

    assert_eq!(session.open_order(&order).await.unwrap(), None);
    let receipt = session.report(&order).await.expect("report");
    assert!(!receipt.already_reported);
    // `report` posted the form `open_order` had loaded: one page view.
    let s = stats(&sim).await;
    assert_eq!(s["order_views"].as_u64(), Some(1));
    assert_eq!(
        (s["reports"].as_u64(), s["duplicate_reports"].as_u64()),
        (Some(1), Some(0))
    );
    let reports = sim_get(&sim, "/_sim/reports").await;
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["order_id"].as_i64(), Some(order.order_id));
    assert_eq!(reports[0]["account"].as_str(), Some(a.email.as_str()));
    assert_eq!(reports[0]["ticket"].as_str(), Some(receipt.ticket.as_str()));

    // Again, without open_order: the page shows the report, nothing is filed.
    let again = session.report(&order).await.unwrap();
    assert_eq!(again.ticket, receipt.ticket);
    assert!(again.already_reported);
    // And open_order says so too.
    let opened = session
        .open_order(&order)
        .await
        .unwrap()
        .expect("already reported");
    assert_eq!(
        (opened.ticket.as_str(), opened.already_reported),
        (receipt.ticket.as_str(), true)
    );
    let s = stats(&sim).await;
    assert_eq!(
        (s["reports"].as_u64(), s["duplicate_reports"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        sim_get(&sim, "/_sim/reports")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An order of another account is unknown here: a 404, permanent.
    let other = first_order(&sim, &account(2).email).await;
    let e = err(session.open_order(&other).await);
    assert!(
        matches!(e, PortalError::Permanent(ref m) if m.contains("404")),
        "{e}"
    );
    session.close().await;
}

/// A form loaded before another session filed the order answers 409 with
/// the existing ticket: already reported (the portal counts a duplicate, as
/// a browser's late submit would).
#[tokio::test]
async fn a_conflict_answer_is_already_reported() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let order = first_order(&sim, &account(1).email).await;
    let ctx = SessionContext::default();
    let mut late = login(&portal, 1, &ctx).await.unwrap();
    let mut first = login(&portal, 1, &ctx).await.unwrap();
    assert_eq!(late.open_order(&order).await.unwrap(), None);
    let filed = first.report(&order).await.unwrap();
    assert!(!filed.already_reported);
    let r = late.report(&order).await.unwrap();
    assert_eq!(
        (r.ticket.as_str(), r.already_reported),
        (filed.ticket.as_str(), true)
    );
    let s = stats(&sim).await;
    assert_eq!(
        (s["reports"].as_u64(), s["duplicate_reports"].as_u64()),
        (Some(1), Some(1))
    );
    late.close().await;
    first.close().await;
}

#[tokio::test]
async fn server_errors_and_timeouts_are_transient() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_millis(300));
    let ctx = SessionContext::default();
    let mut session = login(&portal, 1, &ctx).await.unwrap();

    set_faults(&sim, json!({"error_rate": 1.0})).await;
    let e = err(login(&portal, 2, &ctx).await);
    assert!(e.is_retryable() && e.to_string().contains("500"), "{e}");
    let e = err(session.export().await);
    assert!(e.is_retryable() && e.to_string().contains("500"), "{e}");
    let order = first_order(&sim, &account(1).email).await;
    let e = err(session.report(&order).await);
    assert!(e.is_retryable(), "{e}");
    assert_eq!(stats(&sim).await["reports"].as_u64(), Some(0));

    set_faults(&sim, json!({"error_rate": 0.0, "latency_ms": 1000})).await;
    let e = err(session.export().await);
    assert!(
        e.is_retryable() && e.to_string().contains("timed out"),
        "{e}"
    );

    set_faults(&sim, json!({"latency_ms": 0})).await;
    assert!(!session.export().await.unwrap().is_empty());
    session.close().await;
}

/// Ends the portal's injected errors from inside a sync callback (a thread
/// with its own runtime, as `StillHeld` cannot await).
fn heal(url: String) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                reqwest::Client::new()
                    .post(url)
                    .json(&json!({"error_rate": 0.0}))
                    .send()
                    .await
                    .unwrap();
            })
    })
    .join()
    .unwrap();
}

/// The lease is lost while a page answers 500: the portal is healed at that
/// very moment, so a retry would now succeed and show in the counters; it
/// must not happen. The same with the lease kept shows the retry would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_stops_retries() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let faults_url = sim.url("/_sim/faults");

    for keep_lease in [false, true] {
        let asked = Arc::new(AtomicU32::new(0));
        let ctx = SessionContext {
            still_held: StillHeld::new({
                let (asked, url) = (asked.clone(), faults_url.clone());
                move || {
                    if asked.fetch_add(1, Ordering::SeqCst) == 0 {
                        heal(url.clone());
                    }
                    keep_lease
                }
            }),
            ..SessionContext::default()
        };
        let mut session = login(&portal, 1, &ctx).await.unwrap();
        set_faults(&sim, json!({"error_rate": 1.0})).await;
        let before = stats(&sim).await;
        let r = session.export().await;
        let after = stats(&sim).await;
        if keep_lease {
            assert!(r.is_ok(), "{:?}", r.err());
            assert_eq!(
                after["exports"].as_u64(),
                before["exports"].as_u64().map(|n| n + 1)
            );
        } else {
            let e = err(r);
            assert!(e.to_string().contains("browser lease lost"), "{e}");
            assert_eq!(asked.load(Ordering::SeqCst), 1);
            assert_eq!(after, before, "no request after the lease was lost");
        }
        session.close().await;
    }
}

#[tokio::test]
async fn discard_session_ends_the_session() {
    let sim = start_sim(None).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let rec = Recorded::default();
    let ctx = recording_ctx(&rec, true);
    let mut session = login(&portal, 1, &ctx).await.unwrap();
    let _other = login(&portal, 2, &ctx).await.unwrap();
    assert_eq!(stats(&sim).await["active_sessions"].as_u64(), Some(2));

    let id = session.webdriver_session().unwrap();
    portal.discard_session(&id).await;
    assert_eq!(stats(&sim).await["active_sessions"].as_u64(), Some(1));

    // The session's next page sends it to the login page: it logs in again
    // once, under a new id recorded on the lease, and goes on.
    assert!(!session.export().await.unwrap().is_empty());
    let new_id = session.webdriver_session().unwrap();
    assert_ne!(new_id, id);
    assert_eq!(rec.sessions.lock().unwrap().last(), Some(&new_id));
    assert_eq!(stats(&sim).await["logins"].as_u64(), Some(3));
    session.close().await;
    assert_eq!(stats(&sim).await["active_sessions"].as_u64(), Some(1));
}

#[tokio::test]
async fn an_expired_session_logs_in_again() {
    let sim = start_sim(Some(Duration::from_millis(300))).await;
    let portal = portal(&sim, Duration::from_secs(10));
    let mut session = login(&portal, 1, &SessionContext::default()).await.unwrap();
    // Until the simulator counts the idle session as expired.
    let start = std::time::Instant::now();
    while stats(&sim).await["active_sessions"].as_u64() != Some(0) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the session never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let order = first_order(&sim, &account(1).email).await;
    assert_eq!(session.open_order(&order).await.unwrap(), None);
    assert_eq!(stats(&sim).await["logins"].as_u64(), Some(2));
    session.close().await;
}
