//! Reaping browsers: expired leases are purged from the semaphore and the
//! WebDriver sessions their dead holders left behind are deleted, also
//! those of holders killed before they learnt their session id. Run every
//! few seconds by the fleet loop and at once after each lease acquisition.

use reporter_core::browser_semaphore::BrowserSemaphore;
use tracing::{debug, info, warn};

use crate::portal::{Portal, SweepError};

/// Reaps expired leases, deletes their recorded sessions, then sweeps the
/// orphan browser tags (leases reaped without a session id).
pub async fn reap_once(semaphore: &BrowserSemaphore, portal: &dyn Portal) {
    match semaphore.reap_expired().await {
        Ok(expired) => {
            for lease in expired {
                info!(lease.id = %lease.lease_id, worker = %lease.worker, job = %lease.job,
                      webdriver_session = ?lease.webdriver_session,
                      browser_tag = ?lease.browser_tag, "reaped an expired browser lease");
                if let Some(session) = &lease.webdriver_session {
                    portal.discard_session(session).await;
                }
            }
        }
        Err(e) => warn!(error = %e, "reaping expired leases failed"),
    }
    sweep_orphan_browsers(semaphore, portal).await;
}

/// A holder killed while its browser was starting left only the browser's
/// tag: look the session up at the WebDriver server and delete it. A tag
/// not found yet (the `POST /session` may still be running there) stays
/// for the next sweep, until `ORPHAN_KEEP` after its lease was reaped.
async fn sweep_orphan_browsers(semaphore: &BrowserSemaphore, portal: &dyn Portal) {
    let tags = match semaphore.orphan_browser_tags().await {
        Ok(t) if t.is_empty() => return,
        Ok(t) => t,
        Err(e) => {
            warn!(error = %e, "reading orphan browser tags failed");
            return;
        }
    };
    let forget = match portal.discard_tagged_sessions(&tags).await {
        Ok(found) => {
            debug!(
                orphans = tags.len(),
                deleted = found.len(),
                "swept orphan browser tags"
            );
            found
        }
        Err(SweepError::Unsupported(why)) => {
            warn!(reason = %why, tags = ?tags,
                  "cannot look up the sessions of browsers whose workers died while starting them; \
                   they stay until the WebDriver server's own session timeout");
            tags
        }
        Err(e @ SweepError::Unreachable(_)) => {
            warn!(error = %e, "sweeping orphan browsers failed; trying again on the next reap");
            Vec::new()
        }
    };
    if let Err(e) = semaphore.forget_orphan_browser_tags(&forget).await {
        warn!(error = %e, "forgetting swept orphan browser tags failed");
    }
}
