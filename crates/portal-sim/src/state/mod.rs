//! The simulator's whole state behind one lock.

mod day_clock;
mod export_jobs;
mod faults;
mod login;
mod reports;
mod sessions;
mod stats;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use serde::Serialize;

pub use export_jobs::{ExportJobState, ExportJobs};
pub use faults::{Faults, FaultsUpdate};
pub use login::LoginOutcome;
pub use reports::Filing;
pub use stats::{Stats, StatsView};

use crate::config::{Layout, SimConfig};
use crate::data::{initial_rng, OrderFactory};
use crate::error::SimError;
use crate::model::{Account, Order};
use reports::ReportBook;
use sessions::SessionStore;

/// Shared handle to the state. All access goes through [`Sim::with`], which
/// makes it impossible to hold the lock across an `.await`.
#[derive(Debug)]
pub struct Sim {
    state: Mutex<SimState>,
}

impl Sim {
    pub fn new(state: SimState) -> Self {
        Self {
            state: Mutex::new(state),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut SimState) -> R) -> R {
        // A panic in a handler must not take the whole simulator down with it.
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }
}

/// Answer of `GET /_sim/state`.
#[derive(Debug, Serialize)]
pub struct StateSummary {
    pub day: NaiveDate,
    pub accounts: usize,
    pub orders: usize,
}

#[derive(Debug)]
pub struct SimState {
    pub seed: u64,
    pub day: NaiveDate,
    /// How many times `advance-day` ran; selects that day's random stream.
    pub days_advanced: u64,
    pub move_rate: f64,
    pub max_new_orders_per_day: usize,
    pub accounts: Vec<Account>,
    /// Keyed by id, so iteration (exports, day changes) has a stable order.
    pub orders: BTreeMap<u64, Order>,
    pub factory: OrderFactory,
    pub sessions: SessionStore,
    pub reports: ReportBook,
    pub stats: Stats,
    pub faults: Faults,
    /// The pages served (login redirects go to its login page).
    pub layout: Layout,
    /// Exports asked for on the `alt` layout's orders page.
    pub export_jobs: ExportJobs,
}

impl SimState {
    /// Builds the starting data; equal configs give equal states.
    pub fn from_config(config: &SimConfig) -> Result<Self, SimError> {
        validate(config)?;
        let mut rng = initial_rng(config.seed);
        let mut factory = OrderFactory::default();
        let mut orders = BTreeMap::new();
        for spec in &config.accounts {
            let count = spec.orders.unwrap_or(config.orders_per_account);
            let email = spec.email.trim();
            for order in factory.initial_orders(&mut rng, email, count, config.start_day) {
                orders.insert(order.id, order);
            }
        }
        let accounts = config
            .accounts
            .iter()
            .map(|spec| Account {
                email: spec.email.trim().to_owned(),
                password: spec.password.clone(),
            })
            .collect();
        Ok(Self {
            seed: config.seed,
            day: config.start_day,
            days_advanced: 0,
            move_rate: config.move_rate,
            max_new_orders_per_day: config.max_new_orders_per_day,
            accounts,
            orders,
            factory,
            sessions: SessionStore::new(config.session_ttl),
            reports: ReportBook::default(),
            stats: Stats::default(),
            faults: Faults::default(),
            layout: config.layout,
            export_jobs: ExportJobs::new(config.export_delay),
        })
    }

    pub fn account(&self, email: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.matches_email(email))
    }

    /// The account's orders by ascending id: the rows of its export.
    pub fn orders_of<'a>(&'a self, account: &'a str) -> impl Iterator<Item = &'a Order> + 'a {
        self.orders.values().filter(move |o| o.account == account)
    }

    pub fn summary(&self) -> StateSummary {
        StateSummary {
            day: self.day,
            accounts: self.accounts.len(),
            orders: self.orders.len(),
        }
    }
}

fn validate(config: &SimConfig) -> Result<(), SimError> {
    let invalid = |msg: String| Err(SimError::InvalidConfig(msg));
    if config.accounts.is_empty() {
        return invalid("at least one account is needed".into());
    }
    if !(0.0..=1.0).contains(&config.move_rate) {
        return invalid(format!(
            "move rate {} is not between 0 and 1",
            config.move_rate
        ));
    }
    let mut seen = HashSet::new();
    for spec in &config.accounts {
        let email = spec.email.trim().to_lowercase();
        if email.is_empty() || spec.password.is_empty() {
            return invalid("accounts need a non-empty email and password".into());
        }
        if !seen.insert(email) {
            return invalid(format!("account {} is listed twice", spec.email));
        }
    }
    Ok(())
}
