//! The order page and the "no movement" report.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use tracing::info;

use super::session_guard::LoggedIn;
use crate::error::PageError;
use crate::html;
use crate::model::Order;
use crate::state::{Filing, Sim, SimState};

const MAX_MESSAGE_CHARS: usize = 2000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders/{id}", web::get().to(order_page))
        .route("/orders/{id}/report", web::post().to(report));
}

#[derive(Debug, Deserialize)]
struct ReportForm {
    reason: Option<String>,
    message: Option<String>,
}

async fn order_page(
    sim: web::Data<Sim>,
    user: LoggedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let page = sim.with(|s| {
        let order = own_order(s, &user.email, id)?;
        let page = html::order_page(order, s.reports.ticket_for(s.day, id));
        s.stats.order_views += 1;
        Ok::<_, PageError>(page)
    })?;
    Ok(html::ok(page))
}

async fn report(
    sim: web::Data<Sim>,
    user: LoggedIn,
    path: web::Path<String>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let filing = sim.with(|s| {
        own_order(s, &user.email, id)?;
        let (reason, message) = validate(&form)?;
        let filing = s.reports.file(&user.email, id, s.day, reason, message);
        match filing {
            Filing::Created { .. } => s.stats.reports += 1,
            Filing::AlreadyReported { .. } => s.stats.duplicate_reports += 1,
        }
        Ok::<_, PageError>(filing)
    })?;
    Ok(match filing {
        Filing::Created { ticket } => {
            info!(email = %user.email, order_id = id, %ticket, "report filed");
            html::ok(html::report_ok_page(id, &ticket))
        }
        Filing::AlreadyReported { ticket } => {
            info!(email = %user.email, order_id = id, %ticket, "duplicate report");
            html::respond(
                StatusCode::CONFLICT,
                html::already_reported_page(id, &ticket),
            )
        }
    })
}

/// Non-numeric ids are unknown orders, not malformed requests.
fn parse_id(raw: &str) -> Result<u64, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// Another account's order answers exactly like a missing one.
fn own_order<'a>(s: &'a SimState, email: &str, id: u64) -> Result<&'a Order, PageError> {
    s.orders
        .get(&id)
        .filter(|o| o.account == email)
        .ok_or(PageError::NotFound)
}

fn validate(form: &ReportForm) -> Result<(&str, &str), PageError> {
    let reason = form.reason.as_deref().map(str::trim).unwrap_or("");
    if !html::REPORT_REASONS
        .iter()
        .any(|(value, _)| *value == reason)
    {
        return Err(PageError::BadRequest("Seleccione un motivo válido."));
    }
    let message = form.message.as_deref().map(str::trim).unwrap_or("");
    if message.is_empty() {
        return Err(PageError::BadRequest("El mensaje es obligatorio."));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(PageError::BadRequest("El mensaje es demasiado largo."));
    }
    Ok((reason, message))
}
