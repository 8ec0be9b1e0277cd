//! The soak's own view of its database while it restarts PostgreSQL: have an
//! hour's runs finished, is a range being reported, and a patient connect.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz};

/// The soak's own view of its database, kept across the PostgreSQL
/// restarts it causes: a query that fails drops the connection and the next
/// one connects again.
pub(super) struct Watch {
    url: String,
    conn: Option<PgConnection>,
}

impl Watch {
    pub(super) fn new(url: &str) -> Self {
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
pub(super) async fn settle(watch: &mut Watch, hours: &[DateTime<Utc>], deadline: Duration) -> bool {
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
pub(super) async fn wait_mid_run(watch: &mut Watch, at: DateTime<Utc>) -> (bool, Option<u32>) {
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

pub(super) async fn connect_retrying(url: &str) -> anyhow::Result<PgConnection> {
    let start = Instant::now();
    loop {
        match PgConnection::establish(url) {
            Ok(c) => return Ok(c),
            Err(e) if start.elapsed() > Duration::from_secs(30) => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
