//! The HTML pages. Each is a small server-rendered shell: who is logged in,
//! the CSRF token and the static texts; data comes from the JSON API.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::Utc;
use reporter_core::models::{token, User};
use serde::Deserialize;

use super::session::{self, CSRF_FIELD};
use crate::error::ApiError;
use crate::state::AppState;

/// The logged-in browser user behind the session cookie, if any.
struct Session {
    user: User,
    token: String,
    token_id: i64,
}

async fn current_session(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<Session>, ApiError> {
    let Some(token) = session::cookie_token(req) else {
        return Ok(None);
    };
    let t = token.clone();
    let ttl = state.settings.token_ttl();
    let found = state
        .db(move |c| Ok(token::authenticate(c, &t, ttl)?))
        .await?;
    Ok(found.map(|(token_id, user)| Session {
        user,
        token,
        token_id,
    }))
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The security headers (CSP without inline script, no framing, no-store)
/// are added to every HTML response by [`crate::edge`].
fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, ApiError> {
    let body = page.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(body))
}

/// What the page header shows about the logged-in user.
struct Viewer {
    email: String,
    is_admin: bool,
    csrf: String,
}

impl Viewer {
    fn of(s: &Session) -> Self {
        Viewer {
            email: s.user.email.clone(),
            is_admin: s.user.is_admin(),
            csrf: session::csrf_token(&s.token),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    email: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    viewer: Viewer,
    csrf_field: &'static str,
    timezone: String,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage {
    viewer: Viewer,
    csrf_field: &'static str,
    timezone: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage;

pub fn not_found_page() -> Result<HttpResponse, ApiError> {
    html(StatusCode::NOT_FOUND, &NotFoundPage)
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    viewer: Viewer,
    csrf_field: &'static str,
}

pub async fn root(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Ok(match current_session(&state, &req).await? {
        Some(s) if s.user.is_admin() => redirect("/admin"),
        Some(_) => redirect("/app"),
        None => redirect("/login"),
    })
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    bye: Option<String>,
}

pub async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, ApiError> {
    if current_session(&state, &req).await?.is_some() {
        return Ok(redirect("/"));
    }
    let notice = q.bye.as_ref().map(|_| "Has cerrado la sesión.");
    html(
        StatusCode::OK,
        &LoginPage {
            email: "",
            error: None,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let LoginForm { email, password } = form.into_inner();
    let email = email.trim().to_string();
    if !session::same_origin(&req, &state.settings.public_urls) {
        return html(
            StatusCode::FORBIDDEN,
            &LoginPage {
                email: &email,
                error: Some("El formulario no viene de esta página; vuelve a cargarla."),
                notice: None,
            },
        );
    }
    // The input rules (no control characters, lengths), answered on the page.
    if let Err(e) = crate::input::text("correo", &email, 254, "invalid_email")
        .and_then(|()| crate::input::text("contraseña", &password, 1024, "invalid_password"))
    {
        return html(
            e.status,
            &LoginPage {
                email: "",
                error: Some(&e.detail),
                notice: None,
            },
        );
    }
    if email.is_empty() || password.is_empty() {
        return html(
            StatusCode::BAD_REQUEST,
            &LoginPage {
                email: &email,
                error: Some("Escribe tu correo y tu contraseña."),
                notice: None,
            },
        );
    }
    let expires = Utc::now() + chrono::Duration::days(session::SESSION_DAYS);
    let issued =
        crate::login_guard::login(&state, &req, &email, password, session::TOKEN_NAME, expires)
            .await;
    let (token, u) = match issued {
        Ok(issued) => issued,
        // Wrong password, rate limits, saturation: the page again, with the
        // reason in Spanish (and `Retry-After` when there is one).
        Err(e) if e.status == StatusCode::UNAUTHORIZED || e.retry_after.is_some() => {
            tracing::info!(code = %e.code, "web login refused");
            let detail = if e.status == StatusCode::UNAUTHORIZED {
                "Correo o contraseña incorrectos.".to_string()
            } else {
                format!("{}.", e.detail)
            };
            let mut res = html(
                e.status,
                &LoginPage {
                    email: &email,
                    error: Some(&detail),
                    notice: None,
                },
            )?;
            if let Some(secs) = e.retry_after {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
            }
            return Ok(res);
        }
        Err(e) => return Err(e),
    };
    tracing::info!(user.id = u.id, "web login");
    let mut res = redirect(if u.is_admin() { "/admin" } else { "/app" });
    res.add_cookie(&session::session_cookie(&req, token))
        .map_err(ApiError::internal)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, ApiError> {
    if !session::same_origin(&req, &state.settings.public_urls) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_origin",
            "El formulario no viene de esta página; vuelve a cargarla",
        ));
    }
    if let Some(s) = current_session(&state, &req).await? {
        if !session::csrf_matches(&s.token, &form.csrf_token) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "No se pudo verificar la sesión; recarga la página e inténtalo de nuevo",
            ));
        }
        let id = s.token_id;
        state.db(move |c| Ok(token::revoke(c, id)?)).await?;
        state.auth_cache.forget_token(id);
        tracing::info!(user.id = s.user.id, "web logout");
    }
    let mut res = redirect("/login?bye=1");
    res.add_cookie(&session::expired_cookie(&req))
        .map_err(ApiError::internal)?;
    Ok(res)
}

pub async fn customer_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(s) = current_session(&state, &req).await? else {
        return Ok(redirect("/login"));
    };
    html(
        StatusCode::OK,
        &CustomerPage {
            viewer: Viewer::of(&s),
            csrf_field: CSRF_FIELD,
            timezone: state.settings.timezone.name().to_string(),
        },
    )
}

pub async fn console_page(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some(s) = current_session(&state, &req).await? else {
        return Ok(redirect("/login"));
    };
    if !s.user.is_admin() {
        return html(
            StatusCode::FORBIDDEN,
            &ForbiddenPage {
                viewer: Viewer::of(&s),
                csrf_field: CSRF_FIELD,
            },
        );
    }
    html(
        StatusCode::OK,
        &ConsolePage {
            viewer: Viewer::of(&s),
            csrf_field: CSRF_FIELD,
            timezone: state.settings.timezone.name().to_string(),
        },
    )
}
