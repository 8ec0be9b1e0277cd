//! The daily prune: once a day, in the local hour `REPORTER_PRUNE_HOUR`
//! (outside the reporter window, when no run competes for the database),
//! beat applies the retention policy (`reporter_core::retention`). Two beats
//! are safe: the pruner's advisory lock lets one in, and a prune recorded
//! since the start of that hour today makes the other skip.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use reporter_core::config::Settings;
use reporter_core::db::DbPool;
use tracing::{info, warn};

/// The start of today's prune hour when `now` falls in it, else `None`.
pub fn prune_window(now: DateTime<Utc>, tz: Tz, hour: u32) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    if local.hour() != hour {
        return None;
    }
    let start = local.date_naive().and_hms_opt(hour, 0, 0)?;
    tz.from_local_datetime(&start)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Beat's state between ticks: one prune task at a time, and not more than
/// one attempt every ten minutes after a failure.
#[derive(Default)]
pub struct DailyPrune {
    task: Option<tokio::task::JoinHandle<()>>,
    /// The local day whose prune is done, set by the task.
    done_on: Arc<Mutex<Option<NaiveDate>>>,
    last_attempt: Option<DateTime<Utc>>,
}

impl DailyPrune {
    /// Called every tick; starts the prune in the background when due.
    pub fn tick(
        &mut self,
        now: DateTime<Utc>,
        pool: &DbPool,
        redis: Option<redis::aio::ConnectionManager>,
        settings: &Settings,
        by: &str,
    ) {
        if self.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let Some(since) = prune_window(now, settings.timezone, settings.prune_hour) else {
            return;
        };
        let today = reporter_core::schedule::business_date(now, settings.timezone);
        let done = *self.done_on.lock().unwrap_or_else(|e| e.into_inner()) == Some(today);
        if done
            || self
                .last_attempt
                .is_some_and(|t| now - t < chrono::Duration::minutes(10))
        {
            return;
        }
        self.last_attempt = Some(now);
        let (pool, settings, by) = (pool.clone(), settings.clone(), by.to_string());
        let done_on = self.done_on.clone();
        self.task = Some(tokio::spawn(async move {
            if prune_once(&pool, redis, &settings, &by, since).await {
                *done_on.lock().unwrap_or_else(|e| e.into_inner()) = Some(today);
            }
        }));
    }
}

/// Prunes unless a prune finished since `since`; `true` when the day's
/// prune is done (by this beat or another).
pub async fn prune_once(
    pool: &DbPool,
    mut redis: Option<redis::aio::ConnectionManager>,
    settings: &Settings,
    by: &str,
    since: DateTime<Utc>,
) -> bool {
    match reporter_core::retention::run(pool, redis.as_mut(), settings, by, false, Some(since))
        .await
    {
        Ok(report) if report.done_already => true,
        Ok(report) if report.skipped => {
            info!("daily prune: another pruner holds the lock");
            false
        }
        Ok(report) => {
            info!(rows = report.total(), statements = report.statements, tables = ?report.tables,
                  "daily prune done");
            true
        }
        Err(e) => {
            warn!(error = %e, "daily prune failed; trying again in 10 minutes");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_configured_local_hour() {
        let tz: Tz = "America/Bogota".parse().unwrap();
        // 08:30 UTC = 03:30 in Bogota (UTC-5).
        let now = Utc.with_ymd_and_hms(2030, 1, 7, 8, 30, 0).unwrap();
        assert_eq!(
            prune_window(now, tz, 3),
            Some(Utc.with_ymd_and_hms(2030, 1, 7, 8, 0, 0).unwrap())
        );
        assert_eq!(prune_window(now, tz, 4), None);
    }
}
