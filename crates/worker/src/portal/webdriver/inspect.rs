//! The portal check (`reporterctl portal check`): the export's header row
//! read from the file the pipeline's export step downloads, next to its
//! orders, and screenshots of the page the browser is on. Nothing is
//! filled in or submitted.

use super::session::wd_err;
use super::xlsx;
use super::WebDriverSession;
use crate::portal::inspection::ExportInspection;
use crate::portal::session_retry::Step;
use crate::portal::webdriver::profile::ExportProfile;
use crate::portal::PortalError;

/// The sheet the profile reads (as `xlsx::parse_export` picks it) and its
/// header row (the first row that is not empty), as written in the file.
pub fn export_header(
    bytes: &[u8],
    profile: &ExportProfile,
) -> Result<(String, Vec<String>), PortalError> {
    let (sheet, range) = xlsx::export_sheet(bytes, profile)?;
    let header = range
        .rows()
        .find(|r| r.iter().any(|c| !xlsx::cell_text(c).is_empty()))
        .map(|r| r.iter().map(xlsx::cell_text).collect())
        .unwrap_or_default();
    Ok((sheet, header))
}

impl WebDriverSession {
    /// The pipeline's export step (the same link, on-demand generation and
    /// download), with the file's header row read next to its orders.
    pub(super) async fn inspect_export_once(&self) -> Result<ExportInspection, Step> {
        let bytes = self.export_file().await?;
        let (orders, parse_error) = match xlsx::parse_export(&bytes, &self.profile().export) {
            Ok(o) => (o, None),
            Err(PortalError::Permanent(m)) => (Vec::new(), Some(m)),
            Err(e) => return Err(e.into()),
        };
        let (sheet, headers) = export_header(&bytes, &self.profile().export)?;
        Ok(ExportInspection {
            sheet,
            headers,
            orders,
            parse_error,
        })
    }

    /// A screenshot of the current page saved at `path`.
    pub(super) async fn screenshot_to(&self, path: &std::path::Path) -> Result<bool, PortalError> {
        let bytes = self.driver()?.screenshot_as_png().await.map_err(wd_err)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| PortalError::Permanent(format!("{}: {e}", dir.display())))?;
        }
        tokio::fs::write(path, bytes)
            .await
            .map_err(|e| PortalError::Permanent(format!("{}: {e}", path.display())))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use crate::portal::webdriver::Profile;

    #[test]
    fn reads_the_header_row_as_written() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Ordenes").unwrap();
        ws.write_string(1, 0, "ID").unwrap();
        ws.write_string(1, 1, "Número Guía").unwrap();
        ws.write_number(2, 0, 5.0).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let (sheet, headers) = export_header(&bytes, &Profile::portal_sim().export).unwrap();
        assert_eq!(sheet, "Ordenes");
        assert_eq!(headers, vec!["ID".to_string(), "Número Guía".to_string()]);
        assert!(export_header(b"nope", &Profile::portal_sim().export).is_err());
    }
}
