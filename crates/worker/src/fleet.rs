//! The fleet view operators and health checks read: every worker process
//! writes a heartbeat with what it is doing, and reaps expired browser
//! leases (deleting the WebDriver sessions their dead holders left behind).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::AsyncCommands;
use reporter_core::fleet::{workers_key, WorkerBeat};
use tracing::{info, warn};

use crate::environment::Environment;

pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
const REAP_EVERY: Duration = Duration::from_secs(5);

pub async fn beat_once(
    env: &Environment,
    started_at: chrono::DateTime<Utc>,
) -> redis::RedisResult<()> {
    let doing: Vec<String> = env
        .current
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .cloned()
        .collect();
    let beat = WorkerBeat {
        worker: env.worker_id.clone(),
        host: hostname(),
        pid: std::process::id(),
        started_at,
        last_seen: Utc::now(),
        doing,
    };
    let mut c = env.redis.clone();
    c.hset(
        workers_key(&env.settings.redis_prefix),
        &env.worker_id,
        serde_json::to_string(&beat).expect("serializable"),
    )
    .await
}

pub async fn leave(env: &Environment) {
    let mut c = env.redis.clone();
    let _: Result<(), _> = c
        .hdel(workers_key(&env.settings.redis_prefix), &env.worker_id)
        .await;
}

pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "localhost".into())
}

/// Heartbeat and lease reaping until the process ends.
pub fn spawn_background(env: Arc<Environment>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let started = Utc::now();
        let mut beat = tokio::time::interval(HEARTBEAT_EVERY);
        let mut reap = tokio::time::interval(REAP_EVERY);
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    if let Err(e) = beat_once(&env, started).await {
                        warn!(error = %e, "fleet heartbeat failed");
                    }
                }
                _ = reap.tick() => reap_once(&env).await,
            }
        }
    })
}

pub async fn reap_once(env: &Environment) {
    match env.semaphore.reap_expired().await {
        Ok(expired) => {
            for lease in expired {
                info!(lease.id = %lease.lease_id, worker = %lease.worker, job = %lease.job,
                      webdriver_session = ?lease.webdriver_session, "reaped an expired browser lease");
                if let Some(session) = &lease.webdriver_session {
                    env.portal.discard_session(session).await;
                }
            }
        }
        Err(e) => warn!(error = %e, "reaping expired leases failed"),
    }
}
