//! A real run watched in the browser: a worker (in this process) drives a
//! second headless Chromium against portal-sim while the customer's page
//! shows the progress advance without reloading and the reported orders
//! fill in, and the operators' console shows the run and the browser lease.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use portal_sim::{AccountSpec, SimConfig};
use reporter_core::jobs::{JobQueues, ProcessSlot};
use reporter_core::schema::{reporter_order_reports, reporter_runs};
use reporter_worker::environment::Environment;
use reporter_worker::portal::webdriver::{WebDriverOptions, WebDriverPortal};
use thirtyfour::prelude::*;
use tokio::sync::watch;

use crate::harness::*;

const HOUR: u32 = 9;

struct InProcessWorker {
    stop: watch::Sender<bool>,
    runner: tokio::task::JoinHandle<anyhow::Result<()>>,
    background: tokio::task::JoinHandle<()>,
}

impl InProcessWorker {
    async fn start(ui: &Ui, portal_url: &str) -> Self {
        let art = ui.artifacts.display().to_string();
        let settings = Arc::new(ui.db.settings(
            &ui.prefix,
            &[
                ("REPORTER_PORTAL_DRIVER", "webdriver"),
                ("REPORTER_WEBDRIVER_URL", ui.chromedriver_url.as_str()),
                ("REPORTER_PORTAL_URL", portal_url),
                ("REPORTER_ARTIFACTS_DIR", art.as_str()),
                ("REPORTER_RANGE_SIZE", "10"),
                ("REPORTER_WORKER_CONCURRENCY", "1"),
                ("MAX_ACTIVE_SELENIUM", "1"),
                ("REPORTER_DB_POOL_SIZE", "4"),
            ],
        ));
        let pool = reporter_core::db::build_pool_lazy(settings.database_url(), 4);
        let redis = reporter_core::redis_conn::connect(settings.redis_url())
            .await
            .unwrap();
        let portal = Arc::new(WebDriverPortal::new(
            WebDriverOptions::from_settings(&settings).unwrap(),
        ));
        let (stop, stop_rx) = watch::channel(false);
        let env = Arc::new(Environment::new(
            settings,
            pool,
            redis,
            portal,
            "ui-worker-1".into(),
            stop_rx.clone(),
        ));
        let background = reporter_worker::fleet::spawn_background(env.clone());
        let runner = tokio::spawn(reporter_worker::runner::run(
            env,
            stop_rx,
            Duration::from_secs(10),
        ));
        InProcessWorker {
            stop,
            runner,
            background,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(30), self.runner).await;
        self.background.abort();
    }
}

fn slot_time(ui: &Ui, date: NaiveDate) -> chrono::DateTime<Utc> {
    ui.settings
        .timezone
        .from_local_datetime(&date.and_hms_opt(HOUR, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn run_status(ui: &Ui, at: chrono::DateTime<Utc>) -> Option<String> {
    reporter_runs::table
        .filter(reporter_runs::scheduled_at.eq(at))
        .select(reporter_runs::status)
        .first(&mut ui.conn())
        .optional()
        .unwrap()
}

async fn wait_run_finished(ui: &Ui, at: chrono::DateTime<Utc>) -> String {
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = run_status(ui, at).filter(|s| s == "completed" || s == "failed") {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "run at {at} did not finish"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn number_in(text: &str) -> Option<i64> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn customers_watch_a_real_run_live_and_operators_see_it_in_the_console() {
    let ui = Ui::start(&[("MAX_ACTIVE_SELENIUM", "1")]).await;
    let sim = portal_sim::spawn(SimConfig {
        seed: 11,
        accounts: AccountSpec::numbered_list(1),
        orders_per_account: 60,
        move_rate: 0.3,
        max_new_orders_per_day: 0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();

    ui.create_user("ops@example.com", 0, true);
    let (ana, _) = ui.create_user("ana@example.com", 1500, false);
    ui.reserve(ana, HOUR as i32, 1500);
    let cipher = ui.settings.credentials_cipher();
    reporter_core::models::user::set_portal_credentials(
        &mut ui.conn(),
        ana,
        "cliente1@portal.test",
        &cipher.encrypt("clave-1"),
    )
    .unwrap();

    let worker = InProcessWorker::start(&ui, &sim.base_url()).await;
    let today = Utc::now().with_timezone(&ui.settings.timezone).date_naive();
    let yesterday = today.pred_opt().unwrap();

    // Yesterday's run stores the baseline export (nothing is stuck yet).
    let redis = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let queues = JobQueues::new(redis, &ui.prefix, 1);
    let day1 = slot_time(&ui, yesterday);
    queues.push(ProcessSlot::new(day1)).await.unwrap();
    assert_eq!(wait_run_finished(&ui, day1).await, "completed");
    // A day passes at the portal; its pages get slower so a run lasts long
    // enough to be watched.
    let sim_post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", sim.base_url()))
            .json(&body)
            .send()
    };
    assert!(sim_post("/_sim/advance-day", serde_json::json!({}))
        .await
        .unwrap()
        .status()
        .is_success());
    assert!(
        sim_post("/_sim/faults", serde_json::json!({"latency_ms": 120}))
            .await
            .unwrap()
            .status()
            .is_success()
    );

    let customer = ui.browser(Viewport::Desktop).await;
    ui.login(&customer, "ana@example.com").await;
    wait_shown(&customer, "#dashboard").await;
    wait_text(&customer, "#kpi-result", "completada").await;
    wait_text(&customer, "#orders-state", "todavía no ha reportado").await;
    // Set on this document only: still there at the end means no reload.
    customer
        .execute("window.__sameDocument = true;", vec![])
        .await
        .unwrap();

    let ops = ui.browser(Viewport::Desktop).await;
    ui.login(&ops, "ops@example.com").await;
    wait_text(&ops, "#workers-value", "1").await;
    // Yesterday's run is not today's: the day's table starts empty.
    wait_shown(&ops, "#runs-empty").await;

    // The operator runs today's 09:00 slot from the console.
    ops.execute(
        "document.getElementById('trigger-hour').value = arguments[0];
         document.getElementById('trigger-date').value = arguments[1];",
        vec![
            serde_json::json!(HOUR.to_string()),
            serde_json::json!(today.to_string()),
        ],
    )
    .await
    .unwrap();
    click(&ops, "#trigger-button").await;
    confirm(&ops).await;
    wait_text(&ops, "#trigger-status", "encolada").await;

    // The customer's page follows the run as it goes.
    let day2 = slot_time(&ui, today);
    let mut bar_values = BTreeSet::new();
    let mut totals_seen = BTreeSet::new();
    let mut console_checked = false;
    let start = std::time::Instant::now();
    loop {
        let v: i64 = attr_of(&customer, "#phase2-bar", "aria-valuenow")
            .await
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let run_meta = text_of(&customer, "#run-meta").await.unwrap_or_default();
        let today_shown = run_meta.contains(&format!("del {} ", today.day()));
        if today_shown {
            bar_values.insert(v);
            if let Some(n) = text_of(&customer, "#orders-state")
                .await
                .as_deref()
                .and_then(number_in)
            {
                totals_seen.insert(n);
            }
        }
        if today_shown && v > 0 && v < 100 && !console_checked {
            screenshot(&customer, "dashboard-running", Viewport::Desktop).await;
            // Meanwhile, the console shows the run going and the lease held.
            wait_text(&ops, "#runs-table tbody", "en curso").await;
            wait_text(&ops, "#holders-table tbody", "ui-worker-1").await;
            wait_text(&ops, "#browsers-value", "1 / 1").await;
            screenshot(&ops, "console", Viewport::Desktop).await;
            console_checked = true;
        }
        let result = text_of(&customer, "#kpi-result").await.unwrap_or_default();
        if today_shown && v == 100 && result.starts_with("completada") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "the run did not finish on the page; bar values {bar_values:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(wait_run_finished(&ui, day2).await, "completed");
    assert!(
        console_checked,
        "the console was checked while the run went on"
    );
    assert!(
        bar_values.iter().any(|v| *v > 0 && *v < 100),
        "progress advanced live: {bar_values:?}"
    );
    let same: bool = customer
        .execute("return window.__sameDocument === true;", vec![])
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(same, "the page was not reloaded");

    // The reported orders table has every order the ledger holds.
    let reported: Vec<i64> = reporter_order_reports::table
        .filter(reporter_order_reports::user_id.eq(ana))
        .select(reporter_order_reports::order_id)
        .load(&mut ui.conn())
        .unwrap();
    assert!(!reported.is_empty(), "the scenario has stuck orders");
    let n = reported.len() as i64;
    wait_for("the table to show every reported order", || async {
        text_of(&customer, "#orders-state")
            .await
            .and_then(|t| number_in(&t))
            .filter(|v| *v == n)
    })
    .await;
    totals_seen.insert(n);
    assert!(
        totals_seen.iter().filter(|t| **t > 0).count() >= 2,
        "the table filled while the run went on: {totals_seen:?}"
    );
    wait_text(&customer, "#kpi-stuck", &n.to_string()).await;
    wait_text(&customer, "#kpi-today", &n.to_string()).await;
    let rows = customer
        .find_all(By::Css("#orders-table tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows as i64, n.min(20), "first page");
    let one = reported[0].to_string();
    customer
        .find(By::Id("orders-q"))
        .await
        .unwrap()
        .send_keys(&one)
        .await
        .unwrap();
    click(&customer, "#orders-filter button[type=submit]").await;
    wait_text(&customer, "#orders-state", "con este filtro").await;
    wait_text(&customer, "#orders-table tbody", &one).await;
    customer
        .find(By::Id("orders-q"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    click(&customer, "#orders-filter button[type=submit]").await;
    wait_for("the filter to be cleared", || async {
        text_of(&customer, "#orders-state")
            .await
            .filter(|t| !t.contains("filtro"))
    })
    .await;
    screenshot(&customer, "dashboard", Viewport::Desktop).await;
    // On a phone the same page, loaded there, pages 10 orders as cards.
    let phone = ui.browser(Viewport::Phone).await;
    ui.login(&phone, "ana@example.com").await;
    wait_text(&phone, "#orders-state", &format!("{n} pedidos")).await;
    let rows = phone
        .find_all(By::Css("#orders-table tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows as i64, n.min(10));
    screenshot(&phone, "dashboard", Viewport::Phone).await;
    phone.quit().await.unwrap();

    wait_text(&ops, "#runs-table tbody", &format!("{n} de {n}")).await;
    let bars = ops.find_all(By::Css("#chart rect")).await.unwrap().len();
    assert_eq!(bars, 24, "one bar per hour");
    let label = attr_of(&ops, "#chart", "aria-label").await.unwrap();
    assert!(label.contains(&format!("{} reportes", n)), "{label}");
    assert!(label.contains("máximo de 1 navegadores"), "{label}");
    screenshot(&ops, "console", Viewport::Phone).await;

    customer.quit().await.unwrap();
    ops.quit().await.unwrap();
    worker.stop().await;
    sim.stop().await;
}
