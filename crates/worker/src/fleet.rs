//! The fleet view operators and health checks read: every worker process
//! writes a heartbeat with what it is doing, and reaps expired browser
//! leases (deleting the WebDriver sessions their dead holders left behind,
//! also those of holders killed before they learnt their session id).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::AsyncCommands;
use reporter_core::fleet::{workers_key, WorkerBeat};
use tracing::{debug, info, warn};

use crate::environment::Environment;
use crate::portal::SweepError;

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
                _ = reap.tick() => reap_once(&env).await,
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

/// Reaps expired leases, deletes their recorded sessions, then sweeps the
/// orphan browser tags (leases reaped without a session id).
pub async fn reap_once(env: &Environment) {
    match env.semaphore.reap_expired().await {
        Ok(expired) => {
            for lease in expired {
                info!(lease.id = %lease.lease_id, worker = %lease.worker, job = %lease.job,
                      webdriver_session = ?lease.webdriver_session,
                      browser_tag = ?lease.browser_tag, "reaped an expired browser lease");
                if let Some(session) = &lease.webdriver_session {
                    env.portal.discard_session(session).await;
                }
            }
        }
        Err(e) => warn!(error = %e, "reaping expired leases failed"),
    }
    sweep_orphan_browsers(env).await;
}

/// A holder killed while its browser was starting left only the browser's
/// tag: look the session up at the WebDriver server and delete it. A tag
/// not found yet (the `POST /session` may still be running there) stays
/// for the next sweep, until `ORPHAN_KEEP` after its lease was reaped.
async fn sweep_orphan_browsers(env: &Environment) {
    let tags = match env.semaphore.orphan_browser_tags().await {
        Ok(t) if t.is_empty() => return,
        Ok(t) => t,
        Err(e) => {
            warn!(error = %e, "reading orphan browser tags failed");
            return;
        }
    };
    let forget = match env.portal.discard_tagged_sessions(&tags).await {
        Ok(found) => {
            debug!(
                orphans = tags.len(),
                deleted = found.len(),
                "swept orphan browser tags"
            );
            found
        }
        Err(SweepError::Unsupported(why)) => {
            warn!(reason = %why, tags = ?tags,
                  "cannot look up the sessions of browsers whose workers died while starting them; \
                   they stay until the WebDriver server's own session timeout");
            tags
        }
        Err(e @ SweepError::Unreachable(_)) => {
            warn!(error = %e, "sweeping orphan browsers failed; trying again on the next reap");
            Vec::new()
        }
    };
    if let Err(e) = env.semaphore.forget_orphan_browser_tags(&forget).await {
        warn!(error = %e, "forgetting swept orphan browser tags failed");
    }
}
