//! `reporterctl` run with the fleet's environment, and the schedule
//! reconciled through it at a simulated instant.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};

use crate::fleet::Fleet;

/// `reporterctl` with the fleet's environment; its stdout.
pub(super) fn ctl(fleet: &Fleet, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(fleet.bin("reporterctl"))
        .args(args)
        .envs(fleet.env().iter().map(|(k, v)| (k, v)))
        .output()
        .context("run reporterctl")?;
    if !out.status.success() {
        bail!(
            "reporterctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The schedule reconciled at `at`, as beat would; retried while a push
/// fails (Redis coming back). Returns the hours enqueued.
pub(super) async fn reconcile(
    fleet: &Fleet,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let mut last = String::new();
    for _ in 0..30 {
        match ctl(fleet, &["beat", "reconcile", "--at", &at.to_rfc3339()]) {
            Ok(out) => {
                let v: serde_json::Value = serde_json::from_str(&out)
                    .with_context(|| format!("reconcile output: {out}"))?;
                let failed = v["failed"].as_array().map_or(0, Vec::len);
                if failed == 0 {
                    return Ok(v["enqueued"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d["scheduled_at"].as_str()?.parse().ok())
                        .collect());
                }
                last = out;
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    bail!("reconcile at {at} kept failing: {last}")
}
