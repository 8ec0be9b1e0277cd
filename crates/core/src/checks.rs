//! Dependency probes shared by the API's health endpoints and `reporterctl check`.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use serde::Serialize;

use crate::db::DbPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Probe {
    pub status: Status,
    pub latency_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Probe {
    fn from_result(r: Result<(), String>, started: Instant, degraded_after: Duration) -> Self {
        let elapsed = started.elapsed();
        let latency_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
        match r {
            Ok(()) if elapsed > degraded_after => Probe {
                status: Status::Degraded,
                latency_ms,
                error: None,
            },
            Ok(()) => Probe {
                status: Status::Healthy,
                latency_ms,
                error: None,
            },
            Err(e) => Probe {
                status: Status::Unhealthy,
                latency_ms,
                error: Some(e),
            },
        }
    }
}

pub const DB_DEGRADED_AFTER: Duration = Duration::from_millis(500);
pub const REDIS_DEGRADED_AFTER: Duration = Duration::from_millis(200);

/// `SELECT 1` through the pool. Blocking: call from a blocking thread.
pub fn probe_database(pool: &DbPool) -> Probe {
    let started = Instant::now();
    let r = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
        diesel::sql_query("SELECT 1")
            .execute(&mut c)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    Probe::from_result(r, started, DB_DEGRADED_AFTER)
}

pub async fn probe_redis(conn: &mut redis::aio::ConnectionManager) -> Probe {
    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        redis::cmd("PING").query_async::<String>(conn),
    )
    .await
    .map_err(|_| "timeout after 3 s".to_string())
    .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    Probe::from_result(r, started, REDIS_DEGRADED_AFTER)
}

/// The worst of several statuses.
pub fn overall<'a>(statuses: impl IntoIterator<Item = &'a Status>) -> Status {
    statuses
        .into_iter()
        .fold(Status::Healthy, |acc, s| match (acc, s) {
            (Status::Unhealthy, _) | (_, Status::Unhealthy) => Status::Unhealthy,
            (Status::Degraded, _) | (_, Status::Degraded) => Status::Degraded,
            _ => Status::Healthy,
        })
}
