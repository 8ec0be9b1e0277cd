//! Errors of the simulator: start-up problems and page answers that are not 200.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::html;

/// Problems that stop the simulator from starting.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot read accounts file {path}: {source}")]
    AccountsFileRead {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot parse accounts file {path}: {reason}")]
    AccountsFileParse { path: String, reason: String },
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Portal page answers other than success, rendered the way a portal would.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No session, an expired one, or one of a blocked account; the value
    /// is the layout's login page.
    #[error("login required")]
    LoginRequired(&'static str),
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired(_) => StatusCode::SEE_OTHER,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::LoginRequired(login) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, *login))
                .finish(),
            Self::NotFound => html::respond(
                self.status_code(),
                html::message_page("No encontrado", "La página u orden solicitada no existe."),
            ),
            Self::BadRequest(msg) => html::respond(
                self.status_code(),
                html::message_page("Solicitud inválida", msg),
            ),
            Self::Internal(_) => html::internal_error(),
        }
    }
}
