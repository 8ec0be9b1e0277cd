//! A browserless client of the portal contract (`REPORTER_PORTAL_DRIVER=http`)
//! for compressed-time soaks: the whole fleet runs against `portal-sim`
//! without Chromium, and the simulator's faults (5xx, latency, blocked
//! accounts) and its truth still apply.
//!
//! Not for production portals: a real portal may need JavaScript, a real
//! browser's headers or anti-bot checks this client does not have, and its
//! cookie name and logout path are the contract's, not the profile's. The
//! pre-deploy check refuses any driver but `webdriver` in prod.
//!
//! Everything portal-specific comes from the browser adapter: its
//! [`Profile`] (paths, selectors, form values, export columns), its export
//! parser and its message template, so both drivers read a portal alike.
//! The session id is the `portal_session` cookie; one [`reqwest::Client`]
//! (one cookie jar) per login stands for one browser.

mod page;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reporter_core::config::Settings;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;
use reqwest::{StatusCode, Url};
use tracing::{debug, info, warn};

use super::session_retry::{self, Step};
use super::webdriver::{render_message, xlsx, Profile, WebDriverOptions};
use super::{Portal, PortalError, PortalSession, ReportReceipt, SessionContext, SweepError};
use page::{Element, Page, Selector};

/// The session cookie of contract v1; portal profiles do not name it.
pub const SESSION_COOKIE: &str = "portal_session";
/// Ends a session (contract v1); portal profiles do not name it.
pub const LOGOUT_PATH: &str = "/logout";

/// What the driver needs; see [`HttpPortalOptions::from_settings`].
#[derive(Debug, Clone)]
pub struct HttpPortalOptions {
    /// Without a trailing slash.
    pub portal_url: String,
    pub profile: Profile,
    /// Limit of one request, answer body included.
    pub page_timeout: Duration,
    pub message_template: String,
    /// Tries of one page (or one order's report) that answered 5xx or timed out.
    pub page_attempts: u32,
}

impl HttpPortalOptions {
    /// Read through the browser adapter's own options, so the two drivers
    /// cannot disagree on the portal URL, the profile, the page-load
    /// timeout, the message template or the number of tries.
    pub fn from_settings(s: &Settings) -> Result<Self, String> {
        let wd = WebDriverOptions::from_settings(s)?;
        Ok(HttpPortalOptions {
            portal_url: wd.portal_url,
            profile: wd.profile,
            page_timeout: wd.page_load_timeout,
            message_template: wd.message_template,
            page_attempts: wd.page_attempts,
        })
    }
}

/// The profile's selectors this driver reads, parsed once.
#[derive(Debug)]
struct Selectors {
    login_form: Selector,
    login_email: Selector,
    login_password: Selector,
    login_submit: Selector,
    login_error: Selector,
    export_link: Selector,
    report_form: Selector,
    reason: Selector,
    message: Selector,
    submit: Selector,
    already_reported: Selector,
    report_ok: Selector,
}

impl Selectors {
    fn of(p: &Profile) -> Result<Self, String> {
        let s = |field: &str, css: &str| {
            Selector::parse(css).map_err(|e| format!("portal profile {}: {field}: {e}", p.name))
        };
        Ok(Selectors {
            login_form: s("login.form", &p.login.form)?,
            login_email: s("login.email", &p.login.email)?,
            login_password: s("login.password", &p.login.password)?,
            login_submit: s("login.submit", &p.login.submit)?,
            login_error: s("login.error", &p.login.error)?,
            export_link: s("orders.export_link", &p.orders.export_link)?,
            report_form: s("order.report_form", &p.order.report_form)?,
            reason: s("order.reason", &p.order.reason)?,
            message: s("order.message", &p.order.message)?,
            submit: s("order.submit", &p.order.submit)?,
            already_reported: s("order.already_reported", &p.order.already_reported)?,
            report_ok: s("order.report_ok", &p.order.report_ok)?,
        })
    }
}

#[derive(Debug)]
struct Shared {
    opts: HttpPortalOptions,
    sel: Selectors,
}

impl Shared {
    /// Appended to the portal URL as the browser adapter does, so a portal
    /// under a path prefix keeps it.
    fn url(&self, path: &str) -> Result<Url, PortalError> {
        Url::parse(&format!("{}{path}", self.opts.portal_url))
            .map_err(|e| PortalError::Permanent(format!("portal path {path:?}: {e}")))
    }

    fn profile(&self) -> &Profile {
        &self.opts.profile
    }
}

pub struct HttpPortal {
    shared: Arc<Shared>,
    /// For logouts of sessions left by dead workers (no cookie jar: the
    /// cookie is set per request).
    http: reqwest::Client,
}

impl HttpPortal {
    /// Fails when the portal URL is not a URL or a selector the driver uses
    /// is outside what it can read (see `page`), so a bad profile stops the
    /// worker at start rather than failing every session.
    pub fn new(mut opts: HttpPortalOptions) -> Result<Self, String> {
        opts.portal_url = opts.portal_url.trim_end_matches('/').to_string();
        Url::parse(&opts.portal_url)
            .map_err(|e| format!("portal URL {:?}: {e}", opts.portal_url))?;
        let sel = Selectors::of(&opts.profile)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        Ok(HttpPortal {
            shared: Arc::new(Shared { opts, sel }),
            http,
        })
    }
}

/// A cookie value cut short for logs: it is a live session's credential.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[async_trait]
impl Portal for HttpPortal {
    async fn login(
        &self,
        email: &str,
        password: &str,
        ctx: &SessionContext,
    ) -> Result<Box<dyn PortalSession>, PortalError> {
        let started = Instant::now();
        // The lease bookkeeping of a browser start, so leases and the reaper
        // work as with browsers; the tag is never found again (see
        // `discard_tagged_sessions`), only recorded.
        let tag = format!(
            "reporter-http-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        if !ctx.on_browser_starting.record(&tag).await {
            return Err(PortalError::Transient(
                "the portal session could not be recorded on its lease (lease lost or Redis failing); not logging in"
                    .into(),
            ));
        }
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.shared.opts.page_timeout)
            .build()
            .map_err(|e| PortalError::Transient(format!("http client: {e}")))?;
        let session = HttpSession {
            shared: self.shared.clone(),
            client,
            email: email.to_string(),
            password: password.to_string(),
            ctx: ctx.clone(),
            id: Mutex::new(String::new()),
            opened: None,
        };
        session.login_with_retries().await?;
        info!(
            session = short(&session.id()),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "logged in to the portal (http driver)"
        );
        Ok(Box::new(session))
    }

    async fn discard_session(&self, session_id: &str) {
        let Ok(url) = self.shared.url(LOGOUT_PATH) else {
            return;
        };
        match self
            .http
            .get(url)
            .header(
                reqwest::header::COOKIE,
                format!("{SESSION_COOKIE}={session_id}"),
            )
            .send()
            .await
        {
            Ok(r) => {
                info!(session = short(session_id), status = %r.status(), "logged out a portal session")
            }
            Err(e) => {
                warn!(session = short(session_id), error = %e, "could not log out a portal session")
            }
        }
    }

    /// A session is known by its cookie only once the login answered, so the
    /// one of a worker killed mid-login cannot be found; it ends at the
    /// portal's idle expiry. `Unsupported` makes the sweep forget the tags.
    async fn discard_tagged_sessions(&self, _tags: &[String]) -> Result<Vec<String>, SweepError> {
        Err(SweepError::Unsupported(
            "the http portal driver cannot find a session by its tag; it ends at the portal's idle expiry"
                .into(),
        ))
    }
}

/// A portal answer, read whole.
struct Answer {
    status: StatusCode,
    /// The URL asked for (redirects are not followed).
    url: Url,
    location: Option<Url>,
    /// The session cookie this answer set, if any.
    session_cookie: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// A redirect to the login page: the session is gone.
    fn to_login(&self, login_path: &str) -> bool {
        self.status.is_redirection()
            && self
                .location
                .as_ref()
                .is_some_and(|l| l.path() == login_path)
    }

    fn page(&self) -> Page {
        Page::parse(&String::from_utf8_lossy(&self.body))
    }
}

/// An order page that showed the report form, kept so `report` of the same
/// order posts that form without loading the page again.
struct Opened {
    order_id: i64,
    url: Url,
    page: Page,
}

enum OrderPage {
    Form(Opened),
    Reported(ReportReceipt),
}

pub struct HttpSession {
    shared: Arc<Shared>,
    client: reqwest::Client,
    email: String,
    password: String,
    ctx: SessionContext,
    /// The session cookie; replaced when an expired session logs in again.
    id: Mutex<String>,
    opened: Option<Opened>,
}

impl HttpSession {
    fn id(&self) -> String {
        self.id.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn sel(&self) -> &Selectors {
        &self.shared.sel
    }

    fn login_path(&self) -> &str {
        &self.shared.profile().paths.login
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Answer, PortalError> {
        let transient = |e: reqwest::Error| {
            let kind = if e.is_timeout() { " (timed out)" } else { "" };
            PortalError::Transient(format!("{what}{kind}: {e}"))
        };
        let resp = req.send().await.map_err(transient)?;
        let status = resp.status();
        let url = resp.url().clone();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok());
        let session_cookie = resp
            .cookies()
            .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
            .map(|c| c.value().to_string());
        let body = resp.bytes().await.map_err(transient)?.to_vec();
        Ok(Answer {
            status,
            url,
            location,
            session_cookie,
            body,
        })
    }

    async fn get(&self, url: Url, what: &str) -> Result<Answer, PortalError> {
        self.send(self.client.get(url), what).await
    }

    async fn post(
        &self,
        url: Url,
        fields: &[(String, String)],
        what: &str,
    ) -> Result<Answer, PortalError> {
        self.send(self.client.post(url).form(fields), what).await
    }

    /// One login like the browser's: the login page, then its form posted
    /// with the field names the page gives. Returns the session cookie.
    async fn login_once(&self) -> Result<String, PortalError> {
        let sel = self.sel();
        let a = self
            .get(self.shared.url(self.login_path())?, "login page")
            .await?;
        if !a.status.is_success() {
            return Err(PortalError::Transient(format!(
                "login page answered {}",
                a.status
            )));
        }
        let page = a.page();
        let mut fields = form_fields(&page, &sel.login_form, &a.url)?;
        fields
            .fields
            .push((field_name(&page, &sel.login_email)?, self.email.clone()));
        fields.fields.push((
            field_name(&page, &sel.login_password)?,
            self.password.clone(),
        ));
        fields.add_submit(&page, &sel.login_submit)?;
        let a = self.post(fields.action, &fields.fields, "login").await?;
        if a.status.is_redirection() && !a.to_login(self.login_path()) {
            return a.session_cookie.ok_or_else(|| {
                PortalError::Transient(format!(
                    "login answered {} without a {SESSION_COOKIE} cookie",
                    a.status
                ))
            });
        }
        let page = a.page();
        if let Some(text) = page.text(&sel.login_error) {
            return Err(self.shared.profile().login.refusal(&text));
        }
        Err(PortalError::Transient(format!(
            "login answered {} on {}",
            a.status,
            a.url.path()
        )))
    }

    /// Logs in and records the new session on the lease, like a browser
    /// that has just started.
    async fn login_and_record(&self) -> Result<(), PortalError> {
        let id = self.login_once().await?;
        self.ctx.on_browser_started.notify(&id);
        *self.id.lock().unwrap_or_else(|p| p.into_inner()) = id;
        Ok(())
    }

    async fn login_with_retries(&self) -> Result<(), PortalError> {
        session_retry::retry(
            self.shared.opts.page_attempts,
            "login",
            &self.ctx.still_held,
            || self.login_and_record(),
        )
        .await
    }

    async fn export_once(&self) -> Result<Vec<OrderSnapshot>, Step> {
        let sel = self.sel();
        let orders = self
            .get(
                self.shared.url(&self.shared.profile().paths.orders)?,
                "orders page",
            )
            .await?;
        if orders.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        if !orders.status.is_success() {
            return Err(
                PortalError::Transient(format!("orders page answered {}", orders.status)).into(),
            );
        }
        let page = orders.page();
        let link = page.find(&sel.export_link).ok_or_else(|| {
            PortalError::Transient(format!("orders page has no {}", sel.export_link.source()))
        })?;
        let href = link.attr("href").ok_or_else(|| {
            PortalError::Permanent(format!("{} has no href", sel.export_link.source()))
        })?;
        let url = orders
            .url
            .join(href)
            .map_err(|e| PortalError::Permanent(format!("export link {href:?}: {e}")))?;
        let a = self.get(url, "export download").await?;
        if a.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        if a.status.is_server_error() {
            return Err(PortalError::Transient(format!("export answered {}", a.status)).into());
        }
        if !a.status.is_success() {
            return Err(PortalError::Permanent(format!("export answered {}", a.status)).into());
        }
        let started = Instant::now();
        let rows = xlsx::parse_export(&a.body, &self.shared.profile().export)?;
        debug!(
            rows = rows.len(),
            bytes = a.body.len(),
            parse_ms = started.elapsed().as_millis() as u64,
            "export parsed"
        );
        Ok(rows)
    }

    async fn open_page(&self, order: &StuckOrder) -> Result<OrderPage, Step> {
        let sel = self.sel();
        let url = self
            .shared
            .url(&self.shared.profile().order_path(order.order_id))?;
        let a = self.get(url, "order page").await?;
        if a.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        let page = a.page();
        let reported = page.find(&sel.already_reported);
        if reported.is_none() && a.status.is_success() && page.find(&sel.report_form).is_some() {
            return Ok(OrderPage::Form(Opened {
                order_id: order.order_id,
                url: a.url,
                page,
            }));
        }
        if let Some(el) = reported {
            return Ok(OrderPage::Reported(ReportReceipt {
                ticket: self.ticket(el, &sel.already_reported)?,
                already_reported: true,
            }));
        }
        if a.status == StatusCode::NOT_FOUND {
            return Err(PortalError::Permanent(format!(
                "order {} not found on the portal (404)",
                order.order_id
            ))
            .into());
        }
        Err(PortalError::Transient(format!(
            "order page {} answered {} without {} or {}",
            a.url.path(),
            a.status,
            sel.report_form.source(),
            sel.already_reported.source()
        ))
        .into())
    }

    fn ticket(&self, el: &Element, sel: &Selector) -> Result<String, PortalError> {
        let attr = &self.shared.profile().order.ticket_attribute;
        el.attr(attr)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| PortalError::Permanent(format!("{} has no {attr}", sel.source())))
    }

    /// Posts the report form of `order`: the page `pre` (left by
    /// `open_order`) or a freshly loaded one, unless that one shows an
    /// existing report.
    async fn report_once(
        &self,
        order: &StuckOrder,
        pre: Option<Opened>,
    ) -> Result<ReportReceipt, Step> {
        let sel = self.sel();
        let opened = match pre {
            Some(o) if o.order_id == order.order_id => o,
            _ => match self.open_page(order).await? {
                OrderPage::Form(o) => o,
                OrderPage::Reported(r) => return Ok(r),
            },
        };
        let p = &self.shared.profile().order;
        let page = &opened.page;
        let mut fields = form_fields(page, &sel.report_form, &opened.url)?;
        let reason = field_name(page, &sel.reason)?;
        let offered = page
            .descendants(&sel.reason)
            .iter()
            .any(|e| e.name == "option" && e.attr("value") == Some(p.reason_value.as_str()));
        if !offered {
            return Err(PortalError::Transient(format!(
                "missing {} option {:?}",
                sel.reason.source(),
                p.reason_value
            ))
            .into());
        }
        fields.fields.push((reason, p.reason_value.clone()));
        fields.fields.push((
            field_name(page, &sel.message)?,
            render_message(&self.shared.opts.message_template, order),
        ));
        fields.add_submit(page, &sel.submit)?;
        let a = self.post(fields.action, &fields.fields, "report").await?;
        if a.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        let answer = a.page();
        if let Some(el) = answer.find(&sel.report_ok) {
            return Ok(ReportReceipt {
                ticket: self.ticket(el, &sel.report_ok)?,
                already_reported: false,
            });
        }
        if let Some(el) = answer.find(&sel.already_reported) {
            return Ok(ReportReceipt {
                ticket: self.ticket(el, &sel.already_reported)?,
                already_reported: true,
            });
        }
        Err(PortalError::Transient(format!(
            "report of order {} answered {} on {}",
            order.order_id,
            a.status,
            a.url.path()
        ))
        .into())
    }

    /// The browser adapter's policy, so soaks see the same retry load.
    async fn with_session<T, F, Fut>(&self, what: &str, step: F) -> Result<T, PortalError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Step>>,
    {
        session_retry::with_session(
            what,
            self.shared.opts.page_attempts,
            &self.ctx.still_held,
            step,
            || self.login_with_retries(),
        )
        .await
    }
}

/// A form about to be posted: where to, and the fields so far.
struct FormPost {
    action: Url,
    fields: Vec<(String, String)>,
}

impl FormPost {
    /// The submit button must be there, as for a user; a named one is
    /// posted too, as browsers do.
    fn add_submit(&mut self, page: &Page, sel: &Selector) -> Result<(), PortalError> {
        let button = page
            .find(sel)
            .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
        if let Some(name) = button.attr("name").filter(|n| !n.is_empty()) {
            let value = button.attr("value").unwrap_or("").to_string();
            self.fields.push((name.to_string(), value));
        }
        Ok(())
    }
}

/// The form `sel` on `page` (loaded from `url`): its action, and its hidden
/// inputs (a portal's CSRF token goes with the post, as from a browser).
fn form_fields(page: &Page, sel: &Selector, url: &Url) -> Result<FormPost, PortalError> {
    let form = page
        .find(sel)
        .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
    let action = match form.attr("action").filter(|a| !a.trim().is_empty()) {
        Some(a) => url
            .join(a.trim())
            .map_err(|e| PortalError::Permanent(format!("{} action {a:?}: {e}", sel.source())))?,
        None => url.clone(),
    };
    let fields = page
        .descendants(sel)
        .into_iter()
        .filter(|e| {
            e.name == "input"
                && e.attr("type")
                    .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
        })
        .filter_map(|e| {
            let name = e.attr("name").filter(|n| !n.is_empty())?;
            Some((name.to_string(), e.attr("value").unwrap_or("").to_string()))
        })
        .collect();
    Ok(FormPost { action, fields })
}

/// The `name` a form field is posted under: the element's own, so a
/// profile may select a field by id as well as by name.
fn field_name(page: &Page, sel: &Selector) -> Result<String, PortalError> {
    let el = page
        .find(sel)
        .ok_or_else(|| PortalError::Transient(format!("missing {}", sel.source())))?;
    el.attr("name")
        .filter(|n| !n.is_empty())
        .or_else(|| sel.required_attr("name"))
        .map(str::to_string)
        .ok_or_else(|| PortalError::Permanent(format!("{} has no name", sel.source())))
}

#[async_trait]
impl PortalSession for HttpSession {
    fn webdriver_session(&self) -> Option<String> {
        Some(self.id())
    }

    async fn export(&mut self) -> Result<Vec<OrderSnapshot>, PortalError> {
        self.opened = None;
        let r = self.with_session("export", || self.export_once()).await;
        if let Err(e) = &r {
            warn!(error = %e, "export failed");
        }
        r
    }

    async fn open_order(
        &mut self,
        order: &StuckOrder,
    ) -> Result<Option<ReportReceipt>, PortalError> {
        self.opened = None;
        let r = self
            .with_session("open order", || self.open_page(order))
            .await;
        match r {
            Ok(OrderPage::Form(o)) => {
                self.opened = Some(o);
                Ok(None)
            }
            Ok(OrderPage::Reported(receipt)) => Ok(Some(receipt)),
            Err(e) => {
                warn!(order = order.order_id, error = %e, "opening the order failed");
                Err(e)
            }
        }
    }

    async fn report(&mut self, order: &StuckOrder) -> Result<ReportReceipt, PortalError> {
        // Only the first try may post the form open_order left; retries
        // load the page again (a post that timed out may have been filed).
        let mut pre = self.opened.take();
        let this = &*self;
        let r = this
            .with_session("report", || this.report_once(order, pre.take()))
            .await;
        if let Err(e) = &r {
            warn!(order = order.order_id, error = %e, "report failed");
        }
        r
    }

    async fn close(self: Box<Self>) {
        let Ok(url) = self.shared.url(LOGOUT_PATH) else {
            return;
        };
        match self.get(url, "logout").await {
            Ok(a) => debug!(session = short(&self.id()), status = %a.status, "logged out"),
            Err(e) => warn!(session = short(&self.id()), error = %e, "logout failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_profile_is_readable() {
        let opts = HttpPortalOptions {
            portal_url: "http://127.0.0.1:9100/".into(),
            profile: Profile::portal_sim(),
            page_timeout: Duration::from_secs(1),
            message_template: crate::portal::webdriver::default_message_template().into(),
            page_attempts: 2,
        };
        let portal = HttpPortal::new(opts).unwrap();
        assert_eq!(
            portal.shared.url("/orders/1").unwrap().as_str(),
            "http://127.0.0.1:9100/orders/1"
        );
    }

    #[test]
    fn a_selector_it_cannot_read_stops_it_at_start() {
        let mut profile = Profile::portal_sim();
        profile.order.report_ok = "main > div.ok".into();
        let err = HttpPortal::new(HttpPortalOptions {
            portal_url: "http://127.0.0.1:9100".into(),
            profile,
            page_timeout: Duration::from_secs(1),
            message_template: String::new(),
            page_attempts: 2,
        })
        .err()
        .unwrap();
        assert!(err.contains("order.report_ok"), "{err}");
    }
}
