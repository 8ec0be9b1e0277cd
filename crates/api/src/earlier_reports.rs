//! The customers' report counts of earlier days, kept for a few minutes so
//! the summary (which every customer page polls) counts only today's.
//!
//! An earlier business day's count changes only when a range of that
//! day's run ends after midnight or an operator backfills a past day; a
//! kept count is used for at most [`KEEP`], so such a late report shows in
//! the 7- and 30-day figures within that time (today's count is always
//! read).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use reporter_core::models::dashboard::EarlierDays;

/// How long a customer's earlier days are used before being read again.
pub const KEEP: Duration = Duration::from_secs(300);

/// Beyond this many customers the map is emptied rather than grown (each
/// entry is a few dozen bytes; this only bounds a pathological case).
const MAX_ENTRIES: usize = 100_000;

/// The counts kept for one business day: a new day starts an empty map, so
/// the previous day's entries go at once and no entry outlives its day.
#[derive(Default)]
struct Kept {
    today: Option<NaiveDate>,
    by_user: HashMap<i64, (Instant, EarlierDays)>,
}

#[derive(Default)]
pub struct EarlierReports {
    kept: Mutex<Kept>,
}

impl EarlierReports {
    /// The counts kept for `user_id`'s days before `today`, if fresh.
    pub fn get(&self, user_id: i64, today: NaiveDate, now: Instant) -> Option<EarlierDays> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.today != Some(today) {
            return None;
        }
        kept.by_user
            .get(&user_id)
            .filter(|(at, _)| now.saturating_duration_since(*at) < KEEP)
            .map(|(_, e)| *e)
    }

    /// Keeps counts just read (at `now`) for `user_id`'s days before `today`.
    pub fn put(&self, user_id: i64, today: NaiveDate, now: Instant, earlier: EarlierDays) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.today != Some(today) || kept.by_user.len() >= MAX_ENTRIES {
            kept.by_user.clear();
            kept.today = Some(today);
        }
        kept.by_user.insert(user_id, (now, earlier));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_counts_are_used_for_their_day_and_until_they_expire() {
        let r = EarlierReports::default();
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let t0 = Instant::now();
        let e = EarlierDays {
            last_6_days: 3,
            last_29_days: 40,
        };
        assert_eq!(r.get(1, day, t0), None);
        r.put(1, day, t0, e);
        assert_eq!(r.get(1, day, t0 + Duration::from_secs(299)), Some(e));
        assert_eq!(r.get(1, day, t0 + KEEP), None, "expired");
        assert_eq!(r.get(2, day, t0), None, "another customer");
        let next = day.succ_opt().unwrap();
        assert_eq!(r.get(1, next, t0), None, "a new day reads again");
        r.put(1, next, t0, e);
        assert_eq!(
            r.kept.lock().unwrap().by_user.len(),
            1,
            "the old day is dropped"
        );
    }
}
