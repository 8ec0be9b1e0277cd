//! The reported orders as a file: the same columns, in Spanish, in both
//! formats. Times are wall-clock times of the reporter's time zone (the
//! zone of the hours the customer reserved), without the offset.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use reporter_core::models::report_exports::ExportRow;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

pub const SHEET_NAME: &str = "Reportados";

pub const HEADERS: [&str; 8] = [
    "Fecha",
    "Orden",
    "Estado",
    "Transportadora",
    "Guía",
    "Ticket",
    "Resultado",
    "Reportado a las",
];

/// The customer's words for a ledger outcome.
pub fn outcome_text(outcome: &str) -> &str {
    match outcome {
        "reported" => "Reportado",
        "already_reported" => "Ya estaba reportado",
        other => other,
    }
}

fn local(at: DateTime<Utc>, tz: Tz) -> chrono::NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("xlsx: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("csv buffer: {0}")]
    Buffer(String),
}

fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    // Business dates are years 2000+; `u16`/`u8` cannot overflow.
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}

fn excel_datetime(t: chrono::NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    excel_date(t.date())?.and_hms(t.hour() as u16, t.minute() as u8, t.second())
}

/// One sheet: a bold, frozen header row with a filter, then a row per
/// order; dates and times are real date cells, so they sort and filter.
pub fn xlsx(rows: &[ExportRow], tz: Tz) -> Result<Vec<u8>, FileError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, h) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, col, h, &bold)?;
    }
    for (row, r) in (1u32..).zip(rows) {
        sheet.write_datetime_with_format(row, 0, excel_date(r.business_date)?, &date)?;
        // Excel numbers are f64; order ids stay far below 2^53.
        sheet.write_number(row, 1, r.order.order_id as f64)?;
        sheet.write_string(row, 2, &r.order.status)?;
        sheet.write_string(row, 3, &r.order.carrier)?;
        sheet.write_string(row, 4, &r.order.tracking_number)?;
        sheet.write_string(row, 5, &r.order.ticket)?;
        sheet.write_string(row, 6, outcome_text(&r.order.outcome))?;
        let at = excel_datetime(local(r.order.reported_at, tz))?;
        sheet.write_datetime_with_format(row, 7, at, &datetime)?;
    }
    for (col, width) in [12.0, 12.0, 18.0, 18.0, 18.0, 16.0, 20.0, 20.0]
        .into_iter()
        .enumerate()
    {
        sheet.set_column_width(col as u16, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last = u32::try_from(rows.len()).unwrap_or(u32::MAX).max(1);
    sheet.autofilter(0, 0, last, HEADERS.len() as u16 - 1)?;
    Ok(book.save_to_buffer()?)
}

/// RFC 4180 with a header row, starting with a UTF-8 byte-order mark:
/// without it Excel reads "Guía" and the statuses' accents as Latin-1.
pub fn csv(rows: &[ExportRow], tz: Tz) -> Result<Vec<u8>, FileError> {
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record(HEADERS)?;
    for r in rows {
        out.write_record([
            r.business_date.to_string().as_str(),
            r.order.order_id.to_string().as_str(),
            &r.order.status,
            &r.order.carrier,
            &r.order.tracking_number,
            &r.order.ticket,
            outcome_text(&r.order.outcome),
            local(r.order.reported_at, tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
                .as_str(),
        ])?;
    }
    out.into_inner()
        .map_err(|e| FileError::Buffer(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reporter_core::models::dashboard::ReportedOrder;

    fn row() -> ExportRow {
        ExportRow {
            business_date: NaiveDate::from_ymd_opt(2026, 3, 9).unwrap(),
            order: ReportedOrder {
                order_id: 123,
                status: "En tránsito".into(),
                carrier: "Envia, S.A.".into(),
                tracking_number: "GU-1".into(),
                ticket: "T-1".into(),
                outcome: "already_reported".into(),
                reported_at: Utc.with_ymd_and_hms(2026, 3, 9, 14, 5, 6).unwrap(),
            },
        }
    }

    #[test]
    fn csv_has_the_bom_the_headers_and_local_times() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        let text = String::from_utf8(csv(&[row()], tz).unwrap()).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "Fecha,Orden,Estado,Transportadora,Guía,Ticket,Resultado,Reportado a las"
        );
        assert_eq!(
            lines.next().unwrap(),
            "2026-03-09,123,En tránsito,\"Envia, S.A.\",GU-1,T-1,Ya estaba reportado,2026-03-09 09:05:06"
        );
    }

    #[test]
    fn an_empty_workbook_still_has_its_headers() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        assert!(xlsx(&[], tz).unwrap().starts_with(b"PK"));
        assert!(xlsx(&[row()], tz).unwrap().starts_with(b"PK"));
    }
}
