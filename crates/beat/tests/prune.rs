//! The retention policy against a real PostgreSQL and Redis: what goes, what
//! must stay (the newest baselines, unfinished runs, the ledger's evidence),
//! bounded statements, two pruners at once, dry runs, finished apalis jobs,
//! and beat's once-a-day prune.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date};
use reporter_core::retention::{self, Policy};
use test_support::{create_user, TestDb};

const POLICY: Policy = Policy {
    export_days: 14,
    run_days: 90,
    report_days: 400,
    job_days: 7,
    batch: 100,
    token_ttl_days: 30,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 6, 1).unwrap()
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(conn).unwrap().n
}

/// An export batch of `rows` orders on `date`; returns its id.
fn batch(
    conn: &mut PgConnection,
    user: i64,
    date: NaiveDate,
    rows: i64,
    baseline: bool,
    run_user: Option<i64>,
) -> i64 {
    let id = diesel::sql_query(
        "INSERT INTO reporter_export_batches (user_id, run_user_id, business_date, row_count, baseline)
         VALUES ($1, $2, $3, $4, $5) RETURNING id AS n",
    )
    .bind::<BigInt, _>(user)
    .bind::<diesel::sql_types::Nullable<BigInt>, _>(run_user)
    .bind::<Date, _>(date)
    .bind::<diesel::sql_types::Integer, _>(rows as i32)
    .bind::<Bool, _>(baseline)
    .get_result::<N>(conn)
    .unwrap()
    .n;
    diesel::sql_query(
        "INSERT INTO reporter_export_rows (batch_id, order_id, order_date, status, carrier, tracking_number, customer, city)
         SELECT $1, g, '2030-01-01', 'EN TRANSITO', 'Servientrega', 'G' || g, 'Cliente', 'Bogotá'
           FROM generate_series(1, $2) g",
    )
    .bind::<BigInt, _>(id)
    .bind::<BigInt, _>(rows)
    .execute(conn)
    .unwrap();
    id
}

/// A run of `date` (finished or not) with one run-user for `user`, `stuck`
/// stuck orders in ranges of 100, and a ledger row per stuck order.
fn run(
    conn: &mut PgConnection,
    user: i64,
    date: NaiveDate,
    finished: bool,
    stuck: i64,
) -> (i64, i64) {
    let run = diesel::sql_query(
        "INSERT INTO reporter_runs (slot_id, scheduled_at, status, business_date, finished_at)
         SELECT (SELECT min(id) FROM reporter_hour_slots), ($1::date + time '10:00') AT TIME ZONE 'UTC',
                CASE WHEN $2 THEN 'completed' ELSE 'running' END, $1, CASE WHEN $2 THEN now() END
         RETURNING id AS n",
    )
    .bind::<Date, _>(date)
    .bind::<Bool, _>(finished)
    .get_result::<N>(conn)
    .unwrap()
    .n;
    let ru = diesel::sql_query(
        "INSERT INTO reporter_run_users (run_id, user_id, download_compare_status, total_pending_orders)
         VALUES ($1, $2, 'completed', $3) RETURNING id AS n",
    )
    .bind::<BigInt, _>(run)
    .bind::<BigInt, _>(user)
    .bind::<diesel::sql_types::Integer, _>(stuck as i32)
    .get_result::<N>(conn)
    .unwrap()
    .n;
    diesel::sql_query(
        "INSERT INTO reporter_stuck_orders (run_user_id, position, order_id, status, carrier, tracking_number, order_date)
         SELECT $1, g, 100000 + g, 'EN TRANSITO', 'Servientrega', 'G' || g, '2030-01-01' FROM generate_series(1, $2) g",
    )
    .bind::<BigInt, _>(ru)
    .bind::<BigInt, _>(stuck)
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO reporter_ranges (run_user_id, range_start, range_end, status)
         SELECT $1, s, LEAST(s + 99, $2), 'completed' FROM generate_series(1, $2, 100) s",
    )
    .bind::<BigInt, _>(ru)
    .bind::<BigInt, _>(stuck)
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO reporter_order_reports (user_id, order_id, business_date, run_user_id, range_id, ticket, outcome, status, carrier, tracking_number, reported_at)
         SELECT $1, 100000 + g, $3, $2, (SELECT min(id) FROM reporter_ranges WHERE run_user_id = $2),
                'T' || g, 'reported', 'EN TRANSITO', 'Servientrega', 'G' || g, ($3::date + time '10:30') AT TIME ZONE 'UTC'
           FROM generate_series(1, $4) g",
    )
    .bind::<BigInt, _>(user)
    .bind::<BigInt, _>(ru)
    .bind::<Date, _>(date)
    .bind::<BigInt, _>(stuck)
    .execute(conn)
    .unwrap();
    (run, ru)
}

/// The batch the next compare of `user` reads (pipeline::store_and_compare's query).
fn compare_baseline(conn: &mut PgConnection, user: i64, day: NaiveDate) -> Option<i64> {
    diesel::sql_query(
        "SELECT id AS n FROM reporter_export_batches WHERE user_id = $1 AND business_date < $2 AND baseline
          ORDER BY business_date DESC, id DESC LIMIT 1",
    )
    .bind::<BigInt, _>(user)
    .bind::<Date, _>(day)
    .get_result::<N>(conn)
    .optional()
    .unwrap()
    .map(|r| r.n)
}

struct World {
    db: TestDb,
    a: i64,
    b: i64,
}

/// Customer A ran last 30, 20 and 16 days ago (nothing since: paused);
/// B ran 20 days ago and yesterday. Plus a 400-day-old finished run of A, a
/// 100-day-old unfinished one, and a ledger going back 500 days.
fn world() -> World {
    let db = TestDb::new();
    let mut c = db.connect();
    let (a, _) = create_user(
        &mut c,
        &format!(
            "a-{}@t.test",
            test_support::unique_prefix().replace(':', "-")
        ),
        1000,
        false,
    );
    let (b, _) = create_user(
        &mut c,
        &format!(
            "b-{}@t.test",
            test_support::unique_prefix().replace(':', "-")
        ),
        1000,
        false,
    );
    let t = today();
    batch(&mut c, a, t - Days::days(30), 250, true, None);
    batch(&mut c, a, t - Days::days(20), 250, false, None);
    batch(&mut c, a, t - Days::days(16), 250, true, None);
    batch(&mut c, b, t - Days::days(20), 1050, true, None);
    batch(&mut c, b, t - Days::days(1), 300, true, None);
    run(&mut c, a, t - Days::days(400), true, 230);
    let (_, open_ru) = run(&mut c, b, t - Days::days(100), false, 120);
    batch(&mut c, b, t - Days::days(100), 40, true, Some(open_ru));
    run(&mut c, a, t - Days::days(500), true, 10);
    run(&mut c, b, t - Days::days(5), true, 7);
    World { db, a, b }
}

#[test]
fn prune_keeps_what_the_next_compare_and_open_runs_need_and_deletes_the_rest() {
    let w = world();
    let mut c = w.db.connect();
    let t = today();
    let a_before = compare_baseline(&mut c, w.a, t);
    let b_before = compare_baseline(&mut c, w.b, t);

    let report = retention::prune_database(&mut c, &POLICY, t, false).unwrap();
    assert!(!report.skipped);

    // The compare of today (and of a re-run of today) reads the same batch.
    assert_eq!(
        compare_baseline(&mut c, w.a, t),
        a_before,
        "A's baseline (16 days old) kept"
    );
    assert_eq!(compare_baseline(&mut c, w.b, t), b_before);
    assert!(a_before.is_some() && b_before.is_some());
    // A: 30- and 20-day-old batches go, the 16-day-old newest baseline stays.
    // B: the 20-day-old one goes; the 100-day-old one belongs to an open run.
    assert_eq!(report.tables["reporter_export_batches"], 3);
    assert_eq!(report.tables["reporter_export_rows"], 250 + 250 + 1050);
    assert_eq!(
        count(&mut c, "SELECT count(*) AS n FROM reporter_export_batches"),
        3
    );
    // Stuck lists of finished runs older than 90 days go (400 and 500 days);
    // the open 100-day-old run and the 5-day-old one keep theirs. A run
    // itself (with its user and ranges) goes only with its ledger rows: the
    // 500-day-old one; the 400-day-old one stays while its reports do.
    assert_eq!(report.tables["reporter_runs"], 1);
    assert_eq!(report.tables["reporter_stuck_orders"], 240);
    assert_eq!(report.tables["reporter_ranges"], 1);
    assert_eq!(
        count(&mut c, "SELECT count(*) AS n FROM reporter_stuck_orders"),
        127
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) AS n FROM reporter_runs WHERE finished_at IS NULL"
        ),
        1
    );
    // Ledger: the 500-day-old reports go; the 400-day-old ones are exactly
    // at the cutoff and stay, still linked to their run: no ledger row was
    // rewritten.
    assert_eq!(report.tables["reporter_order_reports"], 10);
    assert_eq!(report.tables["reporter_order_reports (unlinked)"], 0);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) AS n FROM reporter_order_reports WHERE run_user_id IS NULL"
        ),
        0
    );
    assert_eq!(
        count(&mut c, "SELECT count(*) AS n FROM reporter_order_reports"),
        230 + 120 + 7
    );

    // Batches of at most 100 rows: 1,050 rows of one batch took 11 deletes.
    assert!(
        report.statements >= 11 + 3 + 3,
        "{} statements",
        report.statements
    );

    // Idempotent: a second prune finds nothing.
    let again = retention::prune_database(&mut c, &POLICY, t, false).unwrap();
    assert_eq!(again.total(), 0, "{:?}", again.tables);
}

#[test]
fn a_dry_run_counts_exactly_what_a_prune_deletes_and_changes_nothing() {
    let w = world();
    let mut c = w.db.connect();
    let sizes = |c: &mut PgConnection| {
        [
            "reporter_export_rows",
            "reporter_export_batches",
            "reporter_runs",
            "reporter_run_users",
            "reporter_ranges",
            "reporter_stuck_orders",
            "reporter_order_reports",
        ]
        .map(|t| count(c, &format!("SELECT count(*) AS n FROM {t}")))
    };
    let before = sizes(&mut c);
    let dry = retention::prune_database(&mut c, &POLICY, today(), true).unwrap();
    assert_eq!(sizes(&mut c), before, "a dry run changes nothing");
    let real = retention::prune_database(&mut c, &POLICY, today(), false).unwrap();
    assert_eq!(dry.tables, real.tables);
    assert!(dry.total() > 0);
}

#[test]
fn a_second_pruner_waits_for_nobody_and_two_at_once_delete_each_row_once() {
    let w = world();
    // While another session holds the pruner's lock, a prune does nothing.
    let mut holder = w.db.connect();
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(retention::PRUNE_LOCK_KEY)
        .execute(&mut holder)
        .unwrap();
    let mut c = w.db.connect();
    let skipped = retention::prune_database(&mut c, &POLICY, today(), false).unwrap();
    assert!(skipped.skipped && skipped.total() == 0);
    drop(holder);

    // Two at once: whichever gets the lock prunes, the other skips or finds
    // nothing left; together they delete each row once.
    let url = Arc::new(w.db.url.clone());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = PgConnection::establish(&url).unwrap();
                retention::prune_database(&mut c, &POLICY, today(), false).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let deleted: u64 = reports
        .iter()
        .map(|r| r.tables.get("reporter_export_rows").copied().unwrap_or(0))
        .sum();
    assert_eq!(deleted, 250 + 250 + 1050);
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_jobs_leave_redis_and_waiting_ones_stay() {
    use apalis::prelude::*;
    use reporter_core::jobs::{Job, JobQueues, ReportRange};
    let mut conn = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let prefix = test_support::unique_prefix();
    let queues = JobQueues::new(conn.clone(), &prefix, 1);
    for id in 1..=3 {
        queues.push(ReportRange::new(id)).await.unwrap();
    }
    async fn done(_job: ReportRange) -> Result<(), BoxDynError> {
        Ok(())
    }
    let worker = WorkerBuilder::new("prune-test")
        .backend(queues.report_range.clone())
        .concurrency(1)
        .build(done);
    let running = tokio::spawn(worker.run());
    let data_key = format!("{prefix}:queue:report-range:data");
    let done_key = format!("{prefix}:queue:report-range:done");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n: u64 = redis::cmd("SCARD")
            .arg(&done_key)
            .query_async(&mut conn)
            .await
            .unwrap();
        if n == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker finished 3 jobs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.abort();
    // A job still waiting must survive any prune.
    queues
        .push_after(ReportRange::new(4), Duration::from_secs(3600))
        .await
        .unwrap();

    // Finished a moment ago: a 7-day retention keeps them.
    let kept = retention::prune_finished_jobs(&mut conn, &prefix, 7, 2, false)
        .await
        .unwrap();
    assert!(kept.iter().all(|(_, n)| *n == 0), "{kept:?}");
    // A retention of 0 days: the three finished ones go (pages of 2), the
    // scheduled one stays; a dry run first counts without deleting.
    let dry = retention::prune_finished_jobs(&mut conn, &prefix, 0, 2, true)
        .await
        .unwrap();
    assert_eq!(dry.iter().map(|(_, n)| n).sum::<u64>(), 3);
    let hlen: u64 = redis::cmd("HLEN")
        .arg(&data_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(hlen, 4, "the dry run deleted nothing");
    let gone = retention::prune_finished_jobs(&mut conn, &prefix, 0, 2, false)
        .await
        .unwrap();
    assert_eq!(gone.iter().map(|(_, n)| n).sum::<u64>(), 3);
    let hlen: u64 = redis::cmd("HLEN")
        .arg(&data_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let done_left: u64 = redis::cmd("SCARD")
        .arg(&done_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        (hlen, done_left),
        (1, 0),
        "only the waiting job's payload is left"
    );
    let stats = reporter_core::jobs::queue_stats(&mut conn, &prefix)
        .await
        .unwrap();
    let rr = stats.iter().find(|s| s.queue == ReportRange::KIND).unwrap();
    assert_eq!(rr.scheduled, 1);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn beat_prunes_once_a_day_whatever_the_number_of_beats() {
    let w = world();
    let prefix = test_support::unique_prefix();
    let settings = w.db.settings(&prefix, &[]);
    let pool = reporter_core::db::build_pool(&w.db.url, 2).unwrap();
    let since = Utc::now() - Days::minutes(5);
    // Two beats in the same prune hour.
    let (first, second) = tokio::join!(
        reporter_beat::prune::prune_once(&pool, None, &settings, "beat-1", since),
        reporter_beat::prune::prune_once(&pool, None, &settings, "beat-2", since),
    );
    // One pruned; the other skipped (lock) or saw it done; a later tick of
    // either sees the day done.
    assert!(first || second);
    assert!(reporter_beat::prune::prune_once(&pool, None, &settings, "beat-2", since).await);
    let mut c = w.db.connect();
    assert_eq!(
        count(&mut c, "SELECT count(*) AS n FROM reporter_prune_runs"),
        1
    );
    let last = retention::last_prune(&mut c).unwrap().unwrap();
    assert!(last.by.starts_with("beat-"));
    assert!(last.error.is_none());
}
