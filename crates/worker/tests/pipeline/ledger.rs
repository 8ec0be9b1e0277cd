//! The fenced ledger write at the database level. It is a prepared
//! statement, reused on its connection (past the executions after which
//! PostgreSQL may switch to a generic plan), so it must judge each call by
//! its own parameters: the fence that owns the range now, and the reports
//! already in the ledger.

use chrono::NaiveDate;
use diesel::prelude::*;
use reporter_core::models::pipeline::{self, LedgerWrite, StuckOrder};
use reporter_core::schema::reporter_order_reports as reports;

use crate::harness::*;

fn order(order_id: i64) -> StuckOrder {
    StuckOrder {
        position: 1,
        order_id,
        status: "EN_TRANSITO".into(),
        carrier: "Servientrega".into(),
        tracking_number: format!("SV{order_id}"),
        order_date: "2026-10-01".into(),
    }
}

fn take(c: &mut PgConnection, range_id: i64, fence: i64) -> pipeline::TakenRange {
    let t = pipeline::take_range(c, range_id, fence, "w", chrono_tz::America::Bogota)
        .unwrap()
        .expect("taken");
    assert!(pipeline::mark_processing(c, range_id, fence).unwrap());
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_write_records_once_and_only_under_the_fence_that_owns_the_range() {
    let p = Pipeline::new(&[(100, 2, true)], &[]).await;
    let id = p.one_range();
    let mut ours = p.db.connect();
    let t = take(&mut ours, id, 1);
    let write = |c: &mut PgConnection, t: &pipeline::TakenRange, fence: i64, o: i64| {
        pipeline::record_report(c, t, fence, &order(o), &format!("FK-{o}"), false).unwrap()
    };
    for o in 1..=10 {
        assert_eq!(write(&mut ours, &t, 1, o), LedgerWrite::Recorded);
    }
    assert_eq!(write(&mut ours, &t, 1, 3), LedgerWrite::AlreadyThere);

    // Taken over from another connection: the old holder's next write, on
    // the connection that has run the statement a dozen times, is refused.
    let mut theirs = p.db.connect();
    let t2 = take(&mut theirs, id, 2);
    assert_eq!(write(&mut ours, &t, 1, 11), LedgerWrite::Fenced);
    assert_eq!(write(&mut ours, &t, 1, 3), LedgerWrite::Fenced);
    assert_eq!(write(&mut theirs, &t2, 2, 3), LedgerWrite::AlreadyThere);
    assert_eq!(write(&mut theirs, &t2, 2, 11), LedgerWrite::Recorded);

    let rows: Vec<(i64, Option<i64>, String)> = reports::table
        .order(reports::order_id)
        .select((reports::order_id, reports::range_id, reports::ticket))
        .load(&mut ours)
        .unwrap();
    let want: Vec<_> = (1..=11).map(|o| (o, Some(id), format!("FK-{o}"))).collect();
    assert_eq!(rows, want);
    // Every column from its own parameter.
    let row: (i64, Option<i64>, NaiveDate, String, String, String, String) = reports::table
        .filter(reports::order_id.eq(7))
        .select((
            reports::user_id,
            reports::run_user_id,
            reports::business_date,
            reports::outcome,
            reports::status,
            reports::carrier,
            reports::tracking_number,
        ))
        .first(&mut ours)
        .unwrap();
    let want = (
        t.user_id,
        Some(t.run_user_id),
        d("2026-11-03"),
        "reported".to_string(),
        "EN_TRANSITO".to_string(),
        "Servientrega".to_string(),
        "SV7".to_string(),
    );
    assert_eq!(row, want);
}

/// A run from before business dates were stored (migration 000005) files
/// under its hour's date in the reporter's zone, not the UTC date: 21:00
/// in Bogotá is 02:00 UTC of the next day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_without_a_stored_business_date_files_under_its_local_date() {
    use reporter_core::schema::reporter_runs as runs;
    let p = Pipeline::new(&[(100, 2, true)], &[]).await;
    let id = p.one_range();
    let mut c = p.db.connect();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    diesel::update(runs::table)
        .set((
            runs::business_date.eq(None::<NaiveDate>),
            runs::scheduled_at.eq(at),
        ))
        .execute(&mut c)
        .unwrap();
    let t = take(&mut c, id, 1);
    assert_eq!(
        t.business_date,
        NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
    );
    pipeline::record_report(&mut c, &t, 1, &order(42), "FK-42", false).unwrap();
    let filed: NaiveDate = reports::table
        .filter(reports::order_id.eq(42))
        .select(reports::business_date)
        .first(&mut c)
        .unwrap();
    assert_eq!(filed, NaiveDate::from_ymd_opt(2026, 12, 6).unwrap());
}
