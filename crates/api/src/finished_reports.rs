//! The report lists of finished run-users, kept per API process, so the
//! customer's reports table (pages, status filter, search) is answered
//! from memory after one small lookup instead of reading and filtering
//! the run-user's ledger rows on every request.
//!
//! A finished run-user's list no longer changes: reports are added only by
//! its ranges, and a range retried from the console first clears the
//! run-user's `finished_at` (`retry_failed_range`), which sets a new one
//! when it ends again. So a list is kept under (run-user, `finished_at`)
//! and is never served for another `finished_at`. [`KEEP`] bounds what
//! else could make it differ (rows deleted by hand or by a report
//! retention shorter than the run retention); unfinished run-users are
//! always read from the database (their table is polled while they file).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reporter_core::models::dashboard::ReportList;

/// How long a list is used before it is read again.
pub const KEEP: Duration = Duration::from_secs(600);

/// Reports kept at most, over all lists (a report is ~150 bytes here, so
/// ~30 MB); the least recently used lists go first.
const MAX_ROWS: usize = 200_000;

/// A list longer than this is not kept (it would push out many others).
const MAX_LIST: usize = 20_000;

struct Kept {
    finished_at: DateTime<Utc>,
    read_at: Instant,
    used_at: Instant,
    list: Arc<ReportList>,
}

#[derive(Default)]
struct Lists {
    by_run_user: HashMap<i64, Kept>,
    rows: usize,
}

#[derive(Default)]
pub struct FinishedReports {
    lists: Mutex<Lists>,
}

impl FinishedReports {
    /// The list kept for `run_user_id` as it was when it finished at
    /// `finished_at`, if read less than [`KEEP`] ago.
    pub fn get(
        &self,
        run_user_id: i64,
        finished_at: DateTime<Utc>,
        now: Instant,
    ) -> Option<Arc<ReportList>> {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let kept = lists.by_run_user.get_mut(&run_user_id)?;
        if kept.finished_at != finished_at || now.saturating_duration_since(kept.read_at) >= KEEP {
            return None;
        }
        kept.used_at = now;
        Some(kept.list.clone())
    }

    /// Keeps a list just read (at `now`) of a run-user finished at
    /// `finished_at`.
    pub fn put(
        &self,
        run_user_id: i64,
        finished_at: DateTime<Utc>,
        now: Instant,
        list: Arc<ReportList>,
    ) {
        let len = list.rows.len();
        if len > MAX_LIST {
            return;
        }
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = lists.by_run_user.remove(&run_user_id) {
            lists.rows -= old.list.rows.len();
        }
        while lists.rows + len > MAX_ROWS {
            let Some(oldest) = lists
                .by_run_user
                .iter()
                .min_by_key(|(_, k)| k.used_at)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(k) = lists.by_run_user.remove(&oldest) {
                lists.rows -= k.list.rows.len();
            }
        }
        lists.rows += len;
        lists.by_run_user.insert(
            run_user_id,
            Kept {
                finished_at,
                read_at: now,
                used_at: now,
                list,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reporter_core::models::dashboard::ReportedOrder;

    fn list(n: usize) -> Arc<ReportList> {
        let row = ReportedOrder {
            order_id: 1,
            status: "EN_TRANSITO".into(),
            carrier: String::new(),
            tracking_number: String::new(),
            ticket: String::new(),
            outcome: "reported".into(),
            reported_at: Utc::now(),
        };
        Arc::new(ReportList {
            rows: vec![row; n],
            statuses: vec![],
        })
    }

    #[test]
    fn a_list_is_served_only_for_the_finish_it_was_read_at_and_for_a_while() {
        let kept = FinishedReports::default();
        let (t0, f1) = (Instant::now(), Utc::now());
        kept.put(7, f1, t0, list(3));
        assert_eq!(kept.get(7, f1, t0).map(|l| l.rows.len()), Some(3));
        let refinished = f1 + chrono::Duration::seconds(30);
        assert!(
            kept.get(7, refinished, t0).is_none(),
            "a retried range finished it again"
        );
        assert!(kept.get(7, f1, t0 + KEEP).is_none(), "too old");
        assert!(kept.get(8, f1, t0).is_none());
    }

    #[test]
    fn the_least_recently_used_lists_make_room_and_huge_lists_are_not_kept() {
        let kept = FinishedReports::default();
        let (t0, f) = (Instant::now(), Utc::now());
        let full = MAX_ROWS / MAX_LIST;
        for id in 1..=full as i64 {
            kept.put(id, f, t0 + Duration::from_secs(id as u64), list(MAX_LIST));
        }
        let later = t0 + Duration::from_secs(100);
        // 1 is used again, so 2 is now the least recently used.
        assert!(kept.get(1, f, later).is_some());
        kept.put(99, f, later, list(10));
        assert!(kept.get(2, f, later).is_none());
        assert!(kept.get(1, f, later).is_some());
        assert!(kept.get(3, f, later).is_some());
        assert!(kept.get(99, f, later).is_some());
        kept.put(100, f, later, list(MAX_LIST + 1));
        assert!(kept.get(100, f, later).is_none());
    }
}
