//! Turns every framework-level rejection (bad JSON, wrong types, unknown
//! fields, oversized bodies, unknown routes and methods) into the same
//! `{"code","detail"}` JSON as handler errors: never an HTML or empty body.

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("El cuerpo de la petición supera el límite de {limit} bytes"),
        ),
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Envía el cuerpo como JSON (Content-Type: application/json)",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            ApiError::bad_request("invalid_body", format!("Datos inválidos: {e}"))
        }
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request("malformed_json", format!("JSON mal formado: {e}"))
        }
        other => ApiError::bad_request("invalid_body", format!("Cuerpo inválido: {other}")),
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, _req| {
        ApiError::not_found("not_found", "Identificador inválido o inexistente").into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        ApiError::bad_request(
            "invalid_query",
            format!("Parámetros de consulta inválidos: {err}"),
        )
        .into()
    })
}

/// Unknown paths: JSON for the API and programs; a page for a person's
/// browser that asked for HTML outside `/api`.
pub async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !req.path().starts_with("/api") {
        return crate::ui::pages::not_found_page();
    }
    Err(ApiError::not_found(
        "not_found",
        format!("No existe la ruta {} {}", req.method(), req.path()),
    ))
}

/// JSON errors, and the web UI's own HTML error pages, are left as they are.
fn has_own_body(res: &actix_web::HttpResponse<impl Sized>) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/json") || v.starts_with(b"text/html")
    })
}

/// Error responses built by actix itself (405, 413 from the payload limit…)
/// have no JSON body; give them one.
pub fn ensure_json_body<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if has_own_body(res.response()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::not_found("not_found", "Ruta no encontrada"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "Método no permitido en esta ruta",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "El cuerpo de la petición es demasiado grande",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "Tipo de contenido no admitido en esta ruta (Content-Type)",
        ),
        s if s.is_server_error() => ApiError::new(
            s,
            "internal",
            "Error interno; inténtalo de nuevo en un momento",
        ),
        s => ApiError::new(
            s,
            "bad_request",
            s.canonical_reason()
                .unwrap_or("Petición inválida")
                .to_string(),
        ),
    };
    // 405 keeps the Allow header actix computed from the resource's routes.
    let allow = res.headers().get(header::ALLOW).cloned();
    let (req, _) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    if let Some(allow) = allow {
        builder.insert_header((header::ALLOW, allow));
    }
    let response: HttpResponse<EitherBody<B>> = builder.json(err.body()).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        req, response,
    )))
}
