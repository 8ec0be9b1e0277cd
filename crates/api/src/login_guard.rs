//! The defences of the two login routes (`POST /api/auth/login/` and the
//! `/login` form), so that a flood of guesses costs the attacker, not the
//! customers:
//!
//! 1. **Per client address, in this process** ([`IP_BURST`] attempts at once,
//!    then one every [`IP_REFILL`]; GCRA via the `governor` crate). The
//!    address is the TCP peer, or the `X-Forwarded-For` client when the peer
//!    is a trusted proxy (`REPORTER_TRUSTED_PROXIES`). IPv6 counts per /64.
//! 2. **Password checks are capped**: at most one argon2 per core runs at
//!    once, on the blocking pool, and at most [`QUEUE_PER_CORE`] per core may
//!    wait for one; beyond that the answer is 503 `login_busy` at once.
//!    A check never holds a database connection: fetch the user, release,
//!    verify, then issue the token.
//! 3. **Per account, across replicas** (Redis): every attempt while the
//!    account is not locked counts; from the [`ACCOUNT_FREE_ATTEMPTS`]th on,
//!    each one locks the account for [`ACCOUNT_BASE_LOCK_MS`] doubled per
//!    further attempt, up to [`ACCOUNT_MAX_LOCK_MS`] (from the attempt's
//!    start, and again from its 401, which carries `Retry-After`). Attempts while locked
//!    are refused (429) without a password check and without counting. A
//!    successful login clears the counter; so does an hour without attempts
//!    ([`ACCOUNT_WINDOW_MS`] after the last lock).
//!
//! Every refusal is 429 (or 503) with `Retry-After`. Redis being down turns
//! only the per-account limit off (logged); the others are in process.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use reporter_core::models::{token, user, User};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;
use crate::state::AppState;

/// Login attempts one client address may make at once.
pub const IP_BURST: u32 = 20;
/// Then one more every 3 s (20 a minute).
pub const IP_REFILL: Duration = Duration::from_secs(3);
/// Attempts on one account before the first lock.
pub const ACCOUNT_FREE_ATTEMPTS: u32 = 5;
/// The first lock (at the 5th attempt); doubles with each further attempt.
pub const ACCOUNT_BASE_LOCK_MS: u64 = 1_000;
/// Longest lock: 15 minutes.
pub const ACCOUNT_MAX_LOCK_MS: u64 = 15 * 60 * 1_000;
/// The counter is forgotten this long after its last lock ends.
pub const ACCOUNT_WINDOW_MS: u64 = 60 * 60 * 1_000;
/// Password checks that may wait for a core, per core.
pub const QUEUE_PER_CORE: usize = 4;
/// `Retry-After` of a 503 `login_busy`.
pub const BUSY_RETRY_SECS: u64 = 1;

/// ARGV[5] = `start`: an attempt on an account begins: refuse it while
/// locked, else count it and, from the free attempts on, lock the account at
/// once (so parallel guesses wait too). `fail`: the attempt's password was
/// wrong: the lock its count earned starts again from now, so the client
/// waits all of it after the answer. Returns {allowed, ms}: ms is the lock
/// still to wait (refused) or the lock set (allowed, `fail`).
const ACCOUNT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n
if ARGV[5] == 'fail' then
  n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
else
  local locked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
  if locked > now then
    return {0, locked - now}
  end
  n = redis.call('HINCRBY', KEYS[1], 'n', 1)
end
local free = tonumber(ARGV[1])
local lock = 0
if n >= free then
  local e = n - free
  if e > 30 then e = 30 end
  lock = math.floor(math.min(tonumber(ARGV[2]) * (2 ^ e), tonumber(ARGV[3])))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
redis.call('PEXPIRE', KEYS[1], lock + tonumber(ARGV[4]))
return {1, lock}
";

/// Per-process state of the login defences; one per [`AppState`].
pub struct LoginGuard {
    ip: DefaultKeyedRateLimiter<IpAddr>,
    ip_checks: AtomicU64,
    /// One permit per core: argon2 runs.
    hashing: Arc<Semaphore>,
    /// Running plus waiting checks.
    admitted: Arc<Semaphore>,
    script: redis::Script,
}

impl Default for LoginGuard {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_cores(cores)
    }
}

impl LoginGuard {
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: burst > 0; refill period > 0"
    )]
    pub fn with_cores(cores: usize) -> Self {
        let cores = cores.max(1);
        let burst = NonZeroU32::new(IP_BURST).expect("burst > 0");
        let quota = Quota::with_period(IP_REFILL)
            .expect("refill period > 0")
            .allow_burst(burst);
        LoginGuard {
            ip: RateLimiter::keyed(quota),
            ip_checks: AtomicU64::new(0),
            hashing: Arc::new(Semaphore::new(cores)),
            admitted: Arc::new(Semaphore::new(cores * (1 + QUEUE_PER_CORE))),
            script: redis::Script::new(ACCOUNT_SCRIPT),
        }
    }

    /// Counts one attempt from `ip`; `Err(seconds to wait)` past the limit.
    fn check_ip(&self, ip: IpAddr) -> Result<(), u64> {
        // Forget idle addresses now and then so the map stays small.
        if self.ip_checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.ip.retain_recent();
        }
        self.ip.check_key(&rate_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_millis().div_ceil(1000).max(1) as u64
        })
    }
}

/// IPv6 clients usually own a whole /64: count them by it.
fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let mut seg = v6.segments();
            seg[4..].fill(0);
            IpAddr::from(seg)
        }
        v4 => v4,
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy;
/// then `X-Forwarded-For` is read from the right, skipping trusted proxies,
/// and the first other address is the client. A malformed entry stops the
/// walk (what was read so far counts).
pub fn client_ip(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    Some(client)
}

/// Redis key of an account's attempt counter: a hash of the normalised
/// email, so no address is stored in Redis.
pub fn account_key(prefix: &str, email: &str) -> String {
    let digest = Sha256::digest(user::normalize_email(email).as_bytes());
    format!("{prefix}:login:account:{}", &hex::encode(digest)[..32])
}

/// `start`: counts an attempt on the account, `Err` (429) while it is
/// locked. `fail`: restarts the lock the count earned; `Ok(Some(seconds))`.
async fn account_attempt(
    state: &AppState,
    key: &str,
    mode: &'static str,
) -> Result<Option<u64>, ApiError> {
    let outcome: redis::RedisResult<(i64, i64)> = async {
        let mut conn = state.redis().await?;
        state
            .login_guard
            .script
            .key(key)
            .arg(ACCOUNT_FREE_ATTEMPTS)
            .arg(ACCOUNT_BASE_LOCK_MS)
            .arg(ACCOUNT_MAX_LOCK_MS)
            .arg(ACCOUNT_WINDOW_MS)
            .arg(mode)
            .invoke_async(&mut conn)
            .await
    }
    .await;
    match outcome {
        Ok((0, ms)) => Err(ApiError::login_locked((ms.max(0) as u64).div_ceil(1000))),
        Ok((_, lock_ms)) if lock_ms > 0 && mode == "fail" => {
            tracing::info!(lock_ms, "login attempts: account locked");
            Ok(Some((lock_ms as u64).div_ceil(1000)))
        }
        Ok(_) => Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "login attempts: Redis unavailable, per-account limit skipped");
            Ok(None)
        }
    }
}

async fn reset_account(state: &AppState, key: &str) {
    let done: redis::RedisResult<()> = async {
        let mut conn = state.redis().await?;
        redis::cmd("DEL").arg(key).query_async(&mut conn).await
    }
    .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, "login attempts: could not reset the account counter");
    }
}

/// Checks email and password behind every defence and, when they match,
/// issues a token named `token_name` expiring at `expires_at`. Errors:
/// 401 `invalid_credentials`, 429 `rate_limited` / `login_locked`, 503
/// `login_busy` (with `Retry-After`), or what the database answers.
pub async fn login(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
    token_name: &'static str,
    expires_at: DateTime<Utc>,
) -> Result<(String, User), ApiError> {
    let guard = &state.login_guard;
    if let Some(ip) = client_ip(req, &state.settings.trusted_proxies) {
        if let Err(secs) = guard.check_ip(ip) {
            tracing::info!(client.ip = %ip, "login refused: too many attempts from this address");
            return Err(ApiError::login_rate_limited(secs));
        }
    }
    let _admitted: OwnedSemaphorePermit = guard
        .admitted
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::login_busy(BUSY_RETRY_SECS))?;
    let key = account_key(&state.settings.redis_prefix, email);
    account_attempt(state, &key, "start").await?;

    // The connection goes back to the pool before the slow part.
    let lookup = email.to_string();
    let found = state
        .db(move |c| Ok(user::find_by_email(c, &lookup)?))
        .await?;
    let ok = {
        let _core = guard
            .hashing
            .acquire()
            .await
            .map_err(|_| ApiError::login_busy(BUSY_RETRY_SECS))?;
        let (ok, found) = actix_web::web::block(move || {
            let ok = token::password_matches(found.as_ref(), &password);
            (ok, found)
        })
        .await?;
        found.filter(|_| ok)
    };
    let Some(u) = ok else {
        let err = ApiError::new(
            actix_web::http::StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Correo o contraseña incorrectos",
        );
        // The 401 says how long the next attempt on this account must wait.
        return Err(match account_attempt(state, &key, "fail").await? {
            Some(secs) => err.with_retry_after(secs),
            None => err,
        });
    };
    reset_account(state, &key).await;
    let uid = u.id;
    let token = state
        .db(move |c| Ok(token::issue(c, uid, token_name, Some(expires_at))?))
        .await?;
    Ok((token, u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = actix_web::test::TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(x) = xff {
            r = r.insert_header(("x-forwarded-for", x));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let trusted = nets(&["127.0.0.0/8", "172.16.0.0/12"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Direct client: its own address, whatever it claims.
        assert_eq!(
            client_ip(&req("203.0.113.9:5000", Some("1.2.3.4")), &trusted),
            Some(ip("203.0.113.9"))
        );
        // Through the proxy: the rightmost address that is not a proxy.
        assert_eq!(
            client_ip(
                &req("172.18.0.5:5000", Some("1.2.3.4, 198.51.100.7")),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_ip(
                &req("127.0.0.1:5000", Some("198.51.100.7, 172.18.0.9")),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        // Proxy without the header, or with garbage: the proxy itself.
        assert_eq!(
            client_ip(&req("127.0.0.1:5000", None), &trusted),
            Some(ip("127.0.0.1"))
        );
        assert_eq!(
            client_ip(&req("127.0.0.1:5000", Some("not-an-ip")), &trusted),
            Some(ip("127.0.0.1"))
        );
        // Nothing trusted: the peer.
        assert_eq!(
            client_ip(&req("127.0.0.1:5000", Some("1.2.3.4")), &[]),
            Some(ip("127.0.0.1"))
        );
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(
            rate_key("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn the_address_limit_refuses_past_the_burst() {
        let g = LoginGuard::with_cores(1);
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        for _ in 0..IP_BURST {
            assert!(g.check_ip(ip).is_ok());
        }
        let wait = g.check_ip(ip).unwrap_err();
        assert!((1..=IP_REFILL.as_secs()).contains(&wait), "{wait}");
        assert!(g.check_ip("198.51.100.2".parse().unwrap()).is_ok());
    }

    #[test]
    fn account_keys_hide_the_email() {
        let k = account_key("p", " Ana@Example.com ");
        assert_eq!(k, account_key("p", "ana@example.com"));
        assert!(!k.contains("ana"));
    }
}
