//! The semaphore's Lua scripts. Every decision about time is made here with
//! Redis `TIME`, so workers whose clocks disagree still agree on who holds a place.
//!
//! Keys, in this order wherever a script takes them:
//! `KEYS[1]` the leases ZSET (member = lease id, score = expiry in ms),
//! `KEYS[2]` the holders HASH (lease id -> holder JSON),
//! `KEYS[3]` the reaped LIST (records of expired leases not yet handed out),
//! `KEYS[4]` the orphans ZSET (browser tags to sweep, score = keep until, ms).

use std::sync::LazyLock;

use redis::Script;

/// Keeps the reaped list bounded when no worker ever drains it; the oldest
/// records go first because their WebDriver sessions are the likeliest to be
/// gone already (Grid's own session timeout).
const REAPED_CAP: u32 = 10_000;

/// Shared helpers. Numbers are formatted with `%d` because Lua 5.1 turns a
/// number into text with only 14 significant digits, too few for epoch ms.
const PRELUDE: &str = r#"
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function purge(leases, holders, reaped, now, cap)
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'WITHSCORES')
  for i = 1, #expired, 2 do
    local id = expired[i]
    local holder = redis.call('HGET', holders, id)
    redis.call('RPUSH', reaped, '{"lease_id":' .. cjson.encode(id)
      .. ',"expires_at_ms":' .. string.format('%d', tonumber(expired[i + 1]))
      .. ',"holder":' .. (holder or 'null') .. '}')
    redis.call('HDEL', holders, id)
  end
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
    redis.call('LTRIM', reaped, -cap, -1)
  end
end

local function live_score(leases, id, now)
  local score = redis.call('ZSCORE', leases, id)
  if score and tonumber(score) > now then return tonumber(score) end
  return nil
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!(
        "{PRELUDE}\nlocal REAPED_CAP = {REAPED_CAP}\n{body}"
    ))
}

/// ARGV: limit, ttl_ms, lease_id, holder_json.
/// Returns `{1, expires_at_ms}` when granted, `{0, now_ms}` when full.
pub(super) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
purge(KEYS[1], KEYS[2], KEYS[3], now, REAPED_CAP)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return {0, now} end
local expires = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], expires, ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return {1, expires}
"#,
    )
});

/// ARGV: lease_id, ttl_ms. Returns the new expiry in ms, or 0 when the lease
/// is gone or already expired: an expired lease is never revived, because
/// another worker may have been counted into its place meanwhile.
pub(super) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
if not live_score(KEYS[1], ARGV[1], now) then return 0 end
local expires = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[1])
return expires
"#,
    )
});

/// ARGV: lease_id. Returns 1 when the lease is live.
pub(super) static IS_HELD: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if live_score(KEYS[1], ARGV[1], now_ms()) then return 1 end
return 0
"#,
    )
});

/// ARGV: lease_id, field, value. Sets one field of the holder record (the
/// others, e.g. a browser tag set before the session id, are kept). Only a
/// live lease may be updated, otherwise a holder entry without a lease would
/// be left behind for nobody to purge.
pub(super) static SET_HOLDER_FIELD: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if not live_score(KEYS[1], ARGV[1], now_ms()) then return 0 end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
record[ARGV[2]] = ARGV[3]
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
return 1
"#,
    )
});

/// KEYS[3] here is the notify LIST. ARGV: lease_id, limit, notify_ttl_ms.
/// Removes the lease whatever its state (the holder is alive and answers for
/// its own browser) and returns 1 if it was still live. A removed lease
/// pushes one wake-up token for a waiter blocked on the notify list; the
/// list keeps at most `limit` tokens and expires when nobody takes them.
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local live = live_score(KEYS[1], ARGV[1], now_ms())
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 1 then
  redis.call('LPUSH', KEYS[3], '1')
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
if live then return 1 end
return 0
"#,
    )
});

/// ARGV: orphan_keep_ms. Purges, then hands out and clears every reaped
/// record at once, so each record reaches exactly one caller. A record whose
/// holder tagged its browser but never recorded a session id (killed while
/// the browser was starting) also leaves its tag in the orphans ZSET for
/// `orphan_keep_ms`, in the same step: every reaper sweeps that set, so the
/// session is found even if it appears later or this caller dies.
pub(super) static REAP: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
purge(KEYS[1], KEYS[2], KEYS[3], now, REAPED_CAP)
local records = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
local keep_until = now + tonumber(ARGV[1])
for _, raw in ipairs(records) do
  local ok, r = pcall(cjson.decode, raw)
  if ok and type(r) == 'table' and type(r.holder) == 'table'
      and type(r.holder.browser_tag) == 'string'
      and type(r.holder.webdriver_session) ~= 'string' then
    redis.call('ZADD', KEYS[4], keep_until, r.holder.browser_tag)
  end
end
return records
"#,
    )
});

/// KEYS[1] here is the orphans ZSET. Drops tags kept past their time and
/// returns the others.
pub(super) static ORPHAN_TAGS: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms())
return redis.call('ZRANGE', KEYS[1], 0, -1)
"#,
    )
});

/// Live leases as flat triples: id, expires_at_ms, holder JSON ('' if missing).
/// Read-only, so listing holders never changes what it lists.
pub(super) static SNAPSHOT: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local now = now_ms()
local live = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf', 'WITHSCORES')
local out = {}
for i = 1, #live, 2 do
  out[#out + 1] = live[i]
  out[#out + 1] = string.format('%d', tonumber(live[i + 1]))
  out[#out + 1] = redis.call('HGET', KEYS[2], live[i]) or ''
end
return out
"#,
    )
});

/// Number of live leases (expired but not yet purged ones do not count).
pub(super) static IN_USE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
return redis.call('ZCOUNT', KEYS[1], string.format('(%d', now_ms()), '+inf')
"#,
    )
});
