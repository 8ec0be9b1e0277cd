//! Liveness of the worker and beat processes: their loops touch a file
//! (`REPORTER_HEARTBEAT_FILE`) and the container healthcheck
//! (`reporterctl alive`) reads its age. Dependencies are deliberately not
//! checked: a worker waiting for Redis to come back is alive, and restarting
//! it would not help; fleet state is alerted on instead (docs/monitoring.md).

use std::path::Path;
use std::time::{Duration, SystemTime};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LivenessError {
    #[error("heartbeat file {path} cannot be read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("heartbeat file {path} is {age_secs} s old (limit {max_secs} s): the loop is stuck")]
    Stale {
        path: String,
        age_secs: u64,
        max_secs: u64,
    },
}

/// Marks the process alive now. Errors are the caller's to log: a missing
/// tmpfs must not stop a worker.
pub fn touch(path: &Path) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.set_modified(SystemTime::now())
}

/// The heartbeat's age, or why the process counts as dead.
pub fn check(path: &Path, max_age: Duration) -> Result<Duration, LivenessError> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|source| LivenessError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
    // A clock step backwards makes the file look fresh, never dead.
    let age = SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default();
    if age > max_age {
        return Err(LivenessError::Stale {
            path: path.display().to_string(),
            age_secs: age.as_secs(),
            max_secs: max_age.as_secs(),
        });
    }
    Ok(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_stale_and_missing() {
        let dir = std::env::temp_dir().join(format!("liveness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("alive");
        assert!(matches!(
            check(&file, Duration::from_secs(60)),
            Err(LivenessError::Unreadable { .. })
        ));
        touch(&file).unwrap();
        assert!(check(&file, Duration::from_secs(60)).is_ok());
        let old = SystemTime::now() - Duration::from_secs(600);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let err = check(&file, Duration::from_secs(60)).unwrap_err();
        assert!(matches!(err, LivenessError::Stale { age_secs, .. } if age_secs >= 600));
        touch(&file).unwrap();
        assert!(
            check(&file, Duration::from_secs(60)).is_ok(),
            "touch renews it"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
