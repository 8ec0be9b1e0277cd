//! The browser's session: an API token in an HttpOnly, SameSite=Strict
//! cookie (script cannot read it), plus a CSRF token derived from it that
//! the pages embed and send back in `X-CSRF-Token` on every change.
//!
//! The CSRF token is a hash of the session token under its own label, so
//! nothing extra is stored and it dies with the session; a cross-site page
//! can neither read the cookie nor compute the hash.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "reporter_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Name of the hidden field that carries the CSRF token in HTML forms.
pub const CSRF_FIELD: &str = "csrf_token";
/// How long a browser session lasts without logging in again.
pub const SESSION_DAYS: i64 = 7;
/// The API token's name for browser sessions (`api_tokens.name`).
pub const TOKEN_NAME: &str = "web";

pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    let c = req.cookie(COOKIE)?;
    let v = c.value();
    (!v.is_empty() && v.len() <= 256).then(|| v.to_string())
}

pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"reporter-csrf\0");
    h.update(session_token.as_bytes());
    hex::encode(h.finalize())
}

pub fn csrf_matches(session_token: &str, sent: &str) -> bool {
    let expected = csrf_token(session_token);
    !sent.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// `Secure` whenever the browser reached us over HTTPS (directly or through
/// a proxy that says so), so plain-HTTP development still works.
fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

pub fn session_cookie(req: &HttpRequest, token: String) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req))
        .max_age(time::Duration::days(SESSION_DAYS))
        .finish()
}

pub fn expired_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(is_https(req))
        .finish();
    c.make_removal();
    c
}

/// A form post must come from our own pages: when the browser names the
/// origin, it must be one of `public_urls` (`REPORTER_PUBLIC_URLS`) or, when
/// none is configured, this request's own `Host` header. Forwarded headers
/// (`X-Forwarded-Host`, `Forwarded`) are never read: any client can send
/// them. (SameSite=Strict already keeps the cookie off cross-site posts;
/// this also covers the login form, which has none.)
pub fn same_origin(req: &HttpRequest, public_urls: &[String]) -> bool {
    let Some(origin) = req
        .headers()
        .get(actix_web::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let Some(origin) = reporter_core::config::normalize_origin(origin) else {
        return false;
    };
    if !public_urls.is_empty() {
        return public_urls.contains(&origin);
    }
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    host.is_some_and(|h| {
        origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(h.trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_bound_to_the_session() {
        let t = csrf_token("abc");
        assert_eq!(t.len(), 64);
        assert!(csrf_matches("abc", &t));
        assert!(!csrf_matches("abd", &t));
        assert!(!csrf_matches("abc", ""));
        assert!(!csrf_matches("abc", &t[..63]));
    }

    #[test]
    fn origin_must_be_this_host() {
        let req = actix_web::test::TestRequest::default()
            .insert_header(("host", "reporter.example:8080"))
            .insert_header(("origin", "http://reporter.example:8080"))
            .to_http_request();
        assert!(same_origin(&req, &[]));
        let evil = actix_web::test::TestRequest::default()
            .insert_header(("host", "reporter.example:8080"))
            .insert_header(("origin", "https://evil.example"))
            .to_http_request();
        assert!(!same_origin(&evil, &[]));
        let none = actix_web::test::TestRequest::default().to_http_request();
        assert!(same_origin(&none, &[]));
    }

    #[test]
    fn forwarded_host_headers_are_not_believed() {
        for (name, value) in [
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "host=evil.example;proto=https"),
        ] {
            let forged = actix_web::test::TestRequest::default()
                .insert_header(("host", "reporter.example"))
                .insert_header((name, value))
                .insert_header(("origin", "https://evil.example"))
                .to_http_request();
            assert!(!same_origin(&forged, &[]), "{name}");
        }
    }

    #[test]
    fn configured_public_urls_are_the_only_origins() {
        let public = vec!["https://reporter.example".to_string()];
        let ok = actix_web::test::TestRequest::default()
            .insert_header(("host", "10.0.0.5:8000"))
            .insert_header(("origin", "https://Reporter.example"))
            .to_http_request();
        assert!(same_origin(&ok, &public));
        let same_host_other_scheme = actix_web::test::TestRequest::default()
            .insert_header(("host", "reporter.example"))
            .insert_header(("origin", "http://reporter.example"))
            .to_http_request();
        assert!(!same_origin(&same_host_other_scheme, &public));
    }
}
