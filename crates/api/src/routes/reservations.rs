use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use reporter_core::domain::{hour_label, MonthlyOrders, Weight};
use reporter_core::models::reservation::{self, Admitted, Reservation, ReservationChange};
use reporter_core::models::slot;
use reporter_core::planner::{PlannerSettings, Planning};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationOut {
    pub id: i64,
    pub slot_id: i32,
    pub hour: i32,
    pub hour_label: String,
    pub monthly_orders_estimate: i32,
    /// 1, 2 or 3 capacity points.
    pub calculated_weight: i32,
    /// `pequeño`, `mediano` or `grande`.
    pub size_label: String,
    pub estimated_pending_orders: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the next run that includes this reservation starts, whether it
    /// waits for tomorrow (reserved after its hour's time today) and a
    /// Spanish sentence saying so.
    #[serde(flatten)]
    pub next_run: reporter_core::schedule::NextRun,
    /// Only on a create or change that leaves the hour predicted past its
    /// browser-time budget (`REPORTER_ADMISSION=points`): a Spanish
    /// sentence with the predicted and available browser-minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

fn out(r: Reservation, hour: i32, tz: chrono_tz::Tz) -> ReservationOut {
    let size = MonthlyOrders::new(r.monthly_orders_estimate.into())
        .map(|m| Weight::from_monthly_orders(m).size_label())
        .unwrap_or("pequeño");
    ReservationOut {
        id: r.id,
        slot_id: r.slot_id,
        hour,
        hour_label: hour_label(hour),
        monthly_orders_estimate: r.monthly_orders_estimate,
        calculated_weight: r.calculated_weight,
        size_label: size.to_string(),
        estimated_pending_orders: r.estimated_pending_orders,
        created_at: r.created_at,
        updated_at: r.updated_at,
        next_run: reporter_core::schedule::next_run(
            tz,
            u8::try_from(hour).unwrap_or_default(),
            r.slot_assigned_at,
            Utc::now(),
        ),
        warning: None,
    }
}

/// A written reservation with the planner's warning, if any.
fn admitted(
    c: &mut diesel::PgConnection,
    a: Admitted,
    tz: chrono_tz::Tz,
) -> Result<ReservationOut, ApiError> {
    let mut r = with_hour(c, a.reservation, tz)?;
    r.warning = a.over_budget.map(|o| o.warning());
    Ok(r)
}

fn with_hour(
    c: &mut diesel::PgConnection,
    r: Reservation,
    tz: chrono_tz::Tz,
) -> Result<ReservationOut, ApiError> {
    let hour = slot::find(c, r.slot_id)?
        .map(|s| s.hour)
        .unwrap_or_default();
    Ok(out(r, hour, tz))
}

/// The caller's reservation, or `null`.
#[utoipa::path(get, path = "/api/reporter/reservations/", tag = "reporter",
    responses((status = 200, body = Option<ReservationOut>), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn get(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let uid = auth.user_id;
    let tz = state.settings.timezone;
    let r = state
        .db(move |c| {
            reservation::find_for_user(c, uid)?
                .map(|r| with_hour(c, r, tz))
                .transpose()
        })
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReservation {
    /// Omit for first fit: the earliest hour with room for your weight.
    pub slot_id: Option<i32>,
    #[schema(minimum = 0)]
    pub monthly_orders_estimate: MonthlyOrders,
}

/// Tells the slot snapshot about the outcome of a reservation write. A
/// write changed the load; a `slot_full` refusal proves the load the client
/// was shown is older than the one read under the row lock (someone wrote
/// outside the API, or on a replica whose bump has not been seen), and the
/// page reloads the grid right after it: it must show the hour full.
async fn settle(
    state: &AppState,
    r: Result<ReservationOut, ApiError>,
) -> Result<ReservationOut, ApiError> {
    if r.as_ref().map_or_else(|e| e.code == "slot_full", |_| true) {
        state.slot_snapshot.changed(state).await;
    }
    r
}

/// Reserve an hour. Full hour → 400 `slot_full` ("Hora llena por capacidad").
/// An hour predicted past its browser-time budget answers with `warning`
/// (default `REPORTER_ADMISSION=points`) or 400 `hour_over_time_budget`
/// (`time`).
#[utoipa::path(post, path = "/api/reporter/reservations/", tag = "reporter", request_body = CreateReservation,
    responses((status = 201, body = ReservationOut),
        (status = 400, body = ErrorBody, description = "`slot_full`, `outside_window`, `no_slot_available`, `slot_not_found`, `hour_over_time_budget` (only with `REPORTER_ADMISSION=time`), invalid body"),
        (status = 409, body = ErrorBody, description = "`already_reserved`")),
    security(("token" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateReservation>,
) -> Result<HttpResponse, ApiError> {
    let CreateReservation {
        slot_id,
        monthly_orders_estimate,
    } = body.into_inner();
    let uid = auth.user_id;
    let settings = PlannerSettings::from_settings(&state.settings);
    let kept = state.planner_estimates.clone();
    let tz = state.settings.timezone;
    let r = state
        .db(move |c| {
            let planner = Planning {
                estimates: kept.get(c, settings.history_days)?,
                settings,
            };
            let a =
                reservation::create_planned(c, uid, slot_id, monthly_orders_estimate, &planner)?;
            admitted(c, a, tz)
        })
        .await;
    let r = settle(&state, r).await?;
    tracing::info!(
        user.id = uid,
        slot.id = r.slot_id,
        weight = r.calculated_weight,
        "reservation created"
    );
    Ok(HttpResponse::Created().json(r))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeReservation {
    pub slot_id: Option<i32>,
    #[schema(minimum = 0)]
    pub monthly_orders_estimate: Option<MonthlyOrders>,
}

/// Move and/or re-weigh the reservation, atomically, under the capacity rule.
#[utoipa::path(patch, path = "/api/reporter/reservations/", tag = "reporter", request_body = ChangeReservation,
    responses((status = 200, body = ReservationOut),
        (status = 400, body = ErrorBody, description = "`slot_full`, `outside_window`, `slot_not_found`, `empty_change`, `hour_over_time_budget` (only with `REPORTER_ADMISSION=time`), invalid body"),
        (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn change(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<ChangeReservation>,
) -> Result<HttpResponse, ApiError> {
    let ChangeReservation {
        slot_id,
        monthly_orders_estimate,
    } = body.into_inner();
    if slot_id.is_none() && monthly_orders_estimate.is_none() {
        return Err(ApiError::bad_request(
            "empty_change",
            "Indica slot_id y/o monthly_orders_estimate",
        ));
    }
    let uid = auth.user_id;
    let settings = PlannerSettings::from_settings(&state.settings);
    let kept = state.planner_estimates.clone();
    let tz = state.settings.timezone;
    let change = ReservationChange {
        slot_id,
        monthly_orders: monthly_orders_estimate,
    };
    let r = state
        .db(move |c| {
            let planner = Planning {
                estimates: kept.get(c, settings.history_days)?,
                settings,
            };
            let a = reservation::change_planned(c, uid, change, &planner)?;
            admitted(c, a, tz)
        })
        .await;
    let r = settle(&state, r).await?;
    tracing::info!(
        user.id = uid,
        slot.id = r.slot_id,
        weight = r.calculated_weight,
        "reservation changed"
    );
    Ok(HttpResponse::Ok().json(r))
}

/// Cancel the reservation.
#[utoipa::path(delete, path = "/api/reporter/reservations/", tag = "reporter",
    responses((status = 204), (status = 404, body = ErrorBody)), security(("token" = [])))]
pub async fn delete(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let uid = auth.user_id;
    state.db(move |c| Ok(reservation::delete(c, uid)?)).await?;
    state.slot_snapshot.changed(&state).await;
    tracing::info!(user.id = uid, "reservation cancelled");
    Ok(HttpResponse::NoContent().finish())
}
