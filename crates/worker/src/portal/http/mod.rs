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
//! [`Profile`](super::webdriver::Profile) (paths, selectors, form values,
//! export columns), its export parser and its message template, so both
//! drivers read a portal alike.
//! The session id is the `portal_session` cookie; one [`reqwest::Client`]
//! (one cookie jar) per login stands for one browser.
//!
//! Layout: `options` (configuration and the profile's selectors, parsed
//! once), `session` (one login's cookie jar and its retry policy),
//! `answer` (one request and its answer), `form` (reading and posting a
//! page's form), the flows `login`, `export` and `report`, and `page`
//! (just enough HTML reading).

mod answer;
mod export;
mod form;
mod login;
mod options;
mod page;
mod report;
mod session;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::Url;
use tracing::{info, warn};

pub use options::HttpPortalOptions;
pub use session::HttpSession;

use super::{Portal, PortalError, PortalSession, SessionContext, SweepError};
use options::{Selectors, Shared};

/// The session cookie of contract v1; portal profiles do not name it.
pub const SESSION_COOKIE: &str = "portal_session";
/// Ends a session (contract v1); portal profiles do not name it.
pub const LOGOUT_PATH: &str = "/logout";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portal::webdriver::Profile;

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

    #[test]
    fn an_export_built_on_demand_is_refused_naming_the_option() {
        let opts = |profile: Profile| HttpPortalOptions {
            portal_url: "http://127.0.0.1:9100".into(),
            profile,
            page_timeout: Duration::from_secs(1),
            message_template: String::new(),
            page_attempts: 2,
        };
        let err = HttpPortal::new(opts(Profile::portal_sim_alt()))
            .err()
            .unwrap();
        assert!(err.contains("orders.generate_export"), "{err}");
        assert!(err.contains("portal-sim-alt"), "{err}");
        let mut profile = Profile::portal_sim();
        profile.orders.export_ready_timeout_secs = Some(30);
        let err = HttpPortal::new(opts(profile)).err().unwrap();
        assert!(err.contains("orders.export_ready_timeout_secs"), "{err}");
    }
}
