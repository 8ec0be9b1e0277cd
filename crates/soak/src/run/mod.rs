//! The soak itself: bring the fleet up on services of its own, then for each
//! simulated day and each hour of the window reconcile the schedule at that
//! hour's instant, fire the hour's fault, wait for the hour's runs to settle,
//! and at the end of the day judge every customer-day and move the portal on.
//!
//! This file is the driver and the state carried from day to day: `start`
//! brings everything up, `day` runs one simulated day, `summary` sums up.

mod ctl;
mod day;
mod services;
mod start;
mod strike;
mod summary;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use reporter_core::config::Settings;

use crate::cli::Args;
use crate::customers::Customer;
use crate::faults::PlannedFault;
use crate::fleet::Fleet;
use crate::samples::Samples;
use crate::sim::{Sim, SimOrder};
use crate::verdict::{DayVerdict, Difference};
use services::Services;
use strike::FaultEvent;
pub use summary::{ProcessMemory, Verdict};
use watch::Watch;

/// The first simulated business day. Far enough ahead that the fleet's real
/// beats (which reconcile on the machine's clock every minute) never owe a
/// soak hour: the reservations are dated this day, so no real hour before it
/// is owed to them, and the soak's own reconciles drive every soak hour.
const FIRST_DAY: &str = "2030-01-07";

/// A soak under way: what it started and what it has seen so far.
///
/// Fields drop in declaration order: the database watch, the portal-sim's
/// handle and the fleet go before the PostgreSQL and Redis they use.
struct Soak {
    watch: Watch,
    /// The portal's orders of each day as they stood before its hours ran.
    truth: HashMap<NaiveDate, Vec<Vec<SimOrder>>>,
    days: Vec<DayVerdict>,
    diffs: Vec<Difference>,
    events: Vec<FaultEvent>,
    /// RSS in MiB at the end of each day, by slot.
    memory: BTreeMap<String, Vec<f64>>,
    /// The portal-sim's duplicate-report counter at the end of the last day.
    dup_before: u64,
    sampler: tokio::task::JoinHandle<()>,
    samples: Arc<Mutex<Samples>>,
    /// The simulated day the sampler files its samples under.
    day_now: Arc<AtomicU32>,
    plan: Vec<PlannedFault>,
    sim: Arc<Sim>,
    customers: Vec<Customer>,
    capacity_raised_to: Option<i32>,
    /// The hours of the reporting window.
    hours: Vec<u8>,
    fleet: Fleet,
    settings: Settings,
    services: Services,
    args: Args,
    started: Instant,
    first_day: NaiveDate,
    work: PathBuf,
}

pub async fn run(args: Args) -> anyhow::Result<Verdict> {
    let mut soak = Soak::start(args).await?;
    for day in 1..=soak.args.days {
        soak.day(day).await?;
    }
    Ok(soak.finish())
}
