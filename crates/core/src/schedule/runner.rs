//! One reconcile, a backfill and the schedule's overview, as beat, the CLI
//! and the API run them: the database is read and written on a blocking
//! thread, jobs are pushed to Redis after.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tracing::{info, warn};

use super::clock::{business_date, occurrences, Occurrence};
use super::plan::{reconcile, reservations_at, CatchUp, Due, Missed, Plan, ScheduleInput};
use super::store::{self, MissedHour, PauseRow, ScheduleState};
use crate::db::DbPool;
use crate::domain::Hour;
use crate::jobs::{EnqueueError, JobQueues, ProcessSlot, RunOrigin};

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("database task: {0}")]
    Task(String),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    #[error("{0}")]
    Refused(#[from] BackfillRefusal),
}

impl From<diesel::result::Error> for ScheduleError {
    fn from(e: diesel::result::Error) -> Self {
        ScheduleError::Db(e.into())
    }
}

/// Why a backfill was refused (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackfillRefusal {
    #[error("{0} is in the future: only past hours can be backfilled")]
    Future(String),
    #[error("{0} already has a run")]
    AlreadyRan(String),
    #[error("{0}:00 is outside the reporter window {1}")]
    OutsideWindow(u8, String),
    #[error("{0} had no reservation at its time: there is nothing to run")]
    NothingOwed(String),
    #[error("{0} does not exist in the reporter's time zone (a DST change skips it)")]
    NoSuchHour(String),
}

/// What one reconcile did.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    pub at: DateTime<Utc>,
    /// Due hours whose job was pushed.
    pub enqueued: Vec<Due>,
    /// Due hours whose push failed (tried again at the next reconcile).
    pub failed: Vec<Due>,
    pub errors: Vec<String>,
    /// Hours this reconcile recorded as missed.
    pub missed_recorded: Vec<Missed>,
    /// Owed hours skipped because paused.
    pub paused: Vec<Occurrence>,
}

/// The schedule of one fleet: its database, zone and catch-up window, and
/// who is acting (a beat's name, `reporterctl`).
#[derive(Clone)]
pub struct Scheduler {
    pub pool: DbPool,
    pub tz: Tz,
    pub catch_up: CatchUp,
    pub by: String,
}

impl Scheduler {
    async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut diesel::PgConnection) -> Result<T, ScheduleError> + Send + 'static,
    ) -> Result<T, ScheduleError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = pool.get().map_err(crate::db::DbError::from)?;
            f(&mut c)
        })
        .await
        .map_err(|e| ScheduleError::Task(e.to_string()))?
    }

    /// One reconcile at `now`: records hours that fell out of the catch-up
    /// window, then pushes a process-slot job for every due hour. With
    /// `real_time`, a reconcile whose pushes all landed is recorded as the
    /// schedule's last one (health and console read it); simulated ones
    /// (`reporterctl beat reconcile --at`) never are. `queues` is `None`
    /// while Redis cannot be reached: due hours then count as failed.
    pub async fn reconcile_once(
        &self,
        queues: Option<&JobQueues>,
        now: DateTime<Utc>,
        real_time: bool,
    ) -> Result<ReconcileReport, ScheduleError> {
        let (tz, catch_up, by) = (self.tz, self.catch_up, self.by.clone());
        let (plan, missed_recorded) = self
            .db(move |c| {
                let plan = plan_at(c, now, tz, catch_up)?;
                let recorded = store::record_missed(c, &plan.missed, &by)?;
                Ok((plan, recorded))
            })
            .await?;
        for m in &missed_recorded {
            warn!(
                scheduled_at = %m.occurrence.scheduled_at,
                hour = m.occurrence.hour,
                business_date = %m.occurrence.business_date,
                reservations = m.reservations,
                "slot hour fell out of the catch-up window without a run: recorded missed"
            );
        }
        metrics::counter!("reporter_schedule_missed_hours_total")
            .increment(missed_recorded.len() as u64);
        let mut report = ReconcileReport {
            at: now,
            enqueued: Vec::new(),
            failed: Vec::new(),
            errors: Vec::new(),
            missed_recorded,
            paused: plan.paused,
        };
        for due in plan.due {
            let job = ProcessSlot::scheduled(
                due.occurrence.scheduled_at,
                RunOrigin::Schedule,
                due.late,
                now,
            );
            let pushed = match queues {
                Some(q) => q.push(job).await.map_err(|e| e.to_string()),
                None => Err("Redis is not reachable".to_string()),
            };
            match pushed {
                Ok(()) => {
                    info!(scheduled_at = %due.occurrence.scheduled_at, hour = due.occurrence.hour,
                          late = due.late, reservations = due.reservations, "slot hour enqueued");
                    metrics::counter!("reporter_schedule_enqueued_total", "late" => due.late.to_string())
                        .increment(1);
                    report.enqueued.push(due);
                }
                Err(e) => {
                    warn!(scheduled_at = %due.occurrence.scheduled_at, error = %e,
                          "could not enqueue a due slot hour; the next reconcile tries again");
                    report.errors.push(e);
                    report.failed.push(due);
                }
            }
        }
        let outcome = if report.failed.is_empty() {
            "ok"
        } else {
            "push_failed"
        };
        metrics::counter!("reporter_schedule_reconciles_total", "outcome" => outcome).increment(1);
        if real_time {
            let (by, error) = (self.by.clone(), report.errors.first().cloned());
            self.db(move |c| {
                match error {
                    None => store::record_reconcile(c, now, &by)?,
                    Some(e) => store::record_error(c, now, &e)?,
                };
                Ok(())
            })
            .await?;
            if report.failed.is_empty() {
                metrics::gauge!("reporter_schedule_last_reconcile_timestamp_seconds")
                    .set(now.timestamp() as f64);
            }
        }
        Ok(report)
    }

    /// Runs the hours of `date` the schedule owed and never ran (one hour
    /// with `hour`), on purpose and late. Refuses future hours, hours that
    /// already ran, hours outside the window and hours nobody had reserved
    /// at their time; without `hour`, paused hours are left alone too.
    pub async fn backfill(
        &self,
        queues: &JobQueues,
        date: NaiveDate,
        hour: Option<Hour>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Due>, ScheduleError> {
        let tz = self.tz;
        let todo = self
            .db(move |c| Ok(backfill_plan(c, tz, date, hour, now)?))
            .await??;
        for due in &todo {
            queues
                .push(ProcessSlot::scheduled(
                    due.occurrence.scheduled_at,
                    RunOrigin::Backfill,
                    true,
                    now,
                ))
                .await?;
            info!(scheduled_at = %due.occurrence.scheduled_at, hour = due.occurrence.hour,
                  by = %self.by, "missed slot hour backfilled");
        }
        Ok(todo)
    }

    pub async fn overview(&self, now: DateTime<Utc>) -> Result<Overview, ScheduleError> {
        let (tz, catch_up) = (self.tz, self.catch_up);
        self.db(move |c| Ok(overview(c, tz, catch_up, now)?)).await
    }
}

/// The reconciler's plan at `now` from the database's current state: what
/// beat enqueues and records, and what the metrics call due and overdue.
pub fn plan_at(
    c: &mut diesel::PgConnection,
    now: DateTime<Utc>,
    tz: Tz,
    catch_up: CatchUp,
) -> diesel::QueryResult<Plan> {
    let snap = store::snapshot(c, now, tz)?;
    Ok(reconcile(&ScheduleInput {
        now,
        tz,
        window: snap.window,
        catch_up,
        reservations: &snap.reservations,
        runs: &snap.runs,
        missed_recorded: &snap.missed_recorded,
        pauses: &snap.pauses,
    }))
}

fn backfill_plan(
    c: &mut diesel::PgConnection,
    tz: Tz,
    date: NaiveDate,
    hour: Option<Hour>,
    now: DateTime<Utc>,
) -> Result<Result<Vec<Due>, BackfillRefusal>, diesel::result::Error> {
    let snap = store::snapshot(c, now, tz)?;
    let label = |h: u8| format!("{date} {h:02}:00");
    if date > business_date(now, tz) {
        return Ok(Err(BackfillRefusal::Future(date.to_string())));
    }
    let hours: Vec<u8> = match hour {
        Some(h) => {
            let h = h.get();
            if !snap.window.contains(i32::from(h)) {
                return Ok(Err(BackfillRefusal::OutsideWindow(
                    h,
                    snap.window.describe(),
                )));
            }
            vec![h]
        }
        None => (snap.window.start()..snap.window.end())
            .map(|h| h as u8)
            .collect(),
    };
    let found = occurrences(tz, date, date, hours.iter().copied());
    if let Some(h) = hour.map(Hour::get) {
        let Some(occ) = found.first() else {
            return Ok(Err(BackfillRefusal::NoSuchHour(label(h))));
        };
        if occ.scheduled_at > now {
            return Ok(Err(BackfillRefusal::Future(label(h))));
        }
        if store::run_exists(c, occ.scheduled_at)? {
            return Ok(Err(BackfillRefusal::AlreadyRan(label(h))));
        }
        let n = reservations_at(&snap.reservations, occ);
        if n == 0 {
            return Ok(Err(BackfillRefusal::NothingOwed(label(h))));
        }
        return Ok(Ok(vec![Due {
            occurrence: *occ,
            reservations: n,
            late: true,
        }]));
    }
    let mut out = Vec::new();
    for occ in found {
        let n = reservations_at(&snap.reservations, &occ);
        if occ.scheduled_at > now
            || n == 0
            || snap.pauses.iter().any(|p| p.covers(&occ))
            || store::run_exists(c, occ.scheduled_at)?
        {
            continue;
        }
        out.push(Due {
            occurrence: occ,
            reservations: n,
            late: true,
        });
    }
    Ok(Ok(out))
}

/// An hour coming up in the next day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UpcomingHour {
    pub scheduled_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub business_date: NaiveDate,
    pub hour: u8,
    pub reservations: usize,
    pub paused: bool,
}

/// What `reporterctl schedule` and the console show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub now: DateTime<Utc>,
    pub timezone: String,
    /// e.g. "rest of the business day" or "30 minutes".
    pub catch_up: String,
    /// `HH:00–HH:00`, the last hour included.
    pub window: String,
    pub state: ScheduleState,
    /// Seconds since the last real reconcile (none recorded: `None`).
    pub seconds_since_reconcile: Option<i64>,
    /// The next 24 hours' slot hours with reservations.
    pub upcoming: Vec<UpcomingHour>,
    /// Pauses in force now or later.
    pub pauses: Vec<PauseRow>,
    /// Missed hours of the last 7 business days, newest first.
    pub missed: Vec<MissedHour>,
    /// The newest daily prune (retention policy), if any ran yet.
    pub last_prune: Option<crate::retention::LastPrune>,
}

pub fn overview(
    c: &mut diesel::PgConnection,
    tz: Tz,
    catch_up: CatchUp,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Overview> {
    let snap = store::snapshot(c, now, tz)?;
    let state = store::current_state(c)?;
    let today = business_date(now, tz);
    let hours = (snap.window.start()..snap.window.end()).map(|h| h as u8);
    let upcoming = occurrences(tz, today, today + Duration::days(1), hours)
        .into_iter()
        .filter(|o| o.scheduled_at > now && o.scheduled_at <= now + Duration::hours(24))
        .filter_map(|o| {
            let n = reservations_at(&snap.reservations, &o);
            (n > 0).then(|| UpcomingHour {
                scheduled_at: o.scheduled_at,
                business_date: o.business_date,
                hour: o.hour,
                reservations: n,
                paused: snap.pauses.iter().any(|p| p.covers(&o)),
            })
        })
        .collect();
    let pauses = store::pause_rows(c, Some(now))?;
    let missed = store::missed_since(c, today - Duration::days(7))?;
    Ok(Overview {
        now,
        timezone: tz.name().to_string(),
        catch_up: catch_up.to_string(),
        window: snap.window.describe(),
        seconds_since_reconcile: state.last_reconcile_at.map(|t| (now - t).num_seconds()),
        state,
        upcoming,
        pauses,
        missed,
        last_prune: crate::retention::last_prune(c)?,
    })
}
