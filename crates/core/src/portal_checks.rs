//! Portal checks asked through the API (`POST /api/reporter/admin/portal-check/`):
//! their state in Redis while a worker runs them, and their report once
//! done. One key per check, `{prefix}:portal-check:{id}`, holding
//! `{"status", "email", "report"}` as JSON, kept [`KEEP`] after its last
//! write. The report is the worker's `PortalCheckReport` as JSON.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

/// How long a check's state and report are kept after its last change.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Queued,
    Running,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCheck {
    pub status: CheckStatus,
    pub email: String,
    #[serde(default)]
    pub report: Option<serde_json::Value>,
}

pub fn key(prefix: &str, id: &str) -> String {
    format!("{prefix}:portal-check:{id}")
}

/// A new check id: 16 random hex digits.
pub fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Check ids are what [`new_id`] makes; anything else is not looked up.
pub fn valid_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn store(
    conn: &mut ConnectionManager,
    prefix: &str,
    id: &str,
    check: &StoredCheck,
) -> redis::RedisResult<()> {
    let json = serde_json::to_string(check).unwrap_or_default();
    conn.set_ex(key(prefix, id), json, KEEP.as_secs()).await
}

pub async fn load(
    conn: &mut ConnectionManager,
    prefix: &str,
    id: &str,
) -> redis::RedisResult<Option<StoredCheck>> {
    if !valid_id(id) {
        return Ok(None);
    }
    let raw: Option<String> = conn.get(key(prefix, id)).await?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_json() {
        let id = new_id();
        assert!(valid_id(&id), "{id}");
        assert!(!valid_id("../x"));
        let c = StoredCheck {
            status: CheckStatus::Queued,
            email: "a@b".into(),
            report: None,
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"status":"queued","email":"a@b","report":null}"#
        );
    }
}
