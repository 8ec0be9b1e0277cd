//! What the driver is configured with: [`HttpPortalOptions`] read through
//! the browser adapter's options, and the profile's selectors parsed once.

use std::time::Duration;

use reporter_core::config::Settings;
use reqwest::Url;

use super::page::Selector;
use crate::portal::webdriver::{Profile, WebDriverOptions};
use crate::portal::PortalError;

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
pub(super) struct Selectors {
    pub(super) login_form: Selector,
    pub(super) login_email: Selector,
    pub(super) login_password: Selector,
    pub(super) login_submit: Selector,
    pub(super) login_error: Selector,
    pub(super) export_link: Selector,
    pub(super) report_form: Selector,
    pub(super) reason: Selector,
    pub(super) message: Selector,
    pub(super) submit: Selector,
    pub(super) already_reported: Selector,
    pub(super) report_ok: Selector,
}

impl Selectors {
    pub(super) fn of(p: &Profile) -> Result<Self, String> {
        refuse_unsupported(p)?;
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

/// Profile options this driver cannot honour without a browser: an export
/// built on demand is announced by the page's own JavaScript, which plain
/// HTTP does not run. Refused at start, naming the option.
fn refuse_unsupported(p: &Profile) -> Result<(), String> {
    let unsupported = [
        ("orders.generate_export", p.orders.generate_export.is_some()),
        (
            "orders.export_ready_timeout_secs",
            p.orders.export_ready_timeout_secs.is_some(),
        ),
    ];
    match unsupported.iter().find(|(_, set)| *set) {
        Some((option, _)) => Err(format!(
            "portal profile {}: {option} is not supported by the http portal driver (an export built on demand needs a browser); use REPORTER_PORTAL_DRIVER=webdriver",
            p.name
        )),
        None => Ok(()),
    }
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) opts: HttpPortalOptions,
    pub(super) sel: Selectors,
}

impl Shared {
    /// Appended to the portal URL as the browser adapter does, so a portal
    /// under a path prefix keeps it.
    pub(super) fn url(&self, path: &str) -> Result<Url, PortalError> {
        Url::parse(&format!("{}{path}", self.opts.portal_url))
            .map_err(|e| PortalError::Permanent(format!("portal path {path:?}: {e}")))
    }

    pub(super) fn profile(&self) -> &Profile {
        &self.opts.profile
    }
}
