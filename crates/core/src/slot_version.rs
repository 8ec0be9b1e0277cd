//! A fleet-wide version of the slot table's load, kept in Redis.
//!
//! API replicas serve `GET /slots/` from a per-process snapshot and compare
//! its version with this counter on each request (one Redis `GET`, no
//! database round trip). Every write that changes what the slot list shows
//! (a reservation made, moved, re-weighed or cancelled; a capacity or window
//! change) bumps the counter *after its transaction commits* and before it
//! answers, so a snapshot tagged with version `v` was loaded after every
//! write numbered `<= v` had committed: a client never sees a slot view
//! older than its own last write, whichever replica answers.

use redis::aio::ConnectionManager;
use redis::AsyncCommands;

pub fn key(prefix: &str) -> String {
    format!("{prefix}:slots:version")
}

/// Marks the slot table changed; returns the new version.
pub async fn bump(conn: &mut ConnectionManager, prefix: &str) -> redis::RedisResult<i64> {
    conn.incr(key(prefix), 1).await
}

/// The current version (0 before the first write).
pub async fn current(conn: &mut ConnectionManager, prefix: &str) -> redis::RedisResult<i64> {
    let v: Option<i64> = conn.get(key(prefix)).await?;
    Ok(v.unwrap_or(0))
}
