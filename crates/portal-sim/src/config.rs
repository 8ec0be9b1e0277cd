//! Start-up settings of one simulator instance.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

pub use crate::layout::Layout;

/// Idle time after which a portal session stops being accepted (contract: 30 min).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// How long the `alt` layout takes to build an export once asked.
pub const DEFAULT_EXPORT_DELAY: Duration = Duration::from_millis(1500);

/// One portal account: its credentials and, optionally, how many orders it starts with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    pub email: String,
    pub password: String,
    /// Overrides [`SimConfig::orders_per_account`] for this account.
    #[serde(default)]
    pub orders: Option<usize>,
}

impl AccountSpec {
    /// The `n`-th generated account (1-based): `clienteN@portal.test` / `clave-N`.
    pub fn numbered(n: usize) -> Self {
        Self {
            email: format!("cliente{n}@portal.test"),
            password: format!("clave-{n}"),
            orders: None,
        }
    }

    /// Accounts `1..=count` of the [`AccountSpec::numbered`] scheme.
    pub fn numbered_list(count: usize) -> Vec<Self> {
        (1..=count).map(Self::numbered).collect()
    }
}

/// Everything that decides what a simulator serves. Two instances with equal
/// configs (apart from `bind`) serve identical accounts, orders and status changes.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Port 0 picks a free port; the bound address is in [`crate::RunningSim::addr`].
    pub bind: SocketAddr,
    pub seed: u64,
    pub accounts: Vec<AccountSpec>,
    pub orders_per_account: usize,
    /// The portal's first day.
    pub start_day: NaiveDate,
    pub session_ttl: Duration,
    /// Chance that a non-terminal order changes status on `advance-day`.
    pub move_rate: f64,
    /// Each account gets between 0 and this many new orders on `advance-day`.
    pub max_new_orders_per_day: usize,
    /// actix worker threads; the simulator needs few.
    pub workers: usize,
    /// The pages served; the data and `/_sim/` are the same for every layout.
    pub layout: Layout,
    /// `alt` layout: time between asking for an export and its link.
    pub export_delay: Duration,
}

impl Default for SimConfig {
    /// Three numbered accounts on a free loopback port, starting today.
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            accounts: AccountSpec::numbered_list(3),
            orders_per_account: 12,
            start_day: chrono::Local::now().date_naive(),
            session_ttl: DEFAULT_SESSION_TTL,
            move_rate: 0.6,
            max_new_orders_per_day: 2,
            workers: 2,
            layout: Layout::Classic,
            export_delay: DEFAULT_EXPORT_DELAY,
        }
    }
}
