//! Login, logout and the site root.

use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng;
use serde::Deserialize;
use tracing::info;

use super::SESSION_COOKIE;
use crate::html;
use crate::state::{LoginOutcome, Sim};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/login", web::get().to(login_form))
        .route("/login", web::post().to(login))
        .route("/logout", web::get().to(logout));
}

/// Missing fields are treated as wrong credentials, like a browser portal would.
#[derive(Debug, Deserialize)]
struct LoginForm {
    email: Option<String>,
    password: Option<String>,
}

async fn root() -> HttpResponse {
    see_other("/orders")
}

async fn login_form() -> HttpResponse {
    html::ok(html::login_page(None, ""))
}

async fn login(sim: web::Data<Sim>, form: web::Form<LoginForm>) -> HttpResponse {
    let email = form.email.as_deref().unwrap_or("").trim();
    let password = form.password.as_deref().unwrap_or("");
    let roll: f64 = rand::thread_rng().gen();
    let outcome = sim.with(|s| s.log_in(email, password, roll, Instant::now()));
    match outcome {
        LoginOutcome::Success { token, email } => {
            info!(%email, "login");
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .finish();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/orders"))
                .cookie(cookie)
                .finish()
        }
        LoginOutcome::InvalidCredentials => {
            info!(%email, "login failed: invalid credentials");
            html::ok(html::login_page(Some("Credenciales inválidas"), email))
        }
        LoginOutcome::Blocked => {
            info!(%email, "login failed: account blocked");
            html::ok(html::login_page(Some("Cuenta bloqueada"), email))
        }
    }
}

async fn logout(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        sim.with(|s| s.log_out(cookie.value()));
    }
    let mut expired = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    expired.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .cookie(expired)
        .finish()
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
