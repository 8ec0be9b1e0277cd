//! Pipeline benchmark (run by scripts/bench-pipeline.sh): real PostgreSQL,
//! Redis and two release `reporter-worker` processes against the scripted
//! fake portal. Prints numbers; asserts nothing.
//!
//! Scenario A: fake portal at 0 ms, 50 users × 1,000 stuck orders (500 range
//! jobs): total time, jobs/s, orders/s, tick → first job picked up.
//! Scenario B: 10 ms per reported order, MAX_ACTIVE_SELENIUM=6: makespan
//! against the ideal (total order time / 6), and where the time beyond the
//! ideal went (from the rows' timestamps: run start to first report, range
//! lock to its first report, time per order, idle browser places).
//!
//! Knobs: BENCH_USERS, BENCH_ORDERS (scenario A), BENCH_SCENARIOS (`AB`,
//! `A` or `B`), BENCH_B_RUNS (scenario B repetitions; the median is printed).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::jobs::{JobQueues, ProcessSlot};
use reporter_core::models::{reservation, slot, user};
use reporter_worker::portal::fake::{FakeAccount, FakeConfig, FakePortal};
use test_support::{redis_url, unique_prefix, TestDb};

const HOUR: u32 = 9;

type Started = Option<chrono::DateTime<Utc>>;
type Finished = Option<chrono::DateTime<Utc>>;

fn slot_instant(date: NaiveDate) -> chrono::DateTime<Utc> {
    let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
    tz.from_local_datetime(&date.and_hms_opt(HOUR, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

struct Setup {
    db: TestDb,
    prefix: String,
    fake: FakePortal,
    redis: redis::aio::ConnectionManager,
}

async fn setup(users: usize, orders: u32, report_delay_ms: u64) -> Setup {
    let db = TestDb::new();
    let prefix = unique_prefix();
    let redis = reporter_core::redis_conn::connect(&redis_url())
        .await
        .unwrap();
    let fake = FakePortal::new(redis.clone(), &prefix);
    let cipher = db.settings(&prefix, &[]).credentials_cipher().clone();
    let mut c = db.connect();
    let slot_id = slot::find_by_hour(&mut c, HOUR as i32).unwrap().unwrap().id;
    diesel::update(reporter_core::schema::reporter_hour_slots::table)
        .set(reporter_core::schema::reporter_hour_slots::capacity_points.eq(10_000))
        .execute(&mut c)
        .unwrap();
    let mut cfg = FakeConfig {
        report_delay_ms,
        ..Default::default()
    };
    for i in 0..users {
        let email = format!("b{i}@portal.test");
        cfg.accounts.push(FakeAccount {
            email: email.clone(),
            password: "pw".into(),
            orders,
            stuck_every: 1,
            blocked: false,
        });
        let u = user::insert(
            &mut c,
            &user::NewUser {
                email: &format!("b{i}@example.com"),
                password_hash: "x",
                role: "user",
                monthly_orders_estimate: 0,
            },
        )
        .unwrap();
        user::set_portal_credentials(&mut c, u.id, &email, &cipher.encrypt("pw")).unwrap();
        let m = reporter_core::domain::MonthlyOrders::new([100, 3000, 9000][i % 3]).unwrap();
        reservation::create(&mut c, u.id, Some(slot_id), m, 0.08).unwrap();
    }
    fake.configure(&cfg).await.unwrap();
    Setup {
        db,
        prefix,
        fake,
        redis,
    }
}

fn start_workers(s: &Setup, n: usize, max_browsers: &str) -> Vec<Child> {
    let bin =
        std::env::var("WORKER_BIN").unwrap_or_else(|_| "target/release/reporter-worker".into());
    (0..n)
        .map(|_| {
            let mut cmd = Command::new(&bin);
            cmd.env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default());
            for (k, v) in s.db.env_vars(&s.prefix) {
                cmd.env(k, v);
            }
            cmd.env("REPORTER_PORTAL_DRIVER", "fake")
                .env("REPORTER_RANGE_SIZE", "100")
                .env("REPORTER_WORKER_CONCURRENCY", "6")
                .env("MAX_ACTIVE_SELENIUM", max_browsers)
                .env("REPORTER_DB_POOL_SIZE", "6")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start reporter-worker (build it with --release first)")
        })
        .collect()
}

async fn run_day(s: &Setup, date: NaiveDate, day: i64) -> (Duration, Duration) {
    s.fake.set_day(day).await.unwrap();
    let q = JobQueues::new(s.redis.clone(), &s.prefix, 1);
    let pushed = Utc::now();
    let t0 = Instant::now();
    q.push(ProcessSlot::new(slot_instant(date))).await.unwrap();
    let mut c = s.db.connect();
    use reporter_core::schema::reporter_runs as r;
    loop {
        let row: Option<(Started, Finished)> = r::table
            .filter(r::scheduled_at.eq(slot_instant(date)))
            .select((r::started_at, r::finished_at))
            .first(&mut c)
            .optional()
            .unwrap();
        if let Some((Some(started), Some(_))) = row {
            let pickup = (started - pushed).to_std().unwrap_or_default();
            return (t0.elapsed(), pickup);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "run did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rss_kb(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
        })
        .unwrap_or_else(|| "?".into())
}

#[tokio::main]
async fn main() {
    let users: usize = std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let orders: u32 = std::env::var("BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);

    let scenarios = std::env::var("BENCH_SCENARIOS").unwrap_or_else(|_| "AB".into());
    if scenarios.contains('A') {
        scenario_a(users, orders).await;
    }
    if scenarios.contains('B') {
        scenario_b().await;
    }
}

async fn scenario_a(users: usize, orders: u32) {
    println!(
        "== Scenario A: {users} users x {orders} stuck orders, fake portal at 0 ms, 2 workers"
    );
    let s = setup(users, orders, 0).await;
    let mut workers = start_workers(&s, 2, "6");
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "worker RSS at start (no browsers): {} kB, {} kB",
        rss_kb(workers[0].id()),
        rss_kb(workers[1].id())
    );
    let (baseline, _) = run_day(&s, "2026-11-02".parse().unwrap(), 1).await;
    println!(
        "day 1 (baseline exports stored): {:.2} s",
        baseline.as_secs_f64()
    );
    let (total, pickup) = run_day(&s, "2026-11-03".parse().unwrap(), 2).await;
    let ranges = users * (orders as usize).div_ceil(100);
    let jobs = 1 + users + ranges;
    let reported = s.fake.stats().await.unwrap().reports;
    println!("day 2 run: {:.2} s total, {} jobs ({ranges} range jobs), {:.0} jobs/s, {:.0} orders/s, {} orders reported",
        total.as_secs_f64(), jobs, jobs as f64 / total.as_secs_f64(), reported as f64 / total.as_secs_f64(), reported);
    println!("tick -> first job picked up: {} ms", pickup.as_millis());
    println!(
        "worker RSS after the run: {} kB, {} kB",
        rss_kb(workers[0].id()),
        rss_kb(workers[1].id())
    );
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
}

async fn scenario_b() {
    let (u2, o2, delay) = (12usize, 300u32, 10u64);
    let runs: usize = std::env::var("BENCH_B_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    println!("\n== Scenario B: {u2} users x {o2} stuck orders, {delay} ms per report, MAX_ACTIVE_SELENIUM=6, 2 workers, {runs} run(s)");
    let ideal = Duration::from_millis(u2 as u64 * o2 as u64 * delay / 6);
    let mut ratios = Vec::new();
    for _ in 0..runs {
        let s = setup(u2, o2, delay).await;
        let mut workers = start_workers(&s, 2, "6");
        run_day(&s, "2026-11-02".parse().unwrap(), 1).await;
        let day2: NaiveDate = "2026-11-03".parse().unwrap();
        let (total, _) = run_day(&s, day2, 2).await;
        let ratio = total.as_secs_f64() / ideal.as_secs_f64();
        ratios.push(ratio);
        let stats = s.fake.stats().await.unwrap();
        println!(
            "makespan {:.2} s, ideal {:.2} s, ratio {ratio:.2}x; max concurrent fake sessions {}, logins {}",
            total.as_secs_f64(),
            ideal.as_secs_f64(),
            stats.max_open_sessions,
            stats.logins,
        );
        println!("  {}", breakdown(&s, day2, 6));
        for w in &mut workers {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
    if runs > 1 {
        ratios.sort_by(f64::total_cmp);
        println!(
            "median ratio {:.2}x (min {:.2}x, max {:.2}x)",
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}

/// Where a run's time went, from the rows' own timestamps (PostgreSQL clock).
fn breakdown(s: &Setup, date: NaiveDate, places: i32) -> String {
    use diesel::sql_types::{Date, Double};
    #[derive(QueryableByName)]
    struct B {
        #[diesel(sql_type = Double)]
        makespan: f64,
        #[diesel(sql_type = Double)]
        first_report: f64,
        #[diesel(sql_type = Double)]
        range_start: f64,
        #[diesel(sql_type = Double)]
        per_order_ms: f64,
        #[diesel(sql_type = Double)]
        range_end: f64,
        #[diesel(sql_type = Double)]
        busy: f64,
        #[diesel(sql_type = Double)]
        tail: f64,
    }
    let b: B = diesel::sql_query(
        "WITH r AS (SELECT id, started_at, finished_at FROM reporter_runs WHERE business_date = $1),
              g AS (SELECT g.id, g.locked_at, g.completed_at, min(o.reported_at) AS first_rep,
                           max(o.reported_at) AS last_rep, count(o.id) AS n
                      FROM reporter_ranges g JOIN reporter_run_users u ON u.id = g.run_user_id
                      JOIN r ON r.id = u.run_id LEFT JOIN reporter_order_reports o ON o.range_id = g.id
                     GROUP BY g.id)
         SELECT extract(epoch FROM (SELECT finished_at - started_at FROM r))::float8 AS makespan,
                extract(epoch FROM (SELECT min(first_rep) FROM g) - (SELECT started_at FROM r))::float8 AS first_report,
                coalesce(avg(extract(epoch FROM first_rep - locked_at)), 0)::float8 AS range_start,
                coalesce(avg(extract(epoch FROM last_rep - first_rep) * 1000 / nullif(n - 1, 0)), 0)::float8 AS per_order_ms,
                coalesce(avg(extract(epoch FROM completed_at - last_rep)), 0)::float8 AS range_end,
                coalesce(sum(extract(epoch FROM completed_at - locked_at)), 0)::float8 AS busy,
                extract(epoch FROM (SELECT finished_at FROM r) - max(completed_at))::float8 AS tail
           FROM g",
    )
    .bind::<Date, _>(date)
    .get_result(&mut s.db.connect())
    .unwrap();
    format!(
        "run start -> first report {:.0} ms; per range: lock -> first report {:.1} ms, {:.2} ms/order, last report -> completed {:.1} ms; \
         ranges held the {places} places {:.0}% of the run; last range -> run finished {:.0} ms",
        b.first_report * 1000.0,
        b.range_start * 1000.0,
        b.per_order_ms,
        b.range_end * 1000.0,
        100.0 * b.busy / (f64::from(places) * b.makespan),
        b.tail * 1000.0,
    )
}
