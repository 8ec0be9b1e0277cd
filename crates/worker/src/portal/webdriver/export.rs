//! The export: its link read from the orders page, the file downloaded with
//! the browser's cookies and parsed into order snapshots.

use std::sync::Arc;
use std::time::Instant;

use reporter_core::domain::OrderSnapshot;
use tracing::debug;

use super::{xlsx, WebDriverSession};
use crate::portal::session_retry::Step;
use crate::portal::PortalError;

impl WebDriverSession {
    /// The export link's URL and the orders page's URL, from the orders
    /// page: the one the browser is on (a login lands there), else after
    /// opening it.
    async fn export_url(&self) -> Result<(reqwest::Url, reqwest::Url), Step> {
        let p = self.profile().orders.clone();
        let orders_path = self.profile().paths.orders.clone();
        let here = self.state(&[&p.export_link], Some("href")).await?;
        let st =
            if here.path == orders_path && here.loaded(false) && here.status < 400 && here.found[0]
            {
                here
            } else {
                self.goto(&orders_path).await?;
                self.wait_page(&[&p.export_link], false, Some("href"))
                    .await?
            };
        if st.path == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        if st.status >= 400 {
            return Err(
                PortalError::Transient(format!("orders page answered {}", st.status)).into(),
            );
        }
        let href = st.attrs[0]
            .clone()
            .ok_or_else(|| PortalError::Permanent(format!("{} has no href", p.export_link)))?;
        let page = reqwest::Url::parse(&st.url)
            .map_err(|e| PortalError::Transient(format!("browser URL {:?}: {e}", st.url)))?;
        let export = page
            .join(&href)
            .map_err(|e| PortalError::Permanent(format!("export link {href:?}: {e}")))?;
        Ok((export, page))
    }

    /// Downloads `url` with the browser's cookies (those of the page `here`)
    /// and user agent.
    async fn download(&self, url: reqwest::Url, here: &reqwest::Url) -> Result<Vec<u8>, Step> {
        let d = self.driver()?;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        for c in d.get_all_cookies().await? {
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
            .await?
            .convert()?;
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
        let status = resp.status();
        if resp.url().path() == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        if status.is_server_error() {
            return Err(PortalError::Transient(format!("export answered {status}")).into());
        }
        if !status.is_success() {
            return Err(PortalError::Permanent(format!("export answered {status}")).into());
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| PortalError::Transient(format!("export download: {e}")))?;
        Ok(bytes.to_vec())
    }

    pub(super) async fn export_once(&self) -> Result<Vec<OrderSnapshot>, Step> {
        let (url, page) = self.export_url().await?;
        let bytes = self.download(url, &page).await?;
        let started = Instant::now();
        let rows = xlsx::parse_export(&bytes, &self.profile().export)?;
        debug!(
            rows = rows.len(),
            bytes = bytes.len(),
            parse_ms = started.elapsed().as_millis() as u64,
            "export parsed"
        );
        Ok(rows)
    }
}
