//! The HTTP edge, one middleware for every response kind: `HEAD` answered
//! wherever `GET` is (the body is dropped by the HTTP layer), and the
//! security headers: `nosniff` everywhere, `no-store` on JSON, and on HTML
//! (the pages and `/api/docs`) a Content-Security-Policy that forbids
//! framing. Headers a handler set itself (e.g. an image's cache policy) are
//! kept.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;

/// The pages: scripts and styles from this origin only, no inline script,
/// no framing.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; \
     base-uri 'none'";

/// `/api/docs`: one self-contained page with an inline stylesheet and no
/// script at all.
pub const DOCS_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     frame-ancestors 'none'; form-action 'none'; base-uri 'none'";

/// What the response is, as far as its headers go.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Json,
    Html,
    Other,
}

fn kind(res: &ServiceResponse<impl MessageBody>) -> Kind {
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map_or(&b""[..], |v| v.as_bytes());
    if ct.starts_with(b"application/json") {
        Kind::Json
    } else if ct.starts_with(b"text/html") {
        Kind::Html
    } else {
        Kind::Other
    }
}

fn set_default(res: &mut ServiceResponse<impl MessageBody>, name: header::HeaderName, v: &str) {
    if !res.headers().contains_key(&name) {
        if let Ok(v) = HeaderValue::from_str(v) {
            res.headers_mut().insert(name, v);
        }
    }
}

pub async fn edge(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Routed as GET; the HTTP/1 codec remembers it was HEAD and sends no body.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let docs = req.path().trim_end_matches('/') == "/api/docs";
    let mut res = next.call(req).await?;
    let kind = kind(&res);
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // 405: every GET route answers HEAD too.
    if let Some(allow) = h.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
        if methods.contains(&"GET") && !methods.contains(&"HEAD") {
            let v = format!("{allow}, HEAD");
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(header::ALLOW, v);
            }
        }
    }
    set_default(&mut res, header::REFERRER_POLICY, "same-origin");
    if kind == Kind::Json {
        set_default(&mut res, header::CACHE_CONTROL, "no-store");
    } else if kind == Kind::Html {
        let csp = if docs { DOCS_CSP } else { PAGE_CSP };
        set_default(&mut res, header::CONTENT_SECURITY_POLICY, csp);
        set_default(&mut res, header::X_FRAME_OPTIONS, "DENY");
        set_default(&mut res, header::CACHE_CONTROL, "no-store");
    }
    Ok(res)
}
