//! What a lease is: the holder asking for a browser, the lease it gets,
//! what operators see of it, and how the records stored in Redis read back.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who asks for a browser; shown to operators and returned with reaped leases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub worker: String,
    pub job: String,
}

impl Holder {
    pub fn new(worker: impl Into<String>, job: impl Into<String>) -> Self {
        Holder {
            worker: worker.into(),
            job: job.into(),
        }
    }
}

/// A granted place. Cloning does not duplicate the place: every clone names
/// the same lease, and releasing any of them releases it.
#[derive(Debug, Clone)]
pub struct Lease {
    pub(super) id: String,
    pub(super) holder: Holder,
    pub(super) since: DateTime<Utc>,
    pub(super) expires_at: DateTime<Utc>,
    /// Conservative local estimate of the expiry: taken from before the
    /// request was sent, so it never trusts the lease longer than Redis does.
    pub(super) valid_until: Instant,
}

impl Lease {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// Expiry granted at acquisition (Redis clock); renewals move it later.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
}

/// One lease as operators and reapers see it. For a reaped lease,
/// `expires_at` is when it expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseInfo {
    pub lease_id: String,
    pub worker: String,
    pub job: String,
    pub since: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub webdriver_session: Option<String>,
    /// What the holder's browser can be found by at the WebDriver server
    /// before its session id is known (the adapter's `--user-data-dir`).
    pub browser_tag: Option<String>,
}

/// The JSON stored in the holders HASH. Fields are updated one at a time by
/// `SET_HOLDER_FIELD`; records written before a field existed still parse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct HolderRecord {
    pub(super) worker: String,
    pub(super) job: String,
    pub(super) since: DateTime<Utc>,
    #[serde(default)]
    pub(super) webdriver_session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) browser_tag: Option<String>,
}

impl HolderRecord {
    pub(super) fn new(lease: &Lease) -> Self {
        HolderRecord {
            worker: lease.holder.worker.clone(),
            job: lease.holder.job.clone(),
            since: lease.since,
            webdriver_session: None,
            browser_tag: None,
        }
    }

    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: holder record serializes"
    )]
    pub(super) fn to_json(&self) -> String {
        serde_json::to_string(self).expect("holder record serializes")
    }

    pub(super) fn into_info(self, lease_id: String, expires_at_ms: i64) -> LeaseInfo {
        LeaseInfo {
            lease_id,
            worker: self.worker,
            job: self.job,
            since: self.since,
            expires_at: ms_to_datetime(expires_at_ms),
            webdriver_session: self.webdriver_session,
            browser_tag: self.browser_tag,
        }
    }
}

/// A record of the reaped list, as written by the Lua purge.
#[derive(Debug, Deserialize)]
pub(super) struct ReapedRecord {
    pub(super) lease_id: String,
    pub(super) expires_at_ms: i64,
    pub(super) holder: Option<HolderRecord>,
}

/// 128 random bits: unguessable, so one worker cannot renew another's lease by accident.
pub(super) fn new_lease_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub(super) fn ms_to_datetime(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// A record that cannot be decoded is logged with its raw text rather than
/// failing the whole call, so an operator can still act on it by hand.
pub(super) fn parse_reaped(raw: &str) -> Option<LeaseInfo> {
    let record: ReapedRecord = serde_json::from_str(raw)
        .map_err(|e| tracing::warn!(record = raw, error = %e, "undecodable reaped browser lease"))
        .ok()?;
    let Some(holder) = record.holder else {
        tracing::warn!(
            lease_id = record.lease_id,
            "reaped browser lease had no holder record"
        );
        return None;
    };
    Some(holder.into_info(record.lease_id, record.expires_at_ms))
}

pub(super) fn parse_snapshot_entry(entry: &[String]) -> Option<LeaseInfo> {
    let [id, expires_at_ms, holder] = entry else {
        return None;
    };
    let record: HolderRecord = serde_json::from_str(holder)
        .map_err(|e| tracing::warn!(lease_id = id, record = holder, error = %e, "undecodable browser lease holder"))
        .ok()?;
    Some(record.into_info(id.clone(), expires_at_ms.parse().ok()?))
}
