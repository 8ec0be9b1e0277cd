//! Shadow runs: an order's page opened and its report form checked field
//! by field ([`CHECK_FORM_JS`]), without filling or submitting anything.

use reporter_core::models::pipeline::StuckOrder;

use super::session::wd_err;
use super::WebDriverSession;
use crate::portal::session_retry::Step;
use crate::portal::{OrderCheck, PortalError};

/// Returns the selectors of the report form's fields that the page lacks
/// (the reason's option as `select option "value"`); empty when the form
/// could be filled and sent. Reads only: no value is set, nothing clicked.
const CHECK_FORM_JS: &str = r#"
const f = arguments[0];
const q = function (sel) { try { return document.querySelector(sel); } catch (e) { return null; } };
const missing = [];
const form = q(f.form);
if (!form) { missing.push(f.form); return missing; }
const reason = q(f.reason), message = q(f.message), submit = q(f.submit);
if (!reason) {
  missing.push(f.reason);
} else if (!Array.prototype.some.call(reason.options || [], function (o) { return o.value === f.reason_value; })) {
  missing.push(f.reason + ' option ' + JSON.stringify(f.reason_value));
}
if (!message) { missing.push(f.message); }
if (!submit) { missing.push(f.submit); }
return missing;
"#;

impl WebDriverSession {
    /// Opens the order's page: an existing report is `AlreadyReported`;
    /// otherwise every field of the report form must be there.
    pub(super) async fn check_once(&self, order: &StuckOrder) -> Result<OrderCheck, Step> {
        if let Some(receipt) = self.open_once(order).await? {
            return Ok(OrderCheck::AlreadyReported {
                ticket: receipt.ticket,
            });
        }
        let p = &self.profile().order;
        let fields = serde_json::json!({
            "form": p.report_form,
            "reason": p.reason,
            "reason_value": p.reason_value,
            "message": p.message,
            "submit": p.submit,
        });
        let ret = self
            .driver()?
            .execute(CHECK_FORM_JS, vec![fields])
            .await
            .map_err(wd_err)?;
        let missing: Vec<String> = serde_json::from_value(ret.json().clone())
            .map_err(|e| PortalError::Transient(format!("report form check: {e}")))?;
        if missing.is_empty() {
            Ok(OrderCheck::WouldReport)
        } else {
            Err(PortalError::Permanent(format!(
                "order {}: the report form lacks {} (portal profile [order])",
                order.order_id,
                missing.join(", ")
            ))
            .into())
        }
    }
}
