//! Authentication: `Authorization: Token <t>` (what old clients send) or
//! `Bearer <t>`, or the web UI's HttpOnly session cookie (which carries a
//! token too). The token is looked up by its SHA-256 hash.
//!
//! Cookies are sent by the browser on its own, so a state-changing request
//! authenticated by the cookie must also carry the session's CSRF token in
//! `X-CSRF-Token` (see [`crate::ui::session`]); header tokens need none.

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};
use reporter_core::models::token;
use reporter_core::tokens::hash_token;

use crate::auth_cache::Identity;
use crate::error::ApiError;
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: i64,
    pub token_id: i64,
    pub is_admin: bool,
}

/// Where the request's token came from.
enum Credential {
    Header(String),
    Cookie(String),
}

fn credential(req: &HttpRequest) -> Option<Credential> {
    if let Some(t) = bearer_token(req) {
        return Some(Credential::Header(t));
    }
    crate::ui::session::cookie_token(req).map(Credential::Cookie)
}

/// Checks the CSRF header of a cookie-authenticated, state-changing request.
fn check_csrf(req: &HttpRequest, token: &str) -> Result<(), ApiError> {
    if req.method().is_safe() {
        return Ok(());
    }
    let sent = req
        .headers()
        .get(crate::ui::session::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if crate::ui::session::csrf_matches(token, sent) {
        Ok(())
    } else {
        Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "csrf_failed",
            "No se pudo verificar la sesión; recarga la página e inténtalo de nuevo",
        ))
    }
}

/// The authenticated caller, who must be an admin (403 otherwise).
pub struct AdminUser(pub AuthUser);

fn bearer_token(req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| token.to_string())
        .filter(|t| !t.is_empty() && t.len() <= 256)
}

pub(crate) async fn authenticate(
    state: web::Data<AppState>,
    token: String,
) -> Result<AuthUser, ApiError> {
    let hash = hash_token(&token);
    if let Some(id) = state.auth_cache.get(&hash) {
        return Ok(AuthUser {
            user_id: id.user_id,
            token_id: id.token_id,
            is_admin: id.is_admin,
        });
    }
    let ttl = state.settings.token_ttl();
    let found = state.db(move |c| Ok(token::check(c, &token, ttl)?)).await?;
    let (token_id, user) = match found {
        token::TokenCheck::Live { token_id, user } => (token_id, user),
        token::TokenCheck::Expired => return Err(ApiError::token_expired()),
        token::TokenCheck::Invalid => return Err(ApiError::unauthorized()),
    };
    let id = Identity {
        user_id: user.id,
        token_id,
        is_admin: user.is_admin(),
    };
    state.auth_cache.put(hash, id);
    Ok(AuthUser {
        user_id: id.user_id,
        token_id,
        is_admin: id.is_admin,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = match credential(req) {
            Some(Credential::Header(t)) => Ok(t),
            Some(Credential::Cookie(t)) => check_csrf(req, &t).map(|()| t),
            None => Err(ApiError::unauthorized()),
        };
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState missing"))?;
            authenticate(state, token?).await
        })
    }
}

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let fut = AuthUser::from_request(req, payload);
        Box::pin(async move {
            let user = fut.await?;
            if user.is_admin {
                Ok(AdminUser(user))
            } else {
                Err(ApiError::forbidden())
            }
        })
    }
}
