//! The soak itself: bring the fleet up on services of its own, then for each
//! simulated day and each hour of the window reconcile the schedule at that
//! hour's instant, fire the hour's fault, wait for the hour's runs to settle,
//! and at the end of the day judge every customer-day and move the portal on.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};
use rand::rngs::StdRng;
use rand::SeedableRng;
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::config::Settings;
use reporter_core::models::slot;
use reporter_core::schedule::slot_instant;
use serde::Serialize;
use test_support::private_services::{free_port, PrivatePg, PrivateRedis};
use test_support::TEST_CREDENTIALS_KEY;

use crate::cli::{Args, Driver};
use crate::customers::{self, Customer};
use crate::faults::{self, FaultKind, PlannedFault};
use crate::fleet::{rss_kib, Fleet, Role};
use crate::samples::{self, quantile, Samples};
use crate::sim::{self, Sim, SimOptions, SimOrder};
use crate::verdict::{self, DayInput, DayVerdict, Difference, Tally};

/// The first simulated business day. Far enough ahead that the fleet's real
/// beats (which reconcile on the machine's clock every minute) never owe a
/// soak hour: the reservations are dated this day, so no real hour before it
/// is owed to them, and the soak's own reconciles drive every soak hour.
pub const FIRST_DAY: &str = "2030-01-07";

/// A fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub day: u32,
    pub hour: u8,
    pub kind: FaultKind,
    pub label: &'static str,
    /// What exactly was hit (a worker slot, an account).
    pub target: String,
    /// Whether a range or download of the hour was in progress when a
    /// mid-run fault struck.
    pub mid_run: bool,
    /// Seconds since the soak started.
    pub at_secs: f64,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessMemory {
    pub slot: String,
    /// RSS in MiB at the end of each day (0 when not running).
    pub mib_per_day: Vec<f64>,
    /// Least-squares slope from day 2 on (day 1 warms caches up).
    pub slope_mib_per_day: f64,
    pub restarts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub tally: Tally,
    pub hours_past_deadline: usize,
    pub db_bytes_final: i64,
    pub db_bytes_per_customer_day: f64,
    pub db_growth_bytes_per_customer_day: f64,
    pub api_p50_ms: f64,
    pub api_p99_ms: f64,
    pub api_samples: usize,
    pub api_errors: usize,
    pub max_portal_sessions: usize,
    pub samples_above_session_limit: usize,
    /// Live browser leases in the semaphore: the fleet-wide cap itself.
    pub max_browser_leases: usize,
    pub lease_samples_above_limit: usize,
    pub session_limit: usize,
    pub wall_secs: f64,
    pub crashed_processes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub pass: bool,
    pub args: Args,
    pub first_day: NaiveDate,
    pub customers: Vec<Customer>,
    pub capacity_raised_to: Option<i32>,
    pub days: Vec<DayVerdict>,
    pub totals: Totals,
    pub faults: Vec<FaultEvent>,
    pub memory: Vec<ProcessMemory>,
    pub differences: Vec<Difference>,
    pub work_dir: PathBuf,
}

struct Services {
    pg: PrivatePg,
    redis: PrivateRedis,
    database_url: String,
    chromedriver: Option<test_support::chromedriver::Chromedriver>,
}

fn start_services(work: &Path, driver: Driver) -> anyhow::Result<Services> {
    let pg = PrivatePg::start_at(&work.join("pg"));
    let mut admin =
        PgConnection::establish(&pg.admin_url()).context("connect to the soak's PostgreSQL")?;
    diesel::sql_query("CREATE DATABASE reporter_soak").execute(&mut admin)?;
    let database_url = format!("postgres://postgres@127.0.0.1:{}/reporter_soak", pg.port());
    let redis = PrivateRedis::start_at(&work.join("redis"));
    let chromedriver = match driver {
        Driver::Fake => None,
        Driver::Webdriver => {
            let log = std::fs::File::create(work.join("logs/chromedriver.log"))?;
            Some(test_support::chromedriver::Chromedriver::start(log.into()))
        }
    };
    Ok(Services {
        pg,
        redis,
        database_url,
        chromedriver,
    })
}

fn fleet_env(
    args: &Args,
    s: &Services,
    api_port: u16,
    portal_url: &str,
    work: &Path,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("DATABASE_URL", s.database_url.clone()),
        ("REDIS_URL", s.redis.url()),
        ("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY.to_string()),
        ("REPORTER_REDIS_PREFIX", "soak".into()),
        ("REPORTER_API_BIND", format!("127.0.0.1:{api_port}")),
        ("REPORTER_PORTAL_URL", portal_url.to_string()),
        (
            "REPORTER_PORTAL_DRIVER",
            match args.driver {
                Driver::Fake => "http".into(),
                Driver::Webdriver => "webdriver".into(),
            },
        ),
        (
            "REPORTER_WORKER_CONCURRENCY",
            args.worker_concurrency.to_string(),
        ),
        ("REPORTER_RANGE_SIZE", args.range_size.to_string()),
        ("REPORTER_SEMAPHORE_LEASE_SECS", args.lease_secs.to_string()),
        // Compressed time: an hour lasts seconds, so retries wait seconds.
        ("REPORTER_RANGE_RETRY_SECS", "2".into()),
        ("REPORTER_DOWNLOAD_RETRY_SECS", "2".into()),
        ("REPORTER_DB_POOL_SIZE", "4".into()),
        (
            "REPORTER_ARTIFACTS_DIR",
            work.join("artifacts").display().to_string(),
        ),
        ("LOG_FORMAT", "text".into()),
        ("RUST_LOG", "info".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(cd) = &s.chromedriver {
        env.push(("REPORTER_WEBDRIVER_URL".into(), cd.url()));
    }
    env
}

fn settings_of(env: &[(String, String)]) -> anyhow::Result<Settings> {
    let map: HashMap<String, String> = env.iter().cloned().collect();
    Settings::from_env(&map).map_err(|e| anyhow::anyhow!("soak settings: {e}"))
}

/// `reporterctl` with the fleet's environment; its stdout.
fn ctl(fleet: &Fleet, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(fleet.bin("reporterctl"))
        .args(args)
        .envs(fleet.env().iter().map(|(k, v)| (k, v)))
        .output()
        .context("run reporterctl")?;
    if !out.status.success() {
        bail!(
            "reporterctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The schedule reconciled at `at`, as beat would; retried while a push
/// fails (Redis coming back). Returns the hours enqueued.
async fn reconcile(fleet: &Fleet, at: DateTime<Utc>) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let mut last = String::new();
    for _ in 0..30 {
        match ctl(fleet, &["beat", "reconcile", "--at", &at.to_rfc3339()]) {
            Ok(out) => {
                let v: serde_json::Value = serde_json::from_str(&out)
                    .with_context(|| format!("reconcile output: {out}"))?;
                let failed = v["failed"].as_array().map_or(0, Vec::len);
                if failed == 0 {
                    return Ok(v["enqueued"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d["scheduled_at"].as_str()?.parse().ok())
                        .collect());
                }
                last = out;
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    bail!("reconcile at {at} kept failing: {last}")
}

/// The soak's own view of its database, kept across the PostgreSQL
/// restarts it causes: a query that fails drops the connection and the next
/// one connects again.
struct Watch {
    url: String,
    conn: Option<PgConnection>,
}

impl Watch {
    fn new(url: &str) -> Self {
        Watch {
            url: url.to_string(),
            conn: None,
        }
    }

    fn ask<T>(&mut self, q: impl FnOnce(&mut PgConnection) -> QueryResult<T>) -> Option<T> {
        if self.conn.is_none() {
            self.conn = PgConnection::establish(&self.url).ok();
        }
        let r = q(self.conn.as_mut()?);
        if r.is_err() {
            self.conn = None;
        }
        r.ok()
    }

    /// Whether every hour in `hours` has a finished run (runs are created
    /// by the worker that takes the process-slot job).
    fn all_finished(&mut self, hours: &[DateTime<Utc>]) -> bool {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut distinct = hours.to_vec();
        distinct.sort();
        distinct.dedup();
        let want = distinct.len() as i64;
        self.ask(|c| {
            diesel::sql_query(
                "SELECT count(*) AS n FROM reporter_runs
                  WHERE scheduled_at = ANY($1) AND finished_at IS NOT NULL",
            )
            .bind::<Array<Timestamptz>, _>(distinct)
            .get_result::<Count>(c)
        })
        .is_some_and(|r| r.n == want)
    }

    /// The holder of a range of the hour `at` being reported, if any.
    fn range_holder(&mut self, at: DateTime<Utc>) -> Option<String> {
        #[derive(QueryableByName)]
        struct Holder {
            #[diesel(sql_type = Text)]
            locked_by: String,
        }
        self.ask(|c| {
            diesel::sql_query(
                "SELECT g.locked_by FROM reporter_ranges g
                   JOIN reporter_run_users u ON u.id = g.run_user_id
                   JOIN reporter_runs r ON r.id = u.run_id
                  WHERE r.scheduled_at = $1 AND g.status = 'processing' AND g.locked_by IS NOT NULL
                  LIMIT 1",
            )
            .bind::<Timestamptz, _>(at)
            .get_result::<Holder>(c)
            .optional()
        })
        .flatten()
        .map(|h| h.locked_by)
    }
}

/// Waits until every hour in `hours` has a finished run. False past
/// `deadline`.
async fn settle(watch: &mut Watch, hours: &[DateTime<Utc>], deadline: Duration) -> bool {
    let start = Instant::now();
    while !watch.all_finished(hours) {
        if start.elapsed() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// Waits (up to 20 s) for the hour's run to have a range being reported, so
/// a mid-run fault strikes mid-run. Returns whether one was, and the pid in
/// the lock holder's name.
async fn wait_mid_run(watch: &mut Watch, at: DateTime<Utc>) -> (bool, Option<u32>) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(holder) = watch.range_holder(at) {
            // Worker ids are `<host>-<pid>-<random>`.
            let pid = holder.rsplit('-').nth(1).and_then(|p| p.parse().ok());
            return (true, pid);
        }
        if watch.all_finished(&[at]) {
            return (false, None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (false, None)
}

pub async fn run(args: Args) -> anyhow::Result<Verdict> {
    let started = Instant::now();
    let first_day: NaiveDate = FIRST_DAY.parse()?;
    let work = match &args.work_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "reporter-soak-{}-{}",
            Utc::now().format("%Y%m%d-%H%M%S"),
            std::process::id()
        )),
    };
    std::fs::create_dir_all(work.join("logs"))?;
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("binary directory")?
            .to_path_buf(),
    };
    eprintln!("soak: working in {}", work.display());
    let mut services = start_services(&work, args.driver)?;
    let api_port = free_port();
    let sim_port = free_port();
    let portal_url = format!("http://127.0.0.1:{sim_port}");
    let env = fleet_env(&args, &services, api_port, &portal_url, &work);
    let settings = settings_of(&env)?;
    let tz = settings.timezone;
    let mut fleet = Fleet::new(&bin_dir, &work.join("logs"), env)?;
    ctl(&fleet, &["migrate"])?;

    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut conn = PgConnection::establish(&services.database_url)?;
    let cfg = slot::config(&mut conn)?;
    let window = cfg.window();
    let hours: Vec<u8> = (window.start()..=window.end())
        .filter(|h| window.contains(*h))
        .map(|h| h as u8)
        .collect();
    let assigned_at = slot_instant(tz, first_day, 0).context("first day's midnight")?;
    let (customers, capacity_raised_to) = customers::create(
        &mut conn,
        &settings,
        &mut rng,
        args.customers,
        &hours,
        assigned_at,
    )?;
    let token = customers::api_token(&mut conn, customers[0].user_id)?;
    drop(conn);
    let accounts_file = work.join("accounts.json");
    customers::write_accounts_file(&accounts_file, &customers)?;
    let sim = Arc::new(
        Sim::start(
            &bin_dir.join("portal-sim"),
            sim_port,
            &SimOptions {
                seed: args.seed,
                accounts_file: &accounts_file,
                start_day: first_day,
                move_rate: 0.7,
                max_new_orders: 12,
                // A killed worker's portal session ends soon, as a browser
                // session's would with the grid's idle timeout.
                session_ttl_secs: 60,
                log: &work.join("logs/portal-sim.log"),
            },
        )
        .await?,
    );
    let busy: BTreeSet<u8> = customers.iter().map(|c| c.hour).collect();
    let busy: Vec<u8> = busy.into_iter().collect();
    let plan = faults::plan(&mut rng, args.faults, args.days, &busy, customers.len());
    sim.set_latency_ms(args.portal_latency_ms).await?;

    fleet.start(Role::Api, "api")?;
    fleet.start(Role::Beat, "beat-1")?;
    fleet.start(Role::Beat, "beat-2")?;
    for w in 1..=args.workers {
        fleet.start(Role::Worker, &format!("worker-{w}"))?;
    }
    let api_url = format!("http://127.0.0.1:{api_port}");
    wait_http(&format!("{api_url}/api/v1/readyz")).await?;

    let day_now = Arc::new(AtomicU32::new(1));
    let samples = Arc::new(Mutex::new(Samples::default()));
    let semaphore = BrowserSemaphore::new(
        reporter_core::redis_conn::connect(&services.redis.url()).await?,
        &settings.redis_prefix,
        settings.max_active_selenium,
        Duration::from_secs(args.lease_secs),
    );
    let sampler = samples::spawn(
        api_url.clone(),
        token,
        sim.clone(),
        semaphore,
        day_now.clone(),
        samples.clone(),
        Duration::from_millis(250),
    );

    let mut truth: HashMap<NaiveDate, Vec<Vec<SimOrder>>> = HashMap::new();
    let mut days = Vec::new();
    let mut diffs = Vec::new();
    let mut events: Vec<FaultEvent> = Vec::new();
    let mut memory: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut dup_before = 0u64;
    let hour_deadline = Duration::from_secs(args.hour_deadline_secs);
    let mut watch = Watch::new(&services.database_url);
    for day in 1..=args.days {
        let day_started = Instant::now();
        day_now.store(day, Ordering::Relaxed);
        let date = first_day + chrono::Duration::days(i64::from(day - 1));
        let mut today = Vec::with_capacity(customers.len());
        for c in &customers {
            today.push(sim.orders(&c.portal_email).await?);
        }
        truth.insert(date, today);
        let blocked: BTreeSet<usize> = plan
            .iter()
            .filter(|f| f.day == day && f.kind == FaultKind::BlockedAccount)
            .filter_map(|f| f.customer)
            .collect();
        if !blocked.is_empty() {
            let emails: Vec<String> = blocked
                .iter()
                .map(|i| customers[*i].portal_email.clone())
                .collect();
            sim.set_blocked(&emails).await?;
            for f in plan
                .iter()
                .filter(|f| f.day == day && f.kind == FaultKind::BlockedAccount)
            {
                let email = f.customer.map(|i| customers[i].portal_email.clone());
                events.push(event(
                    f,
                    &started,
                    email.unwrap_or_default(),
                    false,
                    "blocked from the start of the day".into(),
                ));
            }
        }
        let mut verdict = DayVerdict {
            day,
            date: Some(date),
            ..Default::default()
        };
        let mut beat_down: Option<String> = None;
        let mut pending_hours: Vec<DateTime<Utc>> = Vec::new();
        let mut overdue: Vec<DateTime<Utc>> = Vec::new();
        let last_hour = *hours.last().expect("window hours");
        for &hour in &hours {
            let Some(at) = slot_instant(tz, date, hour) else {
                continue;
            };
            let fault = plan
                .iter()
                .find(|f| f.day == day && f.hour == hour && f.kind != FaultKind::BlockedAccount);
            // Faults that shape the whole hour start before its reconcile.
            let mut skip_reconcile = false;
            if let Some(f) = fault {
                match f.kind {
                    FaultKind::PortalErrors => {
                        sim.set_error_rate(0.2).await?;
                        events.push(event(
                            f,
                            &started,
                            "portal-sim".into(),
                            false,
                            "20% of pages answer 500".into(),
                        ));
                    }
                    FaultKind::PortalSlow => {
                        sim.set_latency_ms(args.portal_latency_ms + 300).await?;
                        events.push(event(
                            f,
                            &started,
                            "portal-sim".into(),
                            false,
                            "every page takes 300 ms more".into(),
                        ));
                    }
                    FaultKind::BeatOutage => {
                        fleet.kill("beat-1");
                        beat_down = Some("beat-1".into());
                        skip_reconcile = true;
                        events.push(event(
                            f,
                            &started,
                            "beat-1".into(),
                            false,
                            "SIGKILL; no reconcile this hour".into(),
                        ));
                    }
                    _ => {}
                }
            }
            if !skip_reconcile {
                let enqueued = reconcile(&fleet, at).await?;
                pending_hours.extend(enqueued);
            }
            if let Some(f) = fault.filter(|f| f.kind.mid_run()) {
                let (mid_run, holder) = wait_mid_run(&mut watch, at).await;
                let e = strike(f, &mut fleet, &mut services, holder, args.lease_secs)?;
                events.push(event(f, &started, e.0, mid_run, e.1));
            }
            if !pending_hours.is_empty() {
                if !settle(&mut watch, &pending_hours, hour_deadline).await {
                    verdict.hours_past_deadline.push(hour);
                    eprintln!(
                        "soak: day {day} hour {hour}: runs did not settle within {hour_deadline:?}"
                    );
                    // Judged at the end of the day; later hours wait only
                    // for their own runs.
                    overdue.append(&mut pending_hours);
                }
                pending_hours.clear();
            }
            if let Some(f) = fault {
                match f.kind {
                    FaultKind::PortalErrors => sim.set_error_rate(0.0).await?,
                    FaultKind::PortalSlow => sim.set_latency_ms(args.portal_latency_ms).await?,
                    _ => {}
                }
            }
            if hour != last_hour {
                if let Some(slot) = beat_down.take() {
                    // Back for the next hour, whose reconcile catches up.
                    fleet.start(Role::Beat, &slot)?;
                }
            }
        }
        // Beat keeps reconciling after the window's last hour: anything the
        // day still owes is caught up now.
        if let Some(at) = slot_instant(tz, date, last_hour + 1) {
            pending_hours.extend(reconcile(&fleet, at).await?);
        }
        if let Some(slot) = beat_down.take() {
            fleet.start(Role::Beat, &slot)?;
        }
        if !pending_hours.is_empty() && !settle(&mut watch, &pending_hours, hour_deadline).await {
            verdict.hours_past_deadline.push(last_hour + 1);
        }
        // One more chance for overdue hours before the portal's day moves
        // on (after that their reports would land on the wrong day).
        if !overdue.is_empty() {
            settle(&mut watch, &overdue, hour_deadline).await;
        }
        if !blocked.is_empty() {
            sim.set_blocked(&[]).await?;
        }
        let mut conn = connect_retrying(&services.database_url).await?;
        verdict.tally.runs_not_finished = verdict::unfinished_runs(&mut conn, date)?;
        let reports = sim.reports().await?;
        let filed = sim::reports_of_day(&reports, date);
        diffs.extend(verdict::judge_day(
            &mut conn,
            &DayInput {
                day,
                date,
                customers: &customers,
                truth: &truth,
                filed: &filed,
                blocked: &blocked,
            },
            &mut verdict,
        )?);
        let stats = sim.stats().await?;
        verdict.tally.duplicate_reports += stats.counters.duplicate_reports - dup_before;
        dup_before = stats.counters.duplicate_reports;
        verdict.db_bytes = verdict::database_bytes(&mut conn)?;
        drop(conn);
        for (slot, p) in &fleet.procs {
            let kib = rss_kib(p.pid()).unwrap_or(0);
            verdict.rss_kib.insert(slot.clone(), kib);
        }
        verdict
            .rss_kib
            .insert("portal-sim".into(), rss_kib(sim.pid()).unwrap_or(0));
        if let Some(pid) = services.redis.pid() {
            verdict
                .rss_kib
                .insert("redis".into(), rss_kib(pid).unwrap_or(0));
        }
        if let Some(pid) = services.pg.pid() {
            verdict
                .rss_kib
                .insert("postgres (postmaster)".into(), rss_kib(pid).unwrap_or(0));
        }
        for (slot, kib) in &verdict.rss_kib {
            let series = memory.entry(slot.clone()).or_default();
            series.resize(day as usize - 1, 0.0);
            series.push(*kib as f64 / 1024.0);
        }
        {
            let s = samples.lock().expect("samples lock");
            let api = s.api_of(Some(day));
            verdict.api_p50_ms = quantile(&api, 0.5);
            verdict.api_p99_ms = quantile(&api, 0.99);
            verdict.api_samples = api.len();
            verdict.api_errors = s.errors_of(Some(day));
            verdict.max_portal_sessions = s.max_sessions(Some(day));
        }
        verdict.wall_secs = day_started.elapsed().as_secs_f64();
        print_day(&verdict);
        days.push(verdict);
        sim.advance_day().await?;
    }
    sampler.abort();
    let crashed: Vec<String> = fleet
        .crashed()
        .into_iter()
        .map(|(slot, log)| format!("{slot} ({})", log.display()))
        .collect();
    fleet.stop_all();

    let memory: Vec<ProcessMemory> = memory
        .into_iter()
        .map(|(slot, mib)| ProcessMemory {
            restarts: fleet.procs.get(&slot).map_or(0, |p| p.generation),
            slope_mib_per_day: verdict::slope(mib.get(1..).unwrap_or(&[])),
            slot,
            mib_per_day: mib,
        })
        .collect();
    let s = samples.lock().expect("samples lock");
    let api = s.api_of(None);
    let mut tally = Tally::default();
    for d in &days {
        tally.add(&d.tally);
    }
    let customer_days = tally.customer_days;
    let db_final = days.last().map_or(0, |d| d.db_bytes);
    let db_first = days.first().map_or(0, |d| d.db_bytes);
    let later_days =
        customer_days.saturating_sub(days.first().map_or(0, |d| d.tally.customer_days));
    let limit = settings.max_active_selenium as usize;
    let totals = Totals {
        tally,
        hours_past_deadline: days.iter().map(|d| d.hours_past_deadline.len()).sum(),
        db_bytes_final: db_final,
        db_bytes_per_customer_day: db_final as f64 / customer_days.max(1) as f64,
        db_growth_bytes_per_customer_day: (db_final - db_first) as f64 / later_days.max(1) as f64,
        api_p50_ms: quantile(&api, 0.5),
        api_p99_ms: quantile(&api, 0.99),
        api_samples: api.len(),
        api_errors: s.errors_of(None),
        max_portal_sessions: s.max_sessions(None),
        samples_above_session_limit: s.sessions_above(limit),
        max_browser_leases: s.max_leases(None),
        lease_samples_above_limit: s.leases_above(limit),
        session_limit: limit,
        wall_secs: started.elapsed().as_secs_f64(),
        crashed_processes: crashed,
    };
    let pass = totals.tally.clean()
        && totals.lease_samples_above_limit == 0
        && totals.hours_past_deadline == 0;
    Ok(Verdict {
        pass,
        args,
        first_day,
        customers,
        capacity_raised_to,
        days,
        totals,
        faults: events,
        memory,
        differences: diffs,
        work_dir: work,
    })
}

fn event(
    f: &PlannedFault,
    started: &Instant,
    target: String,
    mid_run: bool,
    note: String,
) -> FaultEvent {
    FaultEvent {
        day: f.day,
        hour: f.hour,
        kind: f.kind,
        label: f.kind.label(),
        target,
        mid_run,
        at_secs: started.elapsed().as_secs_f64(),
        note,
    }
}

/// Fires a mid-run fault; returns (target, note).
fn strike(
    f: &PlannedFault,
    fleet: &mut Fleet,
    services: &mut Services,
    holder_pid: Option<u32>,
    lease_secs: u64,
) -> anyhow::Result<(String, String)> {
    let workers = fleet.slots(Role::Worker);
    let target = holder_pid
        .and_then(|pid| workers.iter().find(|w| fleet.pid(w) == Some(pid)).cloned())
        .unwrap_or_else(|| workers[f.hour as usize % workers.len()].clone());
    Ok(match f.kind {
        FaultKind::WorkerKill => {
            fleet.kill(&target);
            fleet.start(Role::Worker, &target)?;
            (target, "SIGKILL, replacement started".into())
        }
        FaultKind::WorkerPause => {
            fleet.signal(&target, "STOP");
            std::thread::sleep(Duration::from_secs(lease_secs + 5));
            fleet.signal(&target, "CONT");
            (
                target,
                format!("SIGSTOP for {} s, then SIGCONT", lease_secs + 5),
            )
        }
        FaultKind::RollingDeploy => {
            let mut notes = Vec::new();
            for w in &workers {
                let drained = fleet.replace(w, Duration::from_secs(60))?;
                notes.push(format!("{w} drained in {:.1} s", drained.as_secs_f64()));
            }
            ("every worker".into(), notes.join(", "))
        }
        FaultKind::RedisRestart => {
            services.redis.restart(Duration::from_secs(2));
            ("redis".into(), "SIGTERM (AOF flushed), down 2 s".into())
        }
        FaultKind::PostgresRestart => {
            services.pg.down();
            std::thread::sleep(Duration::from_secs(3));
            services.pg.up();
            ("postgres".into(), "pg_ctl stop -m fast, down 3 s".into())
        }
        other => bail!("{other} is not a mid-run fault"),
    })
}

async fn wait_http(url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("{url} did not answer 200 within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn connect_retrying(url: &str) -> anyhow::Result<PgConnection> {
    let start = Instant::now();
    loop {
        match PgConnection::establish(url) {
            Ok(c) => return Ok(c),
            Err(e) if start.elapsed() > Duration::from_secs(30) => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn print_day(d: &DayVerdict) {
    eprintln!("soak: {}  ({:.1} s)", d.row(), d.wall_secs);
    for m in &d.missed_detail {
        eprintln!("soak:   missed {m}");
    }
}
