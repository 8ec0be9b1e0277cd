use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::PgConnection;
use redis::aio::ConnectionManager;
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::config::Settings;
use reporter_core::db::DbPool;
use reporter_core::jobs::JobQueues;
use reporter_core::range_lock::RangeLocks;
use tokio::sync::watch;

use crate::portal::Portal;

/// Everything a job handler needs, built once per process.
pub struct Environment {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub redis: ConnectionManager,
    pub queues: JobQueues,
    pub semaphore: BrowserSemaphore,
    pub range_locks: RangeLocks,
    pub portal: Arc<dyn Portal>,
    /// Unique per process: apalis worker names and lock owners derive from it.
    pub worker_id: String,
    shutdown: watch::Receiver<bool>,
    /// What this process is doing now, for operators (job → description).
    pub current: Mutex<HashMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error("database: {0}")]
    Db(#[from] reporter_core::db::DbError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("blocking task: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl Environment {
    pub fn new(
        settings: Arc<Settings>,
        pool: DbPool,
        redis: ConnectionManager,
        portal: Arc<dyn Portal>,
        worker_id: String,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let prefix = &settings.redis_prefix;
        let lease = Duration::from_secs(settings.semaphore_lease_secs);
        Environment {
            queues: JobQueues::new(redis.clone(), prefix, settings.worker_concurrency as usize),
            // Browsers are the bottleneck: a freed place should be taken
            // within tens of milliseconds, at a few Redis calls per waiter.
            semaphore: BrowserSemaphore::from_settings(redis.clone(), &settings)
                .with_poll_interval(Duration::from_millis(10), Duration::from_millis(30)),
            range_locks: RangeLocks::new(redis.clone(), prefix, lease),
            settings,
            pool,
            redis,
            portal,
            worker_id,
            shutdown,
            current: Mutex::new(HashMap::new()),
        }
    }

    /// Diesel work on a blocking thread.
    pub async fn db<T, F>(&self, f: F) -> Result<T, EnvError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, diesel::result::Error> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = pool.get()?;
            Ok(f(&mut c)?)
        })
        .await?
    }

    /// SIGTERM received: finish the current order, hand the rest back.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once SIGTERM was received (at once if it already was), to
    /// end waits that would otherwise outlive the process's notice.
    pub async fn shutdown_requested(&self) {
        let mut rx = self.shutdown.clone();
        if rx.wait_for(|stopping| *stopping).await.is_err() {
            // No sender: nobody can ask us to stop.
            std::future::pending::<()>().await;
        }
    }

    pub fn semaphore_wait(&self) -> Duration {
        Duration::from_secs(self.settings.selenium_semaphore_ttl_secs)
    }

    /// Takes a browser lease, then at once ends the WebDriver sessions of
    /// any expired leases the acquisition purged, before this job opens its
    /// own browser: so a dead holder's browser and ours overlap for
    /// milliseconds, not until the next periodic reap.
    pub async fn acquire_browser(
        &self,
        holder: reporter_core::browser_semaphore::Holder,
    ) -> Result<
        reporter_core::browser_semaphore::HeldLease,
        reporter_core::browser_semaphore::SemaphoreError,
    > {
        let lease = self
            .semaphore
            .acquire_held(holder, self.semaphore_wait())
            .await?;
        crate::browser_reaper::reap_once(&self.semaphore, self.portal.as_ref()).await;
        self.record_browser_peak();
        Ok(lease)
    }

    /// Feeds the operators' "browser sessions per hour" chart; best effort,
    /// off the job's path.
    fn record_browser_peak(&self) {
        let (sem, mut conn) = (self.semaphore.clone(), self.redis.clone());
        let prefix = self.settings.redis_prefix.clone();
        tokio::spawn(async move {
            if let Ok(n) = sem.in_use().await {
                let now = chrono::Utc::now();
                let _ = reporter_core::browser_activity::record(&mut conn, &prefix, now, n).await;
            }
        });
    }

    /// A hook that records the tag of a browser about to start on `lease`,
    /// awaited by the adapter before it asks for the browser: a worker
    /// killed while the browser starts leaves the tag for the reaper.
    /// `false` (lease no longer live, or Redis failing) refuses the browser.
    pub fn record_browser_tag_on(
        &self,
        lease: &reporter_core::browser_semaphore::HeldLease,
    ) -> crate::portal::BrowserStarting {
        let (sem, lease) = (self.semaphore.clone(), lease.lease().clone());
        crate::portal::BrowserStarting::new(move |tag: String| {
            let (sem, lease) = (sem.clone(), lease.clone());
            async move {
                match sem.set_browser_tag(&lease, &tag).await {
                    Ok(stored) => stored,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not record the browser tag on the lease");
                        false
                    }
                }
            }
        })
    }

    /// A hook that records a just-started browser's session id on `lease`
    /// (fire and forget: login goes on meanwhile).
    pub fn record_browser_on(
        &self,
        lease: &reporter_core::browser_semaphore::HeldLease,
    ) -> crate::portal::BrowserStarted {
        let (sem, lease) = (self.semaphore.clone(), lease.lease().clone());
        crate::portal::BrowserStarted::new(move |id: &str| {
            let (sem, lease, id) = (sem.clone(), lease.clone(), id.to_string());
            tokio::spawn(async move {
                let _ = sem.set_webdriver_session(&lease, &id).await;
            });
        })
    }

    /// The adapter's check before each of its own retries (see
    /// [`crate::portal::StillHeld`]); no Redis call.
    pub fn still_held(
        &self,
        lease: &reporter_core::browser_semaphore::HeldLease,
    ) -> crate::portal::StillHeld {
        let watch = lease.watch();
        crate::portal::StillHeld::new(move || !watch.is_lost())
    }

    pub fn doing(&self, job: &str, what: String) {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(job.to_string(), what);
    }

    pub fn done(&self, job: &str) {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(job);
    }
}
