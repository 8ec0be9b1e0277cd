//! Browser adapter benchmark (run by scripts/bench-browser.sh): headless
//! Chromium through chromedriver against an in-process portal-sim at 0 ms
//! latency. Prints numbers; asserts nothing.
//!
//! - login: time from a new browser session to logged in (median, p95);
//! - report: time to report one order with a reused session (median, p95),
//!   and split the way the report-range job calls it (`open_order`, which
//!   overlaps the previous order's ledger write, then `report`);
//! - export-to-stored: 10,000 orders from the export link to rows stored in
//!   PostgreSQL (download + parse + `store_and_compare`), when
//!   TEST_DATABASE_URL's server is reachable; the login before it is
//!   printed apart.
//!
//! Env: BENCH_REPORTS (default 200), BENCH_LOGINS (10), BENCH_EXPORT_ORDERS
//! (10000), CHROMEDRIVER (default /usr/bin/chromedriver). With RUST_LOG set
//! (e.g. `RUST_LOG=thirtyfour=debug,reporter_worker=debug`) every WebDriver
//! call is logged with a timestamp: where the time of a step goes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portal_sim::{AccountSpec, SimConfig};
use reporter_core::models::pipeline::StuckOrder;
use reporter_worker::portal::webdriver::{
    default_message_template, Profile, WebDriverOptions, WebDriverPortal,
};
use reporter_worker::portal::{Portal, SessionContext};

fn env_num(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let pick = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<28} n={:<5} median={:>8.1} ms  p95={:>8.1} ms  max={:>8.1} ms",
        v.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        v[v.len() - 1].as_secs_f64() * 1e3
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_port(port: u16) {
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("RUST_LOG").is_some() {
        // e.g. RUST_LOG=thirtyfour=debug: every WebDriver call, timestamped.
        reporter_core::telemetry::init(false);
    }
    let reports = env_num("BENCH_REPORTS", 200);
    let logins = env_num("BENCH_LOGINS", 10);
    let export_orders = env_num("BENCH_EXPORT_ORDERS", 10_000);
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());

    let mut big = AccountSpec::numbered(2);
    big.orders = Some(export_orders);
    let sim = portal_sim::spawn(SimConfig {
        accounts: vec![AccountSpec::numbered(1), big],
        orders_per_account: (2 * reports).max(10),
        ..SimConfig::default()
    })
    .await?;
    let port = free_port();
    let mut driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    wait_port(port).await;
    let artifacts = std::env::temp_dir().join("reporter-bench-artifacts");
    let opts = WebDriverOptions {
        webdriver_url: format!("http://127.0.0.1:{port}"),
        portal_url: sim.base_url(),
        profile: Profile::portal_sim(),
        page_load_timeout: Duration::from_secs(30),
        element_timeout: Duration::from_secs(10),
        chrome_binary: None,
        artifacts_dir: artifacts,
        message_template: default_message_template().into(),
        page_attempts: 4,
    };
    let portal = WebDriverPortal::new(opts);
    let ctx = SessionContext::default();
    let http = reqwest::Client::new();

    // Logins (each a new browser session).
    let mut login_times = Vec::new();
    let mut session_times = Vec::new();
    for _ in 0..logins {
        let t = Instant::now();
        let s = portal
            .login("cliente1@portal.test", "clave-1", &ctx)
            .await?;
        login_times.push(t.elapsed());
        let t2 = Instant::now();
        s.close().await;
        session_times.push(t2.elapsed());
    }

    // Reports with one reused session.
    let truth: Vec<serde_json::Value> = http
        .get(sim.url("/_sim/export/cliente1@portal.test"))
        .send()
        .await?
        .json()
        .await?;
    let mut s = portal
        .login("cliente1@portal.test", "clave-1", &ctx)
        .await?;
    let stuck = |o: &serde_json::Value| StuckOrder {
        position: 0,
        order_id: o["id"].as_i64().unwrap(),
        status: o["status"].as_str().unwrap_or("").into(),
        carrier: o["carrier"].as_str().unwrap_or("").into(),
        tracking_number: o["tracking"].as_str().unwrap_or("").into(),
        order_date: o["date"].as_str().unwrap_or("").into(),
    };
    let mut report_times = Vec::new();
    for o in truth.iter().take(reports) {
        let order = stuck(o);
        let t = Instant::now();
        let r = s.report(&order).await?;
        report_times.push(t.elapsed());
        assert!(!r.ticket.is_empty());
    }
    // The report-range job's way: open_order (while the previous ledger
    // row is written), then report (the submit) from the open page.
    let (mut open_times, mut submit_times) = (Vec::new(), Vec::new());
    for o in truth.iter().skip(reports).take(reports) {
        let order = stuck(o);
        let t = Instant::now();
        assert!(s.open_order(&order).await?.is_none());
        open_times.push(t.elapsed());
        let t = Instant::now();
        let r = s.report(&order).await?;
        submit_times.push(t.elapsed());
        assert!(!r.ticket.is_empty());
    }
    s.close().await;

    // Export of the big account: download + parse, then store. Its login
    // lands on an orders page listing every order, which the export reuses.
    let t = Instant::now();
    let mut s = portal
        .login("cliente2@portal.test", "clave-2", &ctx)
        .await?;
    let big_login = t.elapsed();
    let t = Instant::now();
    let rows = s.export().await?;
    let exported = t.elapsed();
    s.close().await;
    let store = store(&rows).await;

    println!(
        "browser adapter against portal-sim (0 ms latency), chromedriver {}",
        String::from_utf8_lossy(
            &Command::new(&chromedriver)
                .arg("--version")
                .output()?
                .stdout
        )
        .trim()
    );
    stats("login (new browser)", login_times);
    stats("close (quit browser)", session_times);
    stats("report one order (reused)", report_times);
    if !open_times.is_empty() {
        stats("  as open_order", open_times);
        stats("  + report from the open page", submit_times);
    }
    println!(
        "export {} orders: login {:.0} ms (its orders page lists them all); download+parse {:.0} ms",
        rows.len(),
        big_login.as_secs_f64() * 1e3,
        exported.as_secs_f64() * 1e3
    );
    match store {
        Some(d) => println!(
            "export {} orders: store+compare {:.0} ms; export-to-stored {:.0} ms",
            rows.len(),
            d.as_secs_f64() * 1e3,
            (exported + d).as_secs_f64() * 1e3
        ),
        None => println!("store: skipped (no PostgreSQL at TEST_DATABASE_URL)"),
    }
    let _ = driver.kill();
    let _ = driver.wait();
    sim.stop().await;
    Ok(())
}

/// Stores `rows` as a first-day export of a fresh run-user; None without a
/// database.
async fn store(rows: &[reporter_core::domain::OrderSnapshot]) -> Option<Duration> {
    use diesel::prelude::*;
    use reporter_core::models::{pipeline, reservation, slot, user};
    let rows = rows.to_vec();
    tokio::task::spawn_blocking(move || {
        let db = std::panic::catch_unwind(test_support::TestDb::new).ok()?;
        let mut c = db.connect();
        let slot_id = slot::find_by_hour(&mut c, 9).ok()??.id;
        diesel::update(reporter_core::schema::reporter_hour_slots::table)
            .set(reporter_core::schema::reporter_hour_slots::capacity_points.eq(100))
            .execute(&mut c)
            .ok()?;
        let u = user::insert(
            &mut c,
            &user::NewUser {
                email: "bench@example.com",
                password_hash: "x",
                role: "user",
                monthly_orders_estimate: 0,
            },
        )
        .ok()?;
        let monthly = reporter_core::domain::MonthlyOrders::new(3000).ok()?;
        reservation::create(&mut c, u.id, Some(slot_id), monthly, 0.08).ok()?;
        let when = chrono::Utc::now();
        let (run, _) = pipeline::create_run(
            &mut c,
            slot_id,
            when,
            when.date_naive(),
            reporter_core::jobs::RunOrigin::Manual,
            false,
            reporter_core::domain::ReportMode::Live,
            reporter_core::domain::ReportMode::Live,
        )
        .ok()?;
        let ru_id = *pipeline::pending_run_users(&mut c, run.id).ok()?.first()?;
        let (ru, _) = pipeline::load_run_user(&mut c, ru_id).ok()??;
        pipeline::start_download(&mut c, ru.id, 1).ok()?;
        let t = Instant::now();
        pipeline::store_and_compare(&mut c, &ru, when.date_naive(), &rows, 100, true).ok()?;
        Some(t.elapsed())
    })
    .await
    .ok()
    .flatten()
}
