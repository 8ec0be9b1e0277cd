//! The schedule's PostgreSQL state: what the reconciler reads (window,
//! reservations, runs, missed records, pauses) and what it and operators
//! write (missed hours, pauses, the last reconcile).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::plan::{lookback_start, Missed, Pause};
use crate::domain::ReservableWindow;
use crate::models::slot;
use crate::schema::{
    reporter_hour_slots as slots, reporter_reservations as reservations, reporter_runs as runs,
    reporter_schedule_missed_hours as missed, reporter_schedule_pauses as pauses,
    reporter_schedule_state as state,
};

/// Everything the reconciler needs from the database at `now`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub window: ReservableWindow,
    pub reservations: Vec<(u8, DateTime<Utc>)>,
    pub runs: BTreeSet<DateTime<Utc>>,
    pub missed_recorded: BTreeSet<DateTime<Utc>>,
    pub pauses: Vec<Pause>,
}

pub fn snapshot(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> QueryResult<Snapshot> {
    let from = lookback_start(now, tz);
    let window = slot::config(conn)?.window();
    let reservations = reservations::table
        .inner_join(slots::table)
        .select((slots::hour, reservations::slot_assigned_at))
        .load::<(i32, DateTime<Utc>)>(conn)?
        .into_iter()
        .filter_map(|(h, t)| u8::try_from(h).ok().map(|h| (h, t)))
        .collect();
    let runs = runs::table
        .filter(runs::scheduled_at.ge(from))
        .select(runs::scheduled_at)
        .load::<DateTime<Utc>>(conn)?
        .into_iter()
        .collect();
    let missed_recorded = missed::table
        .filter(missed::scheduled_at.ge(from))
        .select(missed::scheduled_at)
        .load::<DateTime<Utc>>(conn)?
        .into_iter()
        .collect();
    let pauses = pause_rows(conn, Some(from))?
        .iter()
        .map(PauseRow::as_pause)
        .collect();
    Ok(Snapshot {
        window,
        reservations,
        runs,
        missed_recorded,
        pauses,
    })
}

/// Records hours that fell out of the catch-up window; returns those this
/// call recorded (another beat may have recorded the rest a moment ago).
pub fn record_missed(
    conn: &mut PgConnection,
    found: &[Missed],
    by: &str,
) -> QueryResult<Vec<Missed>> {
    let mut recorded = Vec::new();
    for m in found {
        let n = diesel::insert_into(missed::table)
            .values((
                missed::scheduled_at.eq(m.occurrence.scheduled_at),
                missed::business_date.eq(m.occurrence.business_date),
                missed::hour.eq(i32::from(m.occurrence.hour)),
                missed::reservations.eq(m.reservations as i32),
                missed::recorded_by.eq(by),
            ))
            .on_conflict(missed::scheduled_at)
            .do_nothing()
            .execute(conn)?;
        if n == 1 {
            recorded.push(*m);
        }
    }
    Ok(recorded)
}

/// A successful reconcile at `at` (real time only: simulated reconciles
/// never make the schedule look fresh).
pub fn record_reconcile(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<usize> {
    diesel::update(state::table.find(1))
        .filter(
            state::last_reconcile_at
                .is_null()
                .or(state::last_reconcile_at.lt(at)),
        )
        .set((
            state::last_reconcile_at.eq(at),
            state::last_reconcile_by.eq(by),
        ))
        .execute(conn)
}

pub fn record_error(conn: &mut PgConnection, at: DateTime<Utc>, error: &str) -> QueryResult<usize> {
    diesel::update(state::table.find(1))
        .set((state::last_error.eq(error), state::last_error_at.eq(at)))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = state, check_for_backend(diesel::pg::Pg))]
pub struct ScheduleState {
    pub last_reconcile_at: Option<DateTime<Utc>>,
    pub last_reconcile_by: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

pub fn current_state(conn: &mut PgConnection) -> QueryResult<ScheduleState> {
    state::table
        .find(1)
        .select(ScheduleState::as_select())
        .first(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = pauses, check_for_backend(diesel::pg::Pg))]
pub struct PauseRow {
    pub id: i64,
    /// `None`: every hour.
    pub hour: Option<i32>,
    pub paused_from: DateTime<Utc>,
    pub paused_until: Option<DateTime<Utc>>,
    pub resumed_at: Option<DateTime<Utc>>,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl PauseRow {
    pub fn as_pause(&self) -> Pause {
        let until = match (self.paused_until, self.resumed_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Pause {
            hour: self.hour.and_then(|h| u8::try_from(h).ok()),
            from: self.paused_from,
            until,
        }
    }

    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        let p = self.as_pause();
        p.from <= now && p.until.is_none_or(|u| now < u)
    }
}

/// Pauses still in force at or after `since` (all of them with `None`).
pub fn pause_rows(
    conn: &mut PgConnection,
    since: Option<DateTime<Utc>>,
) -> QueryResult<Vec<PauseRow>> {
    let mut q = pauses::table.into_boxed();
    if let Some(since) = since {
        q = q
            .filter(
                pauses::paused_until
                    .is_null()
                    .or(pauses::paused_until.gt(since)),
            )
            .filter(
                pauses::resumed_at
                    .is_null()
                    .or(pauses::resumed_at.gt(since)),
            );
    }
    q.order(pauses::id).select(PauseRow::as_select()).load(conn)
}

/// Pauses `hour` (every hour with `None`) from `from` until `until` (open
/// with `None`).
pub fn pause(
    conn: &mut PgConnection,
    hour: Option<u8>,
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    note: &str,
    by: &str,
) -> QueryResult<PauseRow> {
    diesel::insert_into(pauses::table)
        .values((
            pauses::hour.eq(hour.map(i32::from)),
            pauses::paused_from.eq(from),
            pauses::paused_until.eq(until),
            pauses::note.eq(note),
            pauses::created_by.eq(by),
        ))
        .returning(PauseRow::as_returning())
        .get_result(conn)
}

/// Ends the pauses in force at `at`: those of `hour` only, or every one
/// (of every hour and of single hours) with `None`. Returns how many.
pub fn resume(conn: &mut PgConnection, hour: Option<u8>, at: DateTime<Utc>) -> QueryResult<usize> {
    let active: Vec<i64> = pause_rows(conn, Some(at))?
        .into_iter()
        .filter(|p| p.active_at(at))
        .filter(|p| hour.is_none() || p.hour == hour.map(i32::from))
        .map(|p| p.id)
        .collect();
    diesel::update(pauses::table.filter(pauses::id.eq_any(&active)))
        .set(pauses::resumed_at.eq(at))
        .execute(conn)
}

/// A recorded missed hour and, if it was run later (backfill), that run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissedHour {
    pub scheduled_at: DateTime<Utc>,
    #[schema(value_type = String)]
    pub business_date: NaiveDate,
    pub hour: i32,
    pub reservations: i32,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    /// The run a backfill made for it, if any.
    pub run_id: Option<i64>,
}

/// Missed hours recorded for business days from `since`, newest first.
pub fn missed_since(conn: &mut PgConnection, since: NaiveDate) -> QueryResult<Vec<MissedHour>> {
    type Row = (DateTime<Utc>, NaiveDate, i32, i32, DateTime<Utc>, String);
    let rows: Vec<Row> = missed::table
        .filter(missed::business_date.ge(since))
        .order(missed::scheduled_at.desc())
        .select((
            missed::scheduled_at,
            missed::business_date,
            missed::hour,
            missed::reservations,
            missed::recorded_at,
            missed::recorded_by,
        ))
        .load(conn)?;
    let instants: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0).collect();
    let ran: Vec<(DateTime<Utc>, i64)> = runs::table
        .filter(runs::scheduled_at.eq_any(&instants))
        .select((runs::scheduled_at, runs::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(scheduled_at, business_date, hour, reservations, recorded_at, recorded_by)| {
                MissedHour {
                    run_id: ran
                        .iter()
                        .find(|(t, _)| *t == scheduled_at)
                        .map(|(_, id)| *id),
                    scheduled_at,
                    business_date,
                    hour,
                    reservations,
                    recorded_at,
                    recorded_by,
                }
            },
        )
        .collect())
}

/// Whether a run exists for the hour that began at `at`.
pub fn run_exists(conn: &mut PgConnection, at: DateTime<Utc>) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        runs::table.filter(runs::scheduled_at.eq(at)),
    ))
    .get_result(conn)
}

/// Every missed hour ever recorded.
pub fn missed_total(conn: &mut PgConnection) -> QueryResult<i64> {
    missed::table.count().get_result(conn)
}
