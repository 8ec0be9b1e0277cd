//! A scripted portal for scheduler tests and benchmarks, shared by every
//! worker process through Redis so separate processes (and the test that
//! kills them) see one portal: its accounts, its day, its reports ledger
//! and a count of concurrently open sessions.
//!
//! Orders are generated: account `i` (0-based, in config order) has orders
//! `(i + 1) * 1_000_000 + k` for `k` in `1..=orders`. Order `k` is stuck
//! every day when `k % stuck_every == 0`; otherwise it is delivered
//! (`k % 7 == 1`) or moves to another status every day.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use reporter_core::domain::OrderSnapshot;
use reporter_core::models::pipeline::StuckOrder;
use serde::{Deserialize, Serialize};

use super::{OrderCheck, Portal, PortalError, PortalSession, ReportReceipt, SessionContext};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FakeAccount {
    pub email: String,
    pub password: String,
    pub orders: u32,
    pub stuck_every: u32,
    #[serde(default)]
    pub blocked: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FakeConfig {
    pub accounts: Vec<FakeAccount>,
    #[serde(default)]
    pub login_delay_ms: u64,
    #[serde(default)]
    pub export_delay_ms: u64,
    /// Time the portal takes per order: opening the order's page (the view
    /// before submit) takes this long, the fake's own bookkeeping included;
    /// the filing itself answers at once.
    #[serde(default)]
    pub report_delay_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeStats {
    pub logins: u64,
    pub open_sessions: i64,
    pub max_open_sessions: i64,
    pub reports: u64,
    pub duplicate_reports: u64,
}

#[derive(Clone)]
pub struct FakePortal {
    conn: ConnectionManager,
    prefix: String,
}

const ACTIVE: &str = "EN_TRANSITO";
const MOVING: [&str; 3] = ["GUIA_GENERADA", "EN_TRANSITO", "EN_REPARTO"];

/// The export of account `index` on `day`.
pub fn generate_export(index: usize, account: &FakeAccount, day: i64) -> Vec<OrderSnapshot> {
    (1..=account.orders as i64)
        .map(|k| {
            let status = if k % i64::from(account.stuck_every.max(1)) == 0 {
                ACTIVE
            } else if k % 7 == 1 {
                "ENTREGADO"
            } else {
                MOVING[((k + day) % 3) as usize]
            };
            OrderSnapshot {
                order_id: (index as i64 + 1) * 1_000_000 + k,
                order_date: format!("2026-10-{:02}", 1 + k % 28),
                status: status.to_string(),
                carrier: "Servientrega".into(),
                tracking_number: format!("SV{k:08}"),
                customer: format!("Cliente {k}"),
                city: "Bogotá".into(),
                total: Some(10_000.0 + k as f64),
            }
        })
        .collect()
}

/// The orders that are stuck from the second day on.
pub fn expected_stuck(index: usize, account: &FakeAccount) -> Vec<i64> {
    (1..=account.orders as i64)
        .filter(|k| k % i64::from(account.stuck_every.max(1)) == 0)
        .map(|k| (index as i64 + 1) * 1_000_000 + k)
        .collect()
}

impl FakePortal {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        FakePortal {
            conn,
            prefix: format!("{prefix}:fake"),
        }
    }

    fn key(&self, k: &str) -> String {
        format!("{}:{k}", self.prefix)
    }

    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: a struct of strings and numbers always serializes to JSON"
    )]
    pub async fn configure(&self, cfg: &FakeConfig) -> redis::RedisResult<()> {
        let mut c = self.conn.clone();
        c.set::<_, _, ()>(
            self.key("config"),
            serde_json::to_string(cfg).expect("serializable"),
        )
        .await
    }

    async fn config(&self) -> Result<FakeConfig, PortalError> {
        let mut c = self.conn.clone();
        let raw: Option<String> = c.get(self.key("config")).await.map_err(transient)?;
        Ok(raw
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default())
    }

    pub async fn set_day(&self, day: i64) -> redis::RedisResult<()> {
        let mut c = self.conn.clone();
        c.set(self.key("day"), day).await
    }

    async fn day(&self) -> Result<i64, PortalError> {
        let mut c = self.conn.clone();
        let d: Option<i64> = c.get(self.key("day")).await.map_err(transient)?;
        Ok(d.unwrap_or(0))
    }

    /// The next `n` calls of `op` (`login`, `export`, `report`) for `email`
    /// fail with a transient error.
    pub async fn fail_next(&self, op: &str, email: &str, n: u32) -> redis::RedisResult<()> {
        let mut c = self.conn.clone();
        c.set(self.key(&format!("fail:{op}:{email}")), n).await
    }

    async fn scripted_failure(&self, op: &str, email: &str) -> Result<(), PortalError> {
        let mut c = self.conn.clone();
        let key = self.key(&format!("fail:{op}:{email}"));
        // DECR only while positive, atomically.
        let left: i64 = redis::Script::new(
            "local v = tonumber(redis.call('GET', KEYS[1]) or '0')
             if v > 0 then redis.call('DECR', KEYS[1]) end
             return v",
        )
        .key(&key)
        .invoke_async(&mut c)
        .await
        .map_err(transient)?;
        if left > 0 {
            Err(PortalError::Transient(format!("scripted {op} failure")))
        } else {
            Ok(())
        }
    }

    pub async fn stats(&self) -> redis::RedisResult<FakeStats> {
        let mut c = self.conn.clone();
        let get = |k: &str| self.key(k);
        let (logins, open, max, reports, dups): (
            Option<u64>,
            i64,
            Option<i64>,
            Option<u64>,
            Option<u64>,
        ) = redis::pipe()
            .get(get("logins"))
            .scard(get("sessions"))
            .get(get("max_open"))
            .get(get("report_count"))
            .get(get("duplicates"))
            .query_async(&mut c)
            .await?;
        Ok(FakeStats {
            logins: logins.unwrap_or(0),
            open_sessions: open,
            max_open_sessions: max.unwrap_or(0),
            reports: reports.unwrap_or(0),
            duplicate_reports: dups.unwrap_or(0),
        })
    }

    /// Every (account email, order id, day) reported, with how many times.
    /// Order pages checked by shadow runs (`check_order`).
    pub async fn checks(&self) -> redis::RedisResult<u64> {
        let mut c = self.conn.clone();
        let n: Option<u64> = c.get(self.key("checks")).await?;
        Ok(n.unwrap_or(0))
    }

    pub async fn reports(&self) -> redis::RedisResult<BTreeMap<String, u64>> {
        let mut c = self.conn.clone();
        c.hgetall(self.key("reports")).await
    }
}

fn transient(e: redis::RedisError) -> PortalError {
    PortalError::Transient(format!("fake portal store: {e}"))
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        sleep_until(Instant::now() + Duration::from_millis(ms)).await;
    }
}

/// The portal's time, kept with the operating system's timer on a blocking
/// thread: tokio's timer rounds every sleep up past the next millisecond (a
/// 10 ms sleep takes about 11.1 ms), which would make the fake portal ~11%
/// slower than configured and blur what benchmarks measure against it.
async fn sleep_until(deadline: Instant) {
    if deadline > Instant::now() {
        let _ = tokio::task::spawn_blocking(move || {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()))
        })
        .await;
    }
}

#[async_trait]
impl Portal for FakePortal {
    async fn login(
        &self,
        email: &str,
        password: &str,
        _ctx: &SessionContext,
    ) -> Result<Box<dyn PortalSession>, PortalError> {
        let cfg = self.config().await?;
        sleep_ms(cfg.login_delay_ms).await;
        self.scripted_failure("login", email).await?;
        let (index, account) = cfg
            .accounts
            .iter()
            .enumerate()
            .find(|(_, a)| a.email.eq_ignore_ascii_case(email))
            .ok_or(PortalError::InvalidCredentials)?;
        if account.blocked {
            return Err(PortalError::Blocked);
        }
        if account.password != password {
            return Err(PortalError::InvalidCredentials);
        }
        let mut c = self.conn.clone();
        let session_id = format!("fake-{:016x}", rand::random::<u64>());
        let _: i64 = redis::Script::new(
            "redis.call('SADD', KEYS[1], ARGV[1])
             local n = redis.call('SCARD', KEYS[1])
             redis.call('INCR', KEYS[3])
             local m = tonumber(redis.call('GET', KEYS[2]) or '0')
             if n > m then redis.call('SET', KEYS[2], n) end
             return n",
        )
        .key(self.key("sessions"))
        .key(self.key("max_open"))
        .key(self.key("logins"))
        .arg(&session_id)
        .invoke_async(&mut c)
        .await
        .map_err(transient)?;
        Ok(Box::new(FakeSession {
            portal: self.clone(),
            index,
            account: account.clone(),
            cfg,
            session_id,
            opened: None,
        }))
    }

    async fn discard_session(&self, session_id: &str) {
        let mut c = self.conn.clone();
        let _: Result<i64, _> = c.srem(self.key("sessions"), session_id).await;
    }
}

struct FakeSession {
    portal: FakePortal,
    index: usize,
    account: FakeAccount,
    cfg: FakeConfig,
    session_id: String,
    /// The order whose page is open and showed no report yet.
    opened: Option<i64>,
}

impl FakeSession {
    fn ledger_member(&self, order: &StuckOrder) -> String {
        format!("{}|{}", self.account.email, order.order_id)
    }
}

#[async_trait]
impl PortalSession for FakeSession {
    fn webdriver_session(&self) -> Option<String> {
        Some(self.session_id.clone())
    }

    async fn export(&mut self) -> Result<Vec<OrderSnapshot>, PortalError> {
        sleep_ms(self.cfg.export_delay_ms).await;
        self.portal
            .scripted_failure("export", &self.account.email)
            .await?;
        let day = self.portal.day().await?;
        Ok(generate_export(self.index, &self.account, day))
    }

    /// The view before submit, like the browser adapter's: the order's page
    /// shows an existing report of the portal day, and then nothing is filed.
    async fn open_order(
        &mut self,
        order: &StuckOrder,
    ) -> Result<Option<ReportReceipt>, PortalError> {
        let started = Instant::now();
        self.opened = None;
        let mut c = self.portal.conn.clone();
        let (n, day): (i64, i64) = redis::Script::new(
            "local day = tonumber(redis.call('GET', KEYS[2]) or '0')
             local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. '|' .. day) or '0')
             return {n, day}",
        )
        .key(self.portal.key("reports"))
        .key(self.portal.key("day"))
        .arg(self.ledger_member(order))
        .invoke_async(&mut c)
        .await
        .map_err(transient)?;
        sleep_until(started + Duration::from_millis(self.cfg.report_delay_ms)).await;
        if n > 0 {
            return Ok(Some(ReportReceipt {
                ticket: format!("FK-{}-{day}", order.order_id),
                already_reported: true,
            }));
        }
        self.opened = Some(order.order_id);
        Ok(None)
    }

    /// Files the report. Opens the order's page first unless
    /// [`open_order`](PortalSession::open_order) just did.
    async fn report(&mut self, order: &StuckOrder) -> Result<ReportReceipt, PortalError> {
        if self.opened != Some(order.order_id) {
            if let Some(receipt) = self.open_order(order).await? {
                return Ok(receipt);
            }
        }
        self.opened = None;
        let mut c = self.portal.conn.clone();
        // Scripted failure, the portal day and the ledger in one round trip,
        // so the fake adds little to what benchmarks measure. A filing of an
        // order already filed that day counts as a duplicate.
        let (n, day): (i64, i64) = redis::Script::new(
            "local left = tonumber(redis.call('GET', KEYS[4]) or '0')
             if left > 0 then redis.call('DECR', KEYS[4]) return {-1, 0} end
             local day = tonumber(redis.call('GET', KEYS[5]) or '0')
             local n = redis.call('HINCRBY', KEYS[1], ARGV[1] .. '|' .. day, 1)
             redis.call('INCR', KEYS[2])
             if n > 1 then redis.call('INCR', KEYS[3]) end
             return {n, day}",
        )
        .key(self.portal.key("reports"))
        .key(self.portal.key("report_count"))
        .key(self.portal.key("duplicates"))
        .key(
            self.portal
                .key(&format!("fail:report:{}", self.account.email)),
        )
        .key(self.portal.key("day"))
        .arg(self.ledger_member(order))
        .invoke_async(&mut c)
        .await
        .map_err(transient)?;
        if n < 0 {
            return Err(PortalError::Transient("scripted report failure".into()));
        }
        Ok(ReportReceipt {
            ticket: format!("FK-{}-{day}", order.order_id),
            already_reported: n > 1,
        })
    }

    /// Opens the order's page like [`open_order`](PortalSession::open_order)
    /// and counts the check (`checks`); files nothing.
    async fn check_order(&mut self, order: &StuckOrder) -> Result<OrderCheck, PortalError> {
        let opened = self.open_order(order).await?;
        self.opened = None;
        let mut c = self.portal.conn.clone();
        let _: i64 = c
            .incr(self.portal.key("checks"), 1)
            .await
            .map_err(transient)?;
        Ok(match opened {
            Some(r) => OrderCheck::AlreadyReported { ticket: r.ticket },
            None => OrderCheck::WouldReport,
        })
    }

    async fn close(self: Box<Self>) {
        self.portal.discard_session(&self.session_id).await;
    }

    /// The export with every column of the built-in profile.
    async fn inspect_export(&mut self) -> Result<super::inspection::ExportInspection, PortalError> {
        let orders = self.export().await?;
        let profile = super::webdriver::Profile::portal_sim().export;
        Ok(super::inspection::ExportInspection {
            sheet: profile.sheet.clone(),
            headers: profile
                .columns
                .fields()
                .iter()
                .map(|(_, text)| text.to_string())
                .collect(),
            orders,
            parse_error: None,
        })
    }
}
