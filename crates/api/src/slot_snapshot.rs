//! The customers' slot list, served from memory.
//!
//! `GET /api/reporter/slots/` is the API's hottest read and its data changes
//! only when a reservation or a slot's capacity does. Each replica keeps the
//! serialized list tagged with the fleet-wide version of
//! [`reporter_core::slot_version`]; a request costs one Redis `GET` to
//! compare versions instead of a pooled connection, a blocking-thread hop
//! and an aggregate query. Writers bump the version after commit, so a
//! client always sees its own last write (see that module for the argument).
//!
//! When Redis does not answer, requests read the database directly: a slower
//! answer beats a possibly stale one. Writers outside the API (SQL by hand,
//! `reporterctl` maintenance) do not bump the version; [`MAX_AGE`] bounds how
//! long a replica can serve their effect late.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use reporter_core::models::slot;
use reporter_core::slot_version;

use crate::error::ApiError;
use crate::routes::slots::SlotOut;
use crate::state::AppState;

/// Longest a snapshot is served without reloading, whatever the version.
pub const MAX_AGE: Duration = Duration::from_secs(2);
/// A version check slower than this counts as Redis being down.
const VERSION_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failed check, requests go straight to the database this long
/// rather than each waiting for Redis.
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

struct Snapshot {
    version: i64,
    loaded_at: Instant,
    body: Bytes,
}

pub struct SlotSnapshot {
    current: RwLock<Option<Snapshot>>,
    /// One reload at a time: after a write, the requests that arrive
    /// together wait for one query instead of each running it.
    reload: tokio::sync::Mutex<()>,
    started: Instant,
    /// Milliseconds after `started` before which Redis is not asked.
    redis_skip_until_ms: AtomicU64,
}

impl Default for SlotSnapshot {
    fn default() -> Self {
        SlotSnapshot {
            current: RwLock::default(),
            reload: tokio::sync::Mutex::default(),
            started: Instant::now(),
            redis_skip_until_ms: AtomicU64::new(0),
        }
    }
}

impl SlotSnapshot {
    /// The JSON body of the reservable slots with their load.
    pub async fn body(&self, state: &AppState) -> Result<Bytes, ApiError> {
        let Some(version) = self.current_version(state).await else {
            return load(state).await;
        };
        if let Some(body) = self.fresh(version) {
            return Ok(body);
        }
        let _one_reload = self.reload.lock().await;
        if let Some(body) = self.fresh(version) {
            return Ok(body);
        }
        // Loaded after reading `version`: it holds every write numbered up
        // to it (and perhaps later ones, which only makes it fresher).
        let body = load(state).await?;
        self.store(version, body.clone());
        Ok(body)
    }

    /// Records a write made by this process. Bumps the fleet-wide version;
    /// if Redis is unreachable, at least this replica forgets its copy.
    pub async fn changed(&self, state: &AppState) {
        let bump = async {
            let mut conn = state.redis().await?;
            slot_version::bump(&mut conn, &state.settings.redis_prefix).await
        };
        let bumped = match tokio::time::timeout(VERSION_TIMEOUT, bump).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err("timed out".to_string()),
        };
        if let Err(error) = bumped {
            tracing::warn!(%error, "could not bump the slot version; other replicas may show the old load for up to {}s", MAX_AGE.as_secs());
            self.forget();
        }
    }

    pub fn forget(&self) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn fresh(&self, version: i64) -> Option<Bytes> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|s| s.version == version && s.loaded_at.elapsed() < MAX_AGE)
            .map(|s| s.body.clone())
    }

    fn store(&self, version: i64, body: Bytes) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        *current = Some(Snapshot {
            version,
            loaded_at: Instant::now(),
            body,
        });
    }

    async fn current_version(&self, state: &AppState) -> Option<i64> {
        let now_ms = self.started.elapsed().as_millis() as u64;
        if now_ms < self.redis_skip_until_ms.load(Ordering::Relaxed) {
            return None;
        }
        // The timeout covers connecting too: a replica started while Redis
        // is down must not hold every request for the connect timeout.
        let read = async {
            let mut conn = state.redis().await?;
            slot_version::current(&mut conn, &state.settings.redis_prefix).await
        };
        let error = match tokio::time::timeout(VERSION_TIMEOUT, read).await {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_string(),
        };
        tracing::warn!(%error, "slot version unreadable; reading slots from the database");
        let until = self.started.elapsed() + REDIS_BACKOFF;
        self.redis_skip_until_ms
            .store(until.as_millis() as u64, Ordering::Relaxed);
        None
    }
}

async fn load(state: &AppState) -> Result<Bytes, ApiError> {
    let slots = state.db(|c| Ok(slot::list_with_usage(c, true)?)).await?;
    let out: Vec<SlotOut> = slots.iter().map(SlotOut::from).collect();
    let body = serde_json::to_vec(&out).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Bytes::from(body))
}
