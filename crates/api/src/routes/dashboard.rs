//! What the customer's page shows: report counts, the latest run's
//! progress, and the orders a run filed (paginated, filterable).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use reporter_core::domain::{DownloadStatus, RunUserResult};
use reporter_core::models::dashboard::{self, ReportCounts, ReportFilter, ReportPage};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::{run_out, RunOut};
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct LastRun {
    pub run: RunOut,
    pub download_compare_status: DownloadStatus,
    pub download_attempts: i32,
    /// Stuck orders the comparison found for this customer.
    pub total_pending_orders: i32,
    pub total_ranges: i32,
    pub ranges_completed: i32,
    pub orders_reported: i64,
    /// Friendly Spanish message written by the workers.
    pub progress_message: String,
    pub error: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the customer's part came to; `completed_with_failures` when a
    /// range failed for good.
    pub result: RunUserResult,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Today in the reporter's time zone.
    #[schema(value_type = String)]
    pub business_date: NaiveDate,
    pub reports: ReportCounts,
    pub last_run: Option<LastRun>,
}

/// The caller's report counts and their latest run, for the dashboard.
#[utoipa::path(get, path = "/api/reporter/summary/", tag = "reporter",
    responses((status = 200, body = Summary), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn summary(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let uid = auth.user_id;
    let today = reporter_core::schedule::business_date(Utc::now(), state.settings.timezone);
    let now = std::time::Instant::now();
    let known = state.earlier_reports.get(uid, today, now);
    let dashboard::Summary {
        reports,
        last,
        earlier,
    } = state
        .db(move |c| Ok(dashboard::summary(c, uid, today, known)?))
        .await?;
    if known.is_none() {
        state.earlier_reports.put(uid, today, now, earlier);
    }
    let last_run = last.map(|p| {
        let result = p.result();
        let u = p.run_user;
        LastRun {
            run: run_out(p.run, p.hour, state.settings.timezone),
            download_compare_status: u.download_compare_status,
            download_attempts: u.download_attempts,
            total_pending_orders: u.total_pending_orders,
            total_ranges: u.total_ranges,
            ranges_completed: u.ranges_completed,
            orders_reported: p.orders_reported,
            progress_message: u.progress_message,
            error: u.error,
            updated_at: u.updated_at,
            finished_at: u.finished_at,
            result,
        }
    });
    Ok(HttpResponse::Ok().json(Summary {
        business_date: today,
        reports,
        last_run,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    /// 1-based page (default 1, at most 100000).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<i64>,
    /// Rows per page, 1–200 (default 25).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<i64>,
    /// Order id prefix, or part of the tracking number, carrier or ticket.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Exact order status.
    #[param(max_length = 100)]
    pub status: Option<String>,
}

/// Orders the caller's part of a run filed, newest first.
#[utoipa::path(get, path = "/api/reporter/runs/{id}/reports/", tag = "runs",
    params(("id" = i64, Path), ReportsQuery),
    responses((status = 200, body = ReportPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn reports(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<ReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(25);
    if !(1..=100_000).contains(&page) {
        return Err(ApiError::bad_request(
            "invalid_page",
            "page debe ser un número a partir de 1",
        ));
    }
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::bad_request(
            "invalid_per_page",
            "per_page debe estar entre 1 y 200",
        ));
    }
    let filter = ReportFilter {
        search: q.q.unwrap_or_default(),
        status: q.status.unwrap_or_default(),
    };
    crate::input::text("q", &filter.search, 100, "invalid_filter")?;
    crate::input::text("status", &filter.status, 100, "invalid_filter")?;
    let (run_id, uid) = (id.into_inner(), auth.user_id);
    let kept = state.finished_reports.clone();
    let found = state
        .db(move |c| {
            let Some(ru) = dashboard::run_user_of(c, run_id, uid)? else {
                return Ok(None);
            };
            // A finished run-user's list no longer changes: pages of it
            // come from memory (see crate::finished_reports).
            let Some(finished_at) = ru.finished_at else {
                return Ok(Some(dashboard::reports_page(
                    c, ru.id, &filter, page, per_page,
                )?));
            };
            let now = std::time::Instant::now();
            let list = match kept.get(ru.id, finished_at, now) {
                Some(list) => list,
                None => {
                    let list = std::sync::Arc::new(dashboard::report_list(c, ru.id)?);
                    kept.put(ru.id, finished_at, now, list.clone());
                    list
                }
            };
            Ok(Some(list.page(&filter, page, per_page)))
        })
        .await?;
    // A customer who was not in this run must not learn that it exists.
    let page =
        found.ok_or_else(|| ApiError::not_found("run_not_found", "No existe esa ejecución"))?;
    Ok(HttpResponse::Ok().json(page))
}
