use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use diesel::pg::PgConnection;
use reporter_core::config::Settings;
use reporter_core::db::DbPool;
use tokio::sync::OnceCell;

use crate::auth_cache::AuthCache;
use crate::error::ApiError;

/// Shared by every request. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub pool: DbPool,
    pub auth_cache: Arc<AuthCache>,
    /// Login rate limits and the cap on password checks.
    pub login_guard: Arc<crate::login_guard::LoginGuard>,
    /// The customers' slot list, served from memory between writes.
    pub slot_snapshot: Arc<crate::slot_snapshot::SlotSnapshot>,
    /// The console's reports per hour, settled hours kept.
    pub hourly_reports: Arc<crate::hourly_reports::HourlyReports>,
    pub earlier_reports: Arc<crate::earlier_reports::EarlierReports>,
    /// Finished run-users' report lists, for the customers' reports table.
    pub finished_reports: Arc<crate::finished_reports::FinishedReports>,
    /// The planner's history medians, read at most every few minutes.
    pub planner_estimates: Arc<reporter_core::planner::KeptEstimates>,
    redis: Arc<OnceCell<redis::aio::ConnectionManager>>,
    /// Set on SIGTERM: `/readyz` answers 503 so the proxy stops routing
    /// here while the listener still accepts (see `crate::shutdown`).
    draining: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(settings: Settings, pool: DbPool) -> Self {
        AppState {
            settings: Arc::new(settings),
            pool,
            auth_cache: Arc::default(),
            login_guard: Arc::default(),
            slot_snapshot: Arc::default(),
            hourly_reports: Arc::default(),
            earlier_reports: Arc::default(),
            finished_reports: Arc::default(),
            planner_estimates: Arc::default(),
            redis: Arc::new(OnceCell::new()),
            draining: Arc::default(),
        }
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Runs blocking diesel work on the blocking pool, never on the async
    /// threads (getting a pooled connection may block too).
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Connected on first use, so the API starts (and reports unready)
    /// while Redis is still coming up.
    pub async fn redis(&self) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
        self.redis
            .get_or_try_init(|| reporter_core::redis_conn::connect(self.settings.redis_url()))
            .await
            .cloned()
    }
}
