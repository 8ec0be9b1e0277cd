//! The web UI served by the API itself: the customer's page and the
//! operators' console, server-rendered shells (askama) whose small vanilla
//! scripts call the JSON API with the session cookie. Every asset is
//! embedded in the binary, so the UI works with no internet.

pub mod assets;
pub mod pages;
pub mod session;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(pages::root)))
        .service(
            web::resource("/login")
                .route(web::get().to(pages::login_form))
                .route(web::post().to(pages::login_submit)),
        )
        .service(web::resource("/logout").route(web::post().to(pages::logout)))
        .service(web::resource("/app").route(web::get().to(pages::customer_page)))
        .service(web::resource("/admin").route(web::get().to(pages::console_page)))
        .service(web::resource("/static/{name}").route(web::get().to(assets::serve)));
}
