//! `reporterctl portal check` as a real process: headless Chromium through
//! a chromedriver started here, portal-sim in-process, real PostgreSQL and
//! Redis. Everything found → exit 0; a profile with a wrong selector → that
//! row missing, exit 1; no browser free → a clear message, non-zero; and
//! the portal never received a report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use chrono::NaiveDate;
use portal_sim::{AccountSpec, SimConfig};
use reporter_core::browser_semaphore::{BrowserSemaphore, Holder};
use reporter_core::models::user;
use serde_json::Value;
use test_support::chromedriver::Chromedriver;
use test_support::{redis_url, unique_prefix, TestDb, TEST_CREDENTIALS_KEY};

const PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../worker/profiles/portal-sim.toml"
);

struct Setup {
    db: TestDb,
    prefix: String,
    env: Vec<(String, String)>,
    tmp: std::path::PathBuf,
}

/// Runs reporterctl (blocking, off the runtime that serves portal-sim).
async fn run(s: &Setup, extra: Vec<(&str, String)>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reporterctl"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &s.db.url)
        .env("REDIS_URL", redis_url())
        .env("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY)
        .env("REPORTER_REDIS_PREFIX", &s.prefix)
        .env("RUST_LOG", "warn");
    for (k, v) in &s.env {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    c.stdin(Stdio::null());
    tokio::task::spawn_blocking(move || c.output().expect("run reporterctl"))
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_check_finds_everything_names_a_wrong_selector_and_files_nothing() {
    let sim = portal_sim::spawn(SimConfig {
        seed: 11,
        accounts: AccountSpec::numbered_list(1),
        orders_per_account: 30,
        start_day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new();
    let prefix = unique_prefix();
    let tmp = std::env::temp_dir().join(format!("rpc-{}", &prefix[5..17]));
    std::fs::create_dir_all(&tmp).unwrap();
    let chromedriver = Chromedriver::start(Stdio::from(
        std::fs::File::create(tmp.join("chromedriver.log")).unwrap(),
    ));
    {
        let settings = db.settings(&prefix, &[]);
        let mut c = db.connect();
        let (uid, _) = test_support::create_user(&mut c, "ana@example.com", 1000, false);
        user::set_portal_credentials(
            &mut c,
            uid,
            "cliente1@portal.test",
            &settings.credentials_cipher().encrypt("clave-1"),
        )
        .unwrap();
    }
    let s = Setup {
        env: vec![
            ("REPORTER_PORTAL_DRIVER".into(), "webdriver".into()),
            ("REPORTER_WEBDRIVER_URL".into(), chromedriver.url()),
            ("REPORTER_PORTAL_URL".into(), sim.base_url()),
            (
                "REPORTER_ARTIFACTS_DIR".into(),
                tmp.join("artifacts").display().to_string(),
            ),
            ("TMPDIR".into(), tmp.display().to_string()),
            ("MAX_ACTIVE_SELENIUM".into(), "1".into()),
            ("REPORTER_ELEMENT_TIMEOUT_SECS".into(), "15".into()),
        ],
        db,
        prefix,
        tmp,
    };

    // Everything found: the table, exit 0, both screenshots saved.
    let o = run(
        &s,
        vec![],
        &["portal", "check", "--email", "ANA@example.com"],
    )
    .await;
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("OK: everything the reports need was found"),
        "{out}"
    );
    for item in [
        "login.logged_in = span#account-email",
        "orders.export_link = a#export-orders",
        "tracking_number = NÚMERO GUIA",
        "order.submit = button#report-submit",
    ] {
        assert!(
            out.lines().any(|l| l.contains(item) && l.contains("found")),
            "{item}: {out}"
        );
    }
    let shots: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("screenshot: "))
        .collect();
    assert_eq!(shots.len(), 2, "{out}");
    for p in &shots {
        assert!(p.contains("/portal-check/"), "{p}");
        let bytes = std::fs::read(p).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{p} is a PNG");
    }

    // A profile whose submit selector is wrong: that row missing, exit 1.
    let bad = s.tmp.join("bad-profile.toml");
    let profile = std::fs::read_to_string(PROFILE).unwrap();
    let changed = profile.replace(
        "submit = \"button#report-submit\"",
        "submit = \"button#nope\"",
    );
    assert_ne!(changed, profile, "the profile's order.submit line changed");
    std::fs::write(&bad, changed).unwrap();
    let o = run(
        &s,
        vec![("REPORTER_PORTAL_PROFILE", bad.display().to_string())],
        &["portal", "check", "--email", "ana@example.com", "--json"],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], false);
    let rows = report["rows"].as_array().unwrap();
    let missing: Vec<&str> = rows
        .iter()
        .filter(|r| r["found"] == false)
        .map(|r| r["item"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["order.submit = button#nope"], "{report:#}");
    assert!(rows
        .iter()
        .any(|r| r["item"] == "order.report_form = form#report-form" && r["found"] == true));

    // Every browser place taken: a clear message and a non-zero exit.
    let redis = reporter_core::redis_conn::connect(&redis_url())
        .await
        .unwrap();
    let sem = BrowserSemaphore::new(redis, &s.prefix, 1, Duration::from_secs(30));
    let lease = sem
        .acquire(Holder::new("test", "hog"), Duration::from_secs(5))
        .await
        .unwrap();
    let o = run(
        &s,
        vec![],
        &[
            "portal",
            "check",
            "--email",
            "ana@example.com",
            "--wait-secs",
            "1",
        ],
    )
    .await;
    assert!(!o.status.success());
    assert!(text(&o).contains("no browser free"), "{}", text(&o));
    sem.release(lease).await.unwrap();

    // An unknown email is refused before any browser.
    let o = run(
        &s,
        vec![],
        &["portal", "check", "--email", "nadie@example.com"],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no user with email"), "{}", text(&o));

    // Nothing was ever filed.
    let stats: Value = reqwest::get(sim.url("/_sim/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["reports"], 0, "{stats}");
    assert!(stats["order_views"].as_u64().unwrap() >= 2, "{stats}");
    drop(chromedriver);
    let _ = std::fs::remove_dir_all(&s.tmp);
}
