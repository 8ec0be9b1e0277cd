//! URL map: the portal pages (with injected faults) and the `/_sim/` API.

mod auth;
mod fault_injection;
mod order;
mod orders;
pub(crate) mod session_guard;
mod sim_api;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::config::Layout;

/// Name of the session cookie set at login.
pub const SESSION_COOKIE: &str = "portal_session";

/// The portal pages of `layout` and the `/_sim/` API (the same for every
/// layout).
pub fn configure(cfg: &mut web::ServiceConfig, layout: Layout) {
    // `/_sim/` first: the empty-prefix portal scope would match it too, and
    // faults must never reach the control API.
    cfg.service(web::scope("/_sim").configure(sim_api::configure));
    let pages = web::scope("").wrap(from_fn(fault_injection::inject_faults));
    cfg.service(match layout {
        Layout::Classic => pages
            .configure(auth::configure)
            .configure(orders::configure)
            .configure(order::configure),
        Layout::Alt => pages.configure(crate::alt::configure),
    });
}
