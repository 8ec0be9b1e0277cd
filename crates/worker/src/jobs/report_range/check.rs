//! The shadow loop: one portal session checks the range's orders (their
//! pages and report forms), recording each in the shadow table under our
//! fence, and files nothing. A range of a shadow part goes through the same
//! lease, lock, fence, retries and settlement as a live one; only the
//! portal call and the table differ.

use std::sync::Arc;
use std::time::Duration;

use reporter_core::browser_semaphore::HeldLease;
use reporter_core::models::pipeline::{self, LedgerWrite, ShadowOutcome, TakenRange};
use tracing::warn;

use super::orders::{log_in, still_ours, Stop};
use crate::environment::Environment;
use crate::lock_keeper::KeptLock;
use crate::portal::{OrderCheck, PortalError, PortalSession};

/// Retries of a transient error on one order, in the session (1 s, 2 s, 4 s).
const IN_SESSION_RETRIES: u32 = 3;

/// Checks `orders` in one logged-in session.
#[allow(clippy::too_many_arguments)]
pub(super) async fn check_orders(
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
    let result = check_in_session(env, lease, lock, t, orders, session.as_mut()).await;
    session.close().await;
    result
}

async fn check_in_session(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
    orders: &[pipeline::StuckOrder],
    session: &mut dyn PortalSession,
) -> anyhow::Result<Stop> {
    let fence = lock.lock.fence;
    let mut progressed = false;
    for order in orders {
        if env.shutting_down() {
            return Ok(Stop::HandBack);
        }
        let checked = match check_one(env, lease, lock, session, order).await {
            Ok(c) => c,
            Err(Stop::Failed { error, .. }) => {
                return Ok(Stop::Failed { error, progressed });
            }
            Err(stop) => return Ok(stop),
        };
        let (outcome, ticket) = match checked {
            OrderCheck::WouldReport => (ShadowOutcome::WouldReport, String::new()),
            OrderCheck::AlreadyReported { ticket } => (ShadowOutcome::AlreadyReported, ticket),
        };
        metrics::counter!("reporter_orders_checked_total", "outcome" => outcome.as_str())
            .increment(1);
        let (t2, order2) = (t.clone(), order.clone());
        let written = env
            .db(move |c| pipeline::record_check(c, &t2, fence, &order2, outcome, &ticket))
            .await?;
        if written == LedgerWrite::Fenced {
            return Ok(Stop::Abandon("fenced write refused"));
        }
        progressed = true;
    }
    Ok(Stop::Finished)
}

/// One order's check, with in-session retries of transient errors; the
/// lease and lock are checked before every portal call.
async fn check_one(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    session: &mut dyn PortalSession,
    order: &pipeline::StuckOrder,
) -> Result<OrderCheck, Stop> {
    let mut tries = 0;
    loop {
        if let Some(s) = still_ours(lease, lock) {
            return Err(s);
        }
        let e: PortalError = match session.check_order(order).await {
            Ok(c) => return Ok(c),
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
        warn!(error = %e, order.id = order.order_id, try_ = tries, "portal error; checking the order again in the same session");
        tokio::time::sleep(Duration::from_secs(1 << (tries - 1))).await;
    }
}
