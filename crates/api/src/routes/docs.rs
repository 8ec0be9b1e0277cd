//! The OpenAPI document and a self-contained HTML page rendered from it
//! (no CDN: operators read it on networks without internet).

use std::fmt::Write;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::OpenApi;

use crate::openapi::ApiDoc;

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: OpenAPI document serializes"
)]
fn spec_json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("OpenAPI document serializes")
    })
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(spec_json())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: the OpenAPI document is JSON utoipa wrote"
)]
fn render() -> String {
    let doc: serde_json::Value = serde_json::from_str(spec_json()).expect("valid JSON");
    let mut html = String::from(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Reporter API</title><style>\
         body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}\
         h2{border-bottom:1px solid #ccc;margin-top:2rem}.op{margin:1rem 0;padding:.5rem 1rem;border-left:4px solid #2b6cb0;background:#f5f8fc}\
         code{background:#eef;padding:0 .25rem}.m{font-weight:bold;text-transform:uppercase;color:#2b6cb0}\
         pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:.85rem}</style></head><body>\
         <h1>Reporter API</h1><p>Autenticación: <code>Authorization: Token &lt;token&gt;</code> o \
         <code>Bearer &lt;token&gt;</code> (obtenlo con <code>POST /api/auth/login/</code>). Errores: siempre \
         <code>{\"code\",\"detail\"}</code>. Documento completo: <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>",
    );
    let mut by_tag: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_string();
            let mut s = String::new();
            let _ = write!(
                s,
                "<div class=\"op\"><span class=\"m\">{}</span> <code>{}</code><p>{}</p>",
                esc(method),
                esc(path),
                esc(op["description"]
                    .as_str()
                    .or(op["summary"].as_str())
                    .unwrap_or(""))
            );
            if let Some(body) =
                op["requestBody"]["content"]["application/json"]["schema"].as_object()
            {
                let _ = write!(
                    s,
                    "<p>Cuerpo:</p><pre>{}</pre>",
                    esc(&serde_json::to_string_pretty(body).unwrap_or_default())
                );
            }
            let codes: Vec<_> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(c, _)| c.clone())
                .collect();
            let _ = write!(s, "<p>Respuestas: {}</p></div>", esc(&codes.join(", ")));
            by_tag.entry(tag).or_default().push(s);
        }
    }
    for (tag, ops) in by_tag {
        let _ = write!(html, "<h2>{}</h2>{}", esc(&tag), ops.join(""));
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        html.push_str("<h2>Esquemas</h2>");
        for (name, schema) in schemas {
            let _ = write!(
                html,
                "<h3 id=\"{0}\">{0}</h3><pre>{1}</pre>",
                esc(name),
                esc(&serde_json::to_string_pretty(schema).unwrap_or_default())
            );
        }
    }
    html.push_str("</body></html>");
    html
}

pub async fn docs_page() -> HttpResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(PAGE.get_or_init(render).as_str())
}
