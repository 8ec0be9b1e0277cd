//! The orders export as an `.xlsx` workbook: the contract's columns, or
//! another layout's ([`ExportLayout`]).

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

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

/// What one column holds.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    Id,
    Date,
    Status,
    Carrier,
    Tracking,
    Customer,
    City,
    Total,
    /// Always empty: a column the worker must ignore.
    Blank,
}

/// A workbook's sheet name and columns (header, content, width).
#[derive(Debug)]
pub struct ExportLayout {
    pub sheet: &'static str,
    pub columns: &'static [(&'static str, Field, f64)],
}

/// The contract's export.
pub const CLASSIC: ExportLayout = ExportLayout {
    sheet: SHEET_NAME,
    columns: &[
        (HEADERS[0], Field::Id, 10.0),
        (HEADERS[1], Field::Date, 12.0),
        (HEADERS[2], Field::Status, 16.0),
        (HEADERS[3], Field::Carrier, 18.0),
        (HEADERS[4], Field::Tracking, 16.0),
        (HEADERS[5], Field::Customer, 32.0),
        (HEADERS[6], Field::City, 16.0),
        (HEADERS[7], Field::Total, 12.0),
    ],
};

/// Builds the contract's workbook: a header row, then one row per order.
pub fn orders_workbook<'a>(orders: impl Iterator<Item = &'a Order>) -> Result<Vec<u8>, XlsxError> {
    workbook(&CLASSIC, orders)
}

/// Builds a workbook of `layout`. Empty carrier or tracking values are left
/// as blank cells, as spreadsheet exports do.
pub fn workbook<'a>(
    layout: &ExportLayout,
    orders: impl Iterator<Item = &'a Order>,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(layout.sheet)?;
    let bold = Format::new().set_bold();
    for (col, (header, _, _)) in (0u16..).zip(layout.columns) {
        sheet.write_string_with_format(0, col, *header, &bold)?;
    }
    for (row, order) in (1u32..).zip(orders) {
        for (col, (_, field, _)) in (0u16..).zip(layout.columns) {
            write_cell(sheet, row, col, *field, order)?;
        }
    }
    for (col, (_, _, width)) in (0u16..).zip(layout.columns) {
        sheet.set_column_width(col, *width)?;
    }
    workbook.save_to_buffer()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    field: Field,
    order: &Order,
) -> Result<(), XlsxError> {
    let text = |sheet: &mut Worksheet, t: &str| -> Result<(), XlsxError> {
        if !t.is_empty() {
            sheet.write_string(row, col, t)?;
        }
        Ok(())
    };
    match field {
        // Excel numbers are f64; order ids stay far below 2^53.
        Field::Id => sheet.write_number(row, col, order.id as f64).map(drop),
        Field::Date => sheet
            .write_string(row, col, order.date.format("%Y-%m-%d").to_string())
            .map(drop),
        Field::Status => sheet
            .write_string(row, col, order.status.as_str())
            .map(drop),
        Field::Carrier => text(sheet, &order.carrier),
        Field::Tracking => text(sheet, &order.tracking),
        Field::Customer => sheet.write_string(row, col, &order.customer).map(drop),
        Field::City => sheet.write_string(row, col, &order.city).map(drop),
        Field::Total => sheet.write_number(row, col, order.total).map(drop),
        Field::Blank => Ok(()),
    }
}
