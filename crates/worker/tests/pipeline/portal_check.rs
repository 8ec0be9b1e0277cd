//! The API's portal check on a worker (issue 16): a `portal-check` job is
//! taken by a worker (fake portal), which stores a `done` report with every
//! row found; a customer whose portal password is wrong gets a `done`
//! report with the login refused; nothing is filed.

use std::time::{Duration, Instant};

use reporter_core::jobs::{JobQueues, PortalCheck};
use reporter_core::portal_checks::{self, CheckStatus, StoredCheck};

use crate::harness::*;

impl Pipeline {
    async fn check_done(&self, email: &str) -> StoredCheck {
        let id = portal_checks::new_id();
        let mut conn = self.redis.clone();
        portal_checks::store(
            &mut conn,
            &self.prefix,
            &id,
            &StoredCheck {
                status: CheckStatus::Queued,
                email: email.into(),
                report: None,
            },
        )
        .await
        .unwrap();
        JobQueues::new(self.redis.clone(), &self.prefix, 1)
            .push(PortalCheck {
                check_id: id.clone(),
                email: email.into(),
            })
            .await
            .unwrap();
        let start = Instant::now();
        loop {
            let got = portal_checks::load(&mut conn, &self.prefix, &id)
                .await
                .unwrap()
                .unwrap();
            if got.status == CheckStatus::Done {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "check {id} still {:?}; worker log tail:\n{}",
                got.status,
                tail(&self.worker_log(0))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_runs_the_portal_check_and_stores_its_report() {
    let mut p = Pipeline::new(&[(40, 3, true), (10, 3, false)], &[]).await;
    p.start_worker();

    let good = p.check_done("U0@example.com").await;
    let r = good.report.unwrap();
    assert_eq!(r["ok"], true, "{r:#}");
    let rows = r["rows"].as_array().unwrap();
    assert!(rows.iter().all(|row| row["found"] == true), "{r:#}");
    assert!(rows.iter().any(|row| row["step"] == "column"), "{r:#}");
    assert!(
        rows.iter()
            .any(|row| row["item"].as_str().unwrap().starts_with("order.submit")),
        "{r:#}"
    );
    assert!(r["order_id"].as_i64().is_some(), "{r:#}");

    let bad = p.check_done("u1@example.com").await;
    let r = bad.report.unwrap();
    assert_eq!(r["ok"], false, "{r:#}");
    assert!(
        r["error"].as_str().unwrap().contains("login failed"),
        "{r:#}"
    );

    let unknown = p.check_done("nadie@example.com").await;
    let r = unknown.report.unwrap();
    assert_eq!(r["ok"], false);
    assert!(
        r["error"].as_str().unwrap().contains("no user with email"),
        "{r:#}"
    );

    assert_eq!(p.fake.stats().await.unwrap().reports, 0, "nothing filed");
    assert_eq!(p.semaphore_in_use().await, 0, "the lease was given back");
    p.stop_all();
}
