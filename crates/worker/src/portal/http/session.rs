//! One login's session: its cookie jar and cookie, the retry/re-login
//! policy, and its [`PortalSession`] calls built on the flows.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;
use tracing::{debug, warn};

use super::options::{Selectors, Shared};
use super::report::{Opened, OrderPage};
use super::{short, LOGOUT_PATH};
use crate::portal::session_retry::{self, Step};
use crate::portal::{OrderCheck, PortalError, PortalSession, ReportReceipt, SessionContext};

pub struct HttpSession {
    pub(super) shared: Arc<Shared>,
    pub(super) client: reqwest::Client,
    pub(super) email: String,
    pub(super) password: String,
    pub(super) ctx: SessionContext,
    /// The session cookie; replaced when an expired session logs in again.
    pub(super) id: Mutex<String>,
    pub(super) opened: Option<Opened>,
}

impl HttpSession {
    pub(super) fn id(&self) -> String {
        self.id.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn sel(&self) -> &Selectors {
        &self.shared.sel
    }

    pub(super) fn login_path(&self) -> &str {
        &self.shared.profile().paths.login
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

    async fn check_order(&mut self, order: &StuckOrder) -> Result<OrderCheck, PortalError> {
        self.opened = None;
        let r = self
            .with_session("check order", || self.check_once(order))
            .await;
        if let Err(e) = &r {
            warn!(order = order.order_id, error = %e, "checking the order failed");
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

    /// The export step, then its file fetched again for its header row.
    async fn inspect_export(
        &mut self,
    ) -> Result<crate::portal::inspection::ExportInspection, PortalError> {
        self.opened = None;
        let (orders, parse_error) = match self.export().await {
            Ok(o) => (o, None),
            Err(PortalError::Permanent(m)) => (Vec::new(), Some(m)),
            Err(e) => return Err(e),
        };
        let bytes = self
            .with_session("inspect export", || async {
                let a = self
                    .get(
                        self.shared.url(&self.shared.profile().paths.orders)?,
                        "orders page",
                    )
                    .await?;
                if a.to_login(self.login_path()) {
                    return Err(Step::LoggedOut);
                }
                let page = a.page();
                let link = self.sel().export_link.source().to_string();
                let href = page
                    .find(&self.sel().export_link)
                    .and_then(|l| l.attr("href"))
                    .ok_or_else(|| PortalError::Permanent(format!("orders page has no {link}")))?;
                let url = a
                    .url
                    .join(href)
                    .map_err(|e| PortalError::Permanent(format!("export link {href:?}: {e}")))?;
                let x = self.get(url, "export download").await?;
                if x.to_login(self.login_path()) {
                    return Err(Step::LoggedOut);
                }
                if !x.status.is_success() {
                    return Err(
                        PortalError::Transient(format!("export answered {}", x.status)).into(),
                    );
                }
                Ok(x.body)
            })
            .await?;
        let (sheet, headers) = crate::portal::webdriver::inspect::export_header(
            &bytes,
            &self.shared.profile().export,
        )?;
        Ok(crate::portal::inspection::ExportInspection {
            sheet,
            headers,
            orders,
            parse_error,
        })
    }
}
