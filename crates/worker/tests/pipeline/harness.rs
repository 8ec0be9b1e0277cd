use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::jobs::{JobQueues, ProcessSlot};
use reporter_core::models::{reservation, slot, token, user};
use reporter_worker::portal::fake::{expected_stuck, FakeAccount, FakeConfig, FakePortal};
use test_support::{redis_url, unique_prefix, TestDb};

pub const HOUR: u32 = 9;

pub struct Pipeline {
    pub db: TestDb,
    pub prefix: String,
    pub fake: FakePortal,
    pub redis: redis::aio::ConnectionManager,
    pub config: FakeConfig,
    pub env: Vec<(String, String)>,
    pub workers: Vec<Child>,
    log_dir: std::path::PathBuf,
}

impl Pipeline {
    /// `accounts`: (orders, stuck_every, password ok?) per customer.
    pub async fn new(accounts: &[(u32, u32, bool)], extra_env: &[(&str, &str)]) -> Self {
        Self::with_redis(accounts, extra_env, &redis_url()).await
    }

    /// Against a Redis of the test's own (e.g. one it restarts).
    pub async fn with_redis(
        accounts: &[(u32, u32, bool)],
        extra_env: &[(&str, &str)],
        redis_url: &str,
    ) -> Self {
        Self::on(accounts, extra_env, redis_url, TestDb::new()).await
    }

    /// On a database (and Redis) of the test's own.
    pub async fn on(
        accounts: &[(u32, u32, bool)],
        extra_env: &[(&str, &str)],
        redis_url: &str,
        db: TestDb,
    ) -> Self {
        let prefix = unique_prefix();
        let redis = reporter_core::redis_conn::connect(redis_url).await.unwrap();
        let fake = FakePortal::new(redis.clone(), &prefix);
        let mut config = FakeConfig {
            report_delay_ms: 2,
            ..Default::default()
        };
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
        for (i, (orders, stuck_every, good_password)) in accounts.iter().enumerate() {
            let email = format!("cliente{i}@portal.test");
            config.accounts.push(FakeAccount {
                email: email.clone(),
                password: format!("clave-{i}"),
                orders: *orders,
                stuck_every: *stuck_every,
                blocked: false,
            });
            let u = user::insert(
                &mut conn,
                &user::NewUser {
                    email: &format!("u{i}@example.com"),
                    password_hash: "x",
                    role: "user",
                    monthly_orders_estimate: 0,
                },
            )
            .unwrap();
            let pw = if *good_password {
                format!("clave-{i}")
            } else {
                "wrong".to_string()
            };
            user::set_portal_credentials(&mut conn, u.id, &email, &cipher.encrypt(&pw)).unwrap();
            let monthly =
                reporter_core::domain::MonthlyOrders::new([100, 3000, 9000][i % 3]).unwrap();
            reservation::create(&mut conn, u.id, Some(slot_id), monthly, 0.08).unwrap();
            token::issue(&mut conn, u.id, "t", None).unwrap();
        }
        fake.configure(&config).await.unwrap();
        let mut env: Vec<(String, String)> = db.env_vars(&prefix);
        env.retain(|(k, _)| k != "REDIS_URL");
        env.push(("REDIS_URL".into(), redis_url.to_string()));
        for (k, v) in [
            ("REPORTER_PORTAL_DRIVER", "fake"),
            ("REPORTER_RANGE_SIZE", "50"),
            ("REPORTER_WORKER_CONCURRENCY", "3"),
            ("MAX_ACTIVE_SELENIUM", "3"),
            ("REPORTER_SEMAPHORE_LEASE_SECS", "4"),
            ("REPORTER_RANGE_RETRY_SECS", "1"),
            ("REPORTER_DOWNLOAD_RETRY_SECS", "1"),
            ("REPORTER_DB_POOL_SIZE", "4"),
            ("RUST_LOG", "info"),
        ] {
            env.push((k.into(), v.into()));
        }
        for (k, v) in extra_env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.to_string(), v.to_string()));
        }
        let log_dir = std::env::temp_dir().join(format!("reporter-pipeline-{}", &prefix[5..]));
        std::fs::create_dir_all(&log_dir).unwrap();
        Pipeline {
            db,
            prefix,
            fake,
            redis,
            config,
            env,
            workers: Vec::new(),
            log_dir,
        }
    }

    pub fn command(&self, bin: &str) -> Command {
        let mut c = Command::new(bin);
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn start_worker(&mut self) -> usize {
        let n = self.workers.len();
        let log = std::fs::File::create(self.log_dir.join(format!("worker-{n}.log"))).unwrap();
        let child = self
            .command(env!("CARGO_BIN_EXE_reporter-worker"))
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

    /// Sends `sig` (e.g. "TERM", "STOP", "CONT", "KILL") with kill(1):
    /// the workspace forbids unsafe code, so no libc::kill.
    pub fn signal(&self, n: usize, sig: &str) {
        let pid = self.workers[n].id();
        assert!(test_support::signal(pid, sig), "kill -{sig} {pid}");
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

    /// Waits (bounded) until the run of `date` has finished; returns its status.
    pub async fn wait_finished(&self, date: NaiveDate, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            if let Some((_, status, true)) = self.run_for(date) {
                return status;
            }
            if start.elapsed() > limit {
                panic!(
                    "run of {date} not finished after {limit:?}; worker 0 log tail:\n{}",
                    tail(&self.worker_log(0))
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Day 1 (the baseline export) run to completion, portal-sim on day 2.
    pub async fn baseline(&self) {
        self.fake.set_day(1).await.unwrap();
        self.trigger(d("2026-11-02")).await;
        assert_eq!(
            self.wait_finished(d("2026-11-02"), Duration::from_secs(60))
                .await,
            "completed"
        );
        self.fake.set_day(2).await.unwrap();
    }

    /// Waits (bounded) until at least `at_least` orders are recorded.
    pub async fn wait_for_reports(&self, at_least: i64) {
        let start = Instant::now();
        while self.ledger_count() < at_least {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "reports did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What process-slot commits for `date` (a manual run of every
    /// reservation), without the pushes that follow it.
    pub fn create_run(&self, date: NaiveDate) -> i64 {
        let mut c = self.db.connect();
        let slot_id = slot::find_by_hour(&mut c, HOUR as i32).unwrap().unwrap().id;
        let (run, created) = reporter_core::models::pipeline::create_run(
            &mut c,
            slot_id,
            Self::slot_instant(date),
            date,
            reporter_core::jobs::RunOrigin::Manual,
            false,
            reporter_core::domain::ReportMode::Live,
            reporter_core::domain::ReportMode::Live,
        )
        .unwrap();
        assert!(created);
        run.id
    }

    /// A run of the first customer on 2026-11-03 with one pending range of
    /// 10 orders, without its jobs.
    pub fn one_range(&self) -> i64 {
        use reporter_core::schema::{reporter_ranges as ranges, reporter_run_users as ru};
        let run_id = self.create_run(d("2026-11-03"));
        let mut c = self.db.connect();
        let run_user: i64 = ru::table
            .filter(ru::run_id.eq(run_id))
            .select(ru::id)
            .first(&mut c)
            .unwrap();
        diesel::insert_into(ranges::table)
            .values((
                ranges::run_user_id.eq(run_user),
                ranges::range_start.eq(1),
                ranges::range_end.eq(10),
                ranges::status.eq("pending"),
            ))
            .returning(ranges::id)
            .get_result(&mut c)
            .unwrap()
    }

    pub fn ledger_count(&self) -> i64 {
        use reporter_core::schema::reporter_order_reports as o;
        o::table.count().get_result(&mut self.db.connect()).unwrap()
    }

    /// The exact reports expected on a day after the first: every stuck
    /// order of every account with a good password, once.
    pub fn expected_reports(&self, day: i64, good: &[bool]) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (i, a) in self.config.accounts.iter().enumerate() {
            if !good[i] {
                continue;
            }
            for id in expected_stuck(i, a) {
                m.insert(format!("{}|{}|{}", a.email, id, day), 1);
            }
        }
        m
    }

    /// Day 1 (baseline) and then day 2 with the workers already running.
    pub async fn run_two_days(&self, d1: NaiveDate, d2: NaiveDate) -> (String, String) {
        self.fake.set_day(1).await.unwrap();
        self.trigger(d1).await;
        let s1 = self.wait_finished(d1, Duration::from_secs(60)).await;
        assert_eq!(
            self.ledger_count(),
            0,
            "nothing is reported on the baseline day"
        );
        self.fake.set_day(2).await.unwrap();
        self.trigger(d2).await;
        let s2 = self.wait_finished(d2, Duration::from_secs(180)).await;
        (s1, s2)
    }

    pub async fn semaphore_in_use(&self) -> u32 {
        reporter_core::browser_semaphore::BrowserSemaphore::new(
            self.redis.clone(),
            &self.prefix,
            3,
            Duration::from_secs(4),
        )
        .in_use()
        .await
        .unwrap()
    }

    pub fn stop_all(&mut self) {
        for w in &mut self.workers {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.stop_all();
    }
}

pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

pub fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A workspace binary other than the worker (beat, reporterctl).
pub fn bin(name: &str) -> String {
    let path = env!("CARGO_MANIFEST_DIR").replace("crates/worker", &format!("target/debug/{name}"));
    assert!(
        std::path::Path::new(&path).exists(),
        "build the workspace binaries first (scripts/test.sh does): {path}"
    );
    path
}
