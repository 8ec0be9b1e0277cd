//! One lock per report range, so two workers never process the same range,
//! with a fencing token for the writes.
//!
//! A lock alone is not enough: its holder may be paused (SIGSTOP, a long GC-like
//! stall, a frozen VM) past the TTL while another worker takes the range, then
//! wake up and write. So every acquisition also draws a **fence**, a number
//! strictly increasing per range, and every database write of the range must
//! be conditioned on it, e.g.
//!
//! ```sql
//! -- when starting work: claim the range for this fence (a stale fence claims nothing)
//! UPDATE report_ranges SET fence = $fence WHERE id = $range AND (fence IS NULL OR fence < $fence);
//! -- every later write: succeeds only while no newer holder has claimed it
//! UPDATE report_ranges SET ... WHERE id = $range AND fence = $fence;
//! ```
//!
//! Redis layout: `{prefix}:range-lock:{id}` holds `"{fence}:{owner}"` with a
//! TTL; `{prefix}:range-fence:{id}` is the counter and never expires.
//! Deleting a counter (or losing Redis data) restarts the range's fences at 1;
//! with the `fence < $fence` claim above that fails closed (no one can claim
//! the range until the counter passes the stored fence), never open.

use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};

/// KEYS: lock, fence counter. ARGV: owner, ttl_ms.
/// The fence is drawn only when the lock is free, so a failed attempt does
/// not burn numbers; the lock value carries the fence, which makes it unique
/// per acquisition even when the same owner takes the range again.
static TRY_LOCK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], string.format('%d', fence) .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return fence
"#,
    )
});

/// KEYS: lock. ARGV: expected value, ttl_ms.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"#,
    )
});

/// KEYS: lock. ARGV: expected value.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"#,
    )
});

/// A held range. `fence` is what database writes must be conditioned on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeLock {
    pub range_id: i64,
    pub fence: i64,
    pub owner: String,
}

impl RangeLock {
    pub fn fence(&self) -> i64 {
        self.fence
    }

    fn value(&self) -> String {
        format!("{}:{}", self.fence, self.owner)
    }
}

/// Who holds a range right now, for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeHolder {
    pub range_id: i64,
    pub owner: String,
    pub fence: i64,
    /// `None` if the lock has no TTL (set by hand).
    pub expires_in: Option<Duration>,
}

#[derive(Clone)]
pub struct RangeLocks {
    conn: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl std::fmt::Debug for RangeLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RangeLocks")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RangeLocks {
    pub fn new(conn: ConnectionManager, prefix: &str, ttl: Duration) -> Self {
        RangeLocks {
            conn,
            prefix: prefix.to_string(),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Takes the range if nobody holds it, drawing a new fence.
    pub async fn try_lock(&self, range_id: i64, owner: &str) -> RedisResult<Option<RangeLock>> {
        let fence: Option<i64> = TRY_LOCK
            .key(self.lock_key(range_id))
            .key(self.fence_key(range_id))
            .arg(owner)
            .arg(self.ttl_ms())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(fence.map(|fence| RangeLock {
            range_id,
            fence,
            owner: owner.to_string(),
        }))
    }

    /// Extends the lock by the TTL from now. `false` means another owner may
    /// have the range: stop working on it (the fence will reject the writes
    /// anyway, this just stops wasted work).
    pub async fn renew(&self, lock: &RangeLock) -> RedisResult<bool> {
        let renewed: i64 = RENEW
            .key(self.lock_key(lock.range_id))
            .arg(lock.value())
            .arg(self.ttl_ms())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(renewed == 1)
    }

    /// Frees the range if it is still this lock's; never touches a newer holder's lock.
    pub async fn release(&self, lock: RangeLock) -> RedisResult<bool> {
        let deleted: i64 = RELEASE
            .key(self.lock_key(lock.range_id))
            .arg(lock.value())
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(deleted == 1)
    }

    pub async fn is_held(&self, lock: &RangeLock) -> RedisResult<bool> {
        let value: Option<String> = redis::cmd("GET")
            .arg(self.lock_key(lock.range_id))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(value.as_deref() == Some(lock.value().as_str()))
    }

    pub async fn holder(&self, range_id: i64) -> RedisResult<Option<RangeHolder>> {
        let (value, pttl): (Option<String>, i64) = redis::pipe()
            .atomic()
            .get(self.lock_key(range_id))
            .pttl(self.lock_key(range_id))
            .query_async(&mut self.conn.clone())
            .await?;
        let Some((fence, owner)) = value.as_deref().and_then(parse_value) else {
            return Ok(None);
        };
        let expires_in = u64::try_from(pttl).ok().map(Duration::from_millis);
        Ok(Some(RangeHolder {
            range_id,
            owner: owner.to_string(),
            fence,
            expires_in,
        }))
    }

    /// The last fence drawn for the range (held or not), `None` if never locked.
    pub async fn current_fence(&self, range_id: i64) -> RedisResult<Option<i64>> {
        redis::cmd("GET")
            .arg(self.fence_key(range_id))
            .query_async(&mut self.conn.clone())
            .await
    }

    fn lock_key(&self, range_id: i64) -> String {
        format!("{}:range-lock:{range_id}", self.prefix)
    }

    fn fence_key(&self, range_id: i64) -> String {
        format!("{}:range-fence:{range_id}", self.prefix)
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// The fence comes first, so an owner containing ':' still parses.
fn parse_value(value: &str) -> Option<(i64, &str)> {
    let (fence, owner) = value.split_once(':')?;
    Some((fence.parse().ok()?, owner))
}
