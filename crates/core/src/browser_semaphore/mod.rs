//! Fleet-wide limit on browser sessions (`MAX_ACTIVE_SELENIUM`), built on
//! leases instead of a counter.
//!
//! The old counter stayed +1 forever when a worker died holding it. Here every
//! holder owns a lease that expires unless its heartbeat renews it, so a place
//! held by a SIGKILLed worker comes back by itself at most one lease TTL
//! (`REPORTER_SEMAPHORE_LEASE_SECS`) after the last heartbeat.
//!
//! Redis layout under `{prefix}:semaphore:`:
//! - `leases`: ZSET, member = lease id, score = expiry in ms on the Redis clock;
//! - `holders`: HASH, lease id -> `{worker, job, since, webdriver_session,
//!   browser_tag}`;
//! - `reaped`: LIST of expired leases with their holder record (see below);
//! - `orphans`: ZSET of browser tags still to sweep (score = keep until, ms);
//! - `notify`: LIST of wake-up tokens, one pushed per released lease.
//!
//! # Holding a place
//! Use [`BrowserSemaphore::acquire_held`], which returns a [`HeldLease`] whose
//! background task renews the lease every `lease_ttl / 3`. Before every portal
//! action check [`HeldLease::ensure_held`] (or select on
//! [`HeldLease::lost_signal`]): once a lease is lost another worker may already
//! be counted into the place, so the browser must be quit at once.
//!
//! # Reaping dead holders' browsers
//! A killed worker leaves its WebDriver session open (on a Grid, until the
//! Grid's own session timeout). Whoever purges an expired lease, an
//! [`acquire`](BrowserSemaphore::acquire) or [`reap_expired`](BrowserSemaphore::reap_expired),
//! moves its holder record to the `reaped` list instead of dropping it.
//! `reap_expired()` drains that list atomically and returns each record
//! exactly once; the caller must then `DELETE /session/{id}` at the WebDriver
//! server for every record with a `webdriver_session`. A record is lost if the
//! caller dies between draining and deleting; the Grid session timeout is the
//! backstop for that. The list keeps at most the newest 10 000 records.
//!
//! A holder killed while its browser is still starting (`POST /session` in
//! flight) never learns the session id, so it cannot record it. Before
//! starting a browser the holder therefore records a *browser tag* (the
//! adapter's unique `--user-data-dir`) with
//! [`set_browser_tag`](BrowserSemaphore::set_browser_tag), awaited before the
//! `POST /session` is sent. When a lease with a tag but no session id is
//! reaped, the same Lua step puts the tag in the `orphans` set for
//! [`ORPHAN_KEEP`]; every reaper reads it with
//! [`orphan_browser_tags`](BrowserSemaphore::orphan_browser_tags), looks for a
//! session with that user-data-dir at the WebDriver server (chromedriver's
//! `GET /sessions`), deletes it and then
//! [`forget_orphan_browser_tags`](BrowserSemaphore::forget_orphan_browser_tags).
//! A tag whose session does not exist (yet) is tried again on every sweep
//! until it is dropped after [`ORPHAN_KEEP`].
//!
//! # Waiting, fairness and failures
//! A waiter tries, and when every place is taken blocks on the `notify`
//! list (`BLPOP`, on a connection of its own, never the shared multiplexed
//! one) for at most one jittered poll interval, then tries again. Every
//! release pushes a token, so a freed place is taken at once by the waiter
//! blocked longest (Redis serves `BLPOP` in arrival order); a place freed by
//! expiry, a token taken by a waiter that then loses the race, or a broken
//! wake-up connection cost at most one poll interval, because the waiter
//! tries again when its wait ends anyway. Without wake-ups (a semaphore made
//! with [`new`](BrowserSemaphore::new) and no
//! [`with_wakeups`](BrowserSemaphore::with_wakeups)) waiters only poll. The
//! acquisition itself stays one Lua script, so the limit never depends on
//! who was woken. A Redis error of an acquisition ends the wait with
//! [`SemaphoreError::Redis`]; if it hit the reply of a granted acquisition,
//! that unknown lease is never renewed and frees itself after one lease TTL.
//!
//! A holder paused (SIGSTOP) past its expiry still has its browser open while
//! its place is given away, so for a moment more than `limit` browsers may
//! exist; the reaper's WebDriver `DELETE` and the holder's own
//! [`HeldLease::is_lost`] check on waking close that gap.

mod keeper;
mod lease;
mod reaping;
mod scripts;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::{AsyncConnectionConfig, RedisError};
use thiserror::Error;

pub use keeper::{HeldLease, LeaseWatch};
use lease::*;
pub use lease::{Holder, Lease, LeaseInfo};

/// Default bounds of the jittered poll interval while waiting for a place:
/// short enough to notice a freed place promptly, jittered so that waiters
/// across the fleet do not poll in lockstep.
const DEFAULT_POLL: (Duration, Duration) = (Duration::from_millis(25), Duration::from_millis(100));

/// Unclaimed wake-up tokens expire after this: a waiter that arrives later
/// tries the semaphore itself first anyway.
const NOTIFY_TTL: Duration = Duration::from_secs(5);

/// Idle wake-up connections kept per semaphore (one is busy per waiter).
const IDLE_WAKEUP_CONNECTIONS: usize = 16;

/// How long the browser tag of a holder that died while starting its
/// browser is swept for after its lease was reaped: far longer than a
/// browser takes to start (chromedriver gives up on Chromium after 60 s),
/// so a session that appears late is still found.
pub const ORPHAN_KEEP: Duration = Duration::from_secs(300);

#[derive(Debug, Error)]
pub enum SemaphoreError {
    #[error("redis error: {0}")]
    Redis(#[from] RedisError),
    #[error("no browser place became free within {waited:?}")]
    Timeout { waited: Duration },
    #[error("browser lease {lease_id} was lost: stop using the browser")]
    LeaseLost { lease_id: String },
}

#[derive(Clone)]
pub struct BrowserSemaphore {
    conn: ConnectionManager,
    keys: Keys,
    limit: u32,
    lease_ttl: Duration,
    poll: (Duration, Duration),
    wakeups: Option<Wakeups>,
}

#[derive(Clone)]
struct Keys {
    leases: String,
    holders: String,
    reaped: String,
    notify: String,
    orphans: String,
}

/// Connections of their own for the blocking pop: a `BLPOP` on the shared
/// multiplexed connection would hold up every other command behind it.
#[derive(Clone)]
struct Wakeups {
    client: redis::Client,
    idle: Arc<Mutex<Vec<MultiplexedConnection>>>,
}

impl Wakeups {
    async fn connection(&self) -> Result<MultiplexedConnection, RedisError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(c) = idle {
            return Ok(c);
        }
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        self.client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
    }

    /// Only a connection whose last `BLPOP` was answered comes back, so the
    /// next waiter never queues behind a pop still blocked at the server.
    fn give_back(&self, c: MultiplexedConnection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_WAKEUP_CONNECTIONS {
            idle.push(c);
        }
    }
}

impl std::fmt::Debug for BrowserSemaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSemaphore")
            .field("leases", &self.keys.leases)
            .field("limit", &self.limit)
            .field("lease_ttl", &self.lease_ttl)
            .finish_non_exhaustive()
    }
}

impl BrowserSemaphore {
    /// The fleet's semaphore as the settings define it (prefix, limit, lease).
    /// Waiters are woken on release (connections for that are opened only
    /// when someone waits).
    pub fn from_settings(conn: ConnectionManager, settings: &crate::config::Settings) -> Self {
        let sem = Self::new(
            conn,
            &settings.redis_prefix,
            settings.max_active_selenium,
            Duration::from_secs(settings.semaphore_lease_secs),
        );
        match redis::Client::open(settings.redis_url()) {
            Ok(client) => sem.with_wakeups(client),
            Err(e) => {
                tracing::warn!(error = %e, "browser semaphore: no wake-ups, waiters only poll");
                sem
            }
        }
    }

    /// `lease_ttl` is how long a place outlives its holder's last heartbeat.
    ///
    /// # Panics
    /// If `lease_ttl` is under 3 ms, since the heartbeat renews at a third of it.
    pub fn new(conn: ConnectionManager, prefix: &str, limit: u32, lease_ttl: Duration) -> Self {
        assert!(
            lease_ttl >= Duration::from_millis(3),
            "lease_ttl too short: {lease_ttl:?}"
        );
        let keys = Keys {
            leases: format!("{prefix}:semaphore:leases"),
            holders: format!("{prefix}:semaphore:holders"),
            reaped: format!("{prefix}:semaphore:reaped"),
            notify: format!("{prefix}:semaphore:notify"),
            orphans: format!("{prefix}:semaphore:orphans"),
        };
        BrowserSemaphore {
            conn,
            keys,
            limit,
            lease_ttl,
            poll: DEFAULT_POLL,
            wakeups: None,
        }
    }

    /// Waiters block on the notify list (on connections of their own, made
    /// from `client`) instead of only sleeping between polls, so a released
    /// place is taken at once.
    pub fn with_wakeups(mut self, client: redis::Client) -> Self {
        self.wakeups = Some(Wakeups {
            client,
            idle: Arc::new(Mutex::new(Vec::new())),
        });
        self
    }

    /// Overrides the jittered poll interval used while waiting for a place.
    pub fn with_poll_interval(mut self, min: Duration, max: Duration) -> Self {
        self.poll = (min, max.max(min));
        self
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// Waits up to `wait` (REPORTER_SELENIUM_SEMAPHORE_TTL) for a place, then
    /// gives up with [`SemaphoreError::Timeout`] so the job is retried later
    /// instead of pinning a worker slot indefinitely.
    ///
    /// The returned lease is not renewed; prefer [`acquire_held`](Self::acquire_held).
    pub async fn acquire(&self, holder: Holder, wait: Duration) -> Result<Lease, SemaphoreError> {
        let started = Instant::now();
        let deadline = started + wait;
        // One wake-up connection for the whole wait; a cancelled wait drops
        // it with whatever pop it still has pending.
        let mut wakeup: Option<MultiplexedConnection> = None;
        loop {
            if let Some(lease) = self.try_acquire(&holder).await? {
                if let (Some(w), Some(c)) = (&self.wakeups, wakeup) {
                    w.give_back(c);
                }
                return Ok(lease);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(SemaphoreError::Timeout {
                    waited: now - started,
                });
            }
            self.wait_for_release(&mut wakeup, self.poll_delay().min(deadline - now))
                .await;
        }
    }

    /// Returns when a release token arrives or `at_most` has passed. Wake-up
    /// failures are not the caller's: the connection is dropped and the
    /// rest of the interval slept, as a plain poll would.
    async fn wait_for_release(&self, conn: &mut Option<MultiplexedConnection>, at_most: Duration) {
        let Some(wakeups) = &self.wakeups else {
            tokio::time::sleep(at_most).await;
            return;
        };
        let until = Instant::now() + at_most;
        if conn.is_none() {
            match wakeups.connection().await {
                Ok(c) => *conn = Some(c),
                Err(e) => {
                    tracing::debug!(error = %e, "browser semaphore wake-up connection failed; polling");
                    tokio::time::sleep_until(until.into()).await;
                    return;
                }
            }
        }
        let Some(c) = conn.as_mut() else { return };
        // BLPOP takes seconds; 0 would mean forever.
        let secs = until
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
            .as_secs_f64();
        let popped: Result<Option<(String, String)>, RedisError> = redis::cmd("BLPOP")
            .arg(&self.keys.notify)
            .arg(format!("{secs:.3}"))
            .query_async(c)
            .await;
        if let Err(e) = popped {
            tracing::debug!(error = %e, "browser semaphore wake-up failed; polling");
            *conn = None;
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// [`acquire`](Self::acquire), then start the heartbeat.
    pub async fn acquire_held(
        &self,
        holder: Holder,
        wait: Duration,
    ) -> Result<HeldLease, SemaphoreError> {
        let lease = self.acquire(holder, wait).await?;
        Ok(self.keep(lease))
    }

    /// Starts renewing `lease` in a background task until the returned guard
    /// is released or dropped. Must be called inside a tokio runtime.
    pub fn keep(&self, lease: Lease) -> HeldLease {
        HeldLease::start(self.clone(), lease)
    }

    /// One attempt: a lease if a place is free now, `None` if all are taken.
    pub async fn try_acquire(&self, holder: &Holder) -> Result<Option<Lease>, SemaphoreError> {
        let mut lease = Lease {
            id: new_lease_id(),
            holder: holder.clone(),
            // Display only; every expiry decision uses the Redis clock.
            since: Utc::now(),
            expires_at: DateTime::UNIX_EPOCH,
            valid_until: Instant::now() + self.lease_ttl,
        };
        let (granted, expires_at_ms): (i64, i64) = scripts::ACQUIRE
            .key(&self.keys.leases)
            .key(&self.keys.holders)
            .key(&self.keys.reaped)
            .arg(self.limit)
            .arg(self.ttl_ms())
            .arg(&lease.id)
            .arg(HolderRecord::new(&lease).to_json())
            .invoke_async(&mut self.conn.clone())
            .await?;
        if granted == 0 {
            return Ok(None);
        }
        lease.expires_at = ms_to_datetime(expires_at_ms);
        Ok(Some(lease))
    }

    /// Extends the lease by `lease_ttl` from now. `false` means the lease
    /// expired or was removed: the holder must stop using the browser at once.
    pub async fn renew(&self, lease: &Lease) -> Result<bool, SemaphoreError> {
        let expires_at_ms: i64 = scripts::RENEW
            .key(&self.keys.leases)
            .arg(&lease.id)
            .arg(self.ttl_ms())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(expires_at_ms > 0)
    }

    /// Whether the lease is still live on the Redis clock.
    pub async fn is_held(&self, lease: &Lease) -> Result<bool, SemaphoreError> {
        let held: i64 = scripts::IS_HELD
            .key(&self.keys.leases)
            .arg(&lease.id)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(held == 1)
    }

    /// Frees the place. Returns whether the lease was still live; `false`
    /// means it had expired (and may have been reaped) before the release.
    pub async fn release(&self, lease: Lease) -> Result<bool, SemaphoreError> {
        self.release_id(&lease.id).await
    }

    async fn release_id(&self, lease_id: &str) -> Result<bool, SemaphoreError> {
        let was_live: i64 = scripts::RELEASE
            .key(&self.keys.leases)
            .key(&self.keys.holders)
            .key(&self.keys.notify)
            .arg(lease_id)
            .arg(self.limit.max(1))
            .arg(u64::try_from(NOTIFY_TTL.as_millis()).unwrap_or(u64::MAX))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(was_live == 1)
    }

    /// Records the WebDriver session this lease's browser runs in, so that it
    /// can be deleted by a reaper if this holder dies. Returns `false` if the
    /// lease is no longer live (nothing is recorded then).
    pub async fn set_webdriver_session(
        &self,
        lease: &Lease,
        session_id: &str,
    ) -> Result<bool, SemaphoreError> {
        self.set_holder_field(lease, "webdriver_session", session_id)
            .await
    }

    /// Records what this lease's browser can be found by at the WebDriver
    /// server before its session id is known (the adapter's unique
    /// `--user-data-dir`). Must complete before the browser is asked for
    /// (`POST /session`): a holder killed while the browser starts leaves
    /// only this tag for the reaper. Returns `false` if the lease is no
    /// longer live: then no browser may be started.
    pub async fn set_browser_tag(&self, lease: &Lease, tag: &str) -> Result<bool, SemaphoreError> {
        self.set_holder_field(lease, "browser_tag", tag).await
    }

    async fn set_holder_field(
        &self,
        lease: &Lease,
        field: &str,
        value: &str,
    ) -> Result<bool, SemaphoreError> {
        let stored: i64 = scripts::SET_HOLDER_FIELD
            .key(&self.keys.leases)
            .key(&self.keys.holders)
            .arg(&lease.id)
            .arg(field)
            .arg(value)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(stored == 1)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.lease_ttl.as_millis()).unwrap_or(u64::MAX)
    }

    fn poll_delay(&self) -> Duration {
        let (min, max) = self.poll;
        rand::thread_rng().gen_range(min..=max)
    }
}
