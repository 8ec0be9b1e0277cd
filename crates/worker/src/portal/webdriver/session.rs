//! A logged-in browser: the lease-checked handle every browser command goes
//! through, the retry/re-login policy, and its [`PortalSession`] calls.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;
use thirtyfour::prelude::*;
use tracing::warn;

use super::{Profile, WebDriverOptions};
use crate::portal::session_retry::{self, Step};
use crate::portal::{OrderCheck, PortalError, PortalSession, ReportReceipt, SessionContext};

impl From<WebDriverError> for Step {
    fn from(e: WebDriverError) -> Self {
        Step::Portal(wd_err(e))
    }
}

pub(super) fn wd_err(e: WebDriverError) -> PortalError {
    PortalError::Transient(format!("browser: {e}"))
}

pub struct WebDriverSession {
    pub(super) driver: Option<WebDriver>,
    pub(super) id: String,
    pub(super) opts: Arc<WebDriverOptions>,
    pub(super) http: reqwest::Client,
    pub(super) email: String,
    pub(super) password: String,
    pub(super) ctx: SessionContext,
    pub(super) data_dir: PathBuf,
    /// The order whose page [`PortalSession::open_order`] left open with its
    /// report form; `report` of that order starts from it.
    pub(super) opened: Option<i64>,
}

impl WebDriverSession {
    /// The browser, for one command. Every command goes through here, so a
    /// worker resumed after a pause past its lease (whose browser the
    /// reaper may have ended, and whose work another worker now owns) sends
    /// none: not even the rest of the order it was in the middle of.
    pub(super) fn driver(&self) -> Result<&WebDriver, PortalError> {
        self.ctx.still_held.ensure("browser command")?;
        self.driver
            .as_ref()
            .ok_or_else(|| PortalError::Transient("browser session already closed".into()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.opts.portal_url, path)
    }

    pub(super) fn profile(&self) -> &Profile {
        &self.opts.profile
    }

    pub(super) async fn goto(&self, path: &str) -> Result<(), PortalError> {
        self.driver()?.goto(self.url(path)).await.map_err(wd_err)
    }

    /// Before a command on an element found earlier (it does not pass
    /// through [`Self::driver`]).
    pub(super) fn held(&self) -> Result<(), PortalError> {
        self.ctx.still_held.ensure("browser command")
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
}

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

    async fn check_order(&mut self, order: &StuckOrder) -> Result<OrderCheck, PortalError> {
        self.opened = None;
        let r = self
            .with_session("check order", || self.check_once(order))
            .await;
        if let Err(e) = &r {
            warn!(order = order.order_id, error = %e, "checking the order failed");
            self.save_artifacts(&format!("order-{}", order.order_id))
                .await;
        }
        r
    }

    async fn close(mut self: Box<Self>) {
        self.quit_browser().await;
    }

    async fn inspect_export(
        &mut self,
    ) -> Result<crate::portal::inspection::ExportInspection, PortalError> {
        self.opened = None;
        let r = self
            .with_session("inspect export", || self.inspect_export_once())
            .await;
        if let Err(e) = &r {
            warn!(error = %e, "export inspection failed");
        }
        r
    }

    async fn screenshot(&mut self, path: &std::path::Path) -> Result<bool, PortalError> {
        self.screenshot_to(path).await
    }
}
