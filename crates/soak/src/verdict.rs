//! The verdict: for every customer-day, what the portal's truth says was
//! stuck against what was filed at the portal and written to the ledger;
//! per day and in total.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text};
use reporter_core::domain::{stuck_orders, OrderSnapshot};
use serde::Serialize;

use crate::customers::Customer;
use crate::sim::SimOrder;

#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub day: u32,
    pub date: NaiveDate,
    pub customer: String,
    pub order_id: u64,
    /// `lost` (stuck, not filed), `unexpected` (filed, not stuck),
    /// `ledger_only` / `portal_only` (the ledger and the portal disagree).
    pub kind: &'static str,
}

/// The counts judged per day and summed over the soak.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Customer-days the schedule owed.
    pub customer_days: usize,
    pub served: usize,
    pub late: usize,
    pub excused: usize,
    pub missed: usize,
    pub stuck_orders: usize,
    pub reported: usize,
    pub lost_reports: usize,
    pub unexpected_reports: usize,
    pub duplicate_reports: u64,
    pub ledger_mismatches: usize,
    pub runs_not_finished: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.customer_days += o.customer_days;
        self.served += o.served;
        self.late += o.late;
        self.excused += o.excused;
        self.missed += o.missed;
        self.stuck_orders += o.stuck_orders;
        self.reported += o.reported;
        self.lost_reports += o.lost_reports;
        self.unexpected_reports += o.unexpected_reports;
        self.duplicate_reports += o.duplicate_reports;
        self.ledger_mismatches += o.ledger_mismatches;
        self.runs_not_finished += o.runs_not_finished;
    }

    /// Nothing lost, filed twice or wrongly, no customer-day missed and no
    /// run left open.
    pub fn clean(&self) -> bool {
        self.lost_reports == 0
            && self.duplicate_reports == 0
            && self.unexpected_reports == 0
            && self.ledger_mismatches == 0
            && self.missed == 0
            && self.runs_not_finished == 0
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DayVerdict {
    pub day: u32,
    pub date: Option<NaiveDate>,
    #[serde(flatten)]
    pub tally: Tally,
    pub hours_past_deadline: Vec<u8>,
    pub db_bytes: i64,
    pub rss_kib: BTreeMap<String, u64>,
    pub api_p50_ms: f64,
    pub api_p99_ms: f64,
    pub api_samples: usize,
    pub api_errors: usize,
    pub max_portal_sessions: usize,
    pub wall_secs: f64,
    /// Missed customer-days as `portal email: reason`.
    pub missed_detail: Vec<String>,
}

impl DayVerdict {
    /// Column names of [`DayVerdict::row`].
    pub const HEADER: &'static str = " day date        owed served late excused missed  stuck  filed lost  dup    db MiB   p99 ms";

    /// The day as one line of the verdict table.
    pub fn row(&self) -> String {
        let t = &self.tally;
        format!(
            "{:>4} {:<10} {:>5} {:>6} {:>4} {:>7} {:>6} {:>6} {:>6} {:>4} {:>4} {:>9.1} {:>8.1}",
            self.day,
            self.date.map(|x| x.to_string()).unwrap_or_default(),
            t.customer_days,
            t.served,
            t.late,
            t.excused,
            t.missed,
            t.stuck_orders,
            t.reported,
            t.lost_reports,
            t.duplicate_reports,
            self.db_bytes as f64 / 1048576.0,
            self.api_p99_ms
        )
    }
}

#[derive(QueryableByName)]
struct RunUserRow {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Bool)]
    late_start: bool,
    #[diesel(sql_type = Bool)]
    run_finished: bool,
    #[diesel(sql_type = BigInt)]
    failed_ranges: i64,
    #[diesel(sql_type = Nullable<Text>)]
    error: Option<String>,
}

#[derive(QueryableByName)]
struct PrevDate {
    #[diesel(sql_type = Nullable<Date>)]
    d: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct OrderId {
    #[diesel(sql_type = BigInt)]
    order_id: i64,
}

fn snapshot(orders: &[SimOrder]) -> Vec<OrderSnapshot> {
    orders
        .iter()
        .map(|o| OrderSnapshot {
            order_id: o.id as i64,
            order_date: String::new(),
            status: o.status.clone(),
            carrier: String::new(),
            tracking_number: String::new(),
            customer: String::new(),
            city: String::new(),
            total: None,
        })
        .collect()
}

/// Everything the day's evaluation reads besides the database.
pub struct DayInput<'a> {
    pub day: u32,
    pub date: NaiveDate,
    pub customers: &'a [Customer],
    /// The portal's orders per customer index, per business date (taken at
    /// the start of each day; the portal's day stands still until the soak
    /// moves it after the day's runs).
    pub truth: &'a HashMap<NaiveDate, Vec<Vec<SimOrder>>>,
    /// Reports filed at the portal that day: (account, order) → count.
    pub filed: &'a HashMap<(String, u64), u32>,
    pub blocked: &'a BTreeSet<usize>,
}

/// Judges every customer-day of one day; returns the tallies and every
/// difference found.
pub fn judge_day(
    conn: &mut PgConnection,
    input: &DayInput<'_>,
    verdict: &mut DayVerdict,
) -> anyhow::Result<Vec<Difference>> {
    let mut diffs = Vec::new();
    let date = input.date;
    let today_truth = &input.truth[&date];
    for (i, c) in input.customers.iter().enumerate() {
        verdict.tally.customer_days += 1;
        let account = c.portal_email.to_ascii_lowercase();
        // The reporter compares with its latest export of an earlier day,
        // which held the portal's orders of that day.
        let prev: PrevDate = diesel::sql_query(
            "SELECT max(business_date) AS d FROM reporter_export_batches
              WHERE user_id = $1 AND business_date < $2",
        )
        .bind::<BigInt, _>(c.user_id)
        .bind::<Date, _>(date)
        .get_result(conn)?;
        let today = snapshot(&today_truth[i]);
        let previous = prev
            .d
            .and_then(|d| input.truth.get(&d))
            .map(|t| snapshot(&t[i]));
        let expected: BTreeSet<u64> = stuck_orders(&today, previous.as_deref())
            .into_iter()
            .map(|o| o.order_id as u64)
            .collect();
        let filed: BTreeSet<u64> = input
            .filed
            .keys()
            .filter(|(a, _)| *a == account)
            .map(|(_, id)| *id)
            .collect();
        let ledger: BTreeSet<u64> = diesel::sql_query(
            "SELECT order_id FROM reporter_order_reports WHERE user_id = $1 AND business_date = $2",
        )
        .bind::<BigInt, _>(c.user_id)
        .bind::<Date, _>(date)
        .load::<OrderId>(conn)?
        .into_iter()
        .map(|r| r.order_id as u64)
        .collect();
        let mut push = |order_id: u64, kind: &'static str| {
            diffs.push(Difference {
                day: input.day,
                date,
                customer: c.portal_email.clone(),
                order_id,
                kind,
            })
        };
        for id in ledger.symmetric_difference(&filed) {
            verdict.tally.ledger_mismatches += 1;
            push(
                *id,
                if ledger.contains(id) {
                    "ledger_only"
                } else {
                    "portal_only"
                },
            );
        }
        let run: Option<RunUserRow> = diesel::sql_query(
            "SELECT u.download_compare_status AS status, r.late_start,
                    r.finished_at IS NOT NULL AS run_finished,
                    (SELECT count(*) FROM reporter_ranges g
                      WHERE g.run_user_id = u.id AND g.status = 'failed') AS failed_ranges,
                    u.error
               FROM reporter_run_users u JOIN reporter_runs r ON r.id = u.run_id
              WHERE u.user_id = $1 AND r.business_date = $2
              ORDER BY r.scheduled_at DESC LIMIT 1",
        )
        .bind::<BigInt, _>(c.user_id)
        .bind::<Date, _>(date)
        .get_result(conn)
        .optional()?;
        if input.blocked.contains(&i) && filed.is_empty() && ledger.is_empty() {
            verdict.tally.excused += 1;
            continue;
        }
        verdict.tally.stuck_orders += expected.len();
        verdict.tally.reported += filed.len();
        for id in expected.difference(&filed) {
            verdict.tally.lost_reports += 1;
            push(*id, "lost");
        }
        for id in filed.difference(&expected) {
            verdict.tally.unexpected_reports += 1;
            push(*id, "unexpected");
        }
        let problem = match &run {
            None => Some("no run served this customer".to_string()),
            Some(r) if !r.run_finished => Some("its run never finished".into()),
            Some(r) if r.status != "completed" => Some(format!(
                "download {}: {}",
                r.status,
                r.error.as_deref().unwrap_or("?")
            )),
            Some(r) if r.failed_ranges > 0 => Some(format!("{} ranges failed", r.failed_ranges)),
            Some(_) if expected != filed || ledger != filed => {
                Some("reported set differs from the truth".into())
            }
            Some(_) => None,
        };
        match (problem, run) {
            (Some(why), _) => {
                verdict.tally.missed += 1;
                verdict
                    .missed_detail
                    .push(format!("{}: {why}", c.portal_email));
            }
            (None, Some(r)) if r.late_start => verdict.tally.late += 1,
            (None, _) => verdict.tally.served += 1,
        }
    }
    verdict.tally.duplicate_reports += input.filed.values().map(|n| u64::from(n - 1)).sum::<u64>();
    Ok(diffs)
}

/// Runs of the day that never finished.
pub fn unfinished_runs(conn: &mut PgConnection, date: NaiveDate) -> anyhow::Result<usize> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT count(*) AS n FROM reporter_runs WHERE business_date = $1 AND finished_at IS NULL",
    )
    .bind::<Date, _>(date)
    .get_result(conn)?;
    Ok(n.n as usize)
}

pub fn database_bytes(conn: &mut PgConnection) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let n: N =
        diesel::sql_query("SELECT pg_database_size(current_database()) AS n").get_result(conn)?;
    Ok(n.n)
}

/// Least-squares slope of `ys` against their index (units per day).
pub fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in ys.iter().enumerate() {
        let dx = x as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_a_line_and_of_a_flat_series() {
        assert!((slope(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[4.0, 4.0, 4.0]), 0.0);
        assert_eq!(slope(&[4.0]), 0.0);
    }
}
