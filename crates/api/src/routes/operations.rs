//! The operators' levers and gauges: trigger a slot, retry a failed range,
//! queue depths, browser semaphore holders and the live worker fleet.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use reporter_core::browser_semaphore::{BrowserSemaphore, LeaseInfo};
use reporter_core::domain::Hour;
use reporter_core::fleet::{self, WorkerBeat};
use reporter_core::jobs::{self, JobQueues, ProcessSlot, QueueStats, ReportRange, ShadowSlot};
use reporter_core::models::pipeline;
use reporter_core::schedule::clock;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

async fn redis(state: &AppState) -> Result<redis::aio::ConnectionManager, ApiError> {
    state.redis().await.map_err(ApiError::unavailable)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSlot {
    /// 0–23 in the reporter's time zone; default: the current hour.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: Option<u32>,
    /// `YYYY-MM-DD`, from a year ago to today (never a future day, else 400
    /// `date_out_of_range`); default: today in the reporter's time zone.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// A rehearsal (shadow run): everything but submitting; every stuck
    /// order is recorded as `would_report` and customers never see it. Its
    /// run is separate from the hour's live run. Default false.
    #[serde(default)]
    pub shadow: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Triggered {
    /// The instant the run is stored under: the hour's start, or for a
    /// shadow run a few seconds to minutes after it.
    pub scheduled_at: chrono::DateTime<Utc>,
    pub hour_label: String,
    pub shadow: bool,
}

/// Run a slot now. Idempotent like beat's job: a slot hour has one run
/// (a shadow trigger is a rehearsal run of its own each time).
#[utoipa::path(post, path = "/api/reporter/admin/trigger-slot/", tag = "admin", request_body = TriggerSlot,
    responses((status = 202, body = Triggered), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn trigger_slot(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<TriggerSlot>,
) -> Result<HttpResponse, ApiError> {
    let tz = state.settings.timezone;
    let now = Utc::now();
    let hour = match body.hour {
        Some(h) => Hour::new(i64::from(h))?,
        None => Hour::new(i64::from(clock::local_hour(now, tz)))?,
    };
    let today = clock::business_date(now, tz);
    let date = crate::input::past_date(body.date.unwrap_or(today), today)?;
    let at = clock::slot_instant(tz, date, hour.get()).ok_or_else(|| {
        ApiError::bad_request("invalid_hour", "Esa hora no existe en la zona horaria")
    })?;
    let queues = JobQueues::new(redis(&state).await?, &state.settings.redis_prefix, 1);
    let scheduled_at = if body.shadow {
        let job = ShadowSlot::new(at, now);
        let stored = job.scheduled_at();
        queues.push(job).await.map_err(ApiError::unavailable)?;
        stored
    } else {
        queues
            .push(ProcessSlot::new(at))
            .await
            .map_err(ApiError::unavailable)?;
        at
    };
    tracing::info!(user.id = admin.0.user_id, scheduled_at = %scheduled_at, shadow = body.shadow,
                   "slot triggered by an operator");
    Ok(HttpResponse::Accepted().json(Triggered {
        scheduled_at,
        hour_label: hour.label(),
        shadow: body.shadow,
    }))
}

/// A failed range goes back to pending with fresh attempts, and gets a job.
#[utoipa::path(post, path = "/api/reporter/admin/ranges/{id}/retry/", tag = "admin", params(("id" = i64, Path)),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn retry_range(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state
        .db(move |c| Ok(pipeline::retry_failed_range(c, id)?))
        .await?
        .ok_or_else(|| {
            ApiError::not_found("range_not_failed", "No hay un rango fallido con ese id")
        })?;
    let queues = JobQueues::new(redis(&state).await?, &state.settings.redis_prefix, 1);
    queues
        .push(ReportRange::new(id))
        .await
        .map_err(ApiError::unavailable)?;
    tracing::info!(
        user.id = admin.0.user_id,
        range.id = id,
        "failed range retried by an operator"
    );
    Ok(HttpResponse::Accepted().json(serde_json::json!({"range_id": id, "status": "pending"})))
}

/// Waiting, scheduled, in-flight and dead jobs per queue.
#[utoipa::path(get, path = "/api/reporter/admin/queues/", tag = "admin",
    responses((status = 200, body = [QueueStats]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn queues(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let mut conn = redis(&state).await?;
    let stats = jobs::queue_stats(&mut conn, &state.settings.redis_prefix)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SemaphoreOut {
    pub limit: u32,
    pub in_use: usize,
    #[schema(value_type = Vec<Object>)]
    pub holders: Vec<LeaseInfo>,
}

/// Browser leases in use against `MAX_ACTIVE_SELENIUM`.
#[utoipa::path(get, path = "/api/reporter/admin/semaphore/", tag = "admin",
    responses((status = 200, body = SemaphoreOut), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn semaphore(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let s = &state.settings;
    let sem = BrowserSemaphore::from_settings(redis(&state).await?, s);
    let holders = sem.holders().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(SemaphoreOut {
        limit: s.max_active_selenium,
        in_use: holders.len(),
        holders,
    }))
}

/// Clears every lease (holders lose theirs and stop).
#[utoipa::path(post, path = "/api/reporter/admin/semaphore/reset/", tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn reset_semaphore(
    state: web::Data<AppState>,
    admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let s = &state.settings;
    let sem = BrowserSemaphore::from_settings(redis(&state).await?, s);
    sem.reset().await.map_err(ApiError::unavailable)?;
    tracing::warn!(
        user.id = admin.0.user_id,
        "browser semaphore reset by an operator"
    );
    Ok(HttpResponse::NoContent().finish())
}

/// Worker processes seen in the last minute, with what each is doing.
#[utoipa::path(get, path = "/api/reporter/admin/workers/", tag = "admin",
    responses((status = 200, body = [WorkerBeat]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn workers(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let mut conn = redis(&state).await?;
    let w = fleet::alive_workers(&mut conn, &state.settings.redis_prefix, 60)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().json(w))
}
