//! The orders list page.

use super::{escape, format_cop, layout};
use crate::model::Order;

pub fn orders_page<'a>(email: &str, orders: impl Iterator<Item = &'a Order>) -> String {
    let rows: String = orders
        .map(|o| {
            format!(
                "<tr><td><a href=\"/orders/{id}\">{id}</a></td><td>{date}</td><td>{status}</td>\
                 <td>{carrier}</td><td>{tracking}</td><td>{customer}</td><td>{city}</td>\
                 <td>{total}</td></tr>\n",
                id = o.id,
                date = o.date,
                status = o.status,
                carrier = escape(&o.carrier),
                tracking = escape(&o.tracking),
                customer = escape(&o.customer),
                city = escape(&o.city),
                total = format_cop(o.total),
            )
        })
        .collect();
    let body = format!(
        r#"<header>
<p>Sesión: <span id="account-email">{email}</span> · <a id="logout" href="/logout">Cerrar sesión</a></p>
</header>
<h1>Mis órdenes</h1>
<p><a id="export-orders" href="/orders/export.xlsx">Exportar a Excel</a></p>
<table id="orders-table">
<thead><tr><th>ID</th><th>Fecha</th><th>Estatus</th><th>Transportadora</th><th>Número guía</th><th>Cliente</th><th>Ciudad</th><th>Total</th></tr></thead>
<tbody>
{rows}</tbody>
</table>"#,
        email = escape(email),
    );
    layout("Mis órdenes", &body)
}
