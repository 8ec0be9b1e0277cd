//! `reporter-soak` flags (`scripts/soak.sh` passes its arguments through).

use std::path::PathBuf;

use clap::Parser;

use crate::faults::Intensity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    /// No browser: workers use the HTTP portal client against portal-sim.
    Fake,
    /// Real headless Chromium through chromedriver against portal-sim.
    Webdriver,
}

/// A month of unattended operation in compressed time: the whole fleet from
/// built binaries (portal-sim, API, two beats, three workers) on a database
/// and Redis of its own, customers over the window's hours, a seeded fault
/// schedule, and a verdict per day and in total. Exits 1 on any lost,
/// duplicated or unexpected report, missed customer-day, unfinished run or
/// browser lease above the limit.
#[derive(Debug, Clone, Parser, serde::Serialize)]
#[command(name = "reporter-soak", version)]
pub struct Args {
    /// Simulated business days.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Customers, spread over the window's hours.
    #[arg(long, default_value_t = 40)]
    pub customers: usize,
    #[arg(long, value_enum, default_value_t = Intensity::Default)]
    pub faults: Intensity,
    /// Seed of customers, portal data and the fault schedule.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Driver::Fake)]
    pub driver: Driver,
    /// Write the verdict as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a self-contained HTML report (index.html) into this directory.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Where the fleet binaries are [default: the directory of this binary].
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Working directory for the soak's database, Redis and logs
    /// [default: a new directory under the system temp dir]. Kept after
    /// the soak when it fails, or with --keep.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    #[arg(long)]
    pub keep: bool,
    /// Real seconds an hour's runs may take to settle; an hour past it is a
    /// failure of the soak, reported, never hidden.
    #[arg(long, default_value_t = 300)]
    pub hour_deadline_secs: u64,
    /// Workers in the fleet.
    #[arg(long, default_value_t = 3)]
    pub workers: usize,
    /// REPORTER_WORKER_CONCURRENCY of each worker.
    #[arg(long, default_value_t = 2)]
    pub worker_concurrency: usize,
    /// REPORTER_RANGE_SIZE (small so a customer's stuck orders span several
    /// ranges and the workers steal them from each other).
    #[arg(long, default_value_t = 25)]
    pub range_size: usize,
    /// The browser lease (REPORTER_SEMAPHORE_LEASE_SECS); a paused worker is
    /// held stopped this long plus five seconds.
    #[arg(long, default_value_t = 8)]
    pub lease_secs: u64,
    /// Milliseconds every portal page takes (portal-sim's latency), so a
    /// range lasts long enough for a mid-run fault to strike mid-range.
    #[arg(long, default_value_t = 15)]
    pub portal_latency_ms: u64,
}
