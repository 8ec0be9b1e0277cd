//! The per-order loop: one portal session reports the range's orders, each
//! filed only once the previous one's ledger row is recorded under our
//! fence, and says why it stopped ([`Stop`]).

use std::sync::Arc;
use std::time::Duration;

use reporter_core::browser_semaphore::HeldLease;
use reporter_core::models::pipeline::{self, LedgerWrite, TakenRange};
use tracing::warn;

use crate::environment::Environment;
use crate::lock_keeper::KeptLock;
use crate::portal::{PortalError, PortalSession, ReportReceipt, SessionContext};

/// Why reporting a range stopped; `requeue::after_stop` acts on it.
pub(super) enum Stop {
    Finished,
    /// SIGTERM: the current order is done, the rest goes back to the queue.
    HandBack,
    /// Lease or lock lost, or a fenced write refused: another holder owns it.
    Abandon(&'static str),
    /// A portal error that in-session retries did not cure; `progressed`:
    /// this attempt reported at least one order first.
    Failed {
        error: PortalError,
        progressed: bool,
    },
}

/// Reports the orders in one logged-in session. Each order's page is opened
/// while the previous order's ledger row is written, and nothing is filed
/// before that write came back recorded under our fence: the same guarantee
/// as writing each row before touching the next order, without waiting for
/// the database on the portal's time.
#[allow(clippy::too_many_arguments)]
pub(super) async fn report_orders(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
    orders: &[pipeline::StuckOrder],
    email: &str,
    password: &str,
) -> anyhow::Result<Stop> {
    let mut session = match log_in(env, lease, lock, t, email, password).await {
        Ok(s) => s,
        Err(stop) => return Ok(stop),
    };
    let result = report_in_session(env, lease, lock, t, orders, session.as_mut()).await;
    // Also after a database error: the browser never outlives the job.
    session.close().await;
    result
}

/// The range's portal session (its browser recorded on the lease), or why
/// not: a login cut short because the lease or lock was lost is not a
/// failure.
pub(super) async fn log_in(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
    email: &str,
    password: &str,
) -> Result<Box<dyn PortalSession>, Stop> {
    if let Some(stop) = still_ours(lease, lock) {
        return Err(stop);
    }
    let ctx = SessionContext {
        run_id: t.run_id,
        user_id: t.user_id,
        range_id: Some(t.range_id),
        on_browser_starting: env.record_browser_tag_on(lease),
        on_browser_started: env.record_browser_on(lease),
        still_held: env.still_held(lease),
    };
    let session = env.portal.login(email, password, &ctx).await.map_err(|e| {
        still_ours(lease, lock).unwrap_or(Stop::Failed {
            error: e,
            progressed: false,
        })
    })?;
    if let Some(id) = session.webdriver_session() {
        let _ = lease.set_webdriver_session(&id).await;
    }
    Ok(session)
}

/// A filed report whose ledger row is not written yet.
type Filed = (pipeline::StuckOrder, ReportReceipt);

async fn report_in_session(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
    orders: &[pipeline::StuckOrder],
    session: &mut dyn PortalSession,
) -> anyhow::Result<Stop> {
    let fence = lock.lock.fence;
    let mut unrecorded: Option<Filed> = None;
    let mut stop = Stop::Finished;
    let mut progressed = false;
    for order in orders {
        if env.shutting_down() {
            stop = Stop::HandBack;
            break;
        }
        if let Some(s) = still_ours(lease, lock) {
            stop = s;
            break;
        }
        let started = std::time::Instant::now();
        let (opened, written) = tokio::join!(
            session.open_order(order),
            record(env, t, fence, unrecorded.take())
        );
        if written? == LedgerWrite::Fenced {
            stop = Stop::Abandon("fenced write refused");
            break;
        }
        let receipt = match file_order(env, lease, lock, session, order, opened).await {
            Ok(r) => r,
            Err(s) => {
                stop = s;
                break;
            }
        };
        metrics::histogram!("reporter_order_report_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        metrics::counter!("reporter_orders_reported_total", "already_reported" => if receipt.already_reported { "true" } else { "false" })
            .increment(1);
        unrecorded = Some((order.clone(), receipt));
        progressed = true;
    }
    if let Stop::Failed { progressed: p, .. } = &mut stop {
        *p = progressed;
    }
    // Whatever stopped us, a filed report is recorded before anything else
    // happens to the range (the fence still decides whether it may be).
    if record(env, t, fence, unrecorded.take()).await? == LedgerWrite::Fenced
        && matches!(stop, Stop::Finished | Stop::HandBack)
    {
        stop = Stop::Abandon("fenced write refused");
    }
    Ok(stop)
}

/// How often a transient portal error is retried on the same order, in the
/// same session, before the attempt fails (1 s, 2 s, 4 s apart).
const IN_SESSION_RETRIES: u32 = 3;

/// Files one order whose page `opened` shows: the receipt (new, or the one
/// already on the page), or why to stop. Transient errors are retried in
/// the same session with backoff, re-opening the order (whose page shows a
/// report that did go through, so nothing is filed twice); the lease and
/// lock are checked before every portal call, and an error while either is
/// lost is an abandon, not a failure (another holder owns the range).
async fn file_order(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    session: &mut dyn PortalSession,
    order: &pipeline::StuckOrder,
    opened: Result<Option<ReportReceipt>, PortalError>,
) -> Result<ReportReceipt, Stop> {
    let mut opened = opened;
    let mut tries = 0;
    loop {
        let filed = match opened {
            Ok(Some(already)) => Ok(already),
            Ok(None) => {
                if let Some(s) = still_ours(lease, lock) {
                    return Err(s);
                }
                session.report(order).await
            }
            Err(e) => Err(e),
        };
        let e = match filed {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        if let Some(s) = still_ours(lease, lock) {
            return Err(s);
        }
        if !e.is_retryable() || tries >= IN_SESSION_RETRIES || env.shutting_down() {
            return Err(Stop::Failed {
                error: e,
                progressed: false,
            });
        }
        tries += 1;
        warn!(error = %e, order.id = order.order_id, try_ = tries, "portal error; retrying the order in the same session");
        tokio::time::sleep(Duration::from_secs(1 << (tries - 1))).await;
        if let Some(s) = still_ours(lease, lock) {
            return Err(s);
        }
        opened = session.open_order(order).await;
    }
}

/// Writes the ledger row of a filed report, fenced; nothing to write is
/// `Recorded`.
async fn record(
    env: &Arc<Environment>,
    t: &TakenRange,
    fence: i64,
    filed: Option<Filed>,
) -> anyhow::Result<LedgerWrite> {
    let Some((order, receipt)) = filed else {
        return Ok(LedgerWrite::Recorded);
    };
    let t = t.clone();
    let write = env
        .db(move |c| {
            pipeline::record_report(
                c,
                &t,
                fence,
                &order,
                &receipt.ticket,
                receipt.already_reported,
            )
        })
        .await?;
    Ok(write)
}

/// Checked before every portal action: a lease or lock that is no longer
/// ours means someone else may be working on this range now.
pub(super) fn still_ours(lease: &HeldLease, lock: &KeptLock) -> Option<Stop> {
    if lease.is_lost() {
        Some(Stop::Abandon("browser lease lost"))
    } else if lock.is_lost() {
        Some(Stop::Abandon("range lock lost"))
    } else {
        None
    }
}
