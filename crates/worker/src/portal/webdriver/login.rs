//! Logging in: the login page filled and submitted like a user does, and
//! the retries of a login that failed for a transient reason.

use super::page_state::Read;
use super::session::wd_err;
use super::WebDriverSession;
use crate::portal::session_retry::retry;
use crate::portal::PortalError;

impl WebDriverSession {
    async fn login_once(&self) -> Result<(), PortalError> {
        let p = self.profile().login.clone();
        self.goto(&self.profile().paths.login.clone()).await?;
        let st = self
            .wait_page(&[&p.form, &p.logged_in], false, Read::NOTHING)
            .await?;
        if st.status >= 500 {
            return Err(PortalError::Transient(format!(
                "login page answered {}",
                st.status
            )));
        }
        if st.found.get(1) == Some(&true) && st.found.first() != Some(&true) {
            return Ok(()); // already logged in
        }
        let email = self.find(&p.email).await?;
        self.held()?;
        email.clear().await.map_err(wd_err)?;
        self.held()?;
        email.send_keys(self.email.as_str()).await.map_err(wd_err)?;
        let password = self.find(&p.password).await?;
        self.held()?;
        password.clear().await.map_err(wd_err)?;
        self.held()?;
        password
            .send_keys(self.password.as_str())
            .await
            .map_err(wd_err)?;
        self.mark_document().await?;
        let submit = self.find(&p.submit).await?;
        self.held()?;
        submit.click().await.map_err(wd_err)?;
        let st = self
            .wait_page(&[&p.logged_in, &p.error], true, Read::NOTHING)
            .await?;
        if st.found[0] {
            return Ok(());
        }
        if st.found[1] {
            let error = self.find(&p.error).await?;
            self.held()?;
            let text = error.text().await.map_err(wd_err)?;
            return Err(p.refusal(&text));
        }
        Err(PortalError::Transient(format!(
            "login answered {} on {}",
            st.status, st.path
        )))
    }

    pub(super) async fn login_with_retries(&self) -> Result<(), PortalError> {
        retry(
            self.opts.page_attempts,
            "login",
            &self.ctx.still_held,
            || self.login_once(),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker paused past its lease and resumed mid-backoff makes no
    /// further portal call: the reaper may have ended its browser and
    /// another worker owns the work.
    #[tokio::test]
    async fn no_retry_once_the_lease_is_lost() {
        use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
        use std::sync::Arc;
        let lost = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU32::new(0));
        let held = {
            let lost = lost.clone();
            crate::portal::StillHeld::new(move || !lost.load(Ordering::SeqCst))
        };
        let r: Result<(), PortalError> = retry(4, "login", &held, || {
            let (lost, calls) = (lost.clone(), calls.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                // The lease is lost while this call fails (e.g. SIGSTOP).
                lost.store(true, Ordering::SeqCst);
                Err(PortalError::Transient("invalid session id".into()))
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(r.unwrap_err().to_string().contains("browser lease lost"));
        // While held, transient errors are retried up to the attempts.
        lost.store(false, Ordering::SeqCst);
        calls.store(0, Ordering::SeqCst);
        let always = crate::portal::StillHeld::default();
        let r: Result<(), PortalError> = retry(3, "login", &always, || {
            let calls = calls.clone();
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(PortalError::Transient("502".into()))
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(r.is_err());
    }
}
