//! The reconciler: given the time, the window, the reservations, the runs
//! that exist, the pauses and the catch-up window, which slot hours must be
//! enqueued now and which fell out of the window without a run. Pure: the
//! beat, `reporterctl beat reconcile --at` and the tests all call this one
//! function, so what a test proves about it is what production does.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::clock::{business_date, occurrences, slot_instant, Occurrence};
use crate::domain::ReservableWindow;

/// A run enqueued more than this after its hour began is a late start: a
/// healthy beat enqueues within a minute, and a beat back at 11:10 still
/// starts the 11:00 hour in time to finish inside it; 09:00 and 10:00 caught
/// up then are late.
pub const LATE_GRACE: Duration = Duration::minutes(15);

/// How many business days before today the reconciler still looks for hours
/// that fell out of the catch-up window, so a beat that was down for days
/// records them when it comes back.
pub const MISSED_LOOKBACK_DAYS: i64 = 7;

/// How late an hour may still be enqueued (`REPORTER_BEAT_CATCHUP_MINUTES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUp {
    /// Until the end of the hour's business day (the default): a customer
    /// whose 09:00 was missed is still served at 11:00.
    RestOfDay,
    /// At most this many minutes after the hour began.
    Minutes(u32),
}

impl CatchUp {
    /// Whether an hour that began at `occ` may still be enqueued at `now`.
    pub fn allows(self, occ: &Occurrence, now: DateTime<Utc>, tz: Tz) -> bool {
        if occ.scheduled_at > now {
            return false;
        }
        match self {
            CatchUp::RestOfDay => business_date(now, tz) == occ.business_date,
            CatchUp::Minutes(m) => now - occ.scheduled_at <= Duration::minutes(i64::from(m)),
        }
    }
}

impl FromStr for CatchUp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "day" => Ok(CatchUp::RestOfDay),
            n => match n.parse::<u32>() {
                Ok(m) if m >= 1 => Ok(CatchUp::Minutes(m)),
                _ => Err(format!(
                    "expected `day` or a whole number of minutes (at least 1), got {s:?}"
                )),
            },
        }
    }
}

impl fmt::Display for CatchUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatchUp::RestOfDay => write!(f, "rest of the business day"),
            CatchUp::Minutes(m) => write!(f, "{m} minutes"),
        }
    }
}

/// A pause of one hour (or of every hour) for the instants in
/// `[from, until)`; `until` is the earlier of its planned end and its
/// resume, `None` while open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pause {
    pub hour: Option<u8>,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl Pause {
    /// A paused hour is judged by its instant: an hour whose instant fell
    /// inside the pause is neither run nor counted missed, even after the
    /// pause ends.
    pub fn covers(&self, occ: &Occurrence) -> bool {
        self.hour.is_none_or(|h| h == occ.hour)
            && self.from <= occ.scheduled_at
            && self.until.is_none_or(|u| occ.scheduled_at < u)
    }
}

/// What the reconciler looks at.
#[derive(Debug, Clone)]
pub struct ScheduleInput<'a> {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub window: ReservableWindow,
    pub catch_up: CatchUp,
    /// Every current reservation as (hour, when it got that hour). An hour's
    /// instant is owed to the reservations it had at that instant.
    pub reservations: &'a [(u8, DateTime<Utc>)],
    /// `scheduled_at` of every run that exists (of any origin).
    pub runs: &'a BTreeSet<DateTime<Utc>>,
    /// `scheduled_at` of hours already recorded missed.
    pub missed_recorded: &'a BTreeSet<DateTime<Utc>>,
    pub pauses: &'a [Pause],
}

/// An hour to enqueue now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    #[serde(flatten)]
    pub occurrence: Occurrence,
    pub reservations: usize,
    /// Enqueued more than [`LATE_GRACE`] after its hour began.
    pub late: bool,
}

/// An hour that fell out of the catch-up window without a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Missed {
    #[serde(flatten)]
    pub occurrence: Occurrence,
    pub reservations: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Due and without a run, oldest first.
    pub due: Vec<Due>,
    /// Out of the catch-up window without a run and not recorded yet.
    pub missed: Vec<Missed>,
    /// Skipped because paused (owed otherwise).
    pub paused: Vec<Occurrence>,
}

/// Start of the oldest business day the reconciler looks at.
pub fn lookback_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let first = business_date(now, tz) - Duration::days(MISSED_LOOKBACK_DAYS);
    slot_instant(tz, first, 0)
        .or_else(|| slot_instant(tz, first, 1))
        .unwrap_or(now - Duration::days(MISSED_LOOKBACK_DAYS + 1))
}

/// Reservations an hour's instant is owed to: those that had that hour at
/// that instant.
pub fn reservations_at(reservations: &[(u8, DateTime<Utc>)], occ: &Occurrence) -> usize {
    reservations
        .iter()
        .filter(|(h, since)| *h == occ.hour && *since <= occ.scheduled_at)
        .count()
}

/// The reconciler. Hours outside the current window, hours that had no
/// reservation at their instant and hours in the future are not owed.
pub fn reconcile(input: &ScheduleInput<'_>) -> Plan {
    let ScheduleInput {
        now,
        tz,
        window,
        catch_up,
        ..
    } = *input;
    let from = lookback_start(now, tz);
    let hours = (window.start()..window.end()).map(|h| h as u8);
    let mut plan = Plan::default();
    for occ in occurrences(tz, business_date(from, tz), business_date(now, tz), hours) {
        if occ.scheduled_at < from || occ.scheduled_at > now {
            continue;
        }
        // Missed is final: a clock set back into the hour's catch-up window
        // must not run it after the operator was told it was missed
        // (`reporterctl backfill` is the explicit way to run it).
        if input.runs.contains(&occ.scheduled_at)
            || input.missed_recorded.contains(&occ.scheduled_at)
        {
            continue;
        }
        let reservations = reservations_at(input.reservations, &occ);
        if reservations == 0 {
            continue;
        }
        if input.pauses.iter().any(|p| p.covers(&occ)) {
            plan.paused.push(occ);
            continue;
        }
        if catch_up.allows(&occ, now, tz) {
            plan.due.push(Due {
                occurrence: occ,
                reservations,
                late: now - occ.scheduled_at > LATE_GRACE,
            });
        } else {
            plan.missed.push(Missed {
                occurrence: occ,
                reservations,
            });
        }
    }
    plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
