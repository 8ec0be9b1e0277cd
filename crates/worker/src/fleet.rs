//! The fleet view operators and health checks read: every worker process
//! writes a heartbeat with what it is doing, and runs the browser reaper
//! (`crate::browser_reaper`) every few seconds.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::AsyncCommands;
use reporter_core::fleet::{workers_key, WorkerBeat};
use tracing::warn;

use crate::environment::Environment;

pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
const REAP_EVERY: Duration = Duration::from_secs(5);

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: a struct of strings and numbers always serializes to JSON"
)]
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
                    touch_heartbeat_file(&env);
                    if let Err(e) = beat_once(&env, started).await {
                        warn!(error = %e, "fleet heartbeat failed");
                    }
                }
                _ = reap.tick() => crate::browser_reaper::reap_once(&env.semaphore, env.portal.as_ref()).await,
            }
        }
    })
}

/// Liveness for the container healthcheck (`reporterctl alive`): touched on
/// every tick whether or not Redis answers, since only a stuck runtime should
/// get this process restarted.
fn touch_heartbeat_file(env: &Environment) {
    if let Some(path) = &env.settings.heartbeat_file {
        if let Err(e) = reporter_core::liveness::touch(std::path::Path::new(path)) {
            warn!(error = %e, path = %path, "could not touch the heartbeat file");
        }
    }
}
