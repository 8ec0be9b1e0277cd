//! The orders list and its xlsx export.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use tracing::{error, info};

use super::session_guard::LoggedIn;
use crate::error::PageError;
use crate::export;
use crate::html;
use crate::model::Order;
use crate::state::Sim;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The export path before `/orders/{id}` (registered elsewhere) so it is
    // never taken for an order id.
    cfg.route("/orders", web::get().to(orders))
        .route("/orders/export.xlsx", web::get().to(export_xlsx));
}

async fn orders(sim: web::Data<Sim>, user: LoggedIn) -> HttpResponse {
    let page = sim.with(|s| html::orders_page(&user.email, s.orders_of(&user.email)));
    html::ok(page)
}

async fn export_xlsx(sim: web::Data<Sim>, user: LoggedIn) -> Result<HttpResponse, PageError> {
    // Copy out and build the workbook without holding the lock.
    let (day, orders): (_, Vec<Order>) =
        sim.with(|s| (s.day, s.orders_of(&user.email).cloned().collect()));
    let bytes = export::orders_workbook(orders.iter()).map_err(|e| {
        error!(error = %e, "xlsx export failed");
        PageError::Internal(e.to_string())
    })?;
    sim.with(|s| s.stats.exports += 1);
    info!(email = %user.email, rows = orders.len(), %day, "export");
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!(
            "ordenes_{}.xlsx",
            day.format("%Y-%m-%d")
        ))],
    };
    Ok(HttpResponse::Ok()
        .content_type(export::CONTENT_TYPE)
        .insert_header(disposition)
        .body(bytes))
}
