//! The order detail page and the answers to a report.

use super::{escape, format_cop, layout};
use crate::model::Order;

/// Values of `select[name=reason]`; the worker uses `sin_movimiento`.
pub const REPORT_REASONS: &[(&str, &str)] = &[
    ("sin_movimiento", "Sin movimiento"),
    ("retraso", "Retraso en la entrega"),
    ("novedad", "Novedad con la guía"),
    ("otro", "Otro"),
];

/// The order's details, then either the report form or, when the order was
/// reported today, the existing ticket.
pub fn order_page(order: &Order, ticket_today: Option<&str>) -> String {
    let action = match ticket_today {
        Some(ticket) => already_reported_div(ticket),
        None => report_form(order.id),
    };
    let body = format!(
        r#"<p><a href="/orders">Volver a mis órdenes</a> · <a id="logout" href="/logout">Cerrar sesión</a></p>
<h1>Orden <span id="order-id">{id}</span></h1>
<dl>
<dt>Fecha</dt><dd id="order-date">{date}</dd>
<dt>Estatus</dt><dd><span id="order-status">{status}</span></dd>
<dt>Transportadora</dt><dd id="order-carrier">{carrier}</dd>
<dt>Número guía</dt><dd id="order-tracking">{tracking}</dd>
<dt>Cliente</dt><dd id="order-customer">{customer}</dd>
<dt>Ciudad</dt><dd id="order-city">{city}</dd>
<dt>Total</dt><dd id="order-total">{total}</dd>
</dl>
{action}"#,
        id = order.id,
        date = order.date,
        status = order.status,
        carrier = escape(&order.carrier),
        tracking = escape(&order.tracking),
        customer = escape(&order.customer),
        city = escape(&order.city),
        total = format_cop(order.total),
    );
    layout(&format!("Orden {}", order.id), &body)
}

pub fn report_ok_page(order_id: u64, ticket: &str) -> String {
    let body = format!(
        "<h1>Reporte registrado</h1>\n<div id=\"report-ok\" data-ticket=\"{t}\">\
         Se registró el reporte de la orden {order_id}. Ticket: {t}</div>\n\
         <p><a href=\"/orders/{order_id}\">Volver a la orden</a></p>",
        t = escape(ticket),
    );
    layout("Reporte registrado", &body)
}

pub fn already_reported_page(order_id: u64, ticket: &str) -> String {
    let body = format!(
        "<h1>Orden {order_id}</h1>\n{}\n<p><a href=\"/orders/{order_id}\">Volver a la orden</a></p>",
        already_reported_div(ticket)
    );
    layout("Orden ya reportada", &body)
}

fn already_reported_div(ticket: &str) -> String {
    format!(
        "<div id=\"already-reported\" data-ticket=\"{t}\">Esta orden ya fue reportada hoy. Ticket: {t}</div>",
        t = escape(ticket)
    )
}

fn report_form(order_id: u64) -> String {
    let options: String = REPORT_REASONS
        .iter()
        .map(|(value, label)| format!("<option value=\"{value}\">{label}</option>\n"))
        .collect();
    format!(
        r#"<h2>Reportar novedad</h2>
<form id="report-form" method="post" action="/orders/{order_id}/report">
<p><label for="reason">Motivo</label><br>
<select id="reason" name="reason" required>
{options}</select></p>
<p><label for="message">Mensaje</label><br>
<textarea id="message" name="message" rows="4" cols="60" required></textarea></p>
<p><button type="submit" id="report-submit">Enviar reporte</button></p>
</form>"#
    )
}
