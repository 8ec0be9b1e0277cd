//! Explicit waits: running a page-state script and polling it until the
//! expected elements, an HTTP error or the login page show, or the element
//! timeout passes.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use super::page_state::{state_args, PageState, PAGE_STATE_FN, STATE_JS};
use super::session::wd_err;
use super::WebDriverSession;
use crate::portal::PortalError;

impl WebDriverSession {
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
    pub(super) async fn wait_state(
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
    pub(super) async fn state(
        &self,
        selectors: &[&str],
        attr: Option<&str>,
    ) -> Result<PageState, PortalError> {
        self.run_state(STATE_JS, state_args(selectors, attr)).await
    }

    /// Waits until the page (a new document, if `new_document`) has loaded and
    /// shows one of `selectors`, an HTTP error, or the login page. `attr` is
    /// read from each selector's element ([`PageState::attrs`]).
    pub(super) async fn wait_page(
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

    pub(super) async fn mark_document(&self) -> Result<(), PortalError> {
        self.driver()?
            .execute("window.__reporterMark = true;", vec![])
            .await
            .map_err(wd_err)?;
        Ok(())
    }

    /// Polls for the element ourselves (not with thirtyfour's waiting
    /// query) so every poll passes the lease check in [`Self::driver`].
    pub(super) async fn find(&self, css: &str) -> Result<WebElement, PortalError> {
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
}
