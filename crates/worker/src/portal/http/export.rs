//! The export: the orders page's export link followed and the file parsed
//! into order snapshots.

use std::time::Instant;

use reporter_core::domain::OrderSnapshot;
use tracing::debug;

use super::HttpSession;
use crate::portal::session_retry::Step;
use crate::portal::webdriver::xlsx;
use crate::portal::PortalError;

impl HttpSession {
    pub(super) async fn export_once(&self) -> Result<Vec<OrderSnapshot>, Step> {
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
}
