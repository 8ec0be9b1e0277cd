//! Explicit waits: running a page-state script and polling it until the
//! expected elements, an HTTP error or the login page show, or the element
//! timeout passes.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use super::page_state::{state_args, PageState, Read, PAGE_STATE_FN, STATE_JS};
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
        done: impl FnMut(&PageState) -> bool,
    ) -> Result<PageState, PortalError> {
        let every = Duration::from_millis(50);
        self.wait_state_within(what, self.opts.element_timeout, every, script, args, done)
            .await
    }

    /// [`Self::wait_state`] for at most `timeout`, the pause between polls
    /// growing from 10 ms up to `max_pause` (long waits, such as an export
    /// the portal builds, need not poll every 50 ms).
    pub(super) async fn wait_state_within(
        &self,
        what: &str,
        timeout: Duration,
        max_pause: Duration,
        script: &str,
        args: Vec<serde_json::Value>,
        mut done: impl FnMut(&PageState) -> bool,
    ) -> Result<PageState, PortalError> {
        let deadline = Instant::now() + timeout;
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
                    "timed out after {timeout:?} waiting for {what} on {} (status {}{missing})",
                    st.path, st.status
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(max_pause);
        }
    }

    /// The current page's state, without waiting.
    pub(super) async fn state(
        &self,
        selectors: &[&str],
        read: Read<'_>,
    ) -> Result<PageState, PortalError> {
        self.run_state(STATE_JS, state_args(selectors, read)).await
    }

    /// Waits until the page (a new document, if `new_document`) has loaded and
    /// shows one of `selectors`, an HTTP error, or the login page. `read`
    /// says what else is read from each selector's element
    /// ([`PageState::attrs`], [`PageState::texts`]).
    pub(super) async fn wait_page(
        &self,
        selectors: &[&str],
        new_document: bool,
        read: Read<'_>,
    ) -> Result<PageState, PortalError> {
        let login_path = self.profile().paths.login.clone();
        self.wait_state(
            &selectors.join(" or "),
            STATE_JS,
            state_args(selectors, read),
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
