//! The orders export (an `.xlsx` file) to [`OrderSnapshot`]s.
//!
//! Headers are matched by text from the profile, ignoring case, accents and
//! spacing (`NÚMERO GUIA` == `numero  guia`); extra columns are ignored, empty
//! rows skipped, and ids written as text accepted. A missing required column
//! is a permanent error that names it.

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use reporter_core::domain::OrderSnapshot;

use super::profile::ExportProfile;
use crate::portal::PortalError;

/// Lower case, accents removed, runs of spaces/underscores collapsed.
pub fn normalize_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'á' | 'à' | 'ä' | 'â' | 'ã' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            '\u{301}' | '\u{300}' | '\u{308}' | '\u{303}' | '\u{302}' => continue,
            c => c,
        };
        if c.is_whitespace() || c == '_' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    out
}

fn permanent(msg: impl Into<String>) -> PortalError {
    PortalError::Permanent(msg.into())
}

/// Text of a cell; numbers without their `.0`.
pub fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64()).unwrap_or_else(|| dt.as_f64().to_string()),
    }
}

/// An Excel serial date as `YYYY-MM-DD` (1900 date system).
fn excel_date(serial: f64) -> Option<String> {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let d = base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))?;
    Some(d.format("%Y-%m-%d").to_string())
}

fn order_id(d: &Data) -> Option<i64> {
    let id = match d {
        Data::Int(i) => Some(*i),
        Data::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        Data::String(s) => {
            let t = s.trim();
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
            })
        }
        _ => None,
    }?;
    (id > 0).then_some(id)
}

fn total(d: &Data) -> Option<f64> {
    match d {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        Data::String(s) => {
            let cleaned: String = s
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '-' || *c == ',')
                .collect();
            cleaned.replace(',', ".").parse().ok()
        }
        _ => None,
    }
}

/// The sheet the profile names (by its normalized name; the first sheet
/// when it names none or none matches), with its name.
pub fn export_sheet(
    bytes: &[u8],
    profile: &ExportProfile,
) -> Result<(String, Range<Data>), PortalError> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| permanent(format!("the export is not a readable xlsx file: {e}")))?;
    let names = book.sheet_names();
    let sheet = if profile.sheet.is_empty() {
        names.first().cloned()
    } else {
        names
            .iter()
            .find(|n| normalize_header(n) == normalize_header(&profile.sheet))
            .cloned()
            .or_else(|| names.first().cloned())
    }
    .ok_or_else(|| permanent("the export has no sheet"))?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| permanent(format!("cannot read sheet {sheet:?} of the export: {e}")))?;
    Ok((sheet, range))
}

/// Parses an export file with the profile's sheet and headers.
pub fn parse_export(
    bytes: &[u8],
    profile: &ExportProfile,
) -> Result<Vec<OrderSnapshot>, PortalError> {
    let (sheet, range) = export_sheet(bytes, profile)?;
    let mut rows = range
        .rows()
        .skip_while(|r| r.iter().all(|c| cell_text(c).is_empty()));
    let Some(header) = rows.next() else {
        return Err(permanent("the export is empty (no header row)"));
    };
    let header: Vec<String> = header
        .iter()
        .map(|c| normalize_header(&cell_text(c)))
        .collect();
    // Column index of each field, in snapshot order.
    let mut idx: [Option<usize>; 8] = [None; 8];
    let mut missing = Vec::new();
    for (i, (field, text)) in profile.columns.fields().iter().enumerate() {
        let want = normalize_header(text);
        idx[i] = header.iter().position(|h| *h == want);
        if idx[i].is_none() && !profile.optional_columns.iter().any(|c| c == field) {
            missing.push(format!("{text:?}"));
        }
    }
    if !missing.is_empty() {
        return Err(permanent(format!(
            "the export lacks the required column{} {} (sheet {sheet:?}; headers found: {})",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            header.join(" | ")
        )));
    }
    let empty = Data::Empty;
    let mut out = Vec::new();
    for (n, row) in rows.enumerate() {
        if row.iter().all(|c| cell_text(c).is_empty()) {
            continue;
        }
        let cell = |i: usize| idx[i].and_then(|c| row.get(c)).unwrap_or(&empty);
        let text = |i: usize| cell_text(cell(i));
        let id_cell = cell(0);
        if cell_text(id_cell).is_empty() {
            continue;
        }
        let order_id = order_id(id_cell).ok_or_else(|| {
            permanent(format!(
                "row {} of the export: {:?} is not an order id",
                n + 2,
                cell_text(id_cell)
            ))
        })?;
        out.push(OrderSnapshot {
            order_id,
            order_date: text(1),
            status: text(2),
            carrier: text(3),
            tracking_number: text(4),
            customer: text(5),
            city: text(6),
            total: total(cell(7)),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::webdriver::profile::Profile;
    use rust_xlsxwriter::Workbook;

    enum C<'a> {
        S(&'a str),
        N(f64),
        E,
    }
    use C::*;

    fn xlsx(sheet: &str, rows: &[Vec<C>]) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(sheet).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                match v {
                    S(s) => {
                        ws.write_string(r as u32, c as u16, *s).unwrap();
                    }
                    N(n) => {
                        ws.write_number(r as u32, c as u16, *n).unwrap();
                    }
                    E => {}
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    fn profile() -> ExportProfile {
        Profile::portal_sim().export
    }

    fn contract_header() -> Vec<C<'static>> {
        [
            "ID",
            "FECHA",
            "ESTATUS",
            "TRANSPORTADORA",
            "NÚMERO GUIA",
            "CLIENTE",
            "CIUDAD",
            "TOTAL",
        ]
        .into_iter()
        .map(S)
        .collect()
    }

    #[test]
    fn normalizes_headers() {
        assert_eq!(normalize_header("NÚMERO GUIA"), "numero guia");
        assert_eq!(normalize_header("  numero   guia "), "numero guia");
        assert_eq!(normalize_header("Número_Guía"), "numero guia");
        // Decomposed accent (U+0301).
        assert_eq!(normalize_header("NU\u{301}MERO GUIA"), "numero guia");
    }

    #[test]
    fn parses_the_contract_layout() {
        let bytes = xlsx(
            "Ordenes",
            &[
                contract_header(),
                vec![
                    N(100001.0),
                    S("2026-10-01"),
                    S("EN_TRANSITO"),
                    S("Servientrega"),
                    S("SV123"),
                    S("Ana Pérez"),
                    S("Bogotá"),
                    N(45900.0),
                ],
                vec![
                    N(100002.0),
                    S("2026-10-02"),
                    S("ENTREGADO"),
                    E,
                    E,
                    S("Luis"),
                    S("Cali"),
                    N(1000.5),
                ],
            ],
        );
        let rows = parse_export(&bytes, &profile()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            OrderSnapshot {
                order_id: 100001,
                order_date: "2026-10-01".into(),
                status: "EN_TRANSITO".into(),
                carrier: "Servientrega".into(),
                tracking_number: "SV123".into(),
                customer: "Ana Pérez".into(),
                city: "Bogotá".into(),
                total: Some(45900.0),
            }
        );
        assert_eq!(rows[1].carrier, "");
        assert_eq!(rows[1].total, Some(1000.5));
    }

    #[test]
    fn odd_headers_extra_columns_empty_rows_and_text_ids() {
        // Reordered, lower-case, unaccented or oddly spaced headers, with
        // extra columns in between, empty rows and ids written as text.
        let bytes = xlsx(
            "Hoja1",
            &[
                vec![],
                vec![
                    S("Observaciones"),
                    S("numero guia"),
                    S(" id "),
                    S("Estatus"),
                    S("fecha"),
                    S("Transportadora"),
                    S("Vendedor"),
                ],
                vec![
                    S("x"),
                    S("G1"),
                    S(" 100010 "),
                    S("NOVEDAD"),
                    S("2026-10-05"),
                    S("Coordinadora"),
                    S("z"),
                ],
                vec![E, E, E, E, E, E, E],
                vec![],
                vec![
                    E,
                    S("G2"),
                    N(100011.0),
                    S("PENDIENTE"),
                    S("2026-10-06"),
                    E,
                    E,
                ],
                vec![E, E, S(""), E, E, E, E],
            ],
        );
        let rows = parse_export(&bytes, &profile()).unwrap();
        let ids: Vec<i64> = rows.iter().map(|r| r.order_id).collect();
        assert_eq!(ids, vec![100010, 100011]);
        assert_eq!(rows[0].tracking_number, "G1");
        assert_eq!(rows[0].status, "NOVEDAD");
        assert_eq!(rows[0].carrier, "Coordinadora");
        assert_eq!(rows[0].customer, "", "optional column absent");
        assert_eq!(rows[0].total, None);
        assert_eq!(rows[1].order_date, "2026-10-06");
    }

    #[test]
    fn missing_required_column_is_permanent_and_named() {
        let mut header = contract_header();
        header.remove(4); // NÚMERO GUIA
        let bytes = xlsx("Ordenes", &[header, vec![N(1.0), S("2026-10-01")]]);
        let err = parse_export(&bytes, &profile()).unwrap_err();
        match err {
            PortalError::Permanent(msg) => {
                assert!(msg.contains("NÚMERO GUIA"), "{msg}");
                assert!(msg.contains("required column"), "{msg}");
            }
            other => panic!("expected Permanent, got {other:?}"),
        }
    }

    #[test]
    fn bad_id_and_garbage_are_permanent() {
        let bytes = xlsx(
            "Ordenes",
            &[
                contract_header(),
                vec![S("abc"), S("2026-10-01"), S("PENDIENTE")],
            ],
        );
        assert!(matches!(
            parse_export(&bytes, &profile()),
            Err(PortalError::Permanent(m)) if m.contains("\"abc\"")
        ));
        assert!(matches!(
            parse_export(b"<html>login</html>", &profile()),
            Err(PortalError::Permanent(_))
        ));
        let only_empty = xlsx("Ordenes", &[vec![], vec![]]);
        assert!(matches!(
            parse_export(&only_empty, &profile()),
            Err(PortalError::Permanent(_))
        ));
    }

    #[test]
    fn header_only_is_an_empty_export() {
        let bytes = xlsx("Ordenes", &[contract_header()]);
        assert!(parse_export(&bytes, &profile()).unwrap().is_empty());
    }
}
