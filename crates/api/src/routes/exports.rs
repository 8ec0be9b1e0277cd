//! Downloads of the customer's reported orders, as `.xlsx` or CSV: those of
//! one run (their own part of it), or of a range of business dates.
//! Rows come from `core::models::report_exports` (only the outcomes a
//! customer sees); the file is built off the async threads.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};
use reporter_core::models::report_exports::{self, Export, ExportRow};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

mod files;

pub use files::{CSV_CONTENT_TYPE, HEADERS, XLSX_CONTENT_TYPE};

/// The widest range one download may cover, in days (the ledger keeps 400).
pub const MAX_RANGE_DAYS: i64 = 400;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Xlsx,
    Csv,
}

impl ExportFormat {
    /// `None` is the default, `.xlsx`; anything but `xlsx`/`csv` (an empty
    /// value too, as the schema's enum says) is refused.
    fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        match raw.map(str::trim) {
            None | Some("xlsx") => Ok(ExportFormat::Xlsx),
            Some("csv") => Ok(ExportFormat::Csv),
            Some(_) => Err(ApiError::bad_request(
                "invalid_format",
                "«format» debe ser xlsx o csv",
            )),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Csv => "csv",
        }
    }
}

/// An `.xlsx` workbook (one sheet, `Reportados`).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(pub Vec<u8>);

/// A UTF-8 CSV (with a byte-order mark, so spreadsheet programs read the accents).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct CsvFile(pub Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RunExportQuery {
    /// `xlsx` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>)]
    pub format: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RangeExportQuery {
    /// First business date, `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last business date, `YYYY-MM-DD`, not after today (default today,
    /// in the reporter's time zone). At most 400 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// `xlsx` (default) or `csv`.
    #[param(value_type = Option<ExportFormat>)]
    pub format: Option<String>,
}

fn too_large() -> ApiError {
    ApiError::bad_request(
        "export_too_large",
        format!(
            "El archivo tendría más de {} pedidos; elige un rango de fechas más corto",
            report_exports::MAX_ROWS
        ),
    )
}

/// The file as the response: its type, a download name, never cached
/// (it is the customer's own data).
async fn respond(
    state: &AppState,
    rows: Vec<ExportRow>,
    format: ExportFormat,
    name: String,
) -> Result<HttpResponse, ApiError> {
    let tz = state.settings.timezone;
    let (body, content_type) = web::block(move || match format {
        ExportFormat::Xlsx => files::xlsx(&rows, tz).map(|b| (b, XLSX_CONTENT_TYPE)),
        ExportFormat::Csv => files::csv(&rows, tz).map(|b| (b, CSV_CONTENT_TYPE)),
    })
    .await?
    .map_err(ApiError::internal)?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!(
            "{name}.{}",
            format.extension()
        ))],
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

/// The orders the caller's part of a run filed, as a file.
#[utoipa::path(get, path = "/api/reporter/runs/{id}/reports/export/", tag = "runs",
    params(("id" = i64, Path), RunExportQuery),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition`)",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"reportados-ejecucion-<id>-<fecha>.<ext>\"`")),
            content((XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (CsvFile = "text/csv"))),
        (status = 400, description = "`invalid_format`, `export_too_large`", body = ErrorBody),
        (status = 404, description = "`run_not_found`: no such run, or the caller was not in it", body = ErrorBody)),
    security(("token" = [])))]
pub async fn run_export(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    q: web::Query<RunExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = ExportFormat::parse(q.format.as_deref())?;
    let (run_id, uid) = (id.into_inner(), auth.user_id);
    let found = state
        .db(move |c| {
            let Some((run_user_id, date)) = report_exports::participation(c, run_id, uid)? else {
                return Ok(None);
            };
            Ok(Some((report_exports::of_run_user(c, run_user_id)?, date)))
        })
        .await?;
    // A customer who was not in this run must not learn that it exists.
    let (export, date) =
        found.ok_or_else(|| ApiError::not_found("run_not_found", "No existe esa ejecución"))?;
    let Export::Rows(rows) = export else {
        return Err(too_large());
    };
    let name = match date {
        Some(d) => format!("reportados-ejecucion-{run_id}-{d}"),
        None => format!("reportados-ejecucion-{run_id}"),
    };
    respond(&state, rows, format, name).await
}

fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "invalid_date",
            format!(
                "«{field}» debe ser una fecha con el formato AAAA-MM-DD, por ejemplo 2026-03-31"
            ),
        )
    })
}

/// The business dates `from..=to` a range download covers, checked: real
/// dates, in order, not after today, at most [`MAX_RANGE_DAYS`] days.
pub fn date_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    // An empty value is not a date (the schema says `format: date`): only a
    // missing parameter takes the default.
    let to = match to {
        Some(raw) => parse_date("to", raw)?,
        None => today,
    };
    let from = match from {
        Some(raw) => parse_date("from", raw)?,
        None => to - chrono::Duration::days(29),
    };
    if to > today {
        return Err(ApiError::bad_request(
            "date_in_future",
            format!("«to» no puede ser posterior a hoy ({today})"),
        ));
    }
    if from > to {
        return Err(ApiError::bad_request(
            "invalid_date_range",
            format!("«from» ({from}) no puede ser posterior a «to» ({to})"),
        ));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(ApiError::bad_request(
            "date_range_too_long",
            format!("El rango admite como máximo {MAX_RANGE_DAYS} días y pediste {days}"),
        ));
    }
    Ok((from, to))
}

/// The caller's reported orders of a range of business dates, as a file.
#[utoipa::path(get, path = "/api/reporter/reports/export/", tag = "reporter",
    params(RangeExportQuery),
    responses(
        (status = 200, description = "The file, as an attachment (`Content-Disposition`)",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"reportados-<from>-a-<to>.<ext>\"`")),
            content((XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (CsvFile = "text/csv"))),
        (status = 400, description = "`invalid_date`, `invalid_date_range`, `date_in_future`, `date_range_too_long` (over 400 days), `invalid_format`, `export_too_large`", body = ErrorBody)),
    security(("token" = [])))]
pub async fn range_export(
    state: web::Data<AppState>,
    auth: AuthUser,
    q: web::Query<RangeExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = ExportFormat::parse(q.format.as_deref())?;
    let today = reporter_core::schedule::business_date(Utc::now(), state.settings.timezone);
    let (from, to) = date_range(q.from.as_deref(), q.to.as_deref(), today)?;
    let uid = auth.user_id;
    let export = state
        .db(move |c| Ok(report_exports::of_user_between(c, uid, from, to)?))
        .await?;
    let Export::Rows(rows) = export else {
        return Err(too_large());
    };
    respond(&state, rows, format, format!("reportados-{from}-a-{to}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_range_defaults_to_the_last_30_days_and_is_checked() {
        let today = d("2026-12-07");
        assert_eq!(
            date_range(None, None, today).unwrap(),
            (d("2026-11-08"), today)
        );
        assert_eq!(
            date_range(Some("2026-01-01"), Some("2026-01-31"), today).unwrap(),
            (d("2026-01-01"), d("2026-01-31"))
        );
        let code = |f: Option<&str>, t: Option<&str>| date_range(f, t, today).unwrap_err().code;
        assert_eq!(code(Some("2026-02-30"), None), "invalid_date");
        assert_eq!(code(Some("07/12/2026"), None), "invalid_date");
        assert_eq!(code(None, Some("2026-12-08")), "date_in_future");
        assert_eq!(
            code(Some("2026-12-07"), Some("2026-12-01")),
            "invalid_date_range"
        );
        assert_eq!(code(Some("2025-11-02"), None), "date_range_too_long");
        // 400 days inclusive is allowed.
        assert!(date_range(Some("2025-11-03"), None, today).is_ok());
    }

    #[test]
    fn the_format_is_xlsx_unless_csv_is_asked() {
        assert_eq!(ExportFormat::parse(None).unwrap(), ExportFormat::Xlsx);
        assert_eq!(ExportFormat::parse(Some("csv")).unwrap(), ExportFormat::Csv);
        assert_eq!(
            ExportFormat::parse(Some("pdf")).unwrap_err().code,
            "invalid_format"
        );
    }
}
