//! The export: its link read from the orders page, the file downloaded with
//! the browser's cookies and parsed into order snapshots.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reporter_core::domain::OrderSnapshot;
use tracing::debug;

use super::page_state::{state_args, PageState, Read, STATE_JS};
use super::session::wd_err;
use super::{xlsx, WebDriverSession};
use crate::portal::session_retry::Step;
use crate::portal::PortalError;

/// Longest pause between polls for an export link that takes its time
/// (`orders.generate_export` or `orders.export_ready_timeout_secs`): a
/// portal building an export takes seconds, polling every 50 ms buys nothing.
const EXPORT_POLL_MAX_PAUSE: Duration = Duration::from_millis(250);

/// The pause between polls of a page that shows its link at once.
const PAGE_POLL_MAX_PAUSE: Duration = Duration::from_millis(50);

impl WebDriverSession {
    /// The export link's URL and the orders page's URL, from the orders
    /// page: the one the browser is on (a login lands there), else after
    /// opening it. When the profile has `orders.generate_export`, the
    /// export is asked for first ([`Self::generated_export`]).
    ///
    /// Only the export link is read from the orders page, never the orders
    /// it lists: a portal that paginates its orders list works as long as
    /// its export holds every order.
    async fn export_url(&self) -> Result<(reqwest::Url, reqwest::Url), Step> {
        let p = self.profile().orders.clone();
        let st = match &p.generate_export {
            Some(generate) => self.generated_export(generate).await?,
            None => self.shown_export().await?,
        };
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

    /// The orders page's state with its export link (selector 0, `href`
    /// read), waiting for the link up to `orders.export_ready_timeout_secs`.
    async fn shown_export(&self) -> Result<PageState, Step> {
        let p = self.profile().orders.clone();
        let orders_path = self.profile().paths.orders.clone();
        let here = self.state(&[&p.export_link], Read::attr("href")).await?;
        let st = if here.path == orders_path
            && here.loaded(false)
            && here.status < 400
            && here.found[0]
        {
            here
        } else {
            self.goto(&orders_path).await?;
            let login_path = self.profile().paths.login.clone();
            let max_pause = if p.export_ready_timeout_secs.is_some() {
                EXPORT_POLL_MAX_PAUSE
            } else {
                PAGE_POLL_MAX_PAUSE
            };
            self.wait_state_within(
                &p.export_link,
                p.export_ready_timeout(self.opts.element_timeout),
                max_pause,
                STATE_JS,
                state_args(&[&p.export_link], Read::attr("href")),
                |st| st.loaded(false) && (st.found[0] || st.status >= 400 || st.path == login_path),
            )
            .await?
        };
        self.orders_page_usable(&st)?;
        Ok(st)
    }

    /// Asks the portal for the export (clicks `generate`) and waits, up to
    /// `orders.export_ready_timeout_secs`, for a link to it (selector 0 of
    /// the answered state). A link shown before the click may be an older
    /// export, so it counts only once the page changed: a new document, or
    /// another `href`.
    async fn generated_export(&self, generate: &str) -> Result<PageState, Step> {
        let p = self.profile().orders.clone();
        let orders_path = self.profile().paths.orders.clone();
        let login_path = self.profile().paths.login.clone();
        let sels = [p.export_link.as_str(), generate];
        let here = self.state(&sels, Read::attr("href")).await?;
        let st =
            if here.path == orders_path && here.loaded(false) && here.status < 400 && here.found[1]
            {
                here
            } else {
                self.goto(&orders_path).await?;
                self.wait_page(&[generate], false, Read::NOTHING).await?;
                self.state(&sels, Read::attr("href")).await?
            };
        self.orders_page_usable(&st)?;
        if !st.found[1] {
            return Err(PortalError::Transient(format!(
                "orders page {} has no {generate}",
                st.path
            ))
            .into());
        }
        let before = if st.found[0] {
            st.attrs[0].clone()
        } else {
            None
        };
        self.mark_document().await?;
        let button = self.find(generate).await?;
        self.held()?;
        button.click().await.map_err(wd_err)?;
        let timeout = p.export_ready_timeout(self.opts.element_timeout);
        let started = Instant::now();
        let st = self
            .wait_state_within(
                &format!("{} after clicking {generate}", p.export_link),
                timeout,
                EXPORT_POLL_MAX_PAUSE,
                STATE_JS,
                state_args(&[&p.export_link], Read::attr("href")),
                |st| {
                    let fresh = before.is_none() || !st.marked || st.attrs[0] != before;
                    st.loaded(false)
                        && ((st.found[0] && fresh) || st.status >= 400 || st.path == login_path)
                },
            )
            .await?;
        self.orders_page_usable(&st)?;
        debug!(
            wait_ms = started.elapsed().as_millis() as u64,
            "export generated"
        );
        Ok(st)
    }

    /// The orders page is not the login page or an HTTP error.
    fn orders_page_usable(&self, st: &PageState) -> Result<(), Step> {
        if st.path == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        if st.status >= 400 {
            return Err(
                PortalError::Transient(format!("orders page answered {}", st.status)).into(),
            );
        }
        Ok(())
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

    /// The export file, as the portal gives it (asked for first when the
    /// profile says so).
    pub(super) async fn export_file(&self) -> Result<Vec<u8>, Step> {
        let (url, page) = self.export_url().await?;
        self.download(url, &page).await
    }

    pub(super) async fn export_once(&self) -> Result<Vec<OrderSnapshot>, Step> {
        let bytes = self.export_file().await?;
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
