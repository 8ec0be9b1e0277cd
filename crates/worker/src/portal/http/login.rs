//! Logging in like the browser does: the login page, then its form posted
//! with the field names the page gives; and the retries of a failed login.

use super::form::{field_name, form_fields};
use super::{HttpSession, SESSION_COOKIE};
use crate::portal::session_retry;
use crate::portal::PortalError;

impl HttpSession {
    /// One login like the browser's: the login page, then its form posted
    /// with the field names the page gives. Returns the session cookie.
    async fn login_once(&self) -> Result<String, PortalError> {
        let sel = self.sel();
        let a = self
            .get(self.shared.url(self.login_path())?, "login page")
            .await?;
        if !a.status.is_success() {
            return Err(PortalError::Transient(format!(
                "login page answered {}",
                a.status
            )));
        }
        let page = a.page();
        let mut fields = form_fields(&page, &sel.login_form, &a.url)?;
        fields
            .fields
            .push((field_name(&page, &sel.login_email)?, self.email.clone()));
        fields.fields.push((
            field_name(&page, &sel.login_password)?,
            self.password.clone(),
        ));
        fields.add_submit(&page, &sel.login_submit)?;
        let a = self.post(fields.action, &fields.fields, "login").await?;
        if a.status.is_redirection() && !a.to_login(self.login_path()) {
            return a.session_cookie.ok_or_else(|| {
                PortalError::Transient(format!(
                    "login answered {} without a {SESSION_COOKIE} cookie",
                    a.status
                ))
            });
        }
        let page = a.page();
        if let Some(text) = page.text(&sel.login_error) {
            return Err(self.shared.profile().login.refusal(&text));
        }
        Err(PortalError::Transient(format!(
            "login answered {} on {}",
            a.status,
            a.url.path()
        )))
    }

    /// Logs in and records the new session on the lease, like a browser
    /// that has just started.
    async fn login_and_record(&self) -> Result<(), PortalError> {
        let id = self.login_once().await?;
        self.ctx.on_browser_started.notify(&id);
        *self.id.lock().unwrap_or_else(|p| p.into_inner()) = id;
        Ok(())
    }

    pub(super) async fn login_with_retries(&self) -> Result<(), PortalError> {
        session_retry::retry(
            self.shared.opts.page_attempts,
            "login",
            &self.ctx.still_held,
            || self.login_and_record(),
        )
        .await
    }
}
