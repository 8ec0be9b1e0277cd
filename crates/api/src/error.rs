//! The one error type at the HTTP edge. Every error leaves as
//! `{"code": "...", "detail": "..."}`: codes in English for programs, details
//! in Spanish for customers. Internal causes are logged here, once.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use reporter_core::domain::DomainError;
use reporter_core::models::ReservationError;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `slot_full`.
    pub code: Cow<'static, str>,
    /// Human-readable explanation in Spanish.
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub detail: String,
    /// Seconds sent in `Retry-After` (429 and 503 of the login defences).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// A token that was valid once but is past its expiry.
    pub fn token_expired() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "Tu sesión venció; inicia sesión de nuevo para obtener un token nuevo",
        )
    }

    /// Too many login attempts from one client address.
    pub fn login_rate_limited(secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "Demasiados intentos de inicio de sesión desde tu conexión; espera {} e inténtalo de nuevo",
                wait_text(secs)
            ),
        )
        .with_retry_after(secs)
    }

    /// Too many failed logins for one account (any client, any replica).
    pub fn login_locked(secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "login_locked",
            format!(
                "Demasiados intentos fallidos para esta cuenta; espera {} e inténtalo de nuevo",
                wait_text(secs)
            ),
        )
        .with_retry_after(secs)
    }

    /// Every password-check slot of this replica is taken.
    pub fn login_busy(secs: u64) -> Self {
        tracing::warn!("login refused: password checks saturated");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "login_busy",
            "Hay demasiados inicios de sesión en este momento; inténtalo de nuevo en unos segundos",
        )
        .with_retry_after(secs)
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "Debes iniciar sesión (token ausente, inválido o vencido)",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Solo un administrador puede hacer esto",
        )
    }

    /// Logs the cause (English, for operators) and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Error interno; inténtalo de nuevo en un momento",
        )
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Servicio no disponible; inténtalo de nuevo en un momento",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.clone(),
            detail: self.detail.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((actix_web::http::header::RETRY_AFTER, secs.to_string()));
        }
        res.json(self.body())
    }
}

/// "1 segundo", "42 segundos", "3 minutos" (rounded up).
pub fn wait_text(secs: u64) -> String {
    match secs.max(1) {
        1 => "1 segundo".into(),
        s if s < 120 => format!("{s} segundos"),
        s => format!("{} minutos", s.div_ceil(60)),
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let status = match e {
            DomainError::AlreadyReserved => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<ReservationError> for ApiError {
    fn from(e: ReservationError) -> Self {
        match e {
            ReservationError::Rule(d) => d.into(),
            ReservationError::SlotNotFound => {
                ApiError::bad_request("slot_not_found", "Esa hora no existe")
            }
            ReservationError::NotFound => {
                ApiError::not_found("no_reservation", "No tienes una reserva")
            }
            ReservationError::OverTimeBudget(o) => {
                ApiError::bad_request("hour_over_time_budget", o.refusal())
            }
            ReservationError::Db(d) => d.into(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::not_found("not_found", "No encontrado"),
            other => ApiError::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::unavailable(e)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}
