//! The planner's database side: the history its medians are taken over,
//! the plan of every hour, a run's recorded prediction and the prediction
//! error. Every number is computed by `estimate.rs` and `plan.rs`.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer};
use serde::Serialize;

use super::admission::{check_hour, Admission, HourVerdict};
use super::estimate::{median, stuck_per_day, FleetTimings, StuckEstimate};
use super::plan::{available_minutes, customer_minutes, run_duration_minutes, PlanParams};
use crate::config::Settings;
use crate::domain::hour_label;
use crate::models::slot;
use crate::schema::{reporter_reservations, reporter_run_users, reporter_runs, users};

/// The settings the planner runs with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannerSettings {
    pub params: PlanParams,
    /// `REPORTER_ESTIMATED_PENDING_FACTOR`: the fallback without history.
    pub pending_factor: f64,
    pub history_days: u32,
    pub admission: Admission,
}

impl PlannerSettings {
    pub fn from_settings(s: &Settings) -> Self {
        PlannerSettings {
            params: PlanParams {
                max_browsers: s.max_active_selenium,
                margin: s.planner_margin,
                range_size: s.range_size,
            },
            pending_factor: s.estimated_pending_factor,
            history_days: s.planner_history_days,
            admission: s.admission,
        }
    }

    pub fn available_minutes(&self) -> f64 {
        available_minutes(&self.params)
    }
}

/// The planner as a reservation check uses it: its settings and the
/// estimates (read before the check, see [`super::KeptEstimates`]).
#[derive(Debug, Clone)]
pub struct Planning {
    pub settings: PlannerSettings,
    pub estimates: std::sync::Arc<Estimates>,
}

/// What the history says: the fleet's timings and each customer's stuck
/// counts per day.
#[derive(Debug, Clone, Default)]
pub struct Estimates {
    pub timings: FleetTimings,
    stuck: HashMap<i64, Vec<f64>>,
}

impl Estimates {
    pub fn stuck_for(&self, user_id: i64, monthly_orders: i32, factor: f64) -> StuckEstimate {
        let history = self.stuck.get(&user_id).map_or(&[][..], Vec::as_slice);
        stuck_per_day(history, monthly_orders, factor)
    }
}

#[derive(QueryableByName)]
struct Sample {
    #[diesel(sql_type = Double)]
    value: f64,
}

#[derive(QueryableByName)]
struct UserSample {
    #[diesel(sql_type = BigInt)]
    user_id: i64,
    #[diesel(sql_type = Double)]
    value: f64,
}

fn samples(conn: &mut PgConnection, sql: &str, days: u32) -> QueryResult<Vec<f64>> {
    let rows: Vec<Sample> = diesel::sql_query(sql)
        .bind::<Integer, _>(days as i32)
        .load(conn)?;
    Ok(rows.into_iter().map(|s| s.value).collect())
}

/// A customer's stuck orders per business day: the most any of that day's
/// completed downloads found (a manual re-run the same day is one day).
const STUCK_SQL: &str = "
SELECT u.user_id, max(u.total_pending_orders)::float8 AS value
  FROM reporter_run_users u JOIN reporter_runs r ON r.id = u.run_id
 WHERE u.download_compare_status = 'completed'
   AND r.scheduled_at >= now() - make_interval(days => $1)
 GROUP BY u.user_id, r.business_date";

/// Minutes per report: the ledger's gaps inside one range (one session, no
/// login in between), per range with at least two reports.
const REPORT_SQL: &str = "
SELECT (extract(epoch FROM max(o.reported_at) - min(o.reported_at)) / 60.0 / (count(*) - 1))::float8 AS value
  FROM reporter_order_reports o
 WHERE o.range_id IS NOT NULL AND o.reported_at >= now() - make_interval(days => $1)
 GROUP BY o.range_id HAVING count(*) >= 2";

/// Minutes from taking a range (the lease is already held) to its first
/// report: a login plus one report. Ranges taken once only, so the first
/// report belongs to the same take.
const FIRST_REPORT_SQL: &str = "
SELECT (extract(epoch FROM min(o.reported_at) - g.locked_at) / 60.0)::float8 AS value
  FROM reporter_ranges g JOIN reporter_order_reports o ON o.range_id = g.id
 WHERE g.attempts = 1 AND g.locked_at IS NOT NULL
   AND g.created_at >= now() - make_interval(days => $1)
 GROUP BY g.id, g.locked_at HAVING min(o.reported_at) >= g.locked_at";

/// Minutes from a run's start to its first stored export (the fastest
/// first-attempt download of the run: the one that waited least for a
/// browser): a login plus the export.
const DOWNLOAD_SQL: &str = "
SELECT (extract(epoch FROM min(b.exported_at - r.started_at)) / 60.0)::float8 AS value
  FROM reporter_export_batches b
  JOIN reporter_run_users u ON u.id = b.run_user_id
  JOIN reporter_runs r ON r.id = u.run_id
 WHERE u.download_attempts = 1 AND r.started_at IS NOT NULL
   AND r.scheduled_at >= now() - make_interval(days => $1)
 GROUP BY r.id";

/// Reads the last `days` of history into medians (see docs/planner.md for
/// what each timestamp stands for).
pub fn load_estimates(conn: &mut PgConnection, days: u32) -> QueryResult<Estimates> {
    let rows: Vec<UserSample> = diesel::sql_query(STUCK_SQL)
        .bind::<Integer, _>(days as i32)
        .load(conn)?;
    let mut stuck: HashMap<i64, Vec<f64>> = HashMap::new();
    for r in rows {
        stuck.entry(r.user_id).or_default().push(r.value);
    }
    let report = samples(conn, REPORT_SQL, days)?;
    let report_min = median(&report);
    // A login is the first report's wait minus the report itself, and an
    // export the download's wait minus its login.
    let per_report = report_min.unwrap_or(super::DEFAULT_REPORT_MINUTES);
    let login: Vec<f64> = samples(conn, FIRST_REPORT_SQL, days)?
        .into_iter()
        .map(|m| (m - per_report).max(0.0))
        .collect();
    let per_login = median(&login).unwrap_or(super::DEFAULT_LOGIN_MINUTES);
    let export: Vec<f64> = samples(conn, DOWNLOAD_SQL, days)?
        .into_iter()
        .map(|m| (m - per_login).max(0.0))
        .collect();
    Ok(Estimates {
        timings: FleetTimings::from_samples(&login, &export, &report),
        stuck,
    })
}

/// One customer of an hour in the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerPlan {
    pub user_id: i64,
    pub email: String,
    pub weight: i32,
    pub monthly_orders_estimate: i32,
    /// Expected stuck orders per run.
    pub stuck_per_day: f64,
    /// `false`: no history yet, monthly orders × the pending factor.
    pub from_history: bool,
    pub predicted_minutes: f64,
}

/// One hour of the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HourPlan {
    pub slot_id: i32,
    pub hour: i32,
    pub hour_label: String,
    pub used_points: i32,
    pub capacity_points: i32,
    /// Browser-minutes the hour's customers are predicted to need.
    pub predicted_minutes: f64,
    /// 60 × MAX_ACTIVE_SELENIUM × (1 − margin).
    pub available_minutes: f64,
    /// Wall-clock minutes the hour's run is predicted to take.
    pub predicted_duration_minutes: f64,
    pub over_budget: bool,
    /// Heaviest first.
    pub customers: Vec<CustomerPlan>,
}

/// A reservation as the planner needs it: who, how heavy, how many orders.
struct Member {
    slot_id: i32,
    user_id: i64,
    email: String,
    weight: i32,
    monthly: i32,
}

fn members(conn: &mut PgConnection, slot_id: Option<i32>) -> QueryResult<Vec<Member>> {
    let mut q = reporter_reservations::table
        .inner_join(users::table)
        .order((
            reporter_reservations::calculated_weight.desc(),
            reporter_reservations::id,
        ))
        .select((
            reporter_reservations::slot_id,
            reporter_reservations::user_id,
            users::email,
            reporter_reservations::calculated_weight,
            reporter_reservations::monthly_orders_estimate,
        ))
        .into_boxed();
    if let Some(id) = slot_id {
        q = q.filter(reporter_reservations::slot_id.eq(id));
    }
    let rows: Vec<(i32, i64, String, i32, i32)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(slot_id, user_id, email, weight, monthly)| Member {
            slot_id,
            user_id,
            email,
            weight,
            monthly,
        })
        .collect())
}

fn customer_plan(m: Member, est: &Estimates, ps: &PlannerSettings) -> CustomerPlan {
    let s = est.stuck_for(m.user_id, m.monthly, ps.pending_factor);
    CustomerPlan {
        predicted_minutes: customer_minutes(s.stuck, &est.timings, ps.params.range_size),
        user_id: m.user_id,
        email: m.email,
        weight: m.weight,
        monthly_orders_estimate: m.monthly,
        stuck_per_day: s.stuck,
        from_history: s.from_history,
    }
}

/// The plan of every hour of the reservable window.
pub fn hour_plans(
    conn: &mut PgConnection,
    ps: &PlannerSettings,
    est: &Estimates,
) -> QueryResult<Vec<HourPlan>> {
    let slots = slot::list_with_usage(conn, true)?;
    let mut by_slot: HashMap<i32, Vec<CustomerPlan>> = HashMap::new();
    for m in members(conn, None)? {
        by_slot
            .entry(m.slot_id)
            .or_default()
            .push(customer_plan(m, est, ps));
    }
    let available = ps.available_minutes();
    Ok(slots
        .into_iter()
        .map(|s| {
            let customers = by_slot.remove(&s.id).unwrap_or_default();
            let stuck: Vec<f64> = customers.iter().map(|c| c.stuck_per_day).collect();
            let predicted: f64 = customers.iter().map(|c| c.predicted_minutes).sum();
            HourPlan {
                slot_id: s.id,
                hour: s.hour,
                hour_label: hour_label(s.hour),
                used_points: s.used_points,
                capacity_points: s.capacity_points,
                predicted_minutes: predicted,
                available_minutes: available,
                predicted_duration_minutes: if customers.is_empty() {
                    0.0
                } else {
                    run_duration_minutes(&stuck, &est.timings, &ps.params)
                },
                over_budget: predicted > available,
                customers,
            }
        })
        .collect())
}

/// The hour `slot_id` as it would be with `user_id` in it with
/// `monthly_orders` (their current reservation, wherever it is, left out).
/// Only a change that raises the hour's prediction can push it over: a
/// customer whose history already fixes their stuck count may re-weigh in
/// an hour that is over budget. Called under the slot's row lock, so the
/// hour's members it reads cannot change before the reservation is
/// written; the estimates come read already (medians over days of history,
/// not something two concurrent reservations change).
pub fn verdict_with(
    conn: &mut PgConnection,
    planning: &Planning,
    slot_id: i32,
    user_id: i64,
    monthly_orders: i32,
) -> QueryResult<HourVerdict> {
    let (ps, est) = (&planning.settings, &*planning.estimates);
    let hour = slot::find(conn, slot_id)?.map_or(0, |s| s.hour);
    let now: Vec<Member> = members(conn, Some(slot_id))?;
    let before: Vec<f64> = now
        .iter()
        .map(|m| est.stuck_for(m.user_id, m.monthly, ps.pending_factor).stuck)
        .collect();
    let mut after: Vec<f64> = now
        .iter()
        .filter(|m| m.user_id != user_id)
        .map(|m| est.stuck_for(m.user_id, m.monthly, ps.pending_factor).stuck)
        .collect();
    after.push(
        est.stuck_for(user_id, monthly_orders, ps.pending_factor)
            .stuck,
    );
    let range_size = ps.params.range_size;
    let before = super::plan::hour_minutes(&before, &est.timings, range_size);
    let after = super::plan::hour_minutes(&after, &est.timings, range_size);
    if after <= before + 1e-9 {
        return Ok(HourVerdict::Within);
    }
    Ok(check_hour(hour, after, ps.available_minutes()))
}

/// Records a new run's predicted browser-minutes and duration, from its
/// run-users (once: a run found again keeps its first prediction). A run
/// without run-users gets none. Returns `(browser, duration)` minutes.
pub fn record_run_prediction(
    conn: &mut PgConnection,
    run_id: i64,
    ps: &PlannerSettings,
) -> QueryResult<Option<(f64, f64)>> {
    let rows: Vec<(i64, i32)> = reporter_run_users::table
        .inner_join(users::table)
        .filter(reporter_run_users::run_id.eq(run_id))
        .select((users::id, users::monthly_orders_estimate))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let est = load_estimates(conn, ps.history_days)?;
    let stuck: Vec<f64> = rows
        .iter()
        .map(|(u, m)| est.stuck_for(*u, *m, ps.pending_factor).stuck)
        .collect();
    let browser = super::plan::hour_minutes(&stuck, &est.timings, ps.params.range_size);
    let duration = run_duration_minutes(&stuck, &est.timings, &ps.params);
    diesel::update(reporter_runs::table.find(run_id))
        .filter(reporter_runs::predicted_browser_minutes.is_null())
        .set((
            reporter_runs::predicted_browser_minutes.eq(browser),
            reporter_runs::predicted_duration_minutes.eq(duration),
        ))
        .execute(conn)?;
    Ok(Some((browser, duration)))
}

/// How far the predicted durations were from the actual ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PredictionError {
    pub days: u32,
    /// Finished runs with both numbers.
    pub runs: usize,
    /// Median of |predicted − actual| minutes; `null` without runs.
    pub median_abs_error_minutes: Option<f64>,
    /// Mean of (predicted − actual) minutes: positive = the planner
    /// over-estimates; `null` without runs.
    pub bias_minutes: Option<f64>,
}

impl PredictionError {
    /// Pure: from `(predicted, actual)` pairs.
    pub fn of(days: u32, pairs: &[(f64, f64)]) -> Self {
        let abs: Vec<f64> = pairs.iter().map(|(p, a)| (p - a).abs()).collect();
        let bias = if pairs.is_empty() {
            None
        } else {
            Some(pairs.iter().map(|(p, a)| p - a).sum::<f64>() / pairs.len() as f64)
        };
        PredictionError {
            days,
            runs: pairs.len(),
            median_abs_error_minutes: median(&abs),
            bias_minutes: bias,
        }
    }
}

/// Predicted against actual run duration over the runs finished in the
/// last `days`.
pub fn prediction_error(conn: &mut PgConnection, days: u32) -> QueryResult<PredictionError> {
    let pairs: Vec<(Option<f64>, Option<f64>)> = reporter_runs::table
        .filter(reporter_runs::predicted_duration_minutes.is_not_null())
        .filter(reporter_runs::actual_duration_minutes.is_not_null())
        .filter(
            reporter_runs::finished_at
                .gt(chrono::Utc::now() - chrono::Duration::days(i64::from(days))),
        )
        .select((
            reporter_runs::predicted_duration_minutes,
            reporter_runs::actual_duration_minutes,
        ))
        .load(conn)?;
    let pairs: Vec<(f64, f64)> = pairs
        .into_iter()
        .filter_map(|(p, a)| Some((p?, a?)))
        .collect();
    Ok(PredictionError::of(days, &pairs))
}
