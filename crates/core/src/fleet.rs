//! Reading the fleet's state from Redis: worker heartbeats and beat's last
//! tick. Written by the worker and beat binaries; read by the API and CLI.

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

pub fn workers_key(prefix: &str) -> String {
    format!("{prefix}:fleet:workers")
}

/// Written by beat after each reconcile for the previous release's API
/// (this release reads the schedule's state from PostgreSQL).
pub fn last_tick_key(prefix: &str) -> String {
    format!("{prefix}:beat:last_tick")
}

/// A worker process's heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerBeat {
    pub worker: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// What it is doing now, in words.
    pub doing: Vec<String>,
}

/// Workers seen within `within_secs`.
pub async fn alive_workers(
    conn: &mut redis::aio::ConnectionManager,
    prefix: &str,
    within_secs: i64,
) -> redis::RedisResult<Vec<WorkerBeat>> {
    let all: std::collections::HashMap<String, String> = conn.hgetall(workers_key(prefix)).await?;
    let cutoff = Utc::now() - chrono::Duration::seconds(within_secs);
    let mut out: Vec<WorkerBeat> = all
        .values()
        .filter_map(|v| serde_json::from_str::<WorkerBeat>(v).ok())
        .filter(|w| w.last_seen >= cutoff)
        .collect();
    out.sort_by(|a, b| a.worker.cmp(&b.worker));
    Ok(out)
}
