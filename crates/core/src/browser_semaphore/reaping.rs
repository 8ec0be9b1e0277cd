//! Reaping and observing: expired leases handed to exactly one reaper, the
//! orphan browser tags of holders that died while starting their browser,
//! and the views operators read (holders, places in use, reset).

use super::lease::*;
use super::{scripts, BrowserSemaphore, SemaphoreError, ORPHAN_KEEP};

impl BrowserSemaphore {
    /// Purges expired leases and returns every expired lease not yet handed
    /// to a reaper, each exactly once across the fleet. The caller must
    /// delete each `webdriver_session` at the WebDriver server. Leases with
    /// a `browser_tag` but no session id are also put in the orphan set
    /// (see [`orphan_browser_tags`](Self::orphan_browser_tags)).
    pub async fn reap_expired(&self) -> Result<Vec<LeaseInfo>, SemaphoreError> {
        let raw: Vec<String> = scripts::REAP
            .key(&self.keys.leases)
            .key(&self.keys.holders)
            .key(&self.keys.reaped)
            .key(&self.keys.orphans)
            .arg(u64::try_from(ORPHAN_KEEP.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(raw.iter().filter_map(|r| parse_reaped(r)).collect())
    }

    /// Browser tags of reaped holders that died before recording their
    /// session id, reaped within the last [`ORPHAN_KEEP`] and not yet
    /// forgotten. Any reaper may sweep them (several at once is harmless:
    /// deleting a session twice only fails the second time); it must look
    /// each one up at the WebDriver server, delete the session found, and
    /// [`forget`](Self::forget_orphan_browser_tags) the tags it found.
    pub async fn orphan_browser_tags(&self) -> Result<Vec<String>, SemaphoreError> {
        let tags: Vec<String> = scripts::ORPHAN_TAGS
            .key(&self.keys.orphans)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(tags)
    }

    /// Stops sweeping `tags` (their sessions were deleted, or cannot be
    /// looked up at this WebDriver server).
    pub async fn forget_orphan_browser_tags(&self, tags: &[String]) -> Result<(), SemaphoreError> {
        if tags.is_empty() {
            return Ok(());
        }
        redis::cmd("ZREM")
            .arg(&self.keys.orphans)
            .arg(tags)
            .exec_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Live leases, oldest expiry first.
    pub async fn holders(&self) -> Result<Vec<LeaseInfo>, SemaphoreError> {
        let flat: Vec<String> = scripts::SNAPSHOT
            .key(&self.keys.leases)
            .key(&self.keys.holders)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(flat
            .chunks_exact(3)
            .filter_map(parse_snapshot_entry)
            .collect())
    }

    /// Number of live leases.
    pub async fn in_use(&self) -> Result<u32, SemaphoreError> {
        let n: u32 = scripts::IN_USE
            .key(&self.keys.leases)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(n)
    }

    /// Operator action: forgets every lease, reaped record and orphan tag.
    /// Holders still running will find their leases lost on the next
    /// heartbeat; browsers of reaped-but-undrained records and of orphan
    /// tags are no longer tracked.
    pub async fn reset(&self) -> Result<(), SemaphoreError> {
        let keys = [
            &self.keys.leases,
            &self.keys.holders,
            &self.keys.reaped,
            &self.keys.notify,
            &self.keys.orphans,
        ];
        redis::cmd("DEL")
            .arg(&keys[..])
            .exec_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
