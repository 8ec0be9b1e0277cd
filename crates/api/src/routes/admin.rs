use actix_web::{web, HttpResponse};
use reporter_core::domain::ReservableWindow;
use reporter_core::models::{reservation, slot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::slots::SlotOut;
use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminConfigOut {
    #[serde(flatten)]
    pub config: slot::SlotConfig,
    pub timezone: String,
    pub selenium_semaphore_ttl_secs: u64,
}

/// The slot configuration. `max_active_selenium`, `estimated_pending_factor`
/// and `range_size` mirror the process settings (environment) in force.
#[utoipa::path(get, path = "/api/reporter/admin/config/", tag = "admin",
    responses((status = 200, body = AdminConfigOut), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn get_config(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let config = state.db(|c| Ok(slot::config(c)?)).await?;
    Ok(HttpResponse::Ok().json(admin_config(&state, config)))
}

fn admin_config(state: &AppState, config: slot::SlotConfig) -> AdminConfigOut {
    AdminConfigOut {
        config,
        timezone: state.settings.timezone.name().to_string(),
        selenium_semaphore_ttl_secs: state.settings.selenium_semaphore_ttl_secs,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    /// New capacity for every slot.
    #[schema(minimum = 0, maximum = 1000)]
    pub slot_capacity: Option<i32>,
    /// 0–23, before the end.
    #[schema(minimum = 0, maximum = 23)]
    pub reporter_hour_start: Option<i32>,
    /// Exclusive: 1–24, after the start.
    #[schema(minimum = 1, maximum = 24)]
    pub reporter_hour_end: Option<i32>,
}

/// Change the window and/or every slot's capacity. Existing reservations
/// are kept even if they no longer fit a lowered capacity (they only stop
/// new ones); a window that would leave reservations outside it is refused
/// with 409 (the schedule would never run those hours).
#[utoipa::path(patch, path = "/api/reporter/admin/config/", tag = "admin", request_body = ConfigChange,
    responses((status = 200, body = AdminConfigOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn change_config(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<ConfigChange>,
) -> Result<HttpResponse, ApiError> {
    let ch = body.into_inner();
    if let Some(c) = ch.slot_capacity {
        check_capacity(c)?;
    }
    let config = state
        .db(move |c| {
            let current = slot::config(c)?;
            let start = ch
                .reporter_hour_start
                .unwrap_or(current.reporter_hour_start);
            let end = ch.reporter_hour_end.unwrap_or(current.reporter_hour_end);
            ReservableWindow::new(start, end)?;
            let change = slot::ConfigChange {
                slot_capacity: ch.slot_capacity,
                reporter_hour_start: ch.reporter_hour_start,
                reporter_hour_end: ch.reporter_hour_end,
            };
            slot::update_config(c, &change).map_err(|e| match e {
                slot::ConfigError::ReservationsOutsideWindow { hours } => ApiError::new(
                    actix_web::http::StatusCode::CONFLICT,
                    "reservations_outside_window",
                    format!(
                        "Hay reservas en horas que quedarían fuera de la ventana ({}): muévelas o elimínalas antes de reducirla",
                        hours
                            .iter()
                            .map(|h| reporter_core::domain::hour_label(*h))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                slot::ConfigError::Db(d) => d.into(),
            })
        })
        .await?;
    state.slot_snapshot.changed(&state).await;
    tracing::info!(user.id = admin.0.user_id, "slot config changed");
    Ok(HttpResponse::Ok().json(admin_config(&state, config)))
}

fn check_capacity(c: i32) -> Result<(), ApiError> {
    if (0..=1000).contains(&c) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_capacity",
            "La capacidad debe estar entre 0 y 1000 puntos",
        ))
    }
}

/// All 24 slots with their load (also outside the window).
#[utoipa::path(get, path = "/api/reporter/admin/slots/", tag = "admin",
    responses((status = 200, body = [SlotOut]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn list_slots(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let slots = state.db(|c| Ok(slot::list_with_usage(c, false)?)).await?;
    Ok(HttpResponse::Ok().json(slots.iter().map(SlotOut::from).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotChange {
    #[schema(minimum = 0, maximum = 1000)]
    pub capacity_points: Option<i32>,
    /// Legacy limit, kept for old clients.
    #[schema(minimum = 0)]
    pub max_users: Option<i32>,
}

/// Change one slot's capacity.
#[utoipa::path(patch, path = "/api/reporter/admin/slots/{id}/", tag = "admin", request_body = SlotChange,
    params(("id" = i32, Path)),
    responses((status = 200, body = SlotOut), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn change_slot(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<i32>,
    body: web::Json<SlotChange>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let SlotChange {
        capacity_points,
        max_users,
    } = body.into_inner();
    if let Some(c) = capacity_points {
        check_capacity(c)?;
    }
    if max_users.is_some_and(|m| m < 0) {
        return Err(ApiError::bad_request(
            "invalid_max_users",
            "max_users no puede ser negativo",
        ));
    }
    let view = state
        .db(move |c| {
            slot::update_slot(c, id, capacity_points, max_users)?
                .ok_or_else(|| ApiError::not_found("slot_not_found", "Esa hora no existe"))?;
            let all = slot::list_with_usage(c, false)?;
            all.into_iter()
                .find(|s| s.id == id)
                .ok_or_else(|| ApiError::internal("slot vanished"))
        })
        .await?;
    state.slot_snapshot.changed(&state).await;
    tracing::info!(user.id = admin.0.user_id, slot.id = id, "slot changed");
    Ok(HttpResponse::Ok().json(SlotOut::from(&view)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminReservationOut {
    pub user_id: i64,
    pub email: String,
    pub slot_id: i32,
    pub hour: i32,
    pub hour_label: String,
    pub monthly_orders_estimate: i32,
    pub calculated_weight: i32,
    pub estimated_pending_orders: i32,
}

/// Every reservation, by hour.
#[utoipa::path(get, path = "/api/reporter/admin/reservations/", tag = "admin",
    responses((status = 200, body = [AdminReservationOut]), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn list_reservations(
    state: web::Data<AppState>,
    _admin: AdminUser,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db(|c| Ok(reservation::list_all(c)?)).await?;
    let out: Vec<_> = rows
        .into_iter()
        .map(|(r, email, hour)| AdminReservationOut {
            user_id: r.user_id,
            email,
            slot_id: r.slot_id,
            hour,
            hour_label: reporter_core::domain::hour_label(hour),
            monthly_orders_estimate: r.monthly_orders_estimate,
            calculated_weight: r.calculated_weight,
            estimated_pending_orders: r.estimated_pending_orders,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
