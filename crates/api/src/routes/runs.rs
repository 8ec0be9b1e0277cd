use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use reporter_core::domain::{hour_label, DownloadStatus, ReportMode, RunStatus, RunUserResult};
use reporter_core::models::run::{self, Run, UserPart};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    pub id: i64,
    pub slot_id: i32,
    pub hour: i32,
    pub hour_label: String,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    /// `schedule` (the hourly schedule), `manual` (an operator's trigger)
    /// or `backfill` (an operator ran a missed hour later).
    pub origin: String,
    /// The schedule started it late (beat was down or Redis unreachable at
    /// its hour and it was caught up, or it was backfilled).
    pub late_start: bool,
    /// For late starts: "Tu ejecución de las 09:00 se recuperó a las 11:02".
    pub late_start_note: Option<String>,
    /// `shadow`: a rehearsal that files nothing (only admins see these).
    pub report_mode: ReportMode,
}

pub fn run_out(r: Run, hour: i32, tz: chrono_tz::Tz) -> RunOut {
    RunOut {
        late_start_note: reporter_core::schedule::late_start_note(
            tz,
            r.scheduled_at,
            r.started_at,
            r.late_start,
        ),
        origin: r.origin,
        report_mode: r.report_mode,
        late_start: r.late_start,
        id: r.id,
        slot_id: r.slot_id,
        hour,
        hour_label: hour_label(hour),
        scheduled_at: r.scheduled_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        status: r.status,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// How many runs (1–200, default 30).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The caller's recent runs, newest first.
#[utoipa::path(get, path = "/api/reporter/runs/", tag = "runs", params(ListQuery),
    responses((status = 200, body = [RunOut]), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(30);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit debe estar entre 1 y 200",
        ));
    }
    let uid = auth.user_id;
    let runs = state
        .db(move |c| Ok(run::list_for_user(c, uid, limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(
        runs.into_iter()
            .map(|(r, h)| run_out(r, h, state.settings.timezone))
            .collect::<Vec<_>>(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserProgress {
    pub user_id: i64,
    pub email: String,
    pub download_compare_status: DownloadStatus,
    pub total_pending_orders: i32,
    pub total_ranges: i32,
    pub ranges_completed: i32,
    /// Friendly Spanish message written by the workers.
    pub progress_message: String,
    pub updated_at: DateTime<Utc>,
    /// What this customer's part came to; `completed_with_failures` when a
    /// range failed for good.
    pub result: RunUserResult,
    /// `shadow`: this part checks its orders and files nothing (admins only:
    /// a customer never sees a shadow part).
    pub report_mode: ReportMode,
}

impl UserProgress {
    fn new(run: &Run, part: UserPart) -> Self {
        let result = run::result_of(run, &part.run_user, part.failed_ranges);
        let u = part.run_user;
        UserProgress {
            user_id: u.user_id,
            email: part.email,
            result,
            report_mode: u.report_mode,
            download_compare_status: u.download_compare_status,
            total_pending_orders: u.total_pending_orders,
            total_ranges: u.total_ranges,
            ranges_completed: u.ranges_completed,
            progress_message: u.progress_message,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunProgress {
    pub run: RunOut,
    pub users: Vec<UserProgress>,
}

/// The caller's progress in a run (an admin sees every user's).
#[utoipa::path(get, path = "/api/reporter/runs/{id}/progress/", tag = "runs", params(("id" = i64, Path)),
    responses((status = 200, body = RunProgress), (status = 404, body = ErrorBody)), security(("token" = [])))]
pub async fn progress(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let run_id = id.into_inner();
    let only = (!auth.is_admin).then_some(auth.user_id);
    let not_found = || ApiError::not_found("run_not_found", "No existe esa ejecución");
    let tz = state.settings.timezone;
    let (run, users) = state
        .db(move |c| {
            let Some(r) = run::find(c, run_id)? else {
                return Ok(None);
            };
            let users: Vec<UserProgress> = run::progress(c, run_id, only)?
                .into_iter()
                .map(|part| UserProgress::new(&r, part))
                .collect();
            let hour = reporter_core::models::slot::find(c, r.slot_id)?
                .map(|s| s.hour)
                .unwrap_or_default();
            Ok(Some((run_out(r, hour, tz), users)))
        })
        .await?
        .ok_or_else(not_found)?;
    // A customer who was not in this run must not learn that it exists.
    if only.is_some() && users.is_empty() {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(RunProgress { run, users }))
}
