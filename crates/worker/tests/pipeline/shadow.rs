//! Shadow runs (issue 16): a rehearsal opens and checks every stuck order's
//! page through the same ranges, leases and fences as a live run, records
//! `would_report` in its own table and files nothing; it never blocks the
//! live report of the same order the same day.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use reporter_core::domain::ReportMode;
use reporter_core::jobs::{JobQueues, ShadowSlot};
use reporter_core::models::user;
use reporter_core::schema::{
    reporter_run_users as ru, reporter_runs as runs, reporter_shadow_reports as shadow, users,
};
use reporter_worker::portal::fake::expected_stuck;

use crate::harness::*;

impl Pipeline {
    /// Waits (bounded) until the run stored at `at` has finished.
    async fn wait_run_at(&self, at: chrono::DateTime<Utc>) -> (i64, String) {
        let start = Instant::now();
        loop {
            let r: Option<(i64, String, bool)> = runs::table
                .filter(runs::scheduled_at.eq(at))
                .select((runs::id, runs::status, runs::finished_at.is_not_null()))
                .first(&mut self.db.connect())
                .optional()
                .unwrap();
            if let Some((id, status, true)) = r {
                return (id, status);
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "run at {at} not finished; worker log tail:\n{}",
                tail(&self.worker_log(0))
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// (order_id, outcome) of every shadow check of `user_email`, sorted.
    fn shadow_checks(&self, user_email: &str) -> Vec<(i64, String)> {
        shadow::table
            .inner_join(users::table)
            .filter(users::email.eq(user_email))
            .order(shadow::order_id)
            .select((shadow::order_id, shadow::outcome))
            .load(&mut self.db.connect())
            .unwrap()
    }

    fn expected_ids(&self, i: usize) -> Vec<i64> {
        expected_stuck(i, &self.config.accounts[i])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_checks_every_stuck_order_files_nothing_and_the_live_run_still_files_them_all()
{
    let mut p = Pipeline::new(&[(300, 3, true), (200, 4, true)], &[]).await;
    p.start_worker();
    p.baseline().await;

    let job = ShadowSlot::new(Pipeline::slot_instant(d("2026-11-03")), Utc::now());
    JobQueues::new(p.redis.clone(), &p.prefix, 1)
        .push(job.clone())
        .await
        .unwrap();
    let (shadow_run, status) = p.wait_run_at(job.scheduled_at()).await;
    assert_eq!(status, "completed");
    let (mode, parts): (String, Vec<(String, String)>) = {
        let mut c = p.db.connect();
        let mode = runs::table
            .find(shadow_run)
            .select(runs::report_mode)
            .first(&mut c)
            .unwrap();
        let parts = ru::table
            .filter(ru::run_id.eq(shadow_run))
            .select((ru::report_mode, ru::progress_message))
            .load(&mut c)
            .unwrap();
        (mode, parts)
    };
    assert_eq!(mode, "shadow");
    assert_eq!(parts.len(), 2);
    for (m, msg) in &parts {
        assert_eq!(m, "shadow");
        assert!(msg.contains("Ensayo terminado"), "{msg}");
        assert!(msg.contains("no se reportó ninguna"), "{msg}");
    }

    let expected: usize = (0..2).map(|i| p.expected_ids(i).len()).sum();
    assert!(
        p.fake.reports().await.unwrap().is_empty(),
        "a rehearsal files nothing"
    );
    assert_eq!(p.fake.stats().await.unwrap().reports, 0);
    assert_eq!(
        p.fake.checks().await.unwrap(),
        expected as u64,
        "every stuck order's page checked once"
    );
    assert_eq!(p.ledger_count(), 0, "nothing in the ledger");
    for i in 0..2 {
        let checks = p.shadow_checks(&format!("u{i}@example.com"));
        let ids: Vec<i64> = checks.iter().map(|c| c.0).collect();
        assert_eq!(ids, p.expected_ids(i));
        assert!(checks.iter().all(|c| c.1 == "would_report"));
    }

    // The hour's live run is untouched by the rehearsal (another run), and
    // files every order the rehearsal checked, once.
    p.trigger(d("2026-11-03")).await;
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(120))
            .await,
        "completed"
    );
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[true, true])
    );
    assert_eq!(p.ledger_count(), expected as i64);

    // A rehearsal after the live run sees the orders as reported already.
    let again = ShadowSlot {
        offset_secs: job.offset_secs % 3599 + 1,
        ..job.clone()
    };
    JobQueues::new(p.redis.clone(), &p.prefix, 1)
        .push(again.clone())
        .await
        .unwrap();
    p.wait_run_at(again.scheduled_at()).await;
    let outcomes: Vec<String> = shadow::table
        .inner_join(ru::table)
        .filter(ru::run_id.ne(shadow_run))
        .select(shadow::outcome)
        .load(&mut p.db.connect())
        .unwrap();
    assert_eq!(outcomes.len(), expected);
    assert!(
        outcomes.iter().all(|o| o == "already_reported"),
        "{outcomes:?}"
    );
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_own_mode_overrides_the_fleets_in_a_live_run() {
    // The fleet rehearses; customer 1 is set live on their own: only
    // customer 1's orders are filed.
    let mut p = Pipeline::new(
        &[(300, 3, true), (200, 4, true)],
        &[("REPORTER_REPORT_MODE", "shadow")],
    )
    .await;
    {
        let mut c = p.db.connect();
        let u1 = user::find_by_email(&mut c, "u1@example.com")
            .unwrap()
            .unwrap();
        user::set_report_mode(&mut c, u1.id, Some(ReportMode::Live)).unwrap();
    }
    p.start_worker();
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(120))
            .await,
        "completed"
    );
    assert_eq!(
        p.fake.reports().await.unwrap(),
        p.expected_reports(2, &[false, true])
    );
    assert_eq!(p.ledger_count(), p.expected_ids(1).len() as i64);
    let ids: Vec<i64> = p
        .shadow_checks("u0@example.com")
        .into_iter()
        .map(|c| c.0)
        .collect();
    assert_eq!(ids, p.expected_ids(0));
    assert!(p.shadow_checks("u1@example.com").is_empty());
}
