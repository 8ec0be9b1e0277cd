//! One request to the portal: sent without following redirects, and its
//! answer read whole (status, location, session cookie, body).

use reqwest::{StatusCode, Url};

use super::page::Page;
use super::{HttpSession, SESSION_COOKIE};
use crate::portal::PortalError;

/// A portal answer, read whole.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    /// The URL asked for (redirects are not followed).
    pub(super) url: Url,
    location: Option<Url>,
    /// The session cookie this answer set, if any.
    pub(super) session_cookie: Option<String>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    /// A redirect to the login page: the session is gone.
    pub(super) fn to_login(&self, login_path: &str) -> bool {
        self.status.is_redirection()
            && self
                .location
                .as_ref()
                .is_some_and(|l| l.path() == login_path)
    }

    pub(super) fn page(&self) -> Page {
        Page::parse(&String::from_utf8_lossy(&self.body))
    }
}

impl HttpSession {
    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> Result<Answer, PortalError> {
        let transient = |e: reqwest::Error| {
            let kind = if e.is_timeout() { " (timed out)" } else { "" };
            PortalError::Transient(format!("{what}{kind}: {e}"))
        };
        let resp = req.send().await.map_err(transient)?;
        let status = resp.status();
        let url = resp.url().clone();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| url.join(l).ok());
        let session_cookie = resp
            .cookies()
            .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
            .map(|c| c.value().to_string());
        let body = resp.bytes().await.map_err(transient)?.to_vec();
        Ok(Answer {
            status,
            url,
            location,
            session_cookie,
            body,
        })
    }

    pub(super) async fn get(&self, url: Url, what: &str) -> Result<Answer, PortalError> {
        self.send(self.client.get(url), what).await
    }

    pub(super) async fn post(
        &self,
        url: Url,
        fields: &[(String, String)],
        what: &str,
    ) -> Result<Answer, PortalError> {
        self.send(self.client.post(url).form(fields), what).await
    }
}
