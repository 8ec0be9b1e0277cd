//! `reporterctl alive`: the worker and beat containers' liveness check.

use std::path::Path;
use std::time::Duration;

/// Exit code for the healthcheck: 0 alive, 1 stale or missing.
pub fn run(file: &Path, max_age_secs: u64) -> i32 {
    match reporter_core::liveness::check(file, Duration::from_secs(max_age_secs)) {
        Ok(age) => {
            println!("alive: heartbeat {} s old", age.as_secs());
            0
        }
        Err(e) => {
            eprintln!("not alive: {e}");
            1
        }
    }
}
