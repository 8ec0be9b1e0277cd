//! Reports filed per hour for the console's activity chart, with the
//! closed hours remembered.
//!
//! The chart covers 24 hours of the ledger (tens of thousands of reports
//! on a busy day) and the console polls it every few seconds. A report's
//! `reported_at` is its transaction's start, and a ledger write is one
//! short statement, so an hour's count cannot change once [`SETTLE`] has
//! passed after it ended: those counts are kept, and only the hours since
//! are read again.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};
use reporter_core::models::console::{self, HourCount};

use crate::error::ApiError;
use crate::state::AppState;

/// Longest a ledger write can take from its start to its commit, with a
/// wide margin: an hour is settled this long after it ends.
pub const SETTLE: Duration = Duration::minutes(1);

#[derive(Default)]
pub struct HourlyReports {
    settled: Mutex<BTreeMap<DateTime<Utc>, i64>>,
    /// One read of missing settled hours at a time: the requests that
    /// arrive together on a cold start wait for one 24-hour read instead of
    /// each running it (measured: p99 105 ms at 16 connections without).
    fill: tokio::sync::Mutex<()>,
}

/// The start of the first hour that is not settled at `now`.
fn settled_until(now: DateTime<Utc>) -> DateTime<Utc> {
    (now - SETTLE)
        .duration_trunc(Duration::hours(1))
        .unwrap_or(now)
}

impl HourlyReports {
    /// Reports per hour from the hour `from` until now; hours without
    /// reports are absent.
    pub async fn since(
        &self,
        state: &AppState,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<DateTime<Utc>, i64>, ApiError> {
        let until = settled_until(now);
        let mut read_from = self.first_unknown(from, until);
        let _filling = if read_from < until {
            let guard = self.fill.lock().await;
            read_from = self.first_unknown(from, until);
            Some(guard)
        } else {
            None
        };
        let fresh = state
            .db(move |c| Ok(console::reports_per_hour(c, read_from)?))
            .await?;
        Ok(self.merge(from, until, read_from, fresh))
    }

    /// The first hour at or after `from` whose count is not kept.
    fn first_unknown(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> DateTime<Utc> {
        let settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
        let mut hour = from;
        while hour < until && settled.contains_key(&hour) {
            hour += Duration::hours(1);
        }
        hour
    }

    /// Keeps the settled hours of `fresh` (read from `read_from` on),
    /// forgets those before `from`, and answers kept + fresh.
    fn merge(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        read_from: DateTime<Utc>,
        fresh: Vec<HourCount>,
    ) -> BTreeMap<DateTime<Utc>, i64> {
        let fresh: BTreeMap<_, _> = fresh.into_iter().map(|c| (c.hour, c.reports)).collect();
        let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
        let mut hour = read_from;
        while hour < until {
            // An hour without reports is kept too, as 0, so it is not read again.
            settled.insert(hour, fresh.get(&hour).copied().unwrap_or(0));
            hour += Duration::hours(1);
        }
        *settled = settled.split_off(&from);
        let mut out: BTreeMap<_, _> = settled
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(h, n)| (*h, *n))
            .collect();
        out.extend(fresh.into_iter().filter(|(h, _)| *h >= until));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap()
    }

    fn counts(v: &[(DateTime<Utc>, i64)]) -> Vec<HourCount> {
        v.iter()
            .map(|(hour, reports)| HourCount {
                hour: *hour,
                reports: *reports,
            })
            .collect()
    }

    #[test]
    fn an_hour_settles_a_minute_after_it_ends() {
        assert_eq!(settled_until(at(10, 0)), at(9, 0));
        assert_eq!(settled_until(at(10, 0) + Duration::seconds(59)), at(9, 0));
        assert_eq!(settled_until(at(10, 1)), at(10, 0));
    }

    #[test]
    fn settled_hours_are_read_once_and_the_open_ones_every_time() {
        let h = HourlyReports::default();
        let now = at(10, 30);
        let until = settled_until(now);
        // First call: everything from `from` is unknown.
        assert_eq!(h.first_unknown(at(7, 0), until), at(7, 0));
        let out = h.merge(
            at(7, 0),
            until,
            at(7, 0),
            counts(&[(at(7, 0), 5), (at(9, 0), 8), (at(10, 0), 2)]),
        );
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            vec![(at(7, 0), 5), (at(9, 0), 8), (at(10, 0), 2)]
        );
        // Next call in the same hour reads only the open hour (8:00, empty,
        // is kept as 0 and not read again).
        assert_eq!(h.first_unknown(at(7, 0), until), at(10, 0));
        let out = h.merge(at(7, 0), until, at(10, 0), counts(&[(at(10, 0), 4)]));
        assert_eq!(out.get(&at(10, 0)), Some(&4));
        assert_eq!(out.get(&at(9, 0)), Some(&8));
        assert_eq!(out.get(&at(8, 0)), None);

        // An hour later 10:00 settles with what the read then says, and
        // the window moves on: 7:00 is forgotten.
        let later = at(11, 5);
        let until = settled_until(later);
        assert_eq!(h.first_unknown(at(8, 0), until), at(10, 0));
        let out = h.merge(
            at(8, 0),
            until,
            at(10, 0),
            counts(&[(at(10, 0), 6), (at(11, 0), 1)]),
        );
        assert_eq!(
            out.into_iter().collect::<Vec<_>>(),
            vec![(at(9, 0), 8), (at(10, 0), 6), (at(11, 0), 1)]
        );
        assert!(!h.settled.lock().unwrap().contains_key(&at(7, 0)));
        assert_eq!(h.first_unknown(at(8, 0), until), at(11, 0));
    }
}
