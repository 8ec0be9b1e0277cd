//! The `alt` layout (`--layout alt`): a redesigned portal serving the same
//! accounts, orders and reports as the contract's pages, but with other
//! paths, ids, field names, texts and export columns, an orders list of
//! [`PAGE_SIZE`] orders per page (`?page=N`), tickets shown only as text
//! (`p.aviso-ok`: "Reporte registrado. Ticket TK-…") and an export that is
//! built on demand: a "Generar exportación" button, then the page polls
//! until the download link appears. `crates/worker/profiles/portal-sim-alt.toml`
//! is its profile.

mod pages;
mod routes;

use crate::export::{ExportLayout, Field};

pub use routes::configure;

pub const LOGIN_PATH: &str = "/acceso";
pub const ORDERS_PATH: &str = "/pedidos";

/// Orders per page of the orders list.
pub const PAGE_SIZE: usize = 50;

/// Values of `select[name=motivo]`; the worker uses `sin-movimiento`.
pub const REPORT_REASONS: &[(&str, &str)] = &[
    ("sin-movimiento", "Pedido sin movimiento"),
    ("demora", "Demora en la entrega"),
    ("otro", "Otro motivo"),
];

pub const EXPORT_SHEET_NAME: &str = "Pedidos";

/// Column headers of the export, in order (another order than the
/// contract's, and one column the worker does not know).
pub const EXPORT_HEADERS: [&str; 9] = [
    "Pedido",
    "Estado",
    "Fecha pedido",
    "Guía",
    "Transportadora",
    "Ciudad destino",
    "Cliente",
    "Valor total",
    "Observaciones",
];

pub const EXPORT: ExportLayout = ExportLayout {
    sheet: EXPORT_SHEET_NAME,
    columns: &[
        (EXPORT_HEADERS[0], Field::Id, 10.0),
        (EXPORT_HEADERS[1], Field::Status, 16.0),
        (EXPORT_HEADERS[2], Field::Date, 12.0),
        (EXPORT_HEADERS[3], Field::Tracking, 16.0),
        (EXPORT_HEADERS[4], Field::Carrier, 18.0),
        (EXPORT_HEADERS[5], Field::City, 16.0),
        (EXPORT_HEADERS[6], Field::Customer, 32.0),
        (EXPORT_HEADERS[7], Field::Total, 12.0),
        (EXPORT_HEADERS[8], Field::Blank, 24.0),
    ],
};
