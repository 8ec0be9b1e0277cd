//! `reporter-api`: the HTTP API customers and operators call.

pub mod auth;
pub mod auth_cache;
pub mod earlier_reports;
pub mod edge;
pub mod error;
pub mod finished_reports;
pub mod hourly_reports;
pub mod input;
pub mod json_errors;
pub mod login_guard;
pub mod openapi;
pub mod routes;
pub mod shutdown;
pub mod slot_snapshot;
pub mod state;
pub mod ui;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};
use reporter_core::config::Settings;

pub use state::AppState;

/// Largest request body accepted; reservation bodies are a few dozen bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Builds the server on an already bound listener (port 0 in tests).
pub fn serve(
    state: AppState,
    listener: TcpListener,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    // Install the recorder before the first request is counted.
    reporter_core::metrics::recorder();
    let shutdown_timeout = state.settings.api_shutdown_secs;
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(json_errors::json_config(MAX_BODY_BYTES))
            .app_data(json_errors::path_config())
            .app_data(json_errors::query_config())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .wrap(actix_web::middleware::from_fn(input::check))
            .wrap(ErrorHandlers::new().default_handler(json_errors::ensure_json_body))
            .wrap(actix_web::middleware::from_fn(edge::edge))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(actix_web::middleware::from_fn(routes::metrics::record))
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(routes::configure)
            .default_service(web::to(json_errors::route_not_found))
    })
    .listen(listener)?
    // Signals are handled by `shutdown::on_signal` (drain first, then stop).
    .disable_signals()
    .shutdown_timeout(shutdown_timeout);
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// Creates the shared state: a lazily connecting pool (so the API starts
/// and reports unhealthy instead of crash-looping while PostgreSQL is down).
pub fn build_state(settings: Settings) -> AppState {
    let pool = reporter_core::db::build_pool_lazy(settings.database_url(), settings.db_pool_size);
    AppState::new(settings, pool)
}
