//! HTML of the portal pages. Element ids and field names are the contract's
//! selectors; everything else is decoration.

mod login;
mod order;
mod orders;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

pub use login::login_page;
pub use order::{already_reported_page, order_page, report_ok_page, REPORT_REASONS};
pub use orders::orders_page;

const STYLE: &str = "body{font-family:sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}\
#login-error{color:#b00}#report-ok{color:#070}";

/// A complete HTML5 document around `body`.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{} - Portal de Proveedores</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n{body}\n</body>\n</html>\n",
        escape(title)
    )
}

pub fn respond(status: StatusCode, page: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page)
}

pub fn ok(page: String) -> HttpResponse {
    respond(StatusCode::OK, page)
}

/// A page with a heading and one paragraph (errors, notices).
pub fn message_page(title: &str, message: &str) -> String {
    layout(
        title,
        &format!("<h1>{}</h1>\n<p>{}</p>", escape(title), escape(message)),
    )
}

pub fn internal_error() -> HttpResponse {
    respond(
        StatusCode::INTERNAL_SERVER_ERROR,
        message_page(
            "Error interno",
            "Ocurrió un error inesperado. Intente de nuevo más tarde.",
        ),
    )
}

/// Escapes text for use in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Colombian peso format as shown on the portal: `$ 1.234.500`.
pub fn format_cop(total: f64) -> String {
    let digits = format!("{:.0}", total.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    let sign = if total < 0.0 { "-" } else { "" };
    format!("{sign}$ {grouped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn formats_pesos_with_dot_groups() {
        assert_eq!(format_cop(1_234_500.0), "$ 1.234.500");
        assert_eq!(format_cop(45_900.0), "$ 45.900");
        assert_eq!(format_cop(900.0), "$ 900");
    }
}
