//! Exports built on demand (the `alt` layout): asked for with a button,
//! ready after the configured delay, downloadable only by their account.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct ExportJob {
    account: String,
    ready_at: Instant,
}

/// What an account sees of one of its export jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportJobState {
    Building,
    Ready,
}

#[derive(Debug)]
pub struct ExportJobs {
    delay: Duration,
    next_id: u64,
    jobs: HashMap<u64, ExportJob>,
}

/// Jobs kept per account; older ones are forgotten (their links 404).
const KEPT_PER_ACCOUNT: usize = 5;

impl ExportJobs {
    pub fn new(delay: Duration) -> Self {
        Self {
            delay,
            next_id: 1,
            jobs: HashMap::new(),
        }
    }

    /// Starts building an export for `account`; its id.
    pub fn start(&mut self, account: &str, now: Instant) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.jobs.insert(
            id,
            ExportJob {
                account: account.to_owned(),
                ready_at: now + self.delay,
            },
        );
        let mut own: Vec<u64> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.account == account)
            .map(|(id, _)| *id)
            .collect();
        if own.len() > KEPT_PER_ACCOUNT {
            own.sort_unstable();
            for old in &own[..own.len() - KEPT_PER_ACCOUNT] {
                self.jobs.remove(old);
            }
        }
        id
    }

    /// The job's state, if it exists and is `account`'s (another account's
    /// job answers like a missing one).
    pub fn state(&self, id: u64, account: &str, now: Instant) -> Option<ExportJobState> {
        let job = self.jobs.get(&id).filter(|j| j.account == account)?;
        Some(if now >= job.ready_at {
            ExportJobState::Ready
        } else {
            ExportJobState::Building
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_ready_after_the_delay_and_only_for_its_account() {
        let mut jobs = ExportJobs::new(Duration::from_secs(2));
        let t0 = Instant::now();
        let id = jobs.start("a@x", t0);
        assert_eq!(jobs.state(id, "a@x", t0), Some(ExportJobState::Building));
        let later = t0 + Duration::from_secs(2);
        assert_eq!(jobs.state(id, "a@x", later), Some(ExportJobState::Ready));
        assert_eq!(jobs.state(id, "b@x", later), None);
        assert_eq!(jobs.state(id + 1, "a@x", later), None);
    }

    #[test]
    fn old_jobs_of_an_account_are_forgotten() {
        let mut jobs = ExportJobs::new(Duration::ZERO);
        let t0 = Instant::now();
        let first = jobs.start("a@x", t0);
        for _ in 0..KEPT_PER_ACCOUNT {
            jobs.start("a@x", t0);
        }
        assert_eq!(jobs.state(first, "a@x", t0), None);
        assert_eq!(jobs.jobs.len(), KEPT_PER_ACCOUNT);
    }
}
