//! The web UI served by the API itself: the customer's page and the
//! operators' console, server-rendered shells (askama) whose small vanilla
//! scripts call the JSON API with the session cookie. Every asset is
//! embedded in the binary, so the UI works with no internet.

pub mod assets;
pub mod pages;
pub mod session;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::root))
        .service(
            web::resource("/login")
                .route(web::get().to(pages::login_form))
                .route(web::post().to(pages::login_submit)),
        )
        .route("/logout", web::post().to(pages::logout))
        .route("/app", web::get().to(pages::customer_page))
        .route("/admin", web::get().to(pages::console_page))
        .route("/static/{name}", web::get().to(assets::serve));
}
