//! What a soak hands back: the verdict with its totals, the faults fired and
//! the memory of each process, and summing the days up into it.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;

use super::strike::FaultEvent;
use super::Soak;
use crate::cli::Args;
use crate::customers::Customer;
use crate::samples::quantile;
use crate::verdict::{self, DayVerdict, Difference, Tally};

#[derive(Debug, Clone, Serialize)]
pub struct ProcessMemory {
    pub slot: String,
    /// RSS in MiB at the end of each day (0 when not running).
    pub mib_per_day: Vec<f64>,
    /// Least-squares slope from day 2 on (day 1 warms caches up).
    pub slope_mib_per_day: f64,
    pub restarts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub tally: Tally,
    pub hours_past_deadline: usize,
    pub db_bytes_final: i64,
    pub db_bytes_per_customer_day: f64,
    pub db_growth_bytes_per_customer_day: f64,
    pub api_p50_ms: f64,
    pub api_p99_ms: f64,
    pub api_samples: usize,
    pub api_errors: usize,
    pub max_portal_sessions: usize,
    pub samples_above_session_limit: usize,
    /// Live browser leases in the semaphore: the fleet-wide cap itself.
    pub max_browser_leases: usize,
    pub lease_samples_above_limit: usize,
    pub session_limit: usize,
    pub wall_secs: f64,
    pub crashed_processes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub pass: bool,
    pub args: Args,
    pub first_day: NaiveDate,
    pub customers: Vec<Customer>,
    pub capacity_raised_to: Option<i32>,
    pub days: Vec<DayVerdict>,
    pub totals: Totals,
    pub faults: Vec<FaultEvent>,
    pub memory: Vec<ProcessMemory>,
    pub differences: Vec<Difference>,
    pub work_dir: PathBuf,
}

impl Soak {
    /// Stops the fleet and sums the days up.
    pub(super) fn finish(mut self) -> Verdict {
        self.sampler.abort();
        let crashed: Vec<String> = self
            .fleet
            .crashed()
            .into_iter()
            .map(|(slot, log)| format!("{slot} ({})", log.display()))
            .collect();
        self.fleet.stop_all();

        let memory: Vec<ProcessMemory> = self
            .memory
            .into_iter()
            .map(|(slot, mib)| ProcessMemory {
                restarts: self.fleet.procs.get(&slot).map_or(0, |p| p.generation),
                slope_mib_per_day: verdict::slope(mib.get(1..).unwrap_or(&[])),
                slot,
                mib_per_day: mib,
            })
            .collect();
        let s = self.samples.lock().expect("samples lock");
        let api = s.api_of(None);
        let mut tally = Tally::default();
        for d in &self.days {
            tally.add(&d.tally);
        }
        let customer_days = tally.customer_days;
        let db_final = self.days.last().map_or(0, |d| d.db_bytes);
        let db_first = self.days.first().map_or(0, |d| d.db_bytes);
        let later_days =
            customer_days.saturating_sub(self.days.first().map_or(0, |d| d.tally.customer_days));
        let limit = self.settings.max_active_selenium as usize;
        let totals = Totals {
            tally,
            hours_past_deadline: self.days.iter().map(|d| d.hours_past_deadline.len()).sum(),
            db_bytes_final: db_final,
            db_bytes_per_customer_day: db_final as f64 / customer_days.max(1) as f64,
            db_growth_bytes_per_customer_day: (db_final - db_first) as f64
                / later_days.max(1) as f64,
            api_p50_ms: quantile(&api, 0.5),
            api_p99_ms: quantile(&api, 0.99),
            api_samples: api.len(),
            api_errors: s.errors_of(None),
            max_portal_sessions: s.max_sessions(None),
            samples_above_session_limit: s.sessions_above(limit),
            max_browser_leases: s.max_leases(None),
            lease_samples_above_limit: s.leases_above(limit),
            session_limit: limit,
            wall_secs: self.started.elapsed().as_secs_f64(),
            crashed_processes: crashed,
        };
        let pass = totals.tally.clean()
            && totals.lease_samples_above_limit == 0
            && totals.hours_past_deadline == 0;
        Verdict {
            pass,
            args: self.args,
            first_day: self.first_day,
            customers: self.customers,
            capacity_raised_to: self.capacity_raised_to,
            days: self.days,
            totals,
            faults: self.events,
            memory,
            differences: self.diffs,
            work_dir: self.work,
        }
    }
}
