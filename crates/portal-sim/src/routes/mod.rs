//! URL map: the portal pages (with injected faults) and the `/_sim/` API.

mod auth;
mod fault_injection;
mod order;
mod orders;
mod session_guard;
mod sim_api;

use actix_web::middleware::from_fn;
use actix_web::web;

/// Name of the session cookie set at login.
pub const SESSION_COOKIE: &str = "portal_session";

pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/_sim/` first: the empty-prefix portal scope would match it too, and
    // faults must never reach the control API.
    cfg.service(web::scope("/_sim").configure(sim_api::configure))
        .service(
            web::scope("")
                .wrap(from_fn(fault_injection::inject_faults))
                .configure(auth::configure)
                .configure(orders::configure)
                .configure(order::configure),
        );
}
