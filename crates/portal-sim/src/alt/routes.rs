//! URL map of the `alt` layout. The rules (sessions, faults, reports, the
//! counters of `/_sim/stats`) are the simulator's own, shared with the
//! contract's pages; only paths, fields and pages differ.

use std::time::Instant;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng;
use serde::Deserialize;
use serde_json::json;
use tracing::{error, info};

use super::pages::{self, ExportShown};
use super::{LOGIN_PATH, ORDERS_PATH, PAGE_SIZE, REPORT_REASONS};
use crate::error::PageError;
use crate::export;
use crate::html;
use crate::model::Order;
use crate::routes::{session_guard::LoggedIn, SESSION_COOKIE};
use crate::state::{ExportJobState, Filing, LoginOutcome, Sim, SimState};

const MAX_MESSAGE_CHARS: usize = 2000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The export routes before `/pedidos/{id}`, so they are never taken
    // for an order id.
    cfg.route("/", web::get().to(root))
        .route(LOGIN_PATH, web::get().to(login_form))
        .route(LOGIN_PATH, web::post().to(login))
        .route("/salir", web::get().to(logout))
        // The contract's logout too: the soak driver's reaper uses it.
        .route("/logout", web::get().to(logout))
        .route(ORDERS_PATH, web::get().to(orders))
        .route("/pedidos/exportaciones", web::post().to(start_export))
        .route("/pedidos/exportaciones/{job}", web::get().to(export_state))
        .route(
            "/pedidos/exportaciones/{job}/archivo",
            web::get().to(export_file),
        )
        .route("/pedidos/{id}", web::get().to(order_page))
        .route("/pedidos/{id}/novedad", web::post().to(report));
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn root() -> HttpResponse {
    see_other(ORDERS_PATH)
}

async fn login_form() -> HttpResponse {
    html::ok(pages::login_page(None, ""))
}

/// Missing fields are wrong credentials, as on the contract's pages.
#[derive(Debug, Deserialize)]
struct LoginForm {
    usuario: Option<String>,
    clave: Option<String>,
}

async fn login(sim: web::Data<Sim>, form: web::Form<LoginForm>) -> HttpResponse {
    let email = form.usuario.as_deref().unwrap_or("").trim();
    let password = form.clave.as_deref().unwrap_or("");
    let roll: f64 = rand::thread_rng().gen();
    match sim.with(|s| s.log_in(email, password, roll, Instant::now())) {
        LoginOutcome::Success { token, email } => {
            info!(%email, "login (alt)");
            let cookie = Cookie::build(SESSION_COOKIE, token)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .finish();
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, ORDERS_PATH))
                .cookie(cookie)
                .finish()
        }
        LoginOutcome::InvalidCredentials => html::ok(pages::login_page(
            Some("Usuario o clave incorrectos"),
            email,
        )),
        LoginOutcome::Blocked => html::ok(pages::login_page(
            Some("Usuario suspendido. Comuníquese con su asesor."),
            email,
        )),
    }
}

async fn logout(sim: web::Data<Sim>, req: HttpRequest) -> HttpResponse {
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        sim.with(|s| s.log_out(cookie.value()));
    }
    let mut expired = Cookie::build(SESSION_COOKIE, "").path("/").finish();
    expired.make_removal();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, LOGIN_PATH))
        .cookie(expired)
        .finish()
}

#[derive(Debug, Deserialize)]
struct OrdersQuery {
    page: Option<usize>,
    exportacion: Option<u64>,
}

/// One page of the list; a page past the last shows the last one.
async fn orders(
    sim: web::Data<Sim>,
    user: LoggedIn,
    query: web::Query<OrdersQuery>,
) -> HttpResponse {
    let page = sim.with(|s| {
        let all: Vec<&Order> = s.orders_of(&user.email).collect();
        let page_count = all.len().div_ceil(PAGE_SIZE).max(1);
        let n = query.page.unwrap_or(1).clamp(1, page_count);
        let shown: Vec<&Order> = all
            .iter()
            .skip((n - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .copied()
            .collect();
        let export = match query.exportacion {
            None => ExportShown::None,
            Some(id) => match s.export_jobs.state(id, &user.email, Instant::now()) {
                Some(ExportJobState::Building) => ExportShown::Building(id),
                Some(ExportJobState::Ready) => ExportShown::Ready(id),
                None => ExportShown::Gone,
            },
        };
        pages::orders_page(&user.email, &shown, n, page_count, all.len(), export)
    });
    html::ok(page)
}

async fn start_export(sim: web::Data<Sim>, user: LoggedIn) -> HttpResponse {
    let id = sim.with(|s| s.export_jobs.start(&user.email, Instant::now()));
    info!(email = %user.email, job = id, "export asked for (alt)");
    see_other(&format!("{ORDERS_PATH}?exportacion={id}"))
}

/// Polled by the orders page while the export is being built.
async fn export_state(
    sim: web::Data<Sim>,
    user: LoggedIn,
    job: web::Path<u64>,
) -> Result<HttpResponse, PageError> {
    let id = job.into_inner();
    let state = sim
        .with(|s| s.export_jobs.state(id, &user.email, Instant::now()))
        .ok_or(PageError::NotFound)?;
    Ok(HttpResponse::Ok().json(match state {
        ExportJobState::Building => json!({ "estado": "generando" }),
        ExportJobState::Ready => json!({ "estado": "lista", "archivo": pages::file_path(id) }),
    }))
}

async fn export_file(
    sim: web::Data<Sim>,
    user: LoggedIn,
    job: web::Path<u64>,
) -> Result<HttpResponse, PageError> {
    let id = job.into_inner();
    let (state, day, orders): (_, _, Vec<Order>) = sim.with(|s| {
        (
            s.export_jobs.state(id, &user.email, Instant::now()),
            s.day,
            s.orders_of(&user.email).cloned().collect(),
        )
    });
    match state.ok_or(PageError::NotFound)? {
        ExportJobState::Building => {
            return Ok(html::respond(
                StatusCode::CONFLICT,
                html::message_page("Exportación en curso", "La exportación aún no está lista."),
            ))
        }
        ExportJobState::Ready => {}
    }
    let bytes = export::workbook(&super::EXPORT, orders.iter()).map_err(|e| {
        error!(error = %e, "xlsx export failed");
        PageError::Internal(e.to_string())
    })?;
    sim.with(|s| s.stats.exports += 1);
    info!(email = %user.email, rows = orders.len(), %day, "export (alt)");
    Ok(HttpResponse::Ok()
        .content_type(export::CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"pedidos_{}.xlsx\"",
                day.format("%Y%m%d")
            ),
        ))
        .body(bytes))
}

/// Another account's order answers exactly like a missing one.
fn own_order<'a>(s: &'a SimState, email: &str, raw_id: &str) -> Result<&'a Order, PageError> {
    let id: u64 = raw_id.parse().map_err(|_| PageError::NotFound)?;
    s.orders
        .get(&id)
        .filter(|o| o.account == email)
        .ok_or(PageError::NotFound)
}

async fn order_page(
    sim: web::Data<Sim>,
    user: LoggedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let page = sim.with(|s| {
        let order = own_order(s, &user.email, &path)?;
        let page = pages::order_page(&user.email, order, s.reports.ticket_for(s.day, order.id));
        s.stats.order_views += 1;
        Ok::<_, PageError>(page)
    })?;
    Ok(html::ok(page))
}

#[derive(Debug, Deserialize)]
struct ReportForm {
    motivo: Option<String>,
    detalle: Option<String>,
}

fn validate(form: &ReportForm) -> Result<(&str, &str), PageError> {
    let reason = form.motivo.as_deref().map(str::trim).unwrap_or("");
    if !REPORT_REASONS.iter().any(|(value, _)| *value == reason) {
        return Err(PageError::BadRequest("Seleccione un motivo válido."));
    }
    let message = form.detalle.as_deref().map(str::trim).unwrap_or("");
    if message.is_empty() {
        return Err(PageError::BadRequest("El detalle es obligatorio."));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(PageError::BadRequest("El detalle es demasiado largo."));
    }
    Ok((reason, message))
}

async fn report(
    sim: web::Data<Sim>,
    user: LoggedIn,
    path: web::Path<String>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, PageError> {
    let (id, filing) = sim.with(|s| {
        let id = own_order(s, &user.email, &path)?.id;
        let (reason, message) = validate(&form)?;
        let filing = s.reports.file(&user.email, id, s.day, reason, message);
        match filing {
            Filing::Created { .. } => s.stats.reports += 1,
            Filing::AlreadyReported { .. } => s.stats.duplicate_reports += 1,
        }
        Ok::<_, PageError>((id, filing))
    })?;
    Ok(match filing {
        Filing::Created { ticket } => {
            info!(email = %user.email, order_id = id, %ticket, "report filed (alt)");
            html::ok(pages::report_ok_page(&user.email, id, &ticket))
        }
        Filing::AlreadyReported { ticket } => {
            info!(email = %user.email, order_id = id, %ticket, "duplicate report (alt)");
            html::respond(
                StatusCode::CONFLICT,
                pages::already_reported_page(&user.email, id, &ticket),
            )
        }
    })
}
