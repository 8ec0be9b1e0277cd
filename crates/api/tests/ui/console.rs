//! The operators' console: a failed range with its screenshot is retried,
//! a stuck semaphore holder is cleared, and the page refreshes by itself.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use reporter_core::browser_semaphore::{BrowserSemaphore, Holder};
use reporter_core::schema::{reporter_ranges, reporter_run_users, reporter_runs};

use thirtyfour::prelude::By;

use crate::harness::*;

/// A run of today at 07:00 whose only range failed for good.
fn seed_failed_range(ui: &Ui, user_id: i64) -> (i64, i64) {
    let mut c = ui.conn();
    let now = Utc::now();
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(ui.slot_id(7)),
            reporter_runs::scheduled_at.eq(now - chrono::Duration::minutes(20)),
            reporter_runs::started_at.eq(Some(now - chrono::Duration::minutes(19))),
            reporter_runs::finished_at.eq(Some(now - chrono::Duration::minutes(2))),
            reporter_runs::status.eq("failed"),
        ))
        .returning(reporter_runs::id)
        .get_result(&mut c)
        .unwrap();
    let ru: i64 = diesel::insert_into(reporter_run_users::table)
        .values((
            reporter_run_users::run_id.eq(run_id),
            reporter_run_users::user_id.eq(user_id),
            reporter_run_users::download_compare_status.eq("completed"),
            reporter_run_users::total_pending_orders.eq(40),
            reporter_run_users::total_ranges.eq(1),
        ))
        .returning(reporter_run_users::id)
        .get_result(&mut c)
        .unwrap();
    let range: i64 = diesel::insert_into(reporter_ranges::table)
        .values((
            reporter_ranges::run_user_id.eq(ru),
            reporter_ranges::range_start.eq(1),
            reporter_ranges::range_end.eq(40),
            reporter_ranges::status.eq("failed"),
            reporter_ranges::attempts.eq(3),
            reporter_ranges::error.eq(Some("portal: order page did not load in 30 s")),
        ))
        .returning(reporter_ranges::id)
        .get_result(&mut c)
        .unwrap();
    (run_id, range)
}

/// The stats of the queue whose name contains `kind`, and all of them.
async fn queued(
    ui: &Ui,
    kind: &str,
) -> (
    reporter_core::jobs::QueueStats,
    Vec<reporter_core::jobs::QueueStats>,
) {
    let mut conn = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let queues = reporter_core::jobs::queue_stats(&mut conn, &ui.prefix)
        .await
        .unwrap();
    let q = queues
        .iter()
        .find(|q| q.queue.contains(kind))
        .unwrap_or_else(|| panic!("{kind} queue in {queues:?}"))
        .clone();
    (q, queues)
}

/// The smallest valid PNG: one white pixel.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xff, 0xff, 0x3f,
    0x00, 0x05, 0xfe, 0x02, 0xfe, 0xa7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_retries_a_failed_range_and_clears_the_semaphore() {
    let ui = Ui::start(&[("MAX_ACTIVE_SELENIUM", "3")]).await;
    ui.create_user("ops@example.com", 0, true);
    let (ana, _) = ui.create_user("ana@example.com", 1000, false);
    let (run_id, range) = seed_failed_range(&ui, ana);
    let shot_dir = ui
        .artifacts
        .join(format!("run-{run_id}"))
        .join(format!("user-{ana}"))
        .join(format!("range-{range}"));
    std::fs::create_dir_all(&shot_dir).unwrap();
    std::fs::write(shot_dir.join("report-20261123T100000.png"), PIXEL_PNG).unwrap();

    // A holder that is not coming back (its worker hung): the console shows it.
    let redis = reporter_core::redis_conn::connect(&test_support::redis_url())
        .await
        .unwrap();
    let sem = BrowserSemaphore::from_settings(redis, &ui.settings);
    let _lease = sem
        .acquire(
            Holder::new("worker-colgado-1", "report-range 99"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();

    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ops@example.com").await;
    wait_text(&d, "h1", "Consola de operación").await;
    wait_text(&d, "#browsers-value", "1 / 3").await;
    wait_text(&d, "#holders-table tbody", "worker-colgado-1").await;
    let row = format!("#failed-table tr[data-range='{range}']");
    wait_text(&d, &row, "order page did not load").await;
    wait_text(&d, &row, "ana@example.com").await;
    wait_text(&d, "#runs-table tbody", "07:00").await;

    // The screenshot link serves the saved PNG to the operator's session.
    let href = attr_of(&d, &format!("{row} a"), "href").await.unwrap();
    assert!(
        href.ends_with(&format!("/api/reporter/admin/ranges/{range}/screenshot")),
        "{href}"
    );
    let (status, ty): (u16, String) = d
        .execute_async(
            "const [u, done] = arguments; fetch(u).then(r => done([r.status, r.headers.get('content-type')]));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!((status, ty.as_str()), (200, "image/png"));

    click(&d, &format!("{row} button.retry")).await;
    wait_for("the retried range to leave the failed list", || async {
        (!is_shown(&d, &row).await).then_some(())
    })
    .await;
    wait_shown(&d, "#failed-empty").await;
    let status: String = reporter_ranges::table
        .find(range)
        .select(reporter_ranges::status)
        .first(&mut ui.conn())
        .unwrap();
    assert_eq!(status, "pending");
    let (rr, queues) = queued(&ui, "report").await;
    assert!(
        rr.waiting + rr.scheduled >= 1,
        "the retry queued a job: {queues:?}"
    );

    click(&d, "#reset-semaphore").await;
    confirm(&d).await;
    wait_text(&d, "#reset-status", "reiniciado").await;
    wait_shown(&d, "#holders-empty").await;
    wait_text(&d, "#browsers-value", "0 / 3").await;
    assert_eq!(sem.in_use().await.unwrap(), 0);
    d.quit().await.unwrap();
}

/// Yesterday's 10:00 fell out of the catch-up window without a run, and
/// today's 09:00 was caught up late.
fn seed_schedule(ui: &Ui, user_id: i64) -> chrono::DateTime<Utc> {
    use chrono::TimeZone;
    use reporter_core::schema::{reporter_reservations, reporter_schedule_missed_hours as missed};
    let tz = ui.settings.timezone;
    let mut c = ui.conn();
    ui.reserve(user_id, 10, 1000);
    diesel::update(reporter_reservations::table)
        .set(reporter_reservations::slot_assigned_at.eq(Utc::now() - chrono::Duration::days(3)))
        .execute(&mut c)
        .unwrap();
    let yesterday = Utc::now().with_timezone(&tz).date_naive() - chrono::Duration::days(1);
    let at = tz
        .from_local_datetime(&yesterday.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    diesel::insert_into(missed::table)
        .values((
            missed::scheduled_at.eq(at),
            missed::business_date.eq(yesterday),
            missed::hour.eq(10),
            missed::reservations.eq(1),
            missed::recorded_by.eq("beat-1"),
        ))
        .execute(&mut c)
        .unwrap();
    let now = Utc::now();
    diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(ui.slot_id(9)),
            reporter_runs::scheduled_at.eq(now - chrono::Duration::minutes(50)),
            reporter_runs::started_at.eq(Some(now - chrono::Duration::minutes(10))),
            reporter_runs::status.eq("running"),
            reporter_runs::origin.eq("schedule"),
            reporter_runs::late_start.eq(true),
        ))
        .execute(&mut c)
        .unwrap();
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_late_missed_and_paused_hours_backfills_and_pauses() {
    let ui = Ui::start(&[]).await;
    ui.create_user("ops@example.com", 0, true);
    let (ana, _) = ui.create_user("ana@example.com", 1000, false);
    let missed_at = seed_schedule(&ui, ana);
    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ops@example.com").await;
    wait_text(&d, "h1", "Consola de operación").await;
    // No beat has ever reconciled against this database: never "bien".
    wait_text(&d, "#beat-value", "nunca").await;
    let sub = wait_text(&d, "#beat-sub", "hora(s) perdida(s)").await;
    assert!(!sub.contains("bien"), "{sub}");
    wait_text(&d, "#runs-table tbody", "inicio tardío").await;

    let date = missed_at.with_timezone(&ui.settings.timezone).date_naive();
    let row = format!("#missed-table tr[data-missed='{date} 10']");
    wait_text(&d, &row, "10:00").await;
    click(&d, &format!("{row} button.backfill")).await;
    confirm(&d).await;
    wait_text(&d, "#toast", "en cola").await;
    let (ps, queues) = queued(&ui, "process-slot").await;
    assert_eq!(ps.waiting + ps.scheduled, 1, "{queues:?}");
    // A worker made the run: the row says it was recovered.
    diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(ui.slot_id(10)),
            reporter_runs::scheduled_at.eq(missed_at),
            reporter_runs::status.eq("running"),
            reporter_runs::origin.eq("backfill"),
            reporter_runs::late_start.eq(true),
        ))
        .execute(&mut ui.conn())
        .unwrap();
    wait_text(&d, &row, "recuperada").await;

    // Pause 10:00 with a note, then resume it; both ask first.
    d.find(By::Css("#pause-hour option[value='10']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::Css("#pause-note"))
        .await
        .unwrap()
        .send_keys("portal en mantenimiento")
        .await
        .unwrap();
    click(&d, "#pause-button").await;
    confirm(&d).await;
    wait_text(&d, "#pauses-table tbody", "portal en mantenimiento").await;
    wait_text(&d, "#upcoming-list", "en pausa").await;
    click(&d, "#pauses-table tbody button").await;
    confirm(&d).await;
    wait_shown(&d, "#pauses-empty").await;
    d.quit().await.unwrap();
}

/// "Ensayo" turns the trigger into a rehearsal: its own queue, its own
/// confirmation and message; a shadow run's row is marked and says how many
/// orders it would have filed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_rehearses_an_hour_and_sees_the_shadow_run_marked() {
    let ui = Ui::start(&[]).await;
    ui.create_user("ops@example.com", 0, true);
    let (ana, _) = ui.create_user("ana@example.com", 1000, false);
    let d = ui.browser(Viewport::Desktop).await;
    ui.login(&d, "ops@example.com").await;
    wait_text(&d, "h1", "Consola de operación").await;

    click(&d, "#trigger-shadow").await;
    click(&d, "#trigger-button").await;
    wait_text(&d, "#confirm-dialog", "sin reportar ninguna").await;
    confirm(&d).await;
    wait_text(&d, "#trigger-status", "Ensayo de la franja").await;
    let (shadow, queues) = queued(&ui, "shadow-slot").await;
    assert_eq!(shadow.waiting + shadow.scheduled, 1, "{queues:?}");
    let (live, _) = queued(&ui, "process-slot").await;
    assert_eq!(
        live.waiting + live.scheduled,
        0,
        "a rehearsal is not the hour's run"
    );

    // A worker made the rehearsal's run and checked 7 orders.
    let mut c = ui.conn();
    let now = Utc::now();
    let run_id: i64 = diesel::insert_into(reporter_runs::table)
        .values((
            reporter_runs::slot_id.eq(ui.slot_id(7)),
            reporter_runs::scheduled_at.eq(now - chrono::Duration::minutes(3)),
            reporter_runs::started_at.eq(Some(now - chrono::Duration::minutes(3))),
            reporter_runs::status.eq("running"),
            reporter_runs::report_mode.eq("shadow"),
        ))
        .returning(reporter_runs::id)
        .get_result(&mut c)
        .unwrap();
    let ru: i64 = diesel::insert_into(reporter_run_users::table)
        .values((
            reporter_run_users::run_id.eq(run_id),
            reporter_run_users::user_id.eq(ana),
            reporter_run_users::report_mode.eq("shadow"),
            reporter_run_users::total_pending_orders.eq(9),
        ))
        .returning(reporter_run_users::id)
        .get_result(&mut c)
        .unwrap();
    for order in 0..9 {
        diesel::insert_into(reporter_core::schema::reporter_shadow_reports::table)
            .values((
                reporter_core::schema::reporter_shadow_reports::run_user_id.eq(ru),
                reporter_core::schema::reporter_shadow_reports::user_id.eq(ana),
                reporter_core::schema::reporter_shadow_reports::order_id.eq(700 + order),
                reporter_core::schema::reporter_shadow_reports::business_date.eq(now.date_naive()),
                reporter_core::schema::reporter_shadow_reports::outcome.eq(if order < 7 {
                    "would_report"
                } else {
                    "already_reported"
                }),
            ))
            .execute(&mut c)
            .unwrap();
    }
    let row = format!("#runs-table tr[data-run='{run_id}']");
    wait_text(&d, &row, "ensayo").await;
    wait_text(&d, &row, "ensayo: 7 se habrían reportado").await;
}
