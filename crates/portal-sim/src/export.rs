//! The orders export as an `.xlsx` workbook.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::model::Order;

pub const SHEET_NAME: &str = "Ordenes";

pub const HEADERS: [&str; 8] = [
    "ID",
    "FECHA",
    "ESTATUS",
    "TRANSPORTADORA",
    "NÚMERO GUIA",
    "CLIENTE",
    "CIUDAD",
    "TOTAL",
];

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Builds the workbook: a header row, then one row per order. Empty carrier
/// or tracking values are left as blank cells, as spreadsheet exports do.
pub fn orders_workbook<'a>(orders: impl Iterator<Item = &'a Order>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    let bold = Format::new().set_bold();
    for (col, header) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, col, header, &bold)?;
    }
    for (row, order) in (1u32..).zip(orders) {
        // Excel numbers are f64; order ids stay far below 2^53.
        sheet.write_number(row, 0, order.id as f64)?;
        sheet.write_string(row, 1, order.date.format("%Y-%m-%d").to_string())?;
        sheet.write_string(row, 2, order.status.as_str())?;
        for (col, text) in [(3, &order.carrier), (4, &order.tracking)] {
            if !text.is_empty() {
                sheet.write_string(row, col, text)?;
            }
        }
        sheet.write_string(row, 5, &order.customer)?;
        sheet.write_string(row, 6, &order.city)?;
        sheet.write_number(row, 7, order.total)?;
    }
    for (col, width) in [
        (0, 10.0),
        (1, 12.0),
        (2, 16.0),
        (3, 18.0),
        (4, 16.0),
        (5, 32.0),
        (6, 16.0),
        (7, 12.0),
    ] {
        sheet.set_column_width(col, width)?;
    }
    workbook.save_to_buffer()
}
