use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    account, admin, console, dashboard, exports, health, history, operations, portal_check,
    reservations, runs, schedule, slots,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Reporter API", description = "Hour reservations and run progress for the Reporter bot."),
    paths(
        account::login, account::logout, account::me, account::set_portal_credentials,
        slots::list, slots::reporter_config,
        reservations::get, reservations::create, reservations::change, reservations::delete,
        runs::list, runs::progress, dashboard::summary, dashboard::reports,
        exports::run_export, exports::range_export, history::history,
        admin::get_config, admin::change_config, admin::list_slots, admin::change_slot, admin::list_reservations,
        operations::trigger_slot, operations::retry_range, operations::queues, operations::semaphore,
        operations::reset_semaphore, operations::workers,
        portal_check::start, portal_check::show,
        schedule::overview, schedule::pause, schedule::resume, schedule::backfill,
        console::day_runs, console::failed_ranges, console::range_screenshot, console::activity,
        console::plan,
        health::healthz, health::livez, health::readyz,
    ),
    // Query parameters name these by reference without registering them.
    components(schemas(exports::ExportFormat)),
    modifiers(&TokenAuth, &EdgeResponses),
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

/// What the edge answers on every route, documented on every operation
/// (schemathesis checks that each status is documented): 400 for the input
/// rules (crate::input), 401/403 for authentication, 404 for a path id that
/// does not parse, 413/415 for bodies, 503 when PostgreSQL or Redis is
/// unavailable. Request bodies admit no unknown fields and no text field or
/// query parameter admits control characters; the schema says so.
struct EdgeResponses;

/// No control characters (`char::is_control`: C0, DEL and C1).
pub const NO_CONTROL_PATTERN: &str = "^[^\\x00-\\x1F\\x7F-\\x9F]*$";

fn error_response(description: &str) -> serde_json::Value {
    serde_json::json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    })
}

fn add_response(responses: &mut serde_json::Value, status: &str, description: &str) {
    if let Some(map) = responses.as_object_mut() {
        map.entry(status)
            .or_insert_with(|| error_response(description));
    }
}

/// A string without a format (not a date or a date-time) gets the pattern.
fn forbid_control(schema: &mut serde_json::Value) {
    let is_string = match &schema["type"] {
        serde_json::Value::String(t) => t == "string",
        serde_json::Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string && schema.get("format").is_none() && schema.get("pattern").is_none() {
        schema["pattern"] = NO_CONTROL_PATTERN.into();
    }
}

fn edge_rules(doc: &mut serde_json::Value) {
    let mut bodies = Vec::new();
    for (path, item) in doc["paths"].as_object_mut().into_iter().flatten() {
        for (method, op) in item.as_object_mut().into_iter().flatten() {
            let has_body = op.get("requestBody").is_some();
            if let Some(name) = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.rsplit('/').next())
            {
                bodies.push(name.to_string());
            }
            let mut path_id = false;
            for p in op["parameters"].as_array_mut().into_iter().flatten() {
                path_id |= p["in"] == "path";
                forbid_control(&mut p["schema"]);
            }
            let secured = op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| !s.is_empty());
            let r = &mut op["responses"];
            add_response(
                r,
                "400",
                "`invalid_characters` (a control character in a text field or the query string), \
                 `invalid_query`, `invalid_body` (not a JSON object, wrong types, unknown fields), \
                 `malformed_json`, or a field rule",
            );
            if has_body {
                add_response(r, "413", "`payload_too_large`: over 16 KB");
                add_response(
                    r,
                    "415",
                    "`unsupported_media_type`: send `Content-Type: application/json`",
                );
            }
            if path_id {
                add_response(r, "404", "`not_found`: no such id");
            }
            if secured {
                add_response(
                    r,
                    "401",
                    "`not_authenticated` or `token_expired`: no valid token",
                );
                if path.starts_with("/api/reporter/admin/") || method != "get" {
                    add_response(
                        r,
                        "403",
                        "`forbidden` (admins only) or `csrf_failed` (session cookie without `X-CSRF-Token`)",
                    );
                }
            }
            if path != "/api/v1/livez" {
                add_response(
                    r,
                    "503",
                    "`unavailable`: PostgreSQL or Redis does not answer",
                );
            }
        }
    }
    for name in bodies {
        let schema = &mut doc["components"]["schemas"][name.as_str()];
        if !schema.is_object() {
            continue;
        }
        schema["additionalProperties"] = false.into();
        for (_, prop) in schema["properties"].as_object_mut().into_iter().flatten() {
            forbid_control(prop);
        }
    }
}

impl Modify for EdgeResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        edge_rules(&mut doc);
        if let Ok(done) = serde_json::from_value(doc) {
            *openapi = done;
        }
    }
}
