//! Reporting an order: its page opened (kept when it shows the report
//! form), the form posted, and the ticket read from the answer.

use reporter_core::models::pipeline::StuckOrder;
use reqwest::{StatusCode, Url};

use super::form::{field_name, form_fields};
use super::page::{Element, Page, Selector};
use super::HttpSession;
use crate::portal::session_retry::Step;
use crate::portal::webdriver::render_message;
use crate::portal::{OrderCheck, PortalError, ReportReceipt};

/// An order page that showed the report form, kept so `report` of the same
/// order posts that form without loading the page again.
pub(super) struct Opened {
    order_id: i64,
    url: Url,
    page: Page,
}

pub(super) enum OrderPage {
    Form(Opened),
    Reported(ReportReceipt),
}

impl HttpSession {
    pub(super) async fn open_page(&self, order: &StuckOrder) -> Result<OrderPage, Step> {
        let sel = self.sel();
        let url = self
            .shared
            .url(&self.shared.profile().order_path(order.order_id))?;
        let a = self.get(url, "order page").await?;
        if a.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        let page = a.page();
        let reported = page.find(&sel.already_reported);
        if reported.is_none() && a.status.is_success() && page.find(&sel.report_form).is_some() {
            return Ok(OrderPage::Form(Opened {
                order_id: order.order_id,
                url: a.url,
                page,
            }));
        }
        if let Some(el) = reported {
            return Ok(OrderPage::Reported(ReportReceipt {
                ticket: self.ticket(&page, el, &sel.already_reported)?,
                already_reported: true,
            }));
        }
        if a.status == StatusCode::NOT_FOUND {
            return Err(PortalError::Permanent(format!(
                "order {} not found on the portal (404)",
                order.order_id
            ))
            .into());
        }
        Err(PortalError::Transient(format!(
            "order page {} answered {} without {} or {}",
            a.url.path(),
            a.status,
            sel.report_form.source(),
            sel.already_reported.source()
        ))
        .into())
    }

    /// The ticket of the element of `sel` on `page`: its attribute, or its
    /// text through the profile's `order.ticket_text_regex`.
    fn ticket(&self, page: &Page, el: &Element, sel: &Selector) -> Result<String, PortalError> {
        let p = &self.shared.profile().order;
        let attr = p.ticket_attribute.as_deref().and_then(|a| el.attr(a));
        let text = if p.ticket_needs_text() {
            page.text(sel)
        } else {
            None
        };
        p.ticket_from(attr, text.as_deref()).ok_or_else(|| {
            PortalError::Permanent(format!(
                "{} has no ticket ({})",
                sel.source(),
                p.ticket_source()
            ))
        })
    }

    /// Posts the report form of `order`: the page `pre` (left by
    /// `open_order`) or a freshly loaded one, unless that one shows an
    /// existing report.
    pub(super) async fn report_once(
        &self,
        order: &StuckOrder,
        pre: Option<Opened>,
    ) -> Result<ReportReceipt, Step> {
        let sel = self.sel();
        let opened = match pre {
            Some(o) if o.order_id == order.order_id => o,
            _ => match self.open_page(order).await? {
                OrderPage::Form(o) => o,
                OrderPage::Reported(r) => return Ok(r),
            },
        };
        let p = &self.shared.profile().order;
        let page = &opened.page;
        let mut fields = form_fields(page, &sel.report_form, &opened.url)?;
        let reason = field_name(page, &sel.reason)?;
        let offered = page
            .descendants(&sel.reason)
            .iter()
            .any(|e| e.name == "option" && e.attr("value") == Some(p.reason_value.as_str()));
        if !offered {
            return Err(PortalError::Transient(format!(
                "missing {} option {:?}",
                sel.reason.source(),
                p.reason_value
            ))
            .into());
        }
        fields.fields.push((reason, p.reason_value.clone()));
        fields.fields.push((
            field_name(page, &sel.message)?,
            render_message(&self.shared.opts.message_template, order),
        ));
        fields.add_submit(page, &sel.submit)?;
        let a = self.post(fields.action, &fields.fields, "report").await?;
        if a.to_login(self.login_path()) {
            return Err(Step::LoggedOut);
        }
        let answer = a.page();
        if let Some(el) = answer.find(&sel.report_ok) {
            return Ok(ReportReceipt {
                ticket: self.ticket(&answer, el, &sel.report_ok)?,
                already_reported: false,
            });
        }
        if let Some(el) = answer.find(&sel.already_reported) {
            return Ok(ReportReceipt {
                ticket: self.ticket(&answer, el, &sel.already_reported)?,
                already_reported: true,
            });
        }
        Err(PortalError::Transient(format!(
            "report of order {} answered {} on {}",
            order.order_id,
            a.status,
            a.url.path()
        ))
        .into())
    }
}

impl HttpSession {
    /// Shadow runs: the order's page loaded and its report form checked
    /// field by field; nothing is posted.
    pub(super) async fn check_once(&self, order: &StuckOrder) -> Result<OrderCheck, Step> {
        let opened = match self.open_page(order).await? {
            OrderPage::Reported(r) => return Ok(OrderCheck::AlreadyReported { ticket: r.ticket }),
            OrderPage::Form(o) => o,
        };
        let sel = self.sel();
        let p = &self.shared.profile().order;
        let page = &opened.page;
        let mut missing = Vec::new();
        if page.find(&sel.reason).is_none() {
            missing.push(sel.reason.source().to_string());
        } else if !page
            .descendants(&sel.reason)
            .iter()
            .any(|e| e.name == "option" && e.attr("value") == Some(p.reason_value.as_str()))
        {
            missing.push(format!(
                "{} option {:?}",
                sel.reason.source(),
                p.reason_value
            ));
        }
        for s in [&sel.message, &sel.submit] {
            if page.find(s).is_none() {
                missing.push(s.source().to_string());
            }
        }
        if missing.is_empty() {
            return Ok(OrderCheck::WouldReport);
        }
        Err(PortalError::Permanent(format!(
            "order {}: the report form lacks {} (portal profile [order])",
            order.order_id,
            missing.join(", ")
        ))
        .into())
    }
}
