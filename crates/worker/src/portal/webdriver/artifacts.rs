//! Failure artifacts: a screenshot and the page source saved under the
//! artifacts directory, per run, user and range.

use tracing::warn;

use super::WebDriverSession;

impl WebDriverSession {
    /// Saves a screenshot and the page source for a failure; best effort.
    pub(super) async fn save_artifacts(&self, what: &str) {
        // Not for a browser whose lease is gone (it may be reaped already).
        if !self.ctx.still_held.held() {
            return;
        }
        let Some(d) = &self.driver else { return };
        let dir = self
            .opts
            .artifacts_dir
            .join(format!("run-{}", self.ctx.run_id))
            .join(format!("user-{}", self.ctx.user_id))
            .join(match self.ctx.range_id {
                Some(r) => format!("range-{r}"),
                None => "range-download".to_string(),
            });
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let base = dir.join(format!("{what}-{stamp}"));
        if let Err(e) = tokio::fs::create_dir_all(&dir).await {
            warn!(dir = %dir.display(), error = %e, "cannot create the artifacts directory");
            return;
        }
        let png = base.with_extension("png");
        let html = base.with_extension("html");
        match d.screenshot_as_png().await {
            Ok(bytes) => {
                if let Err(e) = tokio::fs::write(&png, bytes).await {
                    warn!(path = %png.display(), error = %e, "cannot save screenshot");
                }
            }
            Err(e) => warn!(error = %e, "cannot take a screenshot"),
        }
        match d.source().await {
            Ok(src) => {
                if let Err(e) = tokio::fs::write(&html, src).await {
                    warn!(path = %html.display(), error = %e, "cannot save page source");
                }
            }
            Err(e) => warn!(error = %e, "cannot read the page source"),
        }
        warn!(screenshot = %png.display(), page = %html.display(), "portal failure artifacts saved");
    }
}
