//! The console's portal check: an operator asks for one, the page polls
//! until a worker stored its report, and draws the table with the missing
//! selector marked.

use chrono::Utc;
use reporter_core::models::user;
use reporter_core::portal_checks::{self, CheckStatus, StoredCheck};
use reporter_worker::portal_check::{CheckRow, PortalCheckReport};

use crate::harness::*;

fn row(step: &str, item: &str, found: bool, required: bool) -> CheckRow {
    CheckRow {
        step: step.into(),
        item: item.into(),
        found,
        required,
        ms: 42,
        detail: (!found).then(|| "not on the page".to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_checks_a_customers_portal_and_sees_the_missing_selector() {
    let ui = Ui::start(&[]).await;
    ui.create_user("ops@example.com", 0, true);
    let (ana, _) = ui.create_user("ana@example.com", 1000, false);
    user::set_portal_credentials(
        &mut ui.conn(),
        ana,
        "ana@portal.test",
        &ui.settings.credentials_cipher().encrypt("clave"),
    )
    .unwrap();

    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ops@example.com").await;
    wait_text(&d, "#portal-check-title", "Comprobar portal").await;
    d.execute(
        "document.getElementById('portal-check-email').value = 'ana@example.com';",
        vec![],
    )
    .await
    .unwrap();
    click(&d, "#portal-check-button").await;
    wait_text(&d, "#portal-check-status", "En cola").await;

    // The worker's part: the queued check gets its report.
    let mut redis = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(portal_checks::key(&ui.prefix, "*"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let id = keys[0].rsplit(':').next().unwrap().to_string();
    let report = PortalCheckReport {
        email: "ana@example.com".into(),
        profile: "portal-sim".into(),
        portal_url: "http://127.0.0.1:9100".into(),
        started_at: Utc::now(),
        elapsed_ms: 2300,
        ok: false,
        order_id: Some(1_000_004),
        rows: vec![
            row("login", "login.logged_in = span#account-email", true, true),
            row(
                "column",
                "export.columns.tracking_number = NÚMERO GUIA",
                true,
                true,
            ),
            row("column", "export.columns.city = CIUDAD", false, false),
            row("order", "order.reason = select[name=reason]", true, true),
            row("order", "order.submit = button#nope", false, true),
        ],
        screenshots: vec![],
        error: None,
    };
    portal_checks::store(
        &mut redis,
        &ui.prefix,
        &id,
        &StoredCheck {
            status: CheckStatus::Done,
            email: "ana@example.com".into(),
            report: Some(serde_json::to_value(&report).unwrap()),
        },
    )
    .await
    .unwrap();

    wait_text(&d, "#portal-check-status", "1 elemento falta").await;
    let missing = wait_text(&d, "#portal-check-table tr.check-missing", "button#nope").await;
    assert!(missing.contains("falta"), "{missing}");
    wait_text(&d, "#portal-check-table tr.check-optional", "CIUDAD").await;
    assert_eq!(
        d.find_all(thirtyfour::By::Css("#portal-check-table tr.check-found"))
            .await
            .unwrap()
            .len(),
        3
    );
    screenshot(&d, "console-portal-check", Viewport::Desktop).await;
    screenshot(&d, "console-portal-check", Viewport::Phone).await;
}
