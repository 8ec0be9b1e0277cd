//! Real PostgreSQL, Redis, headless Chromium behind a chromedriver started
//! here, portal-sim in-process and separate `reporter-worker` processes with
//! `REPORTER_PORTAL_DRIVER=webdriver`.
//!
//! WebDriver sessions are counted exactly at a thin proxy in front of
//! chromedriver (`proxy.rs`): the workers' `REPORTER_WEBDRIVER_URL` is the
//! proxy, which sees every `POST /session` and `DELETE /session/{id}`.
//! Leaked browsers are checked in the process table as well: workers get a
//! TMPDIR of this test's own and the adapter starts every Chromium with a
//! fresh `--user-data-dir` under it, so the distinct user-data-dirs of the
//! running Chromium processes are this test's browsers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use portal_sim::{AccountSpec, Layout, RunningSim, SimConfig};
use reporter_core::jobs::{JobQueues, ProcessSlot};
use reporter_core::models::{reservation, slot, user};
use serde_json::Value;
use test_support::chromedriver::Chromedriver;
use test_support::{redis_url, unique_prefix, TestDb};

use crate::proxy::{SessionCounter, WebDriverProxy};

pub const HOUR: u32 = 9;

/// Browser tests run one at a time: two cores do not hold several fleets
/// of Chromium without timing out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub struct Options {
    pub accounts: usize,
    pub orders: usize,
    pub move_rate: f64,
    pub max_active: u32,
    pub workers: usize,
    pub extra_env: Vec<(&'static str, String)>,
    /// The simulator's pages; `Alt` also gives the workers its profile
    /// (`profiles/portal-sim-alt.toml`).
    pub layout: Layout,
}

/// The profile of `portal-sim --layout alt`, by path, as an operator sets it.
pub const ALT_PROFILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/portal-sim-alt.toml");

impl Default for Options {
    fn default() -> Self {
        Options {
            accounts: 3,
            orders: 80,
            move_rate: 0.5,
            max_active: 3,
            workers: 2,
            extra_env: Vec::new(),
            layout: Layout::Classic,
        }
    }
}

pub struct BrowserPipeline {
    pub db: TestDb,
    pub prefix: String,
    pub redis: redis::aio::ConnectionManager,
    pub sim: Option<RunningSim>,
    pub http: reqwest::Client,
    pub env: Vec<(String, String)>,
    pub workers: Vec<Child>,
    pub emails: Vec<String>,
    pub user_ids: Vec<i64>,
    chromedriver: Chromedriver,
    _proxy: WebDriverProxy,
    /// Live WebDriver sessions, counted at the proxy.
    pub sessions: SessionCounter,
    pub tmp: PathBuf,
    log_dir: PathBuf,
    _serial: tokio::sync::MutexGuard<'static, ()>,
}

/// The distinct `--user-data-dir`s of running Chromium processes under `tmp`.
pub fn live_browsers(tmp: &std::path::Path) -> BTreeSet<String> {
    let needle = format!("--user-data-dir={}/reporter-chrome-", tmp.display());
    let out = Command::new("pgrep")
        .arg("-af")
        .arg("--")
        .arg(&needle)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("pgrep"))
        .filter_map(|l| {
            l.split_whitespace()
                .find(|a| a.starts_with(&needle))
                .map(str::to_string)
        })
        .collect()
}

impl BrowserPipeline {
    pub async fn new(o: Options) -> Self {
        let serial = SERIAL.lock().await;
        let db = TestDb::new();
        let prefix = unique_prefix();
        let tag = &prefix[5..17];
        let tmp = std::env::temp_dir().join(format!("rbe-{tag}"));
        let log_dir = tmp.join("logs");
        std::fs::create_dir_all(&log_dir).unwrap();
        let redis = reporter_core::redis_conn::connect(&redis_url())
            .await
            .unwrap();
        let sim = portal_sim::spawn(SimConfig {
            seed: 7,
            accounts: AccountSpec::numbered_list(o.accounts),
            orders_per_account: o.orders,
            start_day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            move_rate: o.move_rate,
            max_new_orders_per_day: 2,
            layout: o.layout,
            export_delay: Duration::from_millis(1200),
            ..SimConfig::default()
        })
        .await
        .unwrap();

        let chromedriver = Chromedriver::start(Stdio::from(
            std::fs::File::create(log_dir.join("chromedriver.log")).unwrap(),
        ));
        let proxy = WebDriverProxy::start(&chromedriver.url()).await;
        let sessions = proxy.sessions.clone();

        let settings = db.settings(&prefix, &[]);
        let cipher = settings.credentials_cipher();
        let mut conn = db.connect();
        let slot_id = slot::find_by_hour(&mut conn, HOUR as i32)
            .unwrap()
            .unwrap()
            .id;
        diesel::update(reporter_core::schema::reporter_hour_slots::table)
            .set(reporter_core::schema::reporter_hour_slots::capacity_points.eq(100))
            .execute(&mut conn)
            .unwrap();
        let mut emails = Vec::new();
        let mut user_ids = Vec::new();
        for n in 1..=o.accounts {
            let email = format!("cliente{n}@portal.test");
            let u = user::insert(
                &mut conn,
                &user::NewUser {
                    email: &format!("u{n}@example.com"),
                    password_hash: "x",
                    role: "user",
                    monthly_orders_estimate: 0,
                },
            )
            .unwrap();
            user::set_portal_credentials(
                &mut conn,
                u.id,
                &email,
                &cipher.encrypt(&format!("clave-{n}")),
            )
            .unwrap();
            let monthly = reporter_core::domain::MonthlyOrders::new(3000).unwrap();
            reservation::create(&mut conn, u.id, Some(slot_id), monthly, 0.08).unwrap();
            emails.push(email);
            user_ids.push(u.id);
        }

        let mut env: Vec<(String, String)> = db.env_vars(&prefix);
        let max_active = o.max_active.to_string();
        for (k, v) in [
            ("REPORTER_PORTAL_DRIVER", "webdriver"),
            ("REPORTER_WEBDRIVER_URL", &proxy.url()),
            ("REPORTER_PORTAL_URL", &sim.base_url()),
            (
                "REPORTER_ARTIFACTS_DIR",
                &tmp.join("artifacts").display().to_string(),
            ),
            ("TMPDIR", &tmp.display().to_string()),
            ("REPORTER_RANGE_SIZE", "20"),
            ("REPORTER_WORKER_CONCURRENCY", "2"),
            ("MAX_ACTIVE_SELENIUM", &max_active),
            ("REPORTER_SEMAPHORE_LEASE_SECS", "5"),
            ("REPORTER_SELENIUM_SEMAPHORE_TTL", "120"),
            ("REPORTER_RANGE_RETRY_SECS", "1"),
            ("REPORTER_DOWNLOAD_RETRY_SECS", "1"),
            ("REPORTER_DB_POOL_SIZE", "4"),
            ("REPORTER_ELEMENT_TIMEOUT_SECS", "15"),
            ("RUST_LOG", "info"),
        ] {
            env.push((k.into(), v.to_string()));
        }
        if o.layout == Layout::Alt {
            env.push(("REPORTER_PORTAL_PROFILE".into(), ALT_PROFILE.into()));
        }
        for (k, v) in &o.extra_env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.to_string(), v.clone()));
        }

        let mut p = BrowserPipeline {
            db,
            prefix,
            redis,
            sim: Some(sim),
            http: reqwest::Client::new(),
            env,
            workers: Vec::new(),
            emails,
            user_ids,
            chromedriver,
            _proxy: proxy,
            sessions,
            tmp,
            log_dir,
            _serial: serial,
        };
        for _ in 0..o.workers {
            p.start_worker();
        }
        p
    }

    /// The workers' `REPORTER_WEBDRIVER_URL`: the counting proxy.
    pub fn webdriver_url(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "REPORTER_WEBDRIVER_URL")
            .map(|(_, v)| v.clone())
            .expect("REPORTER_WEBDRIVER_URL")
    }

    pub fn sim_url(&self, path: &str) -> String {
        self.sim.as_ref().unwrap().url(path)
    }

    pub async fn sim_get(&self, path: &str) -> Value {
        self.http
            .get(self.sim_url(path))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(self.sim_url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every account's orders now: email -> (order id -> status).
    pub async fn truth(&self) -> BTreeMap<String, BTreeMap<i64, String>> {
        let mut out = BTreeMap::new();
        for e in &self.emails {
            let orders = self.sim_get(&format!("/_sim/export/{e}")).await;
            let m = orders
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    (
                        o["id"].as_i64().unwrap(),
                        o["status"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            out.insert(e.clone(), m);
        }
        out
    }

    /// (account, order) pairs reported on the portal.
    /// The first day: the portal's orders as they stand, and the run of
    /// `date` that takes the baseline exports (asserted completed).
    pub async fn baseline_day(&self, date: NaiveDate) -> BTreeMap<String, BTreeMap<i64, String>> {
        let truth = self.truth().await;
        self.trigger(date).await;
        assert_eq!(
            self.wait_finished(date, Duration::from_secs(120)).await,
            "completed"
        );
        truth
    }

    pub async fn reports(&self) -> Vec<(String, i64)> {
        self.sim_get("/_sim/reports")
            .await
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["account"].as_str().unwrap().to_lowercase(),
                    r["order_id"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    pub async fn stats(&self) -> Value {
        self.sim_get("/_sim/stats").await
    }

    pub fn start_worker(&mut self) -> usize {
        let n = self.workers.len();
        let log = std::fs::File::create(self.log_dir.join(format!("worker-{n}.log"))).unwrap();
        let mut c = Command::new(env!("CARGO_BIN_EXE_reporter-worker"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let child = c
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.workers.push(child);
        n
    }

    pub fn worker_log(&self, n: usize) -> String {
        std::fs::read_to_string(self.log_dir.join(format!("worker-{n}.log"))).unwrap_or_default()
    }

    pub fn logs_tail(&self) -> String {
        (0..self.workers.len())
            .map(|n| format!("--- worker {n} ---\n{}", tail(&self.worker_log(n))))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn kill(&mut self, n: usize) {
        let ok = Command::new("kill")
            .arg("-KILL")
            .arg(self.workers[n].id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let _ = self.workers[n].wait();
    }

    pub fn slot_instant(date: NaiveDate) -> chrono::DateTime<Utc> {
        let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
        tz.from_local_datetime(&date.and_hms_opt(HOUR, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    }

    pub async fn trigger(&self, date: NaiveDate) {
        let q = JobQueues::new(self.redis.clone(), &self.prefix, 1);
        q.push(ProcessSlot::new(Self::slot_instant(date)))
            .await
            .unwrap();
    }

    pub fn run_for(&self, date: NaiveDate) -> Option<(i64, String, bool)> {
        use reporter_core::schema::reporter_runs as r;
        r::table
            .filter(r::scheduled_at.eq(Self::slot_instant(date)))
            .select((r::id, r::status, r::finished_at.is_not_null()))
            .first(&mut self.db.connect())
            .optional()
            .unwrap()
    }

    pub async fn wait_finished(&self, date: NaiveDate, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some((_, status, true)) = self.run_for(date) {
                return status;
            }
            if start.elapsed() > limit {
                panic!(
                    "run of {date} not finished after {limit:?}; logs:\n{}",
                    self.logs_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// (user id -> (download status, progress message)) of the run of `date`.
    pub fn run_users(&self, date: NaiveDate) -> BTreeMap<i64, (String, String)> {
        use reporter_core::schema::reporter_run_users as ru;
        let run_id = self.run_for(date).expect("run exists").0;
        ru::table
            .filter(ru::run_id.eq(run_id))
            .select((
                ru::user_id,
                ru::download_compare_status,
                ru::progress_message,
            ))
            .load::<(i64, String, String)>(&mut self.db.connect())
            .unwrap()
            .into_iter()
            .map(|(u, s, m)| (u, (s, m)))
            .collect()
    }

    pub fn ledger_count(&self) -> i64 {
        use reporter_core::schema::reporter_order_reports as o;
        o::table.count().get_result(&mut self.db.connect()).unwrap()
    }

    /// Waits until no Chromium of this test is running; returns what is left.
    pub async fn wait_no_browsers(&self, limit: Duration) -> BTreeSet<String> {
        let start = Instant::now();
        loop {
            let live = live_browsers(&self.tmp);
            if live.is_empty() || start.elapsed() > limit {
                return live;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for BrowserPipeline {
    fn drop(&mut self) {
        for w in &mut self.workers {
            let _ = w.kill();
            let _ = w.wait();
        }
        self.chromedriver.stop();
        // Chromium processes chromedriver left behind (only after a failure).
        // Killed one by one, by pid.
        for dir in live_browsers(&self.tmp) {
            let out = Command::new("pgrep").arg("-f").arg("--").arg(&dir).output();
            for pid in out
                .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
                .unwrap_or_default()
                .split_whitespace()
            {
                let _ = Command::new("kill").arg("-KILL").arg(pid).status();
            }
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn is_terminal(status: &str) -> bool {
    matches!(status, "ENTREGADO" | "DEVUELTO" | "CANCELADO")
}

/// (account, order) pairs stuck on day 2: in both days' truth, same status,
/// non-terminal.
pub fn stuck_between(
    day1: &BTreeMap<String, BTreeMap<i64, String>>,
    day2: &BTreeMap<String, BTreeMap<i64, String>>,
    accounts: &[&str],
) -> BTreeSet<(String, i64)> {
    let mut out = BTreeSet::new();
    for a in accounts {
        for (id, s2) in &day2[*a] {
            if !is_terminal(s2) && day1[*a].get(id) == Some(s2) {
                out.insert((a.to_string(), *id));
            }
        }
    }
    out
}
