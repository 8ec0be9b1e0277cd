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
    /// When the token stops working (`REPORTER_TOKEN_TTL_DAYS` after the login).
    pub expires_at: chrono::DateTime<chrono::Utc>,
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
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`rate_limited` (this client address) or `login_locked` (this account); see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "`login_busy`: every password check of this replica is taken; see `Retry-After`")))]
pub async fn login(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let expires = chrono::Utc::now() + state.settings.token_ttl();
    let (token, u) = crate::login_guard::login(
        &state,
        &req,
        &email,
        password,
        token::LOGIN_TOKEN_NAME,
        expires,
    )
    .await?;
    tracing::info!(user.id = u.id, "login");
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        expires_at: expires,
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
    /// An email address, at most 254 characters.
    #[schema(max_length = 254, format = Email)]
    pub email: String,
    /// 1–256 characters.
    #[schema(min_length = 1, max_length = 256)]
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
    crate::input::text("email", &email, 254, "invalid_portal_email")?;
    if email.is_empty() || !email.contains('@') {
        return Err(ApiError::bad_request(
            "invalid_portal_email",
            "El correo del portal no es válido",
        ));
    }
    crate::input::text("password", &password, 256, "invalid_portal_password")?;
    if password.is_empty() {
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
