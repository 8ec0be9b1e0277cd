//! Faults as they happened: the record of each, and firing the mid-run ones
//! (a worker killed, paused or redeployed, Redis or PostgreSQL restarted).

use std::time::{Duration, Instant};

use anyhow::bail;
use serde::Serialize;

use super::services::Services;
use crate::faults::{FaultKind, PlannedFault};
use crate::fleet::{Fleet, Role};

/// A fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub day: u32,
    pub hour: u8,
    pub kind: FaultKind,
    pub label: &'static str,
    /// What exactly was hit (a worker slot, an account).
    pub target: String,
    /// Whether a range or download of the hour was in progress when a
    /// mid-run fault struck.
    pub mid_run: bool,
    /// Seconds since the soak started.
    pub at_secs: f64,
    pub note: String,
}

pub(super) fn event(
    f: &PlannedFault,
    started: &Instant,
    target: String,
    mid_run: bool,
    note: String,
) -> FaultEvent {
    FaultEvent {
        day: f.day,
        hour: f.hour,
        kind: f.kind,
        label: f.kind.label(),
        target,
        mid_run,
        at_secs: started.elapsed().as_secs_f64(),
        note,
    }
}

/// Fires a mid-run fault; returns (target, note).
pub(super) fn strike(
    f: &PlannedFault,
    fleet: &mut Fleet,
    services: &mut Services,
    holder_pid: Option<u32>,
    lease_secs: u64,
) -> anyhow::Result<(String, String)> {
    let workers = fleet.slots(Role::Worker);
    let target = holder_pid
        .and_then(|pid| workers.iter().find(|w| fleet.pid(w) == Some(pid)).cloned())
        .unwrap_or_else(|| workers[f.hour as usize % workers.len()].clone());
    Ok(match f.kind {
        FaultKind::WorkerKill => {
            fleet.kill(&target);
            fleet.start(Role::Worker, &target)?;
            (target, "SIGKILL, replacement started".into())
        }
        FaultKind::WorkerPause => {
            fleet.signal(&target, "STOP");
            std::thread::sleep(Duration::from_secs(lease_secs + 5));
            fleet.signal(&target, "CONT");
            (
                target,
                format!("SIGSTOP for {} s, then SIGCONT", lease_secs + 5),
            )
        }
        FaultKind::RollingDeploy => {
            let mut notes = Vec::new();
            for w in &workers {
                let drained = fleet.replace(w, Duration::from_secs(60))?;
                notes.push(format!("{w} drained in {:.1} s", drained.as_secs_f64()));
            }
            ("every worker".into(), notes.join(", "))
        }
        FaultKind::RedisRestart => {
            services.redis.restart(Duration::from_secs(2));
            ("redis".into(), "SIGTERM (AOF flushed), down 2 s".into())
        }
        FaultKind::PostgresRestart => {
            services.pg.down();
            std::thread::sleep(Duration::from_secs(3));
            services.pg.up();
            ("postgres".into(), "pg_ctl stop -m fast, down 3 s".into())
        }
        other => bail!("{other} is not a mid-run fault"),
    })
}
