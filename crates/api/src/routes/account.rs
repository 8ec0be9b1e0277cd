use actix_web::{web, HttpResponse};
use reporter_core::models::{token, user};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send it as `Authorization: Token <token>` (or `Bearer <token>`).
    pub token: String,
    pub user: MeResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub monthly_orders_estimate: i32,
    pub portal_email: Option<String>,
    /// Whether a portal password is stored; the password itself is never returned.
    pub portal_password_set: bool,
}

impl From<&reporter_core::models::User> for MeResponse {
    fn from(u: &reporter_core::models::User) -> Self {
        MeResponse {
            id: u.id,
            email: u.email.clone(),
            role: u.role.clone(),
            monthly_orders_estimate: u.monthly_orders_estimate,
            portal_email: u.portal_email.clone(),
            portal_password_set: u.portal_password_enc.is_some(),
        }
    }
}

/// Exchange email and password for an API token.
#[utoipa::path(post, path = "/api/auth/login/", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody)))]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let issued = state
        .db(move |c| Ok(token::issue_for_login(c, &email, &password, "login", None)?))
        .await?;
    let (token, u) = issued.ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Correo o contraseña incorrectos",
        )
    })?;
    tracing::info!(user.id = u.id, "login");
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        user: MeResponse::from(&u),
    }))
}

/// Revoke the token used for this request.
#[utoipa::path(post, path = "/api/auth/logout/", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let id = auth.token_id;
    state.db(move |c| Ok(token::revoke(c, id)?)).await?;
    state.auth_cache.forget_token(id);
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's account.
#[utoipa::path(get, path = "/api/me/", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)), security(("token" = [])))]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let uid = auth.user_id;
    let u = state
        .db(move |c| user::find(c, uid)?.ok_or_else(ApiError::unauthorized))
        .await?;
    Ok(HttpResponse::Ok().json(MeResponse::from(&u)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalCredentials {
    pub email: String,
    pub password: String,
}

impl std::fmt::Display for PortalCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PortalCredentials {{ email: {}, password: <redacted> }}",
            self.email
        )
    }
}

/// Set the supplier-portal login the bot uses. The password is stored
/// encrypted and never returned.
#[utoipa::path(put, path = "/api/me/portal-credentials/", tag = "auth", request_body = PortalCredentials,
    responses((status = 200, body = MeResponse), (status = 400, body = ErrorBody)), security(("token" = [])))]
pub async fn set_portal_credentials(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<PortalCredentials>,
) -> Result<HttpResponse, ApiError> {
    let PortalCredentials { email, password } = body.into_inner();
    let email = email.trim().to_string();
    if email.is_empty() || email.len() > 254 || !email.contains('@') {
        return Err(ApiError::bad_request(
            "invalid_portal_email",
            "El correo del portal no es válido",
        ));
    }
    if password.is_empty() || password.len() > 256 {
        return Err(ApiError::bad_request(
            "invalid_portal_password",
            "La contraseña del portal no puede estar vacía",
        ));
    }
    let encrypted = state.settings.credentials_cipher().encrypt(&password);
    let uid = auth.user_id;
    let updated = state
        .db(move |c| {
            user::set_portal_credentials(c, uid, &email, &encrypted)?;
            user::find(c, uid)?.ok_or_else(|| ApiError::internal("user vanished"))
        })
        .await?;
    tracing::info!(user.id = uid, "portal credentials updated");
    Ok(HttpResponse::Ok().json(MeResponse::from(&updated)))
}
