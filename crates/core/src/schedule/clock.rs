//! Wall-clock hours in the reporter's zone as instants, and back. Every
//! place that turns "day D, hour H" into an instant (or an instant into its
//! business day) goes through here, so half-hour zones and DST gaps are
//! handled once.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The business day of an instant: its date in the reporter's zone.
pub fn business_date(instant: DateTime<Utc>, tz: Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The wall-clock hour (0–23) of an instant in the reporter's zone.
pub fn local_hour(instant: DateTime<Utc>, tz: Tz) -> u8 {
    instant.with_timezone(&tz).hour() as u8
}

/// The instant hour `hour` of `date` begins in `tz`. `None` when that wall
/// clock time does not exist (skipped by a DST change); the earlier of the
/// two when it happens twice (the first occurrence is the slot).
pub fn slot_instant(tz: Tz, date: NaiveDate, hour: u8) -> Option<DateTime<Utc>> {
    let local = date.and_hms_opt(u32::from(hour), 0, 0)?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Start of the wall-clock hour that contains `now` in `tz`.
pub fn hour_start(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    slot_instant(tz, local.date_naive(), local.hour() as u8).unwrap_or(now)
}

/// Instants of `hours` on every business day from `first` to `last`
/// (inclusive), in time order, with their date and hour. Hours a DST change
/// skips are left out.
pub fn occurrences(
    tz: Tz,
    first: NaiveDate,
    last: NaiveDate,
    hours: impl Iterator<Item = u8> + Clone,
) -> Vec<Occurrence> {
    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        for hour in hours.clone() {
            if let Some(at) = slot_instant(tz, date, hour) {
                out.push(Occurrence {
                    scheduled_at: at,
                    business_date: date,
                    hour,
                });
            }
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    out.sort_by_key(|o| o.scheduled_at);
    out
}

/// The first instant of `hour` at or after `after` (a reservation made at
/// `after` is part of that run and of every later one).
pub fn next_occurrence(tz: Tz, hour: u8, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = business_date(after, tz);
    (0..3)
        .filter_map(|d| today.checked_add_signed(Duration::days(d)))
        .filter_map(|date| slot_instant(tz, date, hour))
        .find(|t| *t >= after)
}

/// One slot hour on one business day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Occurrence {
    pub scheduled_at: DateTime<Utc>,
    pub business_date: NaiveDate,
    pub hour: u8,
}

impl Occurrence {
    pub fn of(scheduled_at: DateTime<Utc>, tz: Tz) -> Self {
        Occurrence {
            scheduled_at,
            business_date: business_date(scheduled_at, tz),
            hour: local_hour(scheduled_at, tz),
        }
    }

    pub fn label(&self) -> String {
        format!("{} {:02}:00", self.business_date, self.hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn half_hour_and_three_quarter_zones_start_hours_at_their_own_minute() {
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            slot_instant(kolkata, d, 9).unwrap(),
            utc("2026-12-01T03:30:00Z")
        );
        let kathmandu: Tz = "Asia/Kathmandu".parse().unwrap();
        assert_eq!(
            slot_instant(kathmandu, d, 9).unwrap(),
            utc("2026-12-01T03:15:00Z")
        );
        assert_eq!(
            hour_start(utc("2026-12-01T04:10:00Z"), kolkata),
            utc("2026-12-01T03:30:00Z")
        );
        assert_eq!(business_date(utc("2026-11-30T19:00:00Z"), kolkata), d);
    }

    #[test]
    fn dst_gap_hours_do_not_exist_and_repeated_hours_count_once() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2026-03-08: 02:00 → 03:00 local.
        let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(slot_instant(ny, spring, 2), None);
        let occ = occurrences(ny, spring, spring, 0..24u8);
        assert_eq!(occ.len(), 23);
        // 2026-11-01: 01:00 happens twice; the slot is the first.
        let fall = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(
            slot_instant(ny, fall, 1).unwrap(),
            utc("2026-11-01T05:00:00Z")
        );
        assert_eq!(occurrences(ny, fall, fall, 0..24u8).len(), 24);
    }

    #[test]
    fn next_occurrence_is_today_until_the_instant_then_tomorrow() {
        let tz: Tz = "America/Bogota".parse().unwrap(); // UTC-5, no DST
        let nine = utc("2026-12-01T14:00:00Z");
        assert_eq!(
            next_occurrence(tz, 9, utc("2026-12-01T13:59:00Z")),
            Some(nine)
        );
        assert_eq!(next_occurrence(tz, 9, nine), Some(nine));
        assert_eq!(
            next_occurrence(tz, 9, utc("2026-12-01T14:00:01Z")),
            Some(utc("2026-12-02T14:00:00Z"))
        );
    }
}
