//! Counts of each queue, read straight from apalis-redis' keys (console,
//! `reporterctl queues`, metrics).

use redis::aio::ConnectionManager;
use serde::Serialize;

use super::{queue_name, ALL_KINDS};

/// Counts of one queue, read straight from apalis-redis' keys.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QueueStats {
    pub queue: String,
    /// Ready to be taken now.
    pub waiting: u64,
    /// Delayed (retries, scheduled).
    pub scheduled: u64,
    /// Taken by a worker and not finished.
    pub in_flight: u64,
    /// Given up for good.
    pub dead: u64,
}

async fn card(conn: &mut ConnectionManager, key: &str) -> redis::RedisResult<u64> {
    let kind: String = redis::cmd("TYPE").arg(key).query_async(conn).await?;
    let cmd = match kind.as_str() {
        "list" => "LLEN",
        "set" => "SCARD",
        "zset" => "ZCARD",
        "hash" => "HLEN",
        _ => return Ok(0),
    };
    redis::cmd(cmd).arg(key).query_async(conn).await
}

pub async fn queue_stats(
    conn: &mut ConnectionManager,
    prefix: &str,
) -> redis::RedisResult<Vec<QueueStats>> {
    let mut out = Vec::new();
    for kind in ALL_KINDS {
        let q = queue_name(prefix, kind);
        // apalis-redis keeps one in-flight set per worker, named after the
        // worker's entry in `{q}:workers`: O(workers), never a `KEYS` scan
        // that blocks Redis in proportion to everything it holds.
        let workers: Vec<String> = redis::cmd("ZRANGE")
            .arg(format!("{q}:workers"))
            .arg(0)
            .arg(-1)
            .query_async(conn)
            .await?;
        let mut in_flight = 0;
        for w in workers {
            in_flight += card(conn, &format!("{q}:inflight:{w}")).await?;
        }
        out.push(QueueStats {
            queue: kind.to_string(),
            waiting: card(conn, &format!("{q}:active")).await?,
            scheduled: card(conn, &format!("{q}:scheduled")).await?,
            in_flight,
            dead: card(conn, &format!("{q}:dead")).await?,
        });
    }
    Ok(out)
}
