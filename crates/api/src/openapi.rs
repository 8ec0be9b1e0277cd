use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    account, admin, console, dashboard, health, operations, reservations, runs, schedule, slots,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Reporter API", description = "Hour reservations and run progress for the Reporter bot."),
    paths(
        account::login, account::logout, account::me, account::set_portal_credentials,
        slots::list, slots::reporter_config,
        reservations::get, reservations::create, reservations::change, reservations::delete,
        runs::list, runs::progress, dashboard::summary, dashboard::reports,
        admin::get_config, admin::change_config, admin::list_slots, admin::change_slot, admin::list_reservations,
        operations::trigger_slot, operations::retry_range, operations::queues, operations::semaphore,
        operations::reset_semaphore, operations::workers,
        schedule::overview, schedule::pause, schedule::resume, schedule::backfill,
        console::day_runs, console::failed_ranges, console::range_screenshot, console::activity,
        health::healthz, health::livez, health::readyz,
    ),
    modifiers(&TokenAuth),
    tags((name = "auth"), (name = "reporter"), (name = "runs"), (name = "admin"), (name = "health"))
)]
pub struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <token>` or `Bearer <token>`",
            ))),
        );
    }
}
