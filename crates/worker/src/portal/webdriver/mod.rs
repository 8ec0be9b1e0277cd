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
//!
//! Layout: `options` (configuration and the message template), `browser`
//! (starting, quitting and deleting browser sessions), `session` (the
//! logged-in browser, its lease check and retry policy), `page_state` and
//! `waits` (what the page looks like, and waiting for it), the flows
//! `login`, `export` and `report`, and the `artifacts` of failures.

mod artifacts;
mod browser;
mod check;
mod export;
pub mod inspect;
mod login;
mod options;
mod page_state;
pub mod profile;
mod report;
mod session;
mod waits;
pub mod xlsx;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::info;

pub use browser::CHROME_ARGS;
pub use options::{default_message_template, render_message, WebDriverOptions};
pub use profile::Profile;
pub use session::WebDriverSession;

use super::{Portal, PortalError, PortalSession, SessionContext, SweepError};

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
        browser::discard(&self.http, &self.opts.webdriver_url, session_id).await;
    }

    /// Deletes the sessions of browsers whose worker died while starting
    /// them; see `WebDriverPortal::discard_tagged` (in `browser`).
    async fn discard_tagged_sessions(&self, tags: &[String]) -> Result<Vec<String>, SweepError> {
        self.discard_tagged(tags).await
    }
}
