//! The portal check (`reporterctl portal check`): the export's header row
//! read from the file the export link gives, next to the pipeline's own
//! export, and screenshots of the page the browser is on. Nothing is
//! filled in or submitted.

use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, Reader, Xlsx};

use super::page_state::Read;
use super::session::wd_err;
use super::xlsx::normalize_header;
use super::WebDriverSession;
use crate::portal::inspection::ExportInspection;
use crate::portal::session_retry::Step;
use crate::portal::webdriver::profile::ExportProfile;
use crate::portal::PortalError;

fn header_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => dt.as_f64().to_string(),
    }
}

/// The sheet the profile reads (as `xlsx::parse_export` picks it) and its
/// header row (the first row that is not empty), as written in the file.
pub fn export_header(
    bytes: &[u8],
    profile: &ExportProfile,
) -> Result<(String, Vec<String>), PortalError> {
    let permanent = |m: String| PortalError::Permanent(m);
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
    .ok_or_else(|| permanent("the export has no sheet".into()))?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| permanent(format!("cannot read sheet {sheet:?} of the export: {e}")))?;
    let header = range
        .rows()
        .find(|r| r.iter().any(|c| !header_text(c).is_empty()))
        .map(|r| r.iter().map(header_text).collect())
        .unwrap_or_default();
    Ok((sheet, header))
}

impl WebDriverSession {
    /// The pipeline's export step, then the header row of the file the
    /// orders page's export link (still on the page) gives.
    pub(super) async fn inspect_export_once(&self) -> Result<ExportInspection, Step> {
        let (orders, parse_error) = match self.export_once().await {
            Ok(o) => (o, None),
            Err(Step::Portal(PortalError::Permanent(m))) => (Vec::new(), Some(m)),
            Err(e) => return Err(e),
        };
        let link = self.profile().orders.export_link.clone();
        let st = self.state(&[&link], Read::attr("href")).await?;
        if st.path == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        let href = match st.attrs.first().cloned().flatten() {
            Some(h) if st.found[0] => h,
            _ => {
                return Err(PortalError::Permanent(match parse_error {
                    Some(m) => m,
                    None => format!("the orders page has no {link} with an href"),
                })
                .into())
            }
        };
        let page = reqwest::Url::parse(&st.url)
            .map_err(|e| PortalError::Transient(format!("browser URL {:?}: {e}", st.url)))?;
        let url = page
            .join(&href)
            .map_err(|e| PortalError::Permanent(format!("export link {href:?}: {e}")))?;
        let bytes = self.download_with_cookies(url, &page).await?;
        let (sheet, headers) = export_header(&bytes, &self.profile().export)?;
        Ok(ExportInspection {
            sheet,
            headers,
            orders,
            parse_error,
        })
    }

    /// `url` downloaded with the browser's cookies and user agent.
    async fn download_with_cookies(
        &self,
        url: reqwest::Url,
        here: &reqwest::Url,
    ) -> Result<Vec<u8>, Step> {
        let d = self.driver()?;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        for c in d.get_all_cookies().await.map_err(wd_err)? {
            let mut s = format!("{}={}", c.name, c.value);
            if let Some(p) = &c.path {
                s += &format!("; Path={p}");
            }
            if let Some(dm) = &c.domain {
                s += &format!("; Domain={dm}");
            }
            jar.add_cookie_str(&s, here);
        }
        let ua: String = self
            .driver()?
            .execute("return navigator.userAgent;", vec![])
            .await
            .map_err(wd_err)?
            .convert()
            .map_err(wd_err)?;
        let client = reqwest::Client::builder()
            .cookie_provider(jar)
            .user_agent(ua)
            .timeout(self.opts.page_load_timeout)
            .build()
            .map_err(|e| PortalError::Transient(format!("http client: {e}")))?;
        let resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| PortalError::Transient(format!("export download: {e}")))?;
        if resp.url().path() == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        let status = resp.status();
        if !status.is_success() {
            return Err(PortalError::Transient(format!("export answered {status}")).into());
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| PortalError::Transient(format!("export download: {e}")))?;
        Ok(bytes.to_vec())
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
