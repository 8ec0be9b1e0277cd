//! Reporting an order: its page opened, the report form filled and sent in
//! the page ([`FILL_REPORT_JS`]), and the ticket read from the answer.

use reporter_core::models::pipeline::StuckOrder;

use super::page_state::{state_args, PageState, Read, FILL_REPORT_JS};
use super::profile::OrderProfile;
use super::{render_message, WebDriverSession};
use crate::portal::session_retry::Step;
use crate::portal::{PortalError, ReportReceipt};

impl WebDriverSession {
    /// Opens the order's page: `Some` if it shows an existing report, `None`
    /// if it shows the report form. Files nothing.
    pub(super) async fn open_once(
        &self,
        order: &StuckOrder,
    ) -> Result<Option<ReportReceipt>, Step> {
        let p = self.profile().order.clone();
        self.goto(&self.profile().order_path(order.order_id))
            .await?;
        let st = self
            .wait_page(
                &[&p.already_reported, &p.report_form],
                false,
                ticket_read(&p),
            )
            .await?;
        let form_shown = st.found[1] && !st.found[0] && st.status < 400;
        if form_shown && st.path != self.profile().paths.login {
            return Ok(None);
        }
        self.order_page_without_form(&st, order).map(Some)
    }

    /// What an order page that offers no report form to fill means (the
    /// state's selectors are `[already_reported, ..]`): the login page, an
    /// existing report (its ticket), a missing order, or a portal error.
    fn order_page_without_form(
        &self,
        st: &PageState,
        order: &StuckOrder,
    ) -> Result<ReportReceipt, Step> {
        let p = &self.profile().order;
        if st.path == self.profile().paths.login {
            return Err(Step::LoggedOut);
        }
        if st.found[0] {
            return Ok(ReportReceipt {
                ticket: ticket(st, 0, &p.already_reported, p)?,
                already_reported: true,
            });
        }
        if st.status == 404 {
            return Err(PortalError::Permanent(format!(
                "order {} not found on the portal (404)",
                order.order_id
            ))
            .into());
        }
        Err(PortalError::Transient(format!("order page {} answered {}", st.path, st.status)).into())
    }

    /// Opens the order's page (unless `page_open`: [`Self::open_once`] just
    /// left the browser on it) and, unless it shows an existing report,
    /// fills the report form and submits it ([`FILL_REPORT_JS`], one round
    /// trip once the page is there), then waits for the answer page and
    /// reads its ticket from the same state call.
    pub(super) async fn report_once(
        &self,
        order: &StuckOrder,
        page_open: bool,
    ) -> Result<ReportReceipt, Step> {
        let p = self.profile().order.clone();
        let login_path = self.profile().paths.login.clone();
        if !page_open {
            self.goto(&self.profile().order_path(order.order_id))
                .await?;
        }
        let form = serde_json::json!({
            "login": login_path,
            "reason": p.reason,
            "reason_value": p.reason_value,
            "message": p.message,
            "text": render_message(&self.opts.message_template, order),
            "submit": p.submit,
        });
        let mut args = state_args(&[&p.already_reported, &p.report_form], ticket_read(&p));
        args.push(form);
        let st = self
            .wait_state(
                &format!("{} or a complete {}", p.already_reported, p.report_form),
                FILL_REPORT_JS,
                args,
                |st| {
                    st.submitted
                        || (st.loaded(false)
                            && (st.found[0] || st.status >= 400 || st.path == login_path))
                },
            )
            .await?;
        if !st.submitted {
            return self.order_page_without_form(&st, order);
        }
        let st = self
            .wait_page(&[&p.report_ok, &p.already_reported], true, ticket_read(&p))
            .await?;
        if st.found[0] {
            return Ok(ReportReceipt {
                ticket: ticket(&st, 0, &p.report_ok, &p)?,
                already_reported: false,
            });
        }
        if st.found[1] {
            return Ok(ReportReceipt {
                ticket: ticket(&st, 1, &p.already_reported, &p)?,
                already_reported: true,
            });
        }
        if st.path == login_path {
            return Err(Step::LoggedOut);
        }
        Err(PortalError::Transient(format!(
            "report of order {} answered {} on {}",
            order.order_id, st.status, st.path
        ))
        .into())
    }
}

/// What the order pages' state calls read: the ticket attribute and, for a
/// ticket shown as text, the elements' text.
fn ticket_read(p: &OrderProfile) -> Read<'_> {
    Read {
        attr: p.ticket_attribute.as_deref(),
        text: p.ticket_needs_text(),
    }
}

/// The ticket of the element of `css`, the `i`-th selector of `st`: its
/// attribute, or its text through the profile's regex.
fn ticket(st: &PageState, i: usize, css: &str, p: &OrderProfile) -> Result<String, PortalError> {
    let attr = st.attrs.get(i).cloned().flatten();
    let text = st.texts.get(i).cloned().flatten();
    p.ticket_from(attr.as_deref(), text.as_deref())
        .ok_or_else(|| {
            PortalError::Permanent(format!("{css} has no ticket ({})", p.ticket_source()))
        })
}
