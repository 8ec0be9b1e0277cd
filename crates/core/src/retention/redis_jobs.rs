//! The Redis half of the pruner: apalis-redis keeps every finished job's
//! payload (`{queue}:data`), its metadata (`{queue}:meta:<id>`) and its id
//! in `{queue}:done` forever. Finished jobs older than the retention go, a
//! bounded `HSCAN` page per script call so Redis is never blocked for long;
//! jobs still waiting, scheduled, in flight or dead are never touched.
//! Idempotency keys expire by themselves (7 days, `jobs::storage`).

use redis::aio::ConnectionManager;

use crate::jobs::{queue_name, ALL_KINDS};

/// KEYS: data hash, meta prefix, done set. ARGV: cutoff (unix seconds),
/// cursor, page size, dry run (1/0). Returns {next cursor, finished jobs
/// older than the cutoff on this page (deleted unless dry run)}.
const PRUNE_PAGE: &str = r#"
local page = redis.call('HSCAN', KEYS[1], ARGV[2], 'COUNT', ARGV[3])
local cutoff = tonumber(ARGV[1])
local n = 0
local fields = page[2]
for i = 1, #fields, 2 do
  local id = fields[i]
  local meta = KEYS[2] .. ':' .. id
  local status = redis.call('HGET', meta, 'status')
  local done_at = tonumber(redis.call('HGET', meta, 'done_at') or '')
  if status == 'Done' and done_at and done_at <= cutoff then
    n = n + 1
    if ARGV[4] ~= '1' then
      redis.call('HDEL', KEYS[1], id)
      redis.call('HDEL', KEYS[2] .. ':result', id)
      redis.call('DEL', meta)
      redis.call('SREM', KEYS[3], id)
    end
  end
end
return {page[1], n}
"#;

/// Deletes (or counts, with `dry_run`) finished jobs whose run ended more
/// than `days` ago, per queue kind.
pub async fn prune_finished_jobs(
    conn: &mut ConnectionManager,
    prefix: &str,
    days: i64,
    page: i64,
    dry_run: bool,
) -> redis::RedisResult<Vec<(&'static str, u64)>> {
    let (now, _): (i64, i64) = redis::cmd("TIME").query_async(conn).await?;
    let cutoff = now - days * 24 * 3600;
    let script = redis::Script::new(PRUNE_PAGE);
    let mut out = Vec::new();
    for kind in ALL_KINDS {
        let q = queue_name(prefix, kind);
        let mut cursor = "0".to_string();
        let mut total = 0u64;
        loop {
            let (next, n): (String, u64) = script
                .key(format!("{q}:data"))
                .key(format!("{q}:meta"))
                .key(format!("{q}:done"))
                .arg(cutoff)
                .arg(&cursor)
                .arg(page.max(1))
                .arg(if dry_run { "1" } else { "0" })
                .invoke_async(conn)
                .await?;
            total += n;
            if next == "0" {
                break;
            }
            cursor = next;
        }
        out.push((kind, total));
    }
    Ok(out)
}
