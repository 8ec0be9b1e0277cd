//! HTML of the `alt` layout's pages.

use super::{LOGIN_PATH, ORDERS_PATH, REPORT_REASONS};
use crate::html::{escape, format_cop};
use crate::model::Order;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d2733}\
header{background:#0b4f6c;color:#fff;padding:.6rem 1.5rem}main{padding:1.5rem}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #d5dde5;padding:.35rem .7rem}\
.error-acceso{color:#a40000}.aviso{padding:.6rem;border-left:4px solid #0b4f6c;background:#eef5f9}";

fn layout(title: &str, header: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{} | Portal Mayorista</title>\n<style>{STYLE}</style>\n</head>\n\
         <body>\n<header>Portal Mayorista{header}</header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        escape(title)
    )
}

fn user_header(email: &str) -> String {
    format!(
        " · <span id=\"usuario-actual\">{}</span> · <a id=\"salir\" href=\"/salir\">Salir</a>",
        escape(email)
    )
}

/// The login form; `error` is shown in `p.error-acceso` after a failed try.
pub fn login_page(error: Option<&str>, user: &str) -> String {
    let error_html = error
        .map(|m| {
            format!(
                "<p class=\"error-acceso\" role=\"alert\">{}</p>\n",
                escape(m)
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Acceso de proveedores</h1>
{error_html}<form id="form-acceso" method="post" action="{LOGIN_PATH}">
<p><label for="usuario">Usuario (correo)</label><br>
<input type="email" id="usuario" name="usuario" value="{user}" autocomplete="username" required></p>
<p><label for="clave">Clave</label><br>
<input type="password" id="clave" name="clave" autocomplete="current-password" required></p>
<p><button type="submit" id="btn-entrar">Entrar</button></p>
</form>"#,
        user = escape(user),
    );
    layout("Acceso", "", &body)
}

/// Where the orders page stands with an export asked for (`?exportacion=`).
#[derive(Debug, Clone, Copy)]
pub enum ExportShown {
    /// Not asked for on this page.
    None,
    Building(u64),
    Ready(u64),
    /// Unknown, another account's or forgotten.
    Gone,
}

/// One page (1-based) of the account's orders, the export button and,
/// when asked for, the export's progress or link.
pub fn orders_page(
    email: &str,
    orders: &[&Order],
    page: usize,
    pages: usize,
    total: usize,
    export: ExportShown,
) -> String {
    let rows: String = orders
        .iter()
        .map(|o| {
            format!(
                "<tr><td><a href=\"{ORDERS_PATH}/{id}\">{id}</a></td><td>{status}</td><td>{date}</td>\
                 <td>{customer}</td><td>{city}</td><td>{carrier}</td><td>{tracking}</td><td>{total}</td></tr>\n",
                id = o.id,
                status = o.status,
                date = o.date,
                customer = escape(&o.customer),
                city = escape(&o.city),
                carrier = escape(&o.carrier),
                tracking = escape(&o.tracking),
                total = format_cop(o.total),
            )
        })
        .collect();
    let mut nav = String::new();
    if page > 1 {
        nav += &format!(
            "<a rel=\"prev\" href=\"{ORDERS_PATH}?page={}\">Anterior</a> ",
            page - 1
        );
    }
    nav += &format!("Página {page} de {pages}");
    if page < pages {
        nav += &format!(
            " <a rel=\"next\" href=\"{ORDERS_PATH}?page={}\">Siguiente</a>",
            page + 1
        );
    }
    let first = if total == 0 {
        0
    } else {
        (page - 1) * super::PAGE_SIZE + 1
    };
    let last = first + orders.len().saturating_sub(1);
    let body = format!(
        r#"<h1>Pedidos</h1>
<section id="exportacion">
<form id="form-exportar" method="post" action="{ORDERS_PATH}/exportaciones">
<button type="submit" id="generar-exportacion">Generar exportación</button>
</form>
{export}
</section>
<p class="resumen">Mostrando {first}–{last} de {total} pedidos</p>
<table id="tabla-pedidos">
<thead><tr><th>Pedido</th><th>Estado</th><th>Fecha</th><th>Cliente</th><th>Ciudad</th><th>Transportadora</th><th>Guía</th><th>Valor</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
<nav class="paginacion">{nav}</nav>"#,
        export = export_html(export),
    );
    layout("Pedidos", &user_header(email), &body)
}

pub(super) fn file_path(id: u64) -> String {
    format!("{ORDERS_PATH}/exportaciones/{id}/archivo")
}

/// The export's state under the button. While it is being built, the page
/// asks `GET /pedidos/exportaciones/{id}` every half second (tolerating
/// errors and redirects) and shows the link once it is ready.
fn export_html(export: ExportShown) -> String {
    match export {
        ExportShown::None => String::new(),
        ExportShown::Gone => {
            "<p id=\"estado-exportacion\">La exportación ya no está disponible; genere otra.</p>"
                .into()
        }
        ExportShown::Ready(id) => ready_link(id),
        ExportShown::Building(id) => format!(
            r#"<p id="estado-exportacion">Generando exportación…</p>
<script>
(function () {{
  var estado = document.getElementById('estado-exportacion');
  function consultar() {{
    fetch('{ORDERS_PATH}/exportaciones/{id}', {{ credentials: 'same-origin', headers: {{ 'Accept': 'application/json' }} }})
      .then(function (r) {{ return r.ok ? r.json() : null; }})
      .then(function (j) {{
        if (j && j.estado === 'lista') {{
          var a = document.createElement('a');
          a.id = 'descargar-exportacion';
          a.href = j.archivo;
          a.textContent = 'Descargar exportación (.xlsx)';
          estado.textContent = 'Exportación lista: ';
          estado.appendChild(a);
        }} else {{
          setTimeout(consultar, 500);
        }}
      }})
      .catch(function () {{ setTimeout(consultar, 500); }});
  }}
  setTimeout(consultar, 500);
}})();
</script>"#
        ),
    }
}

fn ready_link(id: u64) -> String {
    format!(
        "<p id=\"estado-exportacion\">Exportación lista: <a id=\"descargar-exportacion\" href=\"{}\">Descargar exportación (.xlsx)</a></p>",
        file_path(id)
    )
}

/// The order's details, then the report form or today's ticket (as text).
pub fn order_page(email: &str, order: &Order, ticket_today: Option<&str>) -> String {
    let action = match ticket_today {
        Some(t) => duplicate_notice(t),
        None => report_form(order.id),
    };
    let body = format!(
        r#"<p><a href="{ORDERS_PATH}">Volver a pedidos</a></p>
<h1>Pedido <span id="pedido-numero">{id}</span></h1>
<table class="ficha">
<tr><th>Estado</th><td><span id="pedido-estado">{status}</span></td></tr>
<tr><th>Fecha</th><td>{date}</td></tr>
<tr><th>Transportadora</th><td>{carrier}</td></tr>
<tr><th>Guía</th><td>{tracking}</td></tr>
<tr><th>Cliente</th><td>{customer}</td></tr>
<tr><th>Ciudad destino</th><td>{city}</td></tr>
<tr><th>Valor</th><td>{total}</td></tr>
</table>
{action}"#,
        id = order.id,
        status = order.status,
        date = order.date,
        carrier = escape(&order.carrier),
        tracking = escape(&order.tracking),
        customer = escape(&order.customer),
        city = escape(&order.city),
        total = format_cop(order.total),
    );
    layout(&format!("Pedido {}", order.id), &user_header(email), &body)
}

fn report_form(order_id: u64) -> String {
    let options: String = REPORT_REASONS
        .iter()
        .map(|(value, label)| format!("<option value=\"{value}\">{label}</option>\n"))
        .collect();
    format!(
        r#"<h2>Reportar novedad</h2>
<form id="form-novedad" method="post" action="{ORDERS_PATH}/{order_id}/novedad">
<p><label for="motivo">Motivo</label><br>
<select id="motivo" name="motivo" required>
<option value="">Seleccione…</option>
{options}</select></p>
<p><label for="detalle">Detalle</label><br>
<textarea id="detalle" name="detalle" rows="4" cols="60" required></textarea></p>
<p><button type="submit" id="enviar-novedad">Registrar reporte</button></p>
</form>"#
    )
}

/// The ticket is only in the text: no data attribute.
fn duplicate_notice(ticket: &str) -> String {
    format!(
        "<p class=\"aviso aviso-duplicado\">Este pedido ya tiene un reporte de hoy. Ticket {}</p>",
        escape(ticket)
    )
}

pub fn report_ok_page(email: &str, order_id: u64, ticket: &str) -> String {
    let body = format!(
        "<h1>Pedido {order_id}</h1>\n<p class=\"aviso aviso-ok\">Reporte registrado. Ticket {}</p>\n\
         <p><a href=\"{ORDERS_PATH}/{order_id}\">Volver al pedido</a></p>",
        escape(ticket)
    );
    layout("Reporte registrado", &user_header(email), &body)
}

pub fn already_reported_page(email: &str, order_id: u64, ticket: &str) -> String {
    let body = format!(
        "<h1>Pedido {order_id}</h1>\n{}\n<p><a href=\"{ORDERS_PATH}/{order_id}\">Volver al pedido</a></p>",
        duplicate_notice(ticket)
    );
    layout("Pedido ya reportado", &user_header(email), &body)
}
