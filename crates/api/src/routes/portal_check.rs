//! The portal check from the console or the API: the API runs no browser,
//! so `POST` enqueues a `PortalCheck` job for a worker and answers 202 with
//! the check's id; `GET` reads the check's state and, once done, its report
//! (kept a day in Redis, see `reporter_core::portal_checks`).

use actix_web::{web, HttpResponse};
use reporter_core::jobs::{JobQueues, PortalCheck};
use reporter_core::models::user;
use reporter_core::portal_checks::{self, CheckStatus, StoredCheck};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalCheckRequest {
    /// The customer's email (their portal credentials must be set).
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalCheckQueued {
    /// Poll `GET /api/reporter/admin/portal-check/{id}/` with it.
    pub id: String,
    #[schema(value_type = String, example = "queued")]
    pub status: CheckStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortalCheckState {
    pub id: String,
    /// `queued`, `running` or `done`.
    #[schema(value_type = String, example = "done")]
    pub status: CheckStatus,
    pub email: String,
    /// Once `done`: `{ok, rows: [{step, item, found, required, ms, detail}],
    /// order_id, screenshots, error, …}` (as `reporterctl portal check --json`).
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
}

/// Check a customer's portal account against the portal profile (login,
/// export columns, one order page's selectors); files nothing. A worker
/// runs it; poll the returned id.
#[utoipa::path(post, path = "/api/reporter/admin/portal-check/", tag = "admin", request_body = PortalCheckRequest,
    responses((status = 202, body = PortalCheckQueued), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn start(
    state: web::Data<AppState>,
    admin: AdminUser,
    body: web::Json<PortalCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    let email = user::normalize_email(&body.email);
    let e2 = email.clone();
    let u = state
        .db(move |c| Ok(user::find_by_email(c, &e2)?))
        .await?
        .ok_or_else(|| {
            ApiError::bad_request("unknown_email", "No hay ningún usuario con ese correo")
        })?;
    if !u.has_portal_credentials() {
        return Err(ApiError::bad_request(
            "no_portal_credentials",
            "Ese usuario no tiene configurada su cuenta del portal",
        ));
    }
    let mut conn = state.redis().await.map_err(ApiError::unavailable)?;
    let prefix = &state.settings.redis_prefix;
    let id = portal_checks::new_id();
    let stored = StoredCheck {
        status: CheckStatus::Queued,
        email: email.clone(),
        report: None,
    };
    portal_checks::store(&mut conn, prefix, &id, &stored)
        .await
        .map_err(ApiError::unavailable)?;
    JobQueues::new(conn, prefix, 1)
        .push(PortalCheck {
            check_id: id.clone(),
            email,
        })
        .await
        .map_err(ApiError::unavailable)?;
    tracing::info!(user.id = admin.0.user_id, check = %id, customer = u.id, "portal check requested");
    Ok(HttpResponse::Accepted().json(PortalCheckQueued {
        id,
        status: CheckStatus::Queued,
    }))
}

/// A portal check's state, and its report once done.
#[utoipa::path(get, path = "/api/reporter/admin/portal-check/{id}/", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = PortalCheckState), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn show(
    state: web::Data<AppState>,
    _admin: AdminUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mut conn = state.redis().await.map_err(ApiError::unavailable)?;
    let stored = portal_checks::load(&mut conn, &state.settings.redis_prefix, &id)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| {
            ApiError::not_found(
                "portal_check_not_found",
                "No hay una comprobación del portal con ese id (se guardan un día)",
            )
        })?;
    Ok(HttpResponse::Ok().json(PortalCheckState {
        id,
        status: stored.status,
        email: stored.email,
        report: stored.report,
    }))
}
