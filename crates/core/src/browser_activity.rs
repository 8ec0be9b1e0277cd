//! The peak number of live browser sessions per hour, for the operators'
//! 24-hour chart. Workers record the semaphore's occupancy each time they
//! take a lease (occupancy only rises at that moment, so the peak is exact
//! up to leases that end between two acquisitions). One small Redis key per
//! hour, expiring after two days: nothing to clean up.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use redis::aio::ConnectionManager;

/// How long an hour's peak is kept.
const KEEP_SECONDS: i64 = 48 * 3600;

/// Raises the stored peak only (atomic, so concurrent workers cannot lower it).
const RAISE_PEAK: &str = r"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if n > cur then redis.call('SET', KEYS[1], n) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return math.max(cur, n)
";

fn hour_start(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

fn key(prefix: &str, hour: DateTime<Utc>) -> String {
    format!("{prefix}:stats:browsers:{}", hour.timestamp())
}

/// Records that `in_use` browser sessions were live at `at`.
pub async fn record(
    conn: &mut ConnectionManager,
    prefix: &str,
    at: DateTime<Utc>,
    in_use: u32,
) -> redis::RedisResult<u32> {
    redis::Script::new(RAISE_PEAK)
        .key(key(prefix, hour_start(at)))
        .arg(in_use)
        .arg(KEEP_SECONDS)
        .invoke_async(conn)
        .await
}

/// The peak for each of the `hours` hours ending with the one holding `now`,
/// oldest first (0 where nothing was recorded).
pub async fn peaks(
    conn: &mut ConnectionManager,
    prefix: &str,
    now: DateTime<Utc>,
    hours: u32,
) -> redis::RedisResult<Vec<(DateTime<Utc>, u32)>> {
    let last = hour_start(now);
    let starts: Vec<DateTime<Utc>> = (0..i64::from(hours))
        .rev()
        .map(|back| last - TimeDelta::hours(back))
        .collect();
    if starts.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = starts.iter().map(|h| key(prefix, *h)).collect();
    let values: Vec<Option<u32>> = redis::cmd("MGET").arg(&keys).query_async(conn).await?;
    Ok(starts
        .into_iter()
        .zip(values)
        .map(|(h, v)| (h, v.unwrap_or(0)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hours_are_truncated() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 59, 59).unwrap();
        assert_eq!(
            hour_start(at),
            Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap()
        );
        assert_eq!(
            key("p", hour_start(at)),
            format!("p:stats:browsers:{}", 1_795_424_400)
        );
    }
}
