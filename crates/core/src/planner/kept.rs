//! The planner's estimates kept per process for a few minutes: they are
//! medians over `REPORTER_PLANNER_HISTORY_DAYS` of history, which a few
//! minutes do not move, and reading them scans that much of the ledger.
//! Reservations (which check an hour under its row lock) and the console's
//! plan use the kept ones instead of reading them on every request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::QueryResult;

use super::store::{load_estimates, Estimates};

/// How long estimates are used before being read again.
pub const KEEP: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct KeptEstimates {
    kept: Mutex<Option<(Instant, u32, Arc<Estimates>)>>,
}

impl KeptEstimates {
    /// The estimates over `days`, read at most [`KEEP`] ago.
    pub fn get(&self, conn: &mut PgConnection, days: u32) -> QueryResult<Arc<Estimates>> {
        let now = Instant::now();
        if let Some((at, d, est)) = &*self.kept.lock().unwrap_or_else(|e| e.into_inner()) {
            if *d == days && now.saturating_duration_since(*at) < KEEP {
                return Ok(est.clone());
            }
        }
        // Read without the lock held: two requests may both read once.
        let est = Arc::new(load_estimates(conn, days)?);
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, days, est.clone()));
        Ok(est)
    }
}
