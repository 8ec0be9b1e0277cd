//! Helpers shared by the Redis-backed integration tests.

// Each test file compiles this module separately and uses a different subset.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A separate connection (and so a separate multiplexed socket) per call,
/// to stand in for separate worker processes.
pub async fn connect() -> ConnectionManager {
    let url = redis_url();
    reporter_core::redis_conn::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach Redis at {url} (set TEST_REDIS_URL): {e}"))
}

/// Keys of concurrently running tests never collide.
pub fn unique_prefix() -> String {
    format!("test:{:032x}", rand::random::<u128>())
}

pub async fn redis_time_ms(conn: &ConnectionManager) -> i64 {
    let (secs, micros): (i64, i64) = redis::cmd("TIME")
        .query_async(&mut conn.clone())
        .await
        .unwrap();
    secs * 1000 + micros / 1000
}

/// Polls `probe` until it yields a value; panics after `limit`, which should
/// be generous: it only bounds a broken test, it is not a speed assertion.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the Redis clock has passed `ms`.
pub async fn until_redis_time_passes(conn: &ConnectionManager, ms: i64) {
    eventually(Duration::from_secs(120), "the Redis clock", || async {
        (redis_time_ms(conn).await > ms).then_some(())
    })
    .await
}

pub async fn delete_prefix(conn: &ConnectionManager, prefix: &str) {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn.clone())
        .await
        .unwrap();
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .exec_async(&mut conn.clone())
            .await
            .unwrap();
    }
}
