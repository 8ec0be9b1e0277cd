//! Counters that let tests check the portal's use from the outside.

use serde::Serialize;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub logins: u64,
    pub failed_logins: u64,
    pub exports: u64,
    pub order_views: u64,
    pub reports: u64,
    pub duplicate_reports: u64,
}

/// What `GET /_sim/stats` answers: the counters plus a live gauge.
#[derive(Debug, Serialize)]
pub struct StatsView {
    #[serde(flatten)]
    pub counters: Stats,
    pub active_sessions: usize,
}
