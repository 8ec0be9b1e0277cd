//! What the operators' console shows beyond queues, workers and the
//! semaphore: a day's runs with duration and lateness, failed ranges with
//! their saved screenshot, and the last hours' activity.

use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reporter_core::domain::hour_label;
use reporter_core::models::console;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// `YYYY-MM-DD` in the reporter's time zone, within a year of today
    /// (else 400 `date_out_of_range`); default today.
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayRun {
    #[serde(flatten)]
    pub run: console::RunSummary,
    pub hour_label: String,
    pub duration_seconds: Option<i64>,
    /// Finished after its hour ended, or still unfinished past it.
    pub late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayRuns {
    #[schema(value_type = String)]
    pub date: NaiveDate,
    pub runs: Vec<DayRun>,
}

/// The day's runs by slot hour, with status, duration and lateness.
#[utoipa::path(get, path = "/api/reporter/admin/runs/", tag = "admin", params(DayQuery),
    responses((status = 200, body = DayRuns), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn day_runs(
    state: web::Data<AppState>,
    _admin: AdminUser,
    q: web::Query<DayQuery>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.settings.timezone;
    let now = Utc::now();
    let today = reporter_core::schedule::business_date(now, tz);
    let date = crate::input::admin_date(q.date.unwrap_or(today), today)?;
    let bound = |d: NaiveDate| -> Result<DateTime<Utc>, ApiError> {
        let midnight = d
            .and_hms_opt(0, 0, 0)
            .ok_or_else(|| ApiError::bad_request("invalid_date", "Fecha inválida"))?;
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ApiError::bad_request("invalid_date", "Fecha inválida"))
    };
    let next = date
        .succ_opt()
        .ok_or_else(|| ApiError::bad_request("invalid_date", "Fecha inválida"))?;
    let (from, to) = (bound(date)?, bound(next)?);
    let runs = state
        .db(move |c| Ok(console::runs_between(c, from, to)?))
        .await?;
    let runs = runs
        .into_iter()
        .map(|r| DayRun {
            hour_label: hour_label(r.hour),
            duration_seconds: r.duration_seconds(now),
            late: r.is_late(now),
            run: r,
        })
        .collect();
    Ok(HttpResponse::Ok().json(DayRuns { date, runs }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailedRangeOut {
    #[serde(flatten)]
    pub range: console::FailedRange,
    pub hour_label: String,
    /// Where the console can show the screenshot the worker saved, if any.
    pub screenshot_url: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn range_dir(artifacts: &str, run_id: i64, user_id: i64, range_id: i64) -> PathBuf {
    Path::new(artifacts)
        .join(format!("run-{run_id}"))
        .join(format!("user-{user_id}"))
        .join(format!("range-{range_id}"))
}

/// The newest screenshot in a range's artifacts directory (file names start
/// with what failed and end with a sortable UTC stamp).
fn newest_png(dir: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .max_by_key(|p| {
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            name.and_then(|n| n.rsplit('-').next().map(str::to_string))
        })
}

/// Ranges that failed for good, newest first, with their error.
#[utoipa::path(get, path = "/api/reporter/admin/failed-ranges/", tag = "admin", params(LimitQuery),
    responses((status = 200, body = [FailedRangeOut]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn failed_ranges(
    state: web::Data<AppState>,
    _admin: AdminUser,
    q: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit debe estar entre 1 y 200",
        ));
    }
    let artifacts = state.settings.artifacts_dir.clone();
    let out = state
        .db(move |c| {
            let ranges = console::failed_ranges(c, limit)?;
            Ok(ranges
                .into_iter()
                .map(|r| {
                    let dir = range_dir(&artifacts, r.run_id, r.user_id, r.range_id);
                    let screenshot_url = newest_png(&dir)
                        .map(|_| format!("/api/reporter/admin/ranges/{}/screenshot", r.range_id));
                    FailedRangeOut {
                        hour_label: hour_label(r.hour),
                        screenshot_url,
                        range: r,
                    }
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// The newest screenshot saved for a range's failure (PNG).
#[utoipa::path(get, path = "/api/reporter/admin/ranges/{id}/screenshot/", tag = "admin",
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn range_screenshot(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let range_id = id.into_inner();
    let artifacts = state.settings.artifacts_dir.clone();
    let png = state
        .db(move |c| {
            let Some((run_id, user_id)) = console::range_location(c, range_id)? else {
                return Ok(None);
            };
            // The path is built from ids only, never from request text.
            let Some(file) = newest_png(&range_dir(&artifacts, run_id, user_id, range_id)) else {
                return Ok(None);
            };
            std::fs::read(&file).map(Some).map_err(ApiError::internal)
        })
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "screenshot_not_found",
                "No hay captura guardada para ese rango",
            )
        })?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/png"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
        .body(png))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HourActivity {
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// `HH:00` in the reporter's time zone.
    pub hour_label: String,
    /// Orders filed in that hour.
    pub reports: i64,
    /// Most browser sessions live at once in that hour.
    pub browser_peak: u32,
}

/// The last 24 hours, hour by hour: reports filed and peak browser sessions.
#[utoipa::path(get, path = "/api/reporter/admin/activity/", tag = "admin",
    responses((status = 200, body = [HourActivity]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn activity(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    const HOURS: u32 = 24;
    let now = Utc::now();
    let mut conn = state.redis().await.map_err(ApiError::unavailable)?;
    let peaks =
        reporter_core::browser_activity::peaks(&mut conn, &state.settings.redis_prefix, now, HOURS)
            .await
            .map_err(ApiError::unavailable)?;
    let from = peaks.first().map_or(now, |(h, _)| *h);
    let counts = state.hourly_reports.since(&state, from, now).await?;
    let tz = state.settings.timezone;
    let out: Vec<HourActivity> = peaks
        .into_iter()
        .map(|(hour, browser_peak)| HourActivity {
            hour,
            hour_label: hour.with_timezone(&tz).format("%H:00").to_string(),
            reports: counts.get(&hour).copied().unwrap_or(0),
            browser_peak,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_screenshot_is_picked_by_stamp() {
        let dir = std::env::temp_dir().join(format!("reporter-shots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "report-20261123T100000.000Z.png",
            "login-20261123T100500.000Z.png",
            "report-20261123T100500.000Z.html",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let got = newest_png(&dir).unwrap();
        assert_eq!(
            got.file_name().unwrap().to_string_lossy(),
            "login-20261123T100500.000Z.png"
        );
        assert!(newest_png(&dir.join("missing")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Days the console's prediction error is measured over.
const PREDICTION_ERROR_DAYS: u32 = 14;

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    /// `points` or `time` (`REPORTER_ADMISSION`).
    pub admission: &'static str,
    pub max_active_selenium: u32,
    /// `REPORTER_PLANNER_MARGIN`.
    pub margin: f64,
    pub history_days: u32,
    /// Browser-minutes each hour has: 60 × MAX_ACTIVE_SELENIUM × (1 − margin).
    pub available_minutes: f64,
    /// The fleet's minutes per login, export and report (medians of the
    /// history, or the defaults).
    pub timings: reporter_core::planner::FleetTimings,
    /// The reservable window's hours.
    pub hours: Vec<reporter_core::planner::HourPlan>,
    /// Predicted against actual run duration, runs finished in the last 14 days.
    pub prediction_error: reporter_core::planner::PredictionError,
}

/// The hour planner: per hour, predicted browser-minutes against available,
/// with the customers behind them, and how far recent predictions were off.
#[utoipa::path(get, path = "/api/reporter/admin/plan/", tag = "admin",
    responses((status = 200, body = PlanOut), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn plan(state: web::Data<AppState>, _admin: AdminUser) -> Result<HttpResponse, ApiError> {
    use reporter_core::planner;
    let ps = planner::PlannerSettings::from_settings(&state.settings);
    let kept = state.planner_estimates.clone();
    let (est, hours, error) = state
        .db(move |c| {
            let est = kept.get(c, ps.history_days)?;
            let hours = planner::hour_plans(c, &ps, &est)?;
            let error = planner::prediction_error(c, PREDICTION_ERROR_DAYS)?;
            Ok((est, hours, error))
        })
        .await?;
    Ok(HttpResponse::Ok().json(PlanOut {
        admission: ps.admission.as_str(),
        max_active_selenium: ps.params.max_browsers,
        margin: ps.params.margin,
        history_days: ps.history_days,
        available_minutes: ps.available_minutes(),
        timings: est.timings,
        hours,
        prediction_error: error,
    }))
}
