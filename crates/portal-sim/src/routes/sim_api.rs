//! `/_sim/`: the control and measurement API of the simulator (JSON).

use actix_web::{error, web, HttpResponse};
use serde_json::json;
use tracing::info;

use crate::state::{FaultsUpdate, Sim, StatsView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|err, _| {
        let body = json!({ "error": err.to_string() });
        error::InternalError::from_response(err, HttpResponse::BadRequest().json(body)).into()
    }))
    .route("/state", web::get().to(state))
    .route("/advance-day", web::post().to(advance_day))
    .route("/reports", web::get().to(reports))
    .route("/stats", web::get().to(stats))
    .route("/faults", web::get().to(faults))
    .route("/faults", web::post().to(set_faults))
    .route("/accounts", web::get().to(accounts))
    .route("/export/{account}", web::get().to(export));
}

async fn state(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.with(|s| s.summary()))
}

/// Answers the state after the move, so callers learn the new day.
async fn advance_day(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.with(|s| {
        s.advance_day();
        s.summary()
    }))
}

async fn reports(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.with(|s| s.reports.all().to_vec()))
}

async fn stats(sim: web::Data<Sim>) -> HttpResponse {
    let view = sim.with(|s| StatsView {
        counters: s.stats.clone(),
        active_sessions: s.sessions.active(std::time::Instant::now()),
    });
    HttpResponse::Ok().json(view)
}

async fn faults(sim: web::Data<Sim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.with(|s| s.faults.clone()))
}

/// Fields present are set, omitted ones are left as they were; answers the
/// faults now in force.
async fn set_faults(sim: web::Data<Sim>, update: web::Json<FaultsUpdate>) -> HttpResponse {
    let update = update.into_inner();
    if let Err(reason) = update.validate() {
        return HttpResponse::BadRequest().json(json!({ "error": reason }));
    }
    let faults = sim.with(|s| {
        s.faults.apply(update);
        s.faults.clone()
    });
    info!(?faults, "faults changed");
    HttpResponse::Ok().json(faults)
}

/// The configured credentials, so scripts need not repeat the account scheme.
async fn accounts(sim: web::Data<Sim>) -> HttpResponse {
    let list: Vec<_> = sim.with(|s| {
        s.accounts
            .iter()
            .map(|a| json!({ "email": a.email, "password": a.password }))
            .collect()
    });
    HttpResponse::Ok().json(list)
}

/// The ground truth of an account's orders, in export order.
async fn export(sim: web::Data<Sim>, account: web::Path<String>) -> HttpResponse {
    let orders = sim.with(|s| {
        let email = s.account(&account)?.email.clone();
        Some(s.orders_of(&email).cloned().collect::<Vec<_>>())
    });
    match orders {
        Some(orders) => HttpResponse::Ok().json(orders),
        None => HttpResponse::NotFound().json(json!({ "error": "unknown account" })),
    }
}
