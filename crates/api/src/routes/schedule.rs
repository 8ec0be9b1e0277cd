//! The schedule as operators see and steer it from the console: the last
//! reconcile, pauses, the next hours, missed hours; pause, resume and
//! backfill. Same code as `reporterctl schedule` (reporter_core::schedule).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use reporter_core::domain::Hour;
use reporter_core::jobs::JobQueues;
use reporter_core::schedule::store::{self, PauseRow};
use reporter_core::schedule::{BackfillRefusal, Due, Overview, ScheduleError, Scheduler};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

/// Who is acting, as recorded on pauses and backfills.
fn actor(admin: &AdminUser) -> String {
    format!("admin:{}", admin.0.user_id)
}

fn scheduler(state: &AppState, admin: &AdminUser) -> Scheduler {
    Scheduler {
        pool: state.pool.clone(),
        tz: state.settings.timezone,
        catch_up: state.settings.beat_catch_up,
        by: actor(admin),
    }
}

fn schedule_error(e: ScheduleError) -> ApiError {
    use actix_web::http::StatusCode;
    match e {
        ScheduleError::Refused(r) => {
            let (status, code, detail) = match &r {
                BackfillRefusal::AlreadyRan(h) => (
                    StatusCode::CONFLICT,
                    "already_ran",
                    format!("La hora {h} ya tiene su ejecución"),
                ),
                BackfillRefusal::Future(h) => (
                    StatusCode::BAD_REQUEST,
                    "not_in_the_past",
                    format!("{h} todavía no ha llegado: solo se recuperan horas pasadas"),
                ),
                BackfillRefusal::OutsideWindow(h, w) => (
                    StatusCode::BAD_REQUEST,
                    "outside_window",
                    format!("Las {h:02}:00 están fuera de la ventana del reporter ({w})"),
                ),
                BackfillRefusal::NothingOwed(h) => (
                    StatusCode::BAD_REQUEST,
                    "nothing_owed",
                    format!("{h} no tenía reservas a su hora: no hay nada que ejecutar"),
                ),
                BackfillRefusal::NoSuchHour(h) => (
                    StatusCode::BAD_REQUEST,
                    "no_such_hour",
                    format!("{h} no existe en la zona horaria (cambio de horario)"),
                ),
            };
            ApiError::new(status, code, detail)
        }
        ScheduleError::Enqueue(e) => ApiError::unavailable(e),
        other => ApiError::internal(other),
    }
}

/// Last reconcile, pauses, the next 24 hours and the missed hours of the
/// last 7 days.
#[utoipa::path(get, path = "/api/reporter/admin/schedule/", tag = "admin",
    responses((status = 200, body = Overview), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn overview(
    state: web::Data<AppState>,
    admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let o = scheduler(&state, &admin)
        .overview(Utc::now())
        .await
        .map_err(schedule_error)?;
    Ok(HttpResponse::Ok().json(o))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseIn {
    /// 0–23; absent: every hour.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: Option<i64>,
    /// End of the pause (RFC 3339), in the future and within a year;
    /// absent: until resumed.
    pub until: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
}

fn hour(h: Option<i64>) -> Result<Option<u8>, ApiError> {
    h.map(|h| Hour::new(h).map(Hour::get))
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid_hour", "La hora debe estar entre 0 y 23"))
}

/// Pause one hour, or every hour, from now: an hour whose time falls inside
/// the pause is neither run nor counted missed.
#[utoipa::path(post, path = "/api/reporter/admin/schedule/pause/", tag = "admin", request_body = PauseIn,
    responses((status = 201, body = PauseRow), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn pause(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<PauseIn>,
) -> Result<HttpResponse, ApiError> {
    let PauseIn {
        hour: h,
        until,
        note,
    } = body.into_inner();
    let h = hour(h)?;
    let now = Utc::now();
    let horizon = now + chrono::Duration::days(crate::input::DATE_RANGE_DAYS);
    if until.is_some_and(|u| u <= now || u > horizon) {
        return Err(ApiError::bad_request(
            "invalid_until",
            format!(
                "El fin de la pausa debe estar en el futuro y como mucho el {}",
                horizon.date_naive()
            ),
        ));
    }
    crate::input::text("note", &note, 200, "invalid_note")?;
    let by = actor(&admin);
    let row = state
        .db(move |c| Ok(store::pause(c, h, now, until, &note, &by)?))
        .await?;
    tracing::warn!(user.id = admin.0.user_id, hour = ?h, until = ?until, "schedule paused by an operator");
    Ok(HttpResponse::Created().json(row))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeIn {
    /// 0–23; absent: every pause in force.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resumed {
    pub resumed: usize,
}

/// End the pauses in force now (of one hour, or all).
#[utoipa::path(post, path = "/api/reporter/admin/schedule/resume/", tag = "admin", request_body = ResumeIn,
    responses((status = 200, body = Resumed), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn resume(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<ResumeIn>,
) -> Result<HttpResponse, ApiError> {
    let h = hour(body.into_inner().hour)?;
    let now = Utc::now();
    let n = state.db(move |c| Ok(store::resume(c, h, now)?)).await?;
    tracing::warn!(user.id = admin.0.user_id, hour = ?h, resumed = n, "schedule resumed by an operator");
    Ok(HttpResponse::Ok().json(Resumed { resumed: n }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillIn {
    /// `YYYY-MM-DD` in the reporter's time zone, within a year of today
    /// (else 400 `date_out_of_range`).
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// 0–23; absent: every owed hour of the day without a run.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Backfilled {
    #[schema(value_type = Vec<Object>)]
    pub enqueued: Vec<Due>,
}

/// Run a past day's owed hours that have no run (marked backfill).
#[utoipa::path(post, path = "/api/reporter/admin/schedule/backfill/", tag = "admin", request_body = BackfillIn,
    responses((status = 202, body = Backfilled), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn backfill(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<BackfillIn>,
) -> Result<HttpResponse, ApiError> {
    let BackfillIn { date, hour: h } = body.into_inner();
    let today = reporter_core::schedule::business_date(Utc::now(), state.settings.timezone);
    // A future day is refused below as `not_in_the_past`.
    crate::input::admin_date(date, today)?;
    let h = hour(h)?
        .map(|h| Hour::new(i64::from(h)))
        .transpose()
        .map_err(ApiError::from)?;
    let conn = state.redis().await.map_err(ApiError::unavailable)?;
    let queues = JobQueues::new(conn, &state.settings.redis_prefix, 1);
    let enqueued = scheduler(&state, &admin)
        .backfill(&queues, date, h, Utc::now())
        .await
        .map_err(schedule_error)?;
    tracing::warn!(user.id = admin.0.user_id, %date, hours = enqueued.len(), "backfill by an operator");
    Ok(HttpResponse::Accepted().json(Backfilled { enqueued }))
}
