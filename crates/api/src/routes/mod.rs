//! HTTP handlers, one file per resource.

pub mod account;
pub mod admin;
pub mod console;
pub mod dashboard;
pub mod docs;
pub mod exports;
pub mod health;
pub mod history;
pub mod metrics;
pub mod operations;
pub mod portal_check;
pub mod reservations;
pub mod runs;
pub mod schedule;
pub mod slots;

use actix_web::web;

/// Paths are registered without the trailing slash; `NormalizePath` trims
/// it, so `/api/reporter/slots/` (old clients) and `/api/reporter/slots` both work.
/// Every path is a `web::resource`, so another method on it answers 405 with
/// `Allow` (a bare `.route()` would put the method guard on the path: 404).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics::render)));
    crate::ui::configure(cfg);
    cfg.service(
        web::scope("/api")
            .service(web::resource("/auth/login").route(web::post().to(account::login)))
            .service(web::resource("/auth/logout").route(web::post().to(account::logout)))
            .service(web::resource("/me").route(web::get().to(account::me)))
            .service(
                web::resource("/me/portal-credentials")
                    .route(web::put().to(account::set_portal_credentials)),
            )
            .service(web::resource("/reporter/slots").route(web::get().to(slots::list)))
            .service(web::resource("/reporter/config").route(web::get().to(slots::reporter_config)))
            .service(
                web::resource("/reporter/reservations")
                    .route(web::get().to(reservations::get))
                    .route(web::post().to(reservations::create))
                    .route(web::patch().to(reservations::change))
                    .route(web::delete().to(reservations::delete)),
            )
            .service(web::resource("/reporter/summary").route(web::get().to(dashboard::summary)))
            .service(web::resource("/reporter/runs").route(web::get().to(runs::list)))
            .service(
                web::resource("/reporter/runs/{id}/reports")
                    .route(web::get().to(dashboard::reports)),
            )
            .service(
                web::resource("/reporter/runs/{id}/progress").route(web::get().to(runs::progress)),
            )
            .service(
                web::resource("/reporter/runs/{id}/reports/export")
                    .route(web::get().to(exports::run_export)),
            )
            .service(
                web::resource("/reporter/reports/export")
                    .route(web::get().to(exports::range_export)),
            )
            .service(web::resource("/reporter/history").route(web::get().to(history::history)))
            .service(
                web::resource("/reporter/admin/config")
                    .route(web::get().to(admin::get_config))
                    .route(web::patch().to(admin::change_config)),
            )
            .service(web::resource("/reporter/admin/slots").route(web::get().to(admin::list_slots)))
            .service(
                web::resource("/reporter/admin/slots/{id}")
                    .route(web::patch().to(admin::change_slot)),
            )
            .service(
                web::resource("/reporter/admin/reservations")
                    .route(web::get().to(admin::list_reservations)),
            )
            .service(
                web::resource("/reporter/admin/portal-check")
                    .route(web::post().to(portal_check::start)),
            )
            .service(
                web::resource("/reporter/admin/portal-check/{id}")
                    .route(web::get().to(portal_check::show)),
            )
            .service(
                web::resource("/reporter/admin/trigger-slot")
                    .route(web::post().to(operations::trigger_slot)),
            )
            .service(
                web::resource("/reporter/admin/ranges/{id}/retry")
                    .route(web::post().to(operations::retry_range)),
            )
            .service(
                web::resource("/reporter/admin/queues").route(web::get().to(operations::queues)),
            )
            .service(
                web::resource("/reporter/admin/semaphore")
                    .route(web::get().to(operations::semaphore)),
            )
            .service(
                web::resource("/reporter/admin/semaphore/reset")
                    .route(web::post().to(operations::reset_semaphore)),
            )
            .service(web::resource("/reporter/admin/runs").route(web::get().to(console::day_runs)))
            .service(
                web::resource("/reporter/admin/failed-ranges")
                    .route(web::get().to(console::failed_ranges)),
            )
            .service(
                web::resource("/reporter/admin/ranges/{id}/screenshot")
                    .route(web::get().to(console::range_screenshot)),
            )
            .service(
                web::resource("/reporter/admin/activity").route(web::get().to(console::activity)),
            )
            .service(web::resource("/reporter/admin/plan").route(web::get().to(console::plan)))
            .service(
                web::resource("/reporter/admin/schedule").route(web::get().to(schedule::overview)),
            )
            .service(
                web::resource("/reporter/admin/schedule/pause")
                    .route(web::post().to(schedule::pause)),
            )
            .service(
                web::resource("/reporter/admin/schedule/resume")
                    .route(web::post().to(schedule::resume)),
            )
            .service(
                web::resource("/reporter/admin/schedule/backfill")
                    .route(web::post().to(schedule::backfill)),
            )
            .service(
                web::resource("/reporter/admin/workers").route(web::get().to(operations::workers)),
            )
            .service(web::resource("/v1/healthz").route(web::get().to(health::healthz)))
            .service(web::resource("/v1/livez").route(web::get().to(health::livez)))
            .service(web::resource("/v1/readyz").route(web::get().to(health::readyz)))
            .service(web::resource("/openapi.json").route(web::get().to(docs::openapi_json)))
            .service(web::resource("/docs").route(web::get().to(docs::docs_page))),
    );
}
