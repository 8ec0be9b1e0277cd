//! Command-line flags of the `portal-sim` binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use clap::Parser;

use crate::accounts_file::load_accounts;
use crate::config::{AccountSpec, Layout, SimConfig};
use crate::error::SimError;

/// Simulator of the supplier portal (see shared/portal-contract.md).
#[derive(Debug, Parser)]
#[command(name = "portal-sim", version)]
pub struct Cli {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "PORTAL_SIM_BIND", default_value = "127.0.0.1:9100")]
    pub bind: SocketAddr,

    /// Seed of all generated data and status changes.
    #[arg(long, env = "PORTAL_SIM_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Number of generated accounts: clienteN@portal.test / clave-N.
    #[arg(
        long,
        env = "PORTAL_SIM_ACCOUNTS",
        default_value_t = 3,
        conflicts_with = "accounts_file"
    )]
    pub accounts: usize,

    /// JSON or TOML file listing {email, password, orders?} accounts.
    #[arg(long, env = "PORTAL_SIM_ACCOUNTS_FILE")]
    pub accounts_file: Option<PathBuf>,

    /// Orders each account starts with (unless its file entry says otherwise).
    #[arg(long, env = "PORTAL_SIM_ORDERS_PER_ACCOUNT", default_value_t = 12)]
    pub orders_per_account: usize,

    /// The portal's first day, YYYY-MM-DD [default: today].
    #[arg(long, env = "PORTAL_SIM_START_DAY")]
    pub start_day: Option<NaiveDate>,

    /// Idle time after which a session expires.
    #[arg(long, env = "PORTAL_SIM_SESSION_TTL_SECS", default_value_t = 1800)]
    pub session_ttl_secs: u64,

    /// Chance (0..=1) that an order in flight changes status on advance-day.
    #[arg(long, env = "PORTAL_SIM_MOVE_RATE", default_value_t = 0.6)]
    pub move_rate: f64,

    /// Each account gets 0..=N new orders on advance-day.
    #[arg(long, env = "PORTAL_SIM_MAX_NEW_ORDERS", default_value_t = 2)]
    pub max_new_orders: usize,

    /// Pages served: `classic` (the contract's) or `alt` (a redesigned
    /// portal: other paths, ids and export columns, paginated orders,
    /// text-only tickets, exports built on demand).
    #[arg(long, env = "PORTAL_SIM_LAYOUT", value_enum, default_value_t = Layout::Classic)]
    pub layout: Layout,

    /// `alt` layout: milliseconds between asking for an export and its link.
    #[arg(long, env = "PORTAL_SIM_EXPORT_DELAY_MS", default_value_t = 1500)]
    pub export_delay_ms: u64,
}

impl Cli {
    pub fn into_config(self) -> Result<SimConfig, SimError> {
        let accounts = match &self.accounts_file {
            Some(path) => load_accounts(path)?,
            None => AccountSpec::numbered_list(self.accounts),
        };
        let defaults = SimConfig::default();
        Ok(SimConfig {
            bind: self.bind,
            seed: self.seed,
            accounts,
            orders_per_account: self.orders_per_account,
            start_day: self.start_day.unwrap_or(defaults.start_day),
            session_ttl: Duration::from_secs(self.session_ttl_secs),
            move_rate: self.move_rate,
            max_new_orders_per_day: self.max_new_orders,
            workers: defaults.workers,
            layout: self.layout,
            export_delay: Duration::from_millis(self.export_delay_ms),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_onto_the_config() {
        let cli = Cli::parse_from([
            "portal-sim",
            "--bind",
            "127.0.0.1:0",
            "--seed",
            "9",
            "--accounts",
            "2",
            "--start-day",
            "2025-02-03",
            "--session-ttl-secs",
            "5",
        ]);
        let config = cli.into_config().unwrap();
        assert_eq!(config.seed, 9);
        assert_eq!(config.accounts, AccountSpec::numbered_list(2));
        assert_eq!(
            config.start_day,
            NaiveDate::from_ymd_opt(2025, 2, 3).unwrap()
        );
        assert_eq!(config.session_ttl, Duration::from_secs(5));
        assert_eq!(config.layout, Layout::Classic);
    }

    #[test]
    fn layout_flag_selects_the_alt_pages() {
        let cli = Cli::parse_from(["portal-sim", "--layout", "alt", "--export-delay-ms", "200"]);
        let config = cli.into_config().unwrap();
        assert_eq!(config.layout, Layout::Alt);
        assert_eq!(config.export_delay, Duration::from_millis(200));
        assert!(Cli::try_parse_from(["portal-sim", "--layout", "nueva"]).is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
