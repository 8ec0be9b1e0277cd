//! HTTP handlers, one file per resource.

pub mod account;
pub mod admin;
pub mod console;
pub mod dashboard;
pub mod docs;
pub mod health;
pub mod metrics;
pub mod operations;
pub mod reservations;
pub mod runs;
pub mod schedule;
pub mod slots;

use actix_web::web;

/// Paths are registered without the trailing slash; `NormalizePath` trims
/// it, so `/api/reporter/slots/` (old clients) and `/api/reporter/slots` both work.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics::render));
    crate::ui::configure(cfg);
    cfg.service(
        web::scope("/api")
            .route("/auth/login", web::post().to(account::login))
            .route("/auth/logout", web::post().to(account::logout))
            .route("/me", web::get().to(account::me))
            .route(
                "/me/portal-credentials",
                web::put().to(account::set_portal_credentials),
            )
            .route("/reporter/slots", web::get().to(slots::list))
            .route("/reporter/config", web::get().to(slots::reporter_config))
            .service(
                web::resource("/reporter/reservations")
                    .route(web::get().to(reservations::get))
                    .route(web::post().to(reservations::create))
                    .route(web::patch().to(reservations::change))
                    .route(web::delete().to(reservations::delete)),
            )
            .route("/reporter/summary", web::get().to(dashboard::summary))
            .route("/reporter/runs", web::get().to(runs::list))
            .route(
                "/reporter/runs/{id}/reports",
                web::get().to(dashboard::reports),
            )
            .route(
                "/reporter/runs/{id}/progress",
                web::get().to(runs::progress),
            )
            .service(
                web::resource("/reporter/admin/config")
                    .route(web::get().to(admin::get_config))
                    .route(web::patch().to(admin::change_config)),
            )
            .route("/reporter/admin/slots", web::get().to(admin::list_slots))
            .route(
                "/reporter/admin/slots/{id}",
                web::patch().to(admin::change_slot),
            )
            .route(
                "/reporter/admin/reservations",
                web::get().to(admin::list_reservations),
            )
            .route(
                "/reporter/admin/trigger-slot",
                web::post().to(operations::trigger_slot),
            )
            .route(
                "/reporter/admin/ranges/{id}/retry",
                web::post().to(operations::retry_range),
            )
            .route("/reporter/admin/queues", web::get().to(operations::queues))
            .route(
                "/reporter/admin/semaphore",
                web::get().to(operations::semaphore),
            )
            .route(
                "/reporter/admin/semaphore/reset",
                web::post().to(operations::reset_semaphore),
            )
            .route("/reporter/admin/runs", web::get().to(console::day_runs))
            .route(
                "/reporter/admin/failed-ranges",
                web::get().to(console::failed_ranges),
            )
            .route(
                "/reporter/admin/ranges/{id}/screenshot",
                web::get().to(console::range_screenshot),
            )
            .route("/reporter/admin/activity", web::get().to(console::activity))
            .route(
                "/reporter/admin/schedule",
                web::get().to(schedule::overview),
            )
            .route(
                "/reporter/admin/schedule/pause",
                web::post().to(schedule::pause),
            )
            .route(
                "/reporter/admin/schedule/resume",
                web::post().to(schedule::resume),
            )
            .route(
                "/reporter/admin/schedule/backfill",
                web::post().to(schedule::backfill),
            )
            .route(
                "/reporter/admin/workers",
                web::get().to(operations::workers),
            )
            .route("/v1/healthz", web::get().to(health::healthz))
            .route("/v1/livez", web::get().to(health::livez))
            .route("/v1/readyz", web::get().to(health::readyz))
            .route("/openapi.json", web::get().to(docs::openapi_json))
            .route("/docs", web::get().to(docs::docs_page)),
    );
}
