//! The browser's lifecycle: starting a tagged chromedriver session, quitting
//! it, and deleting sessions (ours, or those of browsers whose worker died).

use std::path::PathBuf;
use std::time::Duration;

use thirtyfour::prelude::*;
use tracing::{debug, info, warn};

use super::{WebDriverPortal, WebDriverSession};
use crate::portal::{PortalError, SessionContext, SweepError};

/// Chromium flags for running in a container without network.
pub const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--window-size=1280,1024",
];

impl WebDriverPortal {
    /// Starts a browser. Its unique `--user-data-dir` is its tag: recorded
    /// on the lease (awaited) before `POST /session` is sent, so whoever
    /// reaps the lease of a worker killed while this call is in flight can
    /// still find the session (`GET /sessions`, `userDataDir`).
    pub(super) async fn new_driver(
        &self,
        ctx: &SessionContext,
    ) -> Result<(WebDriver, PathBuf), PortalError> {
        let mut caps = DesiredCapabilities::chrome();
        let data_dir = std::env::temp_dir().join(format!(
            "reporter-chrome-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let tag = data_dir.display().to_string();
        let wd = |e: WebDriverError| PortalError::Transient(format!("browser capabilities: {e}"));
        for a in CHROME_ARGS {
            caps.add_arg(a).map_err(wd)?;
        }
        caps.add_arg(&format!("--user-data-dir={tag}"))
            .map_err(wd)?;
        if let Some(bin) = &self.opts.chrome_binary {
            caps.set_binary(bin).map_err(wd)?;
        }
        if !ctx.on_browser_starting.record(&tag).await {
            return Err(PortalError::Transient(
                "the browser could not be recorded on its lease (lease lost or Redis failing); not starting it"
                    .into(),
            ));
        }
        let driver = WebDriver::builder(self.opts.webdriver_url.as_str(), caps)
            .request_timeout(self.opts.page_load_timeout + Duration::from_secs(30))
            .await
            .map_err(|e| {
                PortalError::Transient(format!(
                    "cannot start a browser session at {}: {e}",
                    self.opts.webdriver_url
                ))
            })?;
        if let Err(e) = driver
            .set_page_load_timeout(self.opts.page_load_timeout)
            .await
        {
            let _ = driver.quit().await;
            return Err(PortalError::Transient(format!(
                "set page-load timeout: {e}"
            )));
        }
        Ok((driver, data_dir))
    }

    /// Lists the server's sessions (`GET /sessions`: chromedriver has it,
    /// with each session's `capabilities.chrome.userDataDir`; the W3C
    /// protocol and a Selenium Grid do not) and deletes those whose
    /// user-data-dir is one of `tags`.
    pub(super) async fn discard_tagged(&self, tags: &[String]) -> Result<Vec<String>, SweepError> {
        let url = format!("{}/sessions", self.opts.webdriver_url);
        let answer = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| SweepError::Unreachable(format!("GET {url}: {e}")))?;
        let status = answer.status();
        if status.is_server_error() {
            return Err(SweepError::Unreachable(format!("GET {url}: {status}")));
        }
        if !status.is_success() {
            return Err(SweepError::Unsupported(format!("GET {url}: {status}")));
        }
        let body: serde_json::Value = answer
            .json()
            .await
            .map_err(|e| SweepError::Unsupported(format!("GET {url}: {e}")))?;
        let sessions = tagged_sessions(&body)
            .ok_or_else(|| SweepError::Unsupported(format!("GET {url}: no session list")))?;
        // A tag whose delete failed is not returned, so it is tried again.
        let mut found = Vec::new();
        for (id, dir) in sessions {
            if !tags.contains(&dir) {
                continue;
            }
            info!(session = %id, browser_tag = %dir, "found the session of a browser whose worker died while starting it");
            if discard(&self.http, &self.opts.webdriver_url, &id).await {
                found.push(dir);
            }
        }
        Ok(found)
    }
}

impl WebDriverSession {
    /// Quits the browser (deleting its session if the quit fails or hangs)
    /// and removes its user-data-dir.
    pub(super) async fn quit_browser(&mut self) {
        if let Some(d) = self.driver.take() {
            let quit = tokio::time::timeout(Duration::from_secs(30), d.quit()).await;
            match quit {
                Ok(Ok(())) => debug!(session = %self.id, "browser closed"),
                Ok(Err(e)) => {
                    warn!(session = %self.id, error = %e, "quit failed; deleting the session");
                    discard(&self.http, &self.opts.webdriver_url, &self.id).await;
                }
                Err(_) => {
                    warn!(session = %self.id, "quit timed out; deleting the session");
                    discard(&self.http, &self.opts.webdriver_url, &self.id).await;
                }
            }
        }
        if self.data_dir.exists() {
            let _ = tokio::fs::remove_dir_all(&self.data_dir).await;
        }
    }
}

/// `(session id, userDataDir)` of each session in chromedriver's
/// `GET /sessions` answer; `None` if it is not such a list.
fn tagged_sessions(body: &serde_json::Value) -> Option<Vec<(String, String)>> {
    let list = body.get("value")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|s| {
                let id = s.get("id")?.as_str()?;
                let dir = s.pointer("/capabilities/chrome/userDataDir")?.as_str()?;
                Some((id.to_string(), dir.to_string()))
            })
            .collect(),
    )
}

/// `DELETE /session/{id}`; `true` once the session is gone (deleted now, or
/// unknown to the server already).
pub(super) async fn discard(http: &reqwest::Client, webdriver_url: &str, session_id: &str) -> bool {
    let url = format!("{webdriver_url}/session/{session_id}");
    match http
        .delete(&url)
        .timeout(Duration::from_secs(30))
        .send()
        .await
    {
        Ok(r) => {
            let status = r.status();
            info!(session = session_id, status = %status, "deleted WebDriver session");
            status.is_success() || status == reqwest::StatusCode::NOT_FOUND
        }
        Err(e) => {
            warn!(session = session_id, error = %e, "could not delete WebDriver session");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chromedrivers_session_list() {
        let body = serde_json::json!({"sessionId": "", "status": 0, "value": [
            {"id": "a1", "capabilities": {"browserName": "chrome",
                "chrome": {"chromedriverVersion": "156", "userDataDir": "/tmp/reporter-chrome-1-ab"}}},
            {"id": "b2", "capabilities": {"browserName": "firefox"}},
        ]});
        assert_eq!(
            tagged_sessions(&body),
            Some(vec![("a1".into(), "/tmp/reporter-chrome-1-ab".into())])
        );
        let empty = serde_json::json!({"sessionId": "", "status": 0, "value": []});
        assert_eq!(tagged_sessions(&empty), Some(vec![]));
        let grid = serde_json::json!({"value": {"error": "unknown command", "message": "…"}});
        assert_eq!(tagged_sessions(&grid), None);
    }
}
