//! The portal simulator as the soak uses it: started with the soak's
//! accounts, asked for the truth (each account's orders, every report filed,
//! open sessions), told to fail, and moved on one day at a time.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::json;

use crate::fleet::Helper;

pub struct Sim {
    pub url: String,
    http: reqwest::Client,
    _process: Helper,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimOrder {
    pub id: u64,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimReport {
    pub account: String,
    pub order_id: u64,
    pub day: NaiveDate,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SimStats {
    #[serde(flatten)]
    pub counters: SimCounters,
    pub active_sessions: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SimCounters {
    pub duplicate_reports: u64,
}

/// How the simulated portal behaves; the soak picks values that give every
/// account orders that are stuck, moving, new and delivered each day.
pub struct SimOptions<'a> {
    pub seed: u64,
    pub accounts_file: &'a Path,
    pub start_day: NaiveDate,
    pub move_rate: f64,
    pub max_new_orders: usize,
    pub session_ttl_secs: u64,
    pub log: &'a Path,
}

impl Sim {
    pub async fn start(binary: &Path, port: u16, o: &SimOptions<'_>) -> anyhow::Result<Sim> {
        let log = std::fs::File::create(o.log)?;
        let child = Command::new(binary)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--seed", &o.seed.to_string()])
            .arg("--accounts-file")
            .arg(o.accounts_file)
            .args(["--start-day", &o.start_day.to_string()])
            .args(["--move-rate", &o.move_rate.to_string()])
            .args(["--max-new-orders", &o.max_new_orders.to_string()])
            .args(["--session-ttl-secs", &o.session_ttl_secs.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let sim = Sim {
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            _process: Helper { child },
        };
        let start = Instant::now();
        while sim.get::<serde_json::Value>("/_sim/state").await.is_err() {
            if start.elapsed() > Duration::from_secs(20) {
                bail!("portal-sim did not answer on {}", sim.url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(sim)
    }

    pub fn pid(&self) -> u32 {
        self._process.child.id()
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await?
            .error_for_status()?;
        Ok(r.json().await?)
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> anyhow::Result<()> {
        self.http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// The account's orders as the portal holds them now (what an export
    /// taken now shows).
    pub async fn orders(&self, email: &str) -> anyhow::Result<Vec<SimOrder>> {
        self.get(&format!("/_sim/export/{email}")).await
    }

    pub async fn reports(&self) -> anyhow::Result<Vec<SimReport>> {
        self.get("/_sim/reports").await
    }

    pub async fn stats(&self) -> anyhow::Result<SimStats> {
        self.get("/_sim/stats").await
    }

    pub async fn advance_day(&self) -> anyhow::Result<()> {
        self.post("/_sim/advance-day", json!({})).await
    }

    /// Share of pages answering 500 (logins included).
    pub async fn set_error_rate(&self, rate: f64) -> anyhow::Result<()> {
        self.post("/_sim/faults", json!({ "error_rate": rate }))
            .await
    }

    pub async fn set_latency_ms(&self, ms: u64) -> anyhow::Result<()> {
        self.post("/_sim/faults", json!({ "latency_ms": ms })).await
    }

    pub async fn set_blocked(&self, emails: &[String]) -> anyhow::Result<()> {
        self.post("/_sim/faults", json!({ "blocked_accounts": emails }))
            .await
    }
}

/// Report counts per (account, order) of one portal day.
pub fn reports_of_day(reports: &[SimReport], day: NaiveDate) -> HashMap<(String, u64), u32> {
    let mut out: HashMap<(String, u64), u32> = HashMap::new();
    for r in reports.iter().filter(|r| r.day == day) {
        *out.entry((r.account.to_ascii_lowercase(), r.order_id))
            .or_default() += 1;
    }
    out
}
