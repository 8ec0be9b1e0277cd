//! Input rules, in one place. Every request passes [`check`] before it is
//! routed: query parameters and JSON bodies may not carry control
//! characters (PostgreSQL rejects NUL, and none of them belong in an email,
//! a filter or a note), and a JSON body must be an object. Handlers add the
//! per-field rules with [`text`] (length limits that name the limit) and
//! [`admin_date`] / [`past_date`] (dates within a year of today). HTML forms
//! call [`text`] themselves so they can answer with their own page.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{HttpMessage, ResponseError};
use chrono::NaiveDate;
use futures::StreamExt;
use serde_json::Value;

use crate::error::ApiError;

/// How far from today (in days) an admin may look at or act on a date.
pub const DATE_RANGE_DAYS: i64 = 366;

/// `invalid_characters`: the field (or parameter) carries a control character.
pub fn control_characters(field: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_characters",
        format!(
            "«{field}» contiene caracteres de control (por ejemplo NUL o saltos de línea), que no se admiten"
        ),
    )
}

/// Whether the text has a control character (NUL, newlines, escapes…).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// One text field: no control characters and at most `max` characters.
/// `code` is the field's own error code for the length, e.g.
/// `invalid_portal_password`; the detail names the limit.
pub fn text(field: &str, value: &str, max: usize, code: &'static str) -> Result<(), ApiError> {
    if has_control(value) {
        return Err(control_characters(field));
    }
    let n = value.chars().count();
    if n > max {
        return Err(ApiError::bad_request(
            code,
            format!("«{field}» admite como máximo {max} caracteres (tiene {n})"),
        ));
    }
    Ok(())
}

fn date_out_of_range(from: NaiveDate, to: NaiveDate) -> ApiError {
    ApiError::bad_request(
        "date_out_of_range",
        format!("La fecha debe estar entre {from} y {to}"),
    )
}

/// A date an admin looks at: within [`DATE_RANGE_DAYS`] of today.
pub fn admin_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    let span = chrono::Duration::days(DATE_RANGE_DAYS);
    let (from, to) = (today - span, today + span);
    if date < from || date > to {
        return Err(date_out_of_range(from, to));
    }
    Ok(date)
}

/// A date an admin acts on (trigger, backfill): from [`DATE_RANGE_DAYS`]
/// ago to today, never a future day.
pub fn past_date(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    let from = today - chrono::Duration::days(DATE_RANGE_DAYS);
    if date < from || date > today {
        return Err(date_out_of_range(from, today));
    }
    Ok(date)
}

/// The first string (key or value) with a control character, as a path
/// like `email` or `items[2].note`.
fn control_in(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::String(s) => has_control(s).then(|| path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_in(x, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if has_control(k) {
                Some(p.chars().filter(|c| !c.is_control()).collect())
            } else {
                control_in(x, &p)
            }
        }),
        _ => None,
    }
}

/// JSON does not tell `129` from `129.0` (JSON Schema calls both an
/// integer); the handlers' integer fields do. Integral floats become
/// integers; `12.5` stays a float and is refused by the field.
fn integral_floats_to_integers(v: &mut Value) -> bool {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Exactly representable integers only (|f| < 2^53).
            if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
                *v = Value::from(f as i64);
                true
            } else {
                false
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, x| integral_floats_to_integers(x) | acc),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |acc, x| integral_floats_to_integers(x) | acc),
        _ => false,
    }
}

/// The rules on a JSON body: an object, without control characters.
/// Returns the body to pass on when it had to be rewritten (integral
/// floats). A body that is not JSON at all is left to the extractor
/// (`malformed_json`).
pub fn check_json_body(body: &[u8]) -> Result<Option<Vec<u8>>, ApiError> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "El cuerpo debe ser un objeto JSON ({...})",
        ));
    }
    if let Some(field) = control_in(&v, "") {
        return Err(control_characters(&field));
    }
    if integral_floats_to_integers(&mut v) {
        return Ok(Some(serde_json::to_vec(&v).map_err(ApiError::internal)?));
    }
    Ok(None)
}

/// The rules on a query string: no control characters in names or values.
/// A string that does not decode is left to the extractor (`invalid_query`).
pub fn check_query(query: &str) -> Result<(), ApiError> {
    if query.is_empty() {
        return Ok(());
    }
    let Ok(pairs) = actix_web::web::Query::<Vec<(String, String)>>::from_query(query) else {
        return Ok(());
    };
    for (k, v) in pairs.iter() {
        if has_control(k) || has_control(v) {
            let name: String = k.chars().filter(|c| !c.is_control()).collect();
            return Err(control_characters(&name));
        }
    }
    Ok(())
}

fn is_json(req: &ServiceRequest) -> bool {
    req.mime_type().ok().flatten().is_some_and(|m| {
        m.subtype().as_str() == "json" || m.suffix().is_some_and(|s| s.as_str() == "json")
    })
}

/// Reads the whole body, at most `limit` bytes (else 413).
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("El cuerpo de la petición supera el límite de {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request("invalid_body", format!("Cuerpo inválido: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The middleware: query and JSON-body rules for every route.
pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Err(e) = check_query(req.query_string()) {
        return Ok(req.into_response(e.error_response()).map_into_right_body());
    }
    if is_json(&req) {
        let body = match read_body(&mut req, crate::MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(e) => return Ok(req.into_response(e.error_response()).map_into_right_body()),
        };
        let body = match check_json_body(&body) {
            Ok(Some(rewritten)) => Bytes::from(rewritten),
            Ok(None) => body,
            Err(e) => return Ok(req.into_response(e.error_response()).map_into_right_body()),
        };
        // A rewritten body has another length than the one declared.
        req.headers_mut().insert(
            header::CONTENT_LENGTH,
            header::HeaderValue::from(body.len()),
        );
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_with_their_field() {
        assert_eq!(check_json_body(br#"{"email": "a@b.c"}"#).unwrap(), None);
        assert_eq!(
            check_json_body(br#"{"n": 129.0, "m": 12.5}"#)
                .unwrap()
                .unwrap(),
            br#"{"n":129,"m":12.5}"#.to_vec()
        );
        let e = check_json_body(br#"{"email": "a\u0000@b.c"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_characters");
        assert!(e.detail.contains("email"), "{}", e.detail);
        let e = check_json_body(br#"{"a": {"b": ["x", "y\n"]}}"#).unwrap_err();
        assert!(e.detail.contains("a.b[1]"), "{}", e.detail);
        assert_eq!(
            check_json_body(b"[null, 100]").unwrap_err().code,
            "invalid_body"
        );
        assert!(
            check_json_body(b"{not json").is_ok(),
            "left to the extractor"
        );
        assert_eq!(
            check_query("q=a%00b").unwrap_err().code,
            "invalid_characters"
        );
        assert!(check_query("q=%C3%B1and%C3%BA&status=ok").is_ok());
    }

    #[test]
    fn dates_stay_within_a_year() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert!(admin_date(today + chrono::Duration::days(30), today).is_ok());
        assert!(admin_date(NaiveDate::MIN, today).is_err());
        assert!(past_date(today, today).is_ok());
        assert!(past_date(today + chrono::Duration::days(1), today).is_err());
        assert_eq!(
            past_date(NaiveDate::MAX, today).unwrap_err().code,
            "date_out_of_range"
        );
    }

    #[test]
    fn text_names_the_limit() {
        let e = text("password", &"x".repeat(300), 256, "invalid_portal_password").unwrap_err();
        assert_eq!(e.code, "invalid_portal_password");
        assert!(e.detail.contains("256"), "{}", e.detail);
        assert_eq!(
            text("email", "a\0", 10, "x").unwrap_err().code,
            "invalid_characters"
        );
    }
}
