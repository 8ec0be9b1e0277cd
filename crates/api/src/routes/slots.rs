use actix_web::{web, HttpResponse};
use reporter_core::domain::Weight;
use reporter_core::models::slot::{self, SlotView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotOut {
    pub id: i32,
    pub hour: i32,
    /// `HH:00`
    pub hour_label: String,
    /// Sum of the weights reserved in this hour.
    pub used_points: i32,
    pub capacity_points: i32,
    /// `capacity_points - used_points` (never negative).
    pub available: i32,
    /// Legacy: the old per-hour user limit.
    pub max_users: i32,
    /// Legacy: reservations in this hour.
    pub current_users: i64,
}

impl From<&SlotView> for SlotOut {
    fn from(s: &SlotView) -> Self {
        SlotOut {
            id: s.id,
            hour: s.hour,
            hour_label: s.hour_label(),
            used_points: s.used_points,
            capacity_points: s.capacity_points,
            available: s.available(),
            max_users: s.max_users,
            current_users: s.current_users,
        }
    }
}

/// The reservable hours (the reporter window only) with their load.
#[utoipa::path(get, path = "/api/reporter/slots/", tag = "reporter",
    responses((status = 200, body = [SlotOut]), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn list(state: web::Data<AppState>, _auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let body = state.slot_snapshot.body(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeightTier {
    /// Inclusive upper bound of monthly orders for this weight (`null` = no bound).
    pub max_monthly_orders: Option<i32>,
    pub weight: i32,
    pub label: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterConfigOut {
    /// Always `true`. The old system's flag for the weight-based
    /// reservation screen; that screen is now the only one, and the field
    /// stays for clients written against the old API.
    pub use_weight_ui: bool,
    pub reporter_hour_start: i32,
    /// Exclusive.
    pub reporter_hour_end: i32,
    pub slot_capacity: i32,
    pub timezone: String,
    pub weights: Vec<WeightTier>,
}

/// Client settings: the window, the slot capacity and the weight tiers.
#[utoipa::path(get, path = "/api/reporter/config/", tag = "reporter",
    responses((status = 200, body = ReporterConfigOut), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn reporter_config(
    state: web::Data<AppState>,
    _auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let cfg = state.db(|c| Ok(slot::config(c)?)).await?;
    Ok(HttpResponse::Ok().json(ReporterConfigOut {
        use_weight_ui: true,
        reporter_hour_start: cfg.reporter_hour_start,
        reporter_hour_end: cfg.reporter_hour_end,
        slot_capacity: cfg.slot_capacity,
        timezone: state.settings.timezone.name().to_string(),
        weights: Weight::TIERS
            .iter()
            .map(|(w, max)| WeightTier {
                max_monthly_orders: *max,
                weight: w.points(),
                label: w.size_label(),
            })
            .collect(),
    }))
}
