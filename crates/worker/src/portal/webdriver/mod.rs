//! The real portal adapter: a headless Chromium driven over WebDriver
//! (thirtyfour) against a local chromedriver or a Selenium Grid.
//!
//! Every selector, path and form value comes from a [`Profile`]; the export
//! is downloaded with reqwest using the browser session's cookies (works with
//! a remote Grid too) and parsed by [`xlsx::parse_export`]. Waits are explicit:
//! after a navigation or a submit the adapter polls the page until one of the
//! expected elements appears, the HTTP status of the document is an error, or
//! the element timeout passes. Nothing sleeps for a fixed time except the short
//! back-off between retries of a page that answered 5xx.

pub mod profile;
pub mod xlsx;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reporter_core::config::Settings;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;
use serde::Deserialize;
use thirtyfour::prelude::*;
use tracing::{debug, info, warn};

pub use profile::Profile;

use super::session_retry::{self, retry, Step};
use super::{Portal, PortalError, PortalSession, ReportReceipt, SessionContext, SweepError};

/// The message template every process starts with: the default of
/// `REPORTER_REPORT_MESSAGE_TEMPLATE` in the settings table.
pub fn default_message_template() -> &'static str {
    reporter_core::config::SETTINGS
        .iter()
        .find(|s| s.env == "REPORTER_REPORT_MESSAGE_TEMPLATE")
        .and_then(|s| s.default)
        .unwrap_or_default()
}

/// Chromium flags for running in a container without network.
pub const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1280,1024",
];

/// Everything the adapter needs; built from [`Settings`] by [`WebDriverOptions::from_settings`].
#[derive(Debug, Clone)]
pub struct WebDriverOptions {
    pub webdriver_url: String,
    pub portal_url: String,
    pub profile: Profile,
    pub page_load_timeout: Duration,
    pub element_timeout: Duration,
    pub chrome_binary: Option<String>,
    pub artifacts_dir: PathBuf,
    pub message_template: String,
    /// Tries of one page (or one order's report) that answered 5xx or timed out.
    pub page_attempts: u32,
}

impl WebDriverOptions {
    pub fn from_settings(s: &Settings) -> Result<Self, String> {
        Ok(WebDriverOptions {
            webdriver_url: s.webdriver_url.trim_end_matches('/').to_string(),
            portal_url: s.portal_url.trim_end_matches('/').to_string(),
            profile: Profile::load(s.portal_profile.as_deref())?,
            page_load_timeout: Duration::from_secs(s.page_load_timeout_secs),
            element_timeout: Duration::from_secs(s.element_timeout_secs),
            chrome_binary: s.chrome_binary.clone(),
            artifacts_dir: PathBuf::from(&s.artifacts_dir),
            message_template: s.report_message_template.clone(),
            page_attempts: 4,
        })
    }
}

/// Fills the report message template.
pub fn render_message(template: &str, order: &StuckOrder) -> String {
    template
        .replace("{order_id}", &order.order_id.to_string())
        .replace("{order_date}", &order.order_date)
        .replace("{status}", &order.status)
        .replace("{carrier}", &order.carrier)
        .replace("{tracking_number}", &order.tracking_number)
}

pub struct WebDriverPortal {
    opts: Arc<WebDriverOptions>,
    http: reqwest::Client,
}

impl WebDriverPortal {
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: a client with a timeout and no TLS options always builds"
    )]
    pub fn new(opts: WebDriverOptions) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("reqwest client");
        WebDriverPortal {
            opts: Arc::new(opts),
            http,
        }
    }

    /// Starts a browser. Its unique `--user-data-dir` is its tag: recorded
    /// on the lease (awaited) before `POST /session` is sent, so whoever
    /// reaps the lease of a worker killed while this call is in flight can
    /// still find the session (`GET /sessions`, `userDataDir`).
    async fn new_driver(&self, ctx: &SessionContext) -> Result<(WebDriver, PathBuf), PortalError> {
        let mut caps = DesiredCapabilities::chrome();
        let data_dir = std::env::temp_dir().join(format!(
            "reporter-chrome-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let tag = data_dir.display().to_string();
        let wd = |e: WebDriverError| PortalError::Transient(format!("browser capabilities: {e}"));
        for a in CHROME_ARGS {
            caps.add_arg(a).map_err(wd)?;
        }
        caps.add_arg(&format!("--user-data-dir={tag}"))
            .map_err(wd)?;
        if let Some(bin) = &self.opts.chrome_binary {
            caps.set_binary(bin).map_err(wd)?;
        }
        if !ctx.on_browser_starting.record(&tag).await {
            return Err(PortalError::Transient(
                "the browser could not be recorded on its lease (lease lost or Redis failing); not starting it"
                    .into(),
            ));
        }
        let driver = WebDriver::builder(self.opts.webdriver_url.as_str(), caps)
            .request_timeout(self.opts.page_load_timeout + Duration::from_secs(30))
            .await
            .map_err(|e| {
                PortalError::Transient(format!(
                    "cannot start a browser session at {}: {e}",
                    self.opts.webdriver_url
                ))
            })?;
        if let Err(e) = driver
            .set_page_load_timeout(self.opts.page_load_timeout)
            .await
        {
            let _ = driver.quit().await;
            return Err(PortalError::Transient(format!(
                "set page-load timeout: {e}"
            )));
        }
        Ok((driver, data_dir))
    }
}

#[async_trait]
impl Portal for WebDriverPortal {
    async fn login(
        &self,
        email: &str,
        password: &str,
        ctx: &SessionContext,
    ) -> Result<Box<dyn PortalSession>, PortalError> {
        let started = Instant::now();
        let (driver, data_dir) = self.new_driver(ctx).await?;
        let id = driver.session_id().to_string();
        ctx.on_browser_started.notify(&id);
        let session = WebDriverSession {
            driver: Some(driver),
            id,
            opts: self.opts.clone(),
            http: self.http.clone(),
            email: email.to_string(),
            password: password.to_string(),
            ctx: ctx.clone(),
            data_dir,
            opened: None,
        };
        match session.login_with_retries().await {
            Ok(()) => {
                info!(
                    session = %session.id,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "logged in to the portal"
                );
                Ok(Box::new(session))
            }
            Err(e) => {
                session.save_artifacts("login").await;
                Box::new(session).close().await;
                Err(e)
            }
        }
    }

    async fn discard_session(&self, session_id: &str) {
        discard(&self.http, &self.opts.webdriver_url, session_id).await;
    }

    /// Lists the server's sessions (`GET /sessions`: chromedriver has it,
    /// with each session's `capabilities.chrome.userDataDir`; the W3C
    /// protocol and a Selenium Grid do not) and deletes those whose
    /// user-data-dir is one of `tags`.
    async fn discard_tagged_sessions(&self, tags: &[String]) -> Result<Vec<String>, SweepError> {
        let url = format!("{}/sessions", self.opts.webdriver_url);
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| SweepError::Unreachable(format!("GET {url}: {e}")))?;
        let status = answer.status();
        if status.is_server_error() {
            return Err(SweepError::Unreachable(format!("GET {url}: {status}")));
        }
        if !status.is_success() {
            return Err(SweepError::Unsupported(format!("GET {url}: {status}")));
        }
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|e| SweepError::Unsupported(format!("GET {url}: {e}")))?;
        let sessions = tagged_sessions(&body)
            .ok_or_else(|| SweepError::Unsupported(format!("GET {url}: no session list")))?;
        // A tag whose delete failed is not returned, so it is tried again.
        let mut found = Vec::new();
        for (id, dir) in sessions {
            if !tags.contains(&dir) {
                continue;
            }
            info!(session = %id, browser_tag = %dir, "found the session of a browser whose worker died while starting it");
            if discard(&self.http, &self.opts.webdriver_url, &id).await {
                found.push(dir);
            }
        }
        Ok(found)
    }
}

/// `(session id, userDataDir)` of each session in chromedriver's
/// `GET /sessions` answer; `None` if it is not such a list.
fn tagged_sessions(body: &serde_json::Value) -> Option<Vec<(String, String)>> {
    let list = body.get("value")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|s| {
                let id = s.get("id")?.as_str()?;
                let dir = s.pointer("/capabilities/chrome/userDataDir")?.as_str()?;
                Some((id.to_string(), dir.to_string()))
            })
            .collect(),
    )
}

/// `DELETE /session/{id}`; `true` once the session is gone (deleted now, or
/// unknown to the server already).
async fn discard(http: &reqwest::Client, webdriver_url: &str, session_id: &str) -> bool {
    let url = format!("{webdriver_url}/session/{session_id}");
    match http
        .delete(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status();
            info!(session = session_id, status = %status, "deleted WebDriver session");
            status.is_success() || status == reqwest::StatusCode::NOT_FOUND
        }
        Err(e) => {
            warn!(session = session_id, error = %e, "could not delete WebDriver session");
            false
        }
    }
}

/// What the page looks like now (one script call).
#[derive(Debug, Deserialize)]
struct PageState {
    /// The marker set before a submit is still there: same document.
    marked: bool,
    ready: String,
    /// HTTP status of the document (0 = unknown).
    status: u16,
    path: String,
    /// `location.href`.
    url: String,
    /// Which of the asked selectors are present.
    found: Vec<bool>,
    /// The asked attribute of each selector's first match, if any.
    attrs: Vec<Option<String>>,
    /// [`FILL_REPORT_JS`] filled the report form and clicked its submit button.
    #[serde(default)]
    submitted: bool,
    /// [`FILL_REPORT_JS`]: the element of the form it could not find.
    #[serde(default)]
    missing: Option<String>,
}

impl PageState {
    fn loaded(&self, new_document: bool) -> bool {
        self.ready == "complete" && !(new_document && self.marked)
    }
}

/// `pageState(selectors, attribute)`: the [`PageState`] of the document.
const PAGE_STATE_FN: &str = r#"
function pageState(sels, attr) {
  const nav = performance.getEntriesByType('navigation')[0];
  const els = sels.map(function (s) { try { return document.querySelector(s); } catch (e) { return null; } });
  return {
    marked: window.__reporterMark === true,
    ready: document.readyState,
    status: nav && nav.responseStatus ? nav.responseStatus : 0,
    path: location.pathname,
    url: location.href,
    found: els.map(function (e) { return e !== null; }),
    attrs: els.map(function (e) { return e && attr ? e.getAttribute(attr) : null; }),
  };
}
"#;

/// Arguments: selectors, attribute name (or null).
const STATE_JS: &str = "return pageState(arguments[0], arguments[1]);";

/// One round trip for a loaded order page: its state (selectors
/// `[already_reported, report_form]`) and, when it shows the report form
/// and no existing report, the form filled in and sent the way a user
/// sends it: the reason option is selected and the message written through
/// the elements' value setters, each followed by `input` and `change`
/// events, then the form's own submit button is clicked (the browser runs
/// the form's validation and submit handlers and posts it). Sets the
/// document marker first, so the wait that follows knows the answer page
/// from this one.
///
/// Arguments: selectors, ticket attribute, `{login, reason, reason_value,
/// message, text, submit}`.
const FILL_REPORT_JS: &str = r#"
const s = pageState(arguments[0], arguments[1]);
const f = arguments[2];
s.submitted = false;
s.missing = null;
if (s.ready !== 'complete' || s.status >= 400 || s.path === f.login || s.found[0] || !s.found[1]) {
  return s;
}
const q = function (sel) { try { return document.querySelector(sel); } catch (e) { return null; } };
const reason = q(f.reason), message = q(f.message), submit = q(f.submit);
if (!reason) { s.missing = f.reason; return s; }
if (!Array.prototype.some.call(reason.options || [], function (o) { return o.value === f.reason_value; })) {
  s.missing = f.reason + ' option ' + JSON.stringify(f.reason_value);
  return s;
}
if (!message) { s.missing = f.message; return s; }
if (!submit) { s.missing = f.submit; return s; }
const setValue = function (el, v) {
  el.focus();
  const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value');
  if (d && d.set) { d.set.call(el, v); } else { el.value = v; }
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
};
setValue(reason, f.reason_value);
setValue(message, f.text);
if (reason.value !== f.reason_value || message.value !== f.text) {
  s.missing = 'the values of ' + f.reason + ' and ' + f.message + ' (the page changed them)';
  return s;
}
window.__reporterMark = true;
submit.click();
s.submitted = true;
return s;
"#;

impl From<WebDriverError> for Step {
    fn from(e: WebDriverError) -> Self {
        Step::Portal(wd_err(e))
    }
}

fn state_args(selectors: &[&str], attr: Option<&str>) -> Vec<serde_json::Value> {
    vec![
        selectors
            .iter()
            .map(|s| serde_json::Value::from(*s))
            .collect(),
        attr.map_or(serde_json::Value::Null, Into::into),
    ]
}

fn wd_err(e: WebDriverError) -> PortalError {
    PortalError::Transient(format!("browser: {e}"))
}

pub struct WebDriverSession {
    driver: Option<WebDriver>,
    id: String,
    opts: Arc<WebDriverOptions>,
    http: reqwest::Client,
    email: String,
    password: String,
    ctx: SessionContext,
    data_dir: PathBuf,
    /// The order whose page [`PortalSession::open_order`] left open with its
    /// report form; `report` of that order starts from it.
    opened: Option<i64>,
}

impl WebDriverSession {
    /// The browser, for one command. Every command goes through here, so a
    /// worker resumed after a pause past its lease (whose browser the
    /// reaper may have ended, and whose work another worker now owns) sends
    /// none: not even the rest of the order it was in the middle of.
    fn driver(&self) -> Result<&WebDriver, PortalError> {
        self.ctx.still_held.ensure("browser command")?;
        self.driver
            .as_ref()
            .ok_or_else(|| PortalError::Transient("browser session already closed".into()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.opts.portal_url, path)
    }

    fn profile(&self) -> &Profile {
        &self.opts.profile
    }

    async fn goto(&self, path: &str) -> Result<(), PortalError> {
        self.driver()?.goto(self.url(path)).await.map_err(wd_err)
    }

    /// Runs `script` (with [`PAGE_STATE_FN`] defined) and reads its [`PageState`].
    async fn run_state(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<PageState, PortalError> {
        let ret = self
            .driver()?
            .execute(format!("{PAGE_STATE_FN}\n{script}"), args)
            .await
            .map_err(wd_err)?;
        serde_json::from_value(ret.json().clone())
            .map_err(|e| PortalError::Transient(format!("page state: {e}")))
    }

    /// Runs `script` until `done` accepts its state; at most the element
    /// timeout. Polls right away, then after 10, 20, 40 and every 50 ms: an
    /// answer page usually loads within a few tens of milliseconds, and a
    /// call right after a navigation started waits for it in chromedriver.
    async fn wait_state(
        &self,
        what: &str,
        script: &str,
        args: Vec<serde_json::Value>,
        mut done: impl FnMut(&PageState) -> bool,
    ) -> Result<PageState, PortalError> {
        let deadline = Instant::now() + self.opts.element_timeout;
        let mut pause = Duration::from_millis(10);
        loop {
            let st = self.run_state(script, args.clone()).await?;
            if done(&st) {
                return Ok(st);
            }
            if Instant::now() >= deadline {
                let missing = st
                    .missing
                    .as_deref()
                    .map(|m| format!(", missing {m}"))
                    .unwrap_or_default();
                return Err(PortalError::Transient(format!(
                    "timed out after {:?} waiting for {what} on {} (status {}{missing})",
                    self.opts.element_timeout, st.path, st.status
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// The current page's state, without waiting.
    async fn state(
        &self,
        selectors: &[&str],
        attr: Option<&str>,
    ) -> Result<PageState, PortalError> {
        self.run_state(STATE_JS, state_args(selectors, attr)).await
    }

    /// Waits until the page (a new document, if `new_document`) has loaded and
    /// shows one of `selectors`, an HTTP error, or the login page. `attr` is
    /// read from each selector's element ([`PageState::attrs`]).
    async fn wait_page(
        &self,
        selectors: &[&str],
        new_document: bool,
        attr: Option<&str>,
    ) -> Result<PageState, PortalError> {
        let login_path = self.profile().paths.login.clone();
        self.wait_state(
            &selectors.join(" or "),
            STATE_JS,
            state_args(selectors, attr),
            |st| {
                st.loaded(new_document)
                    && (st.found.iter().any(|f| *f) || st.status >= 400 || st.path == login_path)
            },
        )
        .await
    }

    async fn mark_document(&self) -> Result<(), PortalError> {
        self.driver()?
            .execute("window.__reporterMark = true;", vec![])
            .await
            .map_err(wd_err)?;
        Ok(())
    }

    /// Polls for the element ourselves (not with thirtyfour's waiting
    /// query) so every poll passes the lease check in [`Self::driver`].
    async fn find(&self, css: &str) -> Result<WebElement, PortalError> {
        let deadline = Instant::now() + self.opts.element_timeout;
        loop {
            match self.driver()?.find(By::Css(css)).await {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() >= deadline => {
                    return Err(PortalError::Transient(format!("element {css}: {e}")))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Before a command on an element found earlier (it does not pass
    /// through [`Self::driver`]).
    fn held(&self) -> Result<(), PortalError> {
        self.ctx.still_held.ensure("browser command")
    }

    async fn login_once(&self) -> Result<(), PortalError> {
        let p = self.profile().login.clone();
        self.goto(&self.profile().paths.login.clone()).await?;
        let st = self
            .wait_page(&[&p.form, &p.logged_in], false, None)
            .await?;
        if st.status >= 500 {
            return Err(PortalError::Transient(format!(
                "login page answered {}",
                st.status
            )));
        }
        if st.found.get(1) == Some(&true) && st.found.first() != Some(&true) {
            return Ok(()); // already logged in
        }
        let email = self.find(&p.email).await?;
        self.held()?;
        email.clear().await.map_err(wd_err)?;
        self.held()?;
        email.send_keys(self.email.as_str()).await.map_err(wd_err)?;
        let password = self.find(&p.password).await?;
        self.held()?;
        password.clear().await.map_err(wd_err)?;
        self.held()?;
        password
            .send_keys(self.password.as_str())
            .await
            .map_err(wd_err)?;
        self.mark_document().await?;
        let submit = self.find(&p.submit).await?;
        self.held()?;
        submit.click().await.map_err(wd_err)?;
        let st = self
            .wait_page(&[&p.logged_in, &p.error], true, None)
            .await?;
        if st.found[0] {
            return Ok(());
        }
        if st.found[1] {
            let error = self.find(&p.error).await?;
            self.held()?;
            let text = error.text().await.map_err(wd_err)?;
            return Err(p.refusal(&text));
        }
        Err(PortalError::Transient(format!(
            "login answered {} on {}",
            st.status, st.path
        )))
    }

    async fn login_with_retries(&self) -> Result<(), PortalError> {
        retry(
            self.opts.page_attempts,
            "login",
            &self.ctx.still_held,
            || self.login_once(),
        )
        .await
    }

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

    async fn export_once(&self) -> Result<Vec<OrderSnapshot>, Step> {
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

    /// Opens the order's page: `Some` if it shows an existing report, `None`
    /// if it shows the report form. Files nothing.
    async fn open_once(&self, order: &StuckOrder) -> Result<Option<ReportReceipt>, Step> {
        let p = self.profile().order.clone();
        let attr = p.ticket_attribute.clone();
        self.goto(&self.profile().order_path(order.order_id))
            .await?;
        let st = self
            .wait_page(&[&p.already_reported, &p.report_form], false, Some(&attr))
            .await?;
        let form_shown = st.found[1] && !st.found[0] && st.status < 400;
        if form_shown && st.path != self.profile().paths.login {
            return Ok(None);
        }
        self.order_page_without_form(&st, order).map(Some)
    }

    /// What an order page that offers no report form to fill means (the
    /// state's selectors are `[already_reported, ..]`): the login page, an
    /// existing report (its ticket), a missing order, or a portal error.
    fn order_page_without_form(
        &self,
        st: &PageState,
        order: &StuckOrder,
    ) -> Result<ReportReceipt, Step> {
        let p = &self.profile().order;
        if st.path == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        if st.found[0] {
            return Ok(ReportReceipt {
                ticket: ticket(st, 0, &p.already_reported, &p.ticket_attribute)?,
                already_reported: true,
            });
        }
        if st.status == 404 {
            return Err(PortalError::Permanent(format!(
                "order {} not found on the portal (404)",
                order.order_id
            ))
            .into());
        }
        Err(PortalError::Transient(format!("order page {} answered {}", st.path, st.status)).into())
    }

    /// Opens the order's page (unless `page_open`: [`Self::open_once`] just
    /// left the browser on it) and, unless it shows an existing report,
    /// fills the report form and submits it ([`FILL_REPORT_JS`], one round
    /// trip once the page is there), then waits for the answer page and
    /// reads its ticket from the same state call.
    async fn report_once(
        &self,
        order: &StuckOrder,
        page_open: bool,
    ) -> Result<ReportReceipt, Step> {
        let p = self.profile().order.clone();
        let login_path = self.profile().paths.login.clone();
        let attr = p.ticket_attribute.clone();
        if !page_open {
            self.goto(&self.profile().order_path(order.order_id))
                .await?;
        }
        let form = serde_json::json!({
            "login": login_path,
            "reason": p.reason,
            "reason_value": p.reason_value,
            "message": p.message,
            "text": render_message(&self.opts.message_template, order),
            "submit": p.submit,
        });
        let st = self
            .wait_state(
                &format!("{} or a complete {}", p.already_reported, p.report_form),
                FILL_REPORT_JS,
                vec![
                    serde_json::json!([p.already_reported, p.report_form]),
                    attr.as_str().into(),
                    form,
                ],
                |st| {
                    st.submitted
                        || (st.loaded(false)
                            && (st.found[0] || st.status >= 400 || st.path == login_path))
                },
            )
            .await?;
        if !st.submitted {
            return self.order_page_without_form(&st, order);
        }
        let st = self
            .wait_page(&[&p.report_ok, &p.already_reported], true, Some(&attr))
            .await?;
        if st.found[0] {
            return Ok(ReportReceipt {
                ticket: ticket(&st, 0, &p.report_ok, &attr)?,
                already_reported: false,
            });
        }
        if st.found[1] {
            return Ok(ReportReceipt {
                ticket: ticket(&st, 1, &p.already_reported, &attr)?,
                already_reported: true,
            });
        }
        if st.path == login_path {
            return Err(Step::LoggedOut);
        }
        Err(PortalError::Transient(format!(
            "report of order {} answered {} on {}",
            order.order_id, st.status, st.path
        ))
        .into())
    }

    async fn with_session<T, F, Fut>(&self, what: &str, step: F) -> Result<T, PortalError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Step>>,
    {
        session_retry::with_session(
            what,
            self.opts.page_attempts,
            &self.ctx.still_held,
            step,
            || self.login_with_retries(),
        )
        .await
    }

    /// Saves a screenshot and the page source for a failure; best effort.
    async fn save_artifacts(&self, what: &str) {
        // Not for a browser whose lease is gone (it may be reaped already).
        if !self.ctx.still_held.held() {
            return;
        }
        let Some(d) = &self.driver else { return };
        let dir = self
            .opts
            .artifacts_dir
            .join(format!("run-{}", self.ctx.run_id))
            .join(format!("user-{}", self.ctx.user_id))
            .join(match self.ctx.range_id {
                Some(r) => format!("range-{r}"),
                None => "range-download".to_string(),
            });
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let base = dir.join(format!("{what}-{stamp}"));
        if let Err(e) = tokio::fs::create_dir_all(&dir).await {
            warn!(dir = %dir.display(), error = %e, "cannot create the artifacts directory");
            return;
        }
        let png = base.with_extension("png");
        let html = base.with_extension("html");
        match d.screenshot_as_png().await {
            Ok(bytes) => {
                if let Err(e) = tokio::fs::write(&png, bytes).await {
                    warn!(path = %png.display(), error = %e, "cannot save screenshot");
                }
            }
            Err(e) => warn!(error = %e, "cannot take a screenshot"),
        }
        match d.source().await {
            Ok(src) => {
                if let Err(e) = tokio::fs::write(&html, src).await {
                    warn!(path = %html.display(), error = %e, "cannot save page source");
                }
            }
            Err(e) => warn!(error = %e, "cannot read the page source"),
        }
        warn!(screenshot = %png.display(), page = %html.display(), "portal failure artifacts saved");
    }
}

/// The ticket in `st.attrs[i]` (the element of `css`).
fn ticket(st: &PageState, i: usize, css: &str, attr: &str) -> Result<String, PortalError> {
    st.attrs
        .get(i)
        .cloned()
        .flatten()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PortalError::Permanent(format!("{css} has no {attr}")))
}

/// Shared with the HTTP driver so both pace retries alike.
#[async_trait]
impl PortalSession for WebDriverSession {
    fn webdriver_session(&self) -> Option<String> {
        Some(self.id.clone())
    }

    async fn export(&mut self) -> Result<Vec<OrderSnapshot>, PortalError> {
        self.opened = None;
        let r = self.with_session("export", || self.export_once()).await;
        if let Err(e) = &r {
            warn!(error = %e, "export failed");
            self.save_artifacts("export").await;
        }
        r
    }

    async fn open_order(
        &mut self,
        order: &StuckOrder,
    ) -> Result<Option<ReportReceipt>, PortalError> {
        self.opened = None;
        let r = self
            .with_session("open order", || self.open_once(order))
            .await;
        match &r {
            Ok(None) => self.opened = Some(order.order_id),
            Ok(Some(_)) => {}
            Err(e) => {
                warn!(order = order.order_id, error = %e, "opening the order failed");
                self.save_artifacts(&format!("order-{}", order.order_id))
                    .await;
            }
        }
        r
    }

    async fn report(&mut self, order: &StuckOrder) -> Result<ReportReceipt, PortalError> {
        // Only the first try may start from the page open_order left open;
        // retries open it again.
        let mut page_open = self.opened.take() == Some(order.order_id);
        let r = self
            .with_session("report", || {
                self.report_once(order, std::mem::replace(&mut page_open, false))
            })
            .await;
        if let Err(e) = &r {
            warn!(order = order.order_id, error = %e, "report failed");
            self.save_artifacts(&format!("order-{}", order.order_id))
                .await;
        }
        r
    }

    async fn close(mut self: Box<Self>) {
        if let Some(d) = self.driver.take() {
            let quit = tokio::time::timeout(Duration::from_secs(30), d.quit()).await;
            match quit {
                Ok(Ok(())) => debug!(session = %self.id, "browser closed"),
                Ok(Err(e)) => {
                    warn!(session = %self.id, error = %e, "quit failed; deleting the session");
                    discard(&self.http, &self.opts.webdriver_url, &self.id).await;
                }
                Err(_) => {
                    warn!(session = %self.id, "quit timed out; deleting the session");
                    discard(&self.http, &self.opts.webdriver_url, &self.id).await;
                }
            }
        }
        if self.data_dir.exists() {
            let _ = tokio::fs::remove_dir_all(&self.data_dir).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chromedrivers_session_list() {
        let body = serde_json::json!({"sessionId": "", "status": 0, "value": [
            {"id": "a1", "capabilities": {"browserName": "chrome",
                "chrome": {"chromedriverVersion": "156", "userDataDir": "/tmp/reporter-chrome-1-ab"}}},
            {"id": "b2", "capabilities": {"browserName": "firefox"}},
        ]});
        assert_eq!(
            tagged_sessions(&body),
            Some(vec![("a1".into(), "/tmp/reporter-chrome-1-ab".into())])
        );
        let empty = serde_json::json!({"sessionId": "", "status": 0, "value": []});
        assert_eq!(tagged_sessions(&empty), Some(vec![]));
        let grid = serde_json::json!({"value": {"error": "unknown command", "message": "…"}});
        assert_eq!(tagged_sessions(&grid), None);
    }

    /// A worker paused past its lease and resumed mid-backoff makes no
    /// further portal call: the reaper may have ended its browser and
    /// another worker owns the work.
    #[tokio::test]
    async fn no_retry_once_the_lease_is_lost() {
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        use std::sync::Arc;
        let lost = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU32::new(0));
        let held = {
            let lost = lost.clone();
            crate::portal::StillHeld::new(move || !lost.load(Ordering::SeqCst))
        };
        let r: Result<(), PortalError> = retry(4, "login", &held, || {
            let (lost, calls) = (lost.clone(), calls.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                // The lease is lost while this call fails (e.g. SIGSTOP).
                lost.store(true, Ordering::SeqCst);
                Err(PortalError::Transient("invalid session id".into()))
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(r.unwrap_err().to_string().contains("browser lease lost"));
        // While held, transient errors are retried up to the attempts.
        lost.store(false, Ordering::SeqCst);
        calls.store(0, Ordering::SeqCst);
        let always = crate::portal::StillHeld::default();
        let r: Result<(), PortalError> = retry(3, "login", &always, || {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(PortalError::Transient("502".into()))
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(r.is_err());
    }

    #[test]
    fn renders_the_default_template() {
        let o = StuckOrder {
            position: 1,
            order_id: 100001,
            status: "EN_TRANSITO".into(),
            carrier: "Servientrega".into(),
            tracking_number: "SV1".into(),
            order_date: "2026-10-01".into(),
        };
        assert_eq!(
            render_message(default_message_template(), &o),
            "Orden 100001 sin movimiento desde el 2026-10-01: estado EN_TRANSITO, transportadora Servientrega, guía SV1."
        );
    }
}
