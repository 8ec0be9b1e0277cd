//! Extractor that admits only requests with a live portal session.

use std::future::{ready, Ready};
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::SESSION_COOKIE;
use crate::error::PageError;
use crate::state::Sim;

/// The logged-in account of the request. Missing, unknown or expired
/// sessions turn into `303 /login` before the handler runs.
#[derive(Debug)]
pub struct LoggedIn {
    pub email: String,
}

impl FromRequest for LoggedIn {
    type Error = PageError;
    type Future = Ready<Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(resolve(req))
    }
}

fn resolve(req: &HttpRequest) -> Result<LoggedIn, PageError> {
    let sim = req
        .app_data::<web::Data<Sim>>()
        .ok_or_else(|| PageError::Internal("simulator state missing".into()))?;
    let (email, login) = sim.with(|s| {
        let email = req
            .cookie(SESSION_COOKIE)
            .and_then(|c| s.session_email(c.value(), Instant::now()));
        (email, s.layout.login_path())
    });
    email
        .map(|email| LoggedIn { email })
        .ok_or(PageError::LoginRequired(login))
}
