//! report-range: take a browser lease, take the heaviest ready range, report
//! its orders that have no report yet (each recorded as it is filed), then
//! complete it. Every write is fenced by the range lock's token, and the
//! lease and lock are checked before every portal action, so a paused or
//! dead holder can never report over a live one.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use chrono::Utc;
use reporter_core::browser_semaphore::{HeldLease, Holder, SemaphoreError};
use reporter_core::jobs::ReportRange;
use reporter_core::models::pipeline::{self, LedgerWrite, Released, TakenRange};
use reporter_core::models::user;
use reporter_core::progress;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::environment::Environment;
use crate::lock_keeper::KeptLock;
use crate::portal::{PortalError, PortalSession, ReportReceipt, SessionContext};

/// How soon a job that found nothing to take looks again while ranges are
/// still open (held by others, or waiting for their retry time).
const RECHECK: Duration = Duration::from_secs(5);
const CANDIDATES: i64 = 25;

pub async fn run(job: ReportRange, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let env: Arc<Environment> = (*env).clone();
    let key = format!("report-range:{}:{}", job.range_id, job.push);
    let guard = {
        let (env, job) = (env.clone(), job.clone());
        super::dropped::ReplaceIfDropped::new(ReportRange::KIND, move || {
            let (env, job) = (env.clone(), job.clone());
            Box::pin(async move { hand_back(&env, &job, RECHECK).await })
        })
    };
    let r = handle(&env, &job, &key).await;
    guard.disarm();
    env.done(&key);
    super::count_outcome(ReportRange::KIND, r.is_ok());
    let Err(e) = r else { return Ok(()) };
    let e = super::abort("report-range", e);
    // A database or Redis error may strike anywhere in the job, leaving the
    // range it held (or would have taken) without a job: one replacement
    // takes this one's place (surplus jobs find nothing and end). Only if
    // that push fails too does apalis retry this job.
    match hand_back(&env, &job, RECHECK).await {
        Ok(()) => Ok(()),
        Err(push) => {
            warn!(error = %push, "could not push a replacement report-range job");
            Err(e)
        }
    }
}

async fn handle(env: &Arc<Environment>, job: &ReportRange, key: &str) -> anyhow::Result<()> {
    if env.shutting_down() {
        return hand_back(env, job, Duration::ZERO).await;
    }
    if env
        .db(|c| pipeline::range_candidates(c, 1))
        .await?
        .is_empty()
    {
        return recheck_later(env, job).await;
    }
    let holder = Holder::new(env.worker_id.clone(), key.to_string());
    // SIGTERM ends the wait: a worker being replaced must not open a browser
    // only to hand its range back.
    let acquired = tokio::select! {
        r = env.acquire_browser(holder) => Some(r),
        () = env.shutdown_requested() => None,
    };
    let lease = match acquired {
        None => {
            info!("shutting down while waiting for a browser lease: job handed back");
            return hand_back(env, job, Duration::ZERO).await;
        }
        Some(Ok(l)) => l,
        Some(Err(SemaphoreError::Timeout { .. })) => {
            return hand_back(env, job, Duration::from_secs(30)).await
        }
        Some(Err(e)) => return Err(e.into()),
    };
    if env.shutting_down() {
        let _ = lease.release().await;
        return hand_back(env, job, Duration::ZERO).await;
    }
    let Some((taken, lock)) = take_heaviest(env).await? else {
        let _ = lease.release().await;
        return recheck_later(env, job).await;
    };
    env.doing(
        key,
        format!(
            "reportando órdenes {}–{} (rango {})",
            taken.range_start, taken.range_end, taken.range_id
        ),
    );
    let span = info_span!(
        "report_range",
        run.id = taken.run_id,
        user.id = taken.user_id,
        range.id = taken.range_id,
        range.start = taken.range_start,
        range.end = taken.range_end,
        fence = lock.lock.fence
    );
    let range_started = std::time::Instant::now();
    let outcome = report(env, &lease, &lock, &taken)
        .instrument(span.clone())
        .await;
    metrics::histogram!("reporter_range_duration_seconds")
        .record(range_started.elapsed().as_secs_f64());
    lock.release(&env.range_locks).await;
    let _ = lease.release().await;
    async {
        if let Err(e) = outcome {
            // A database or Redis error mid-range leaves it `processing`
            // with no job: a replacement takes it over (with a newer fence).
            // The run cannot be finished while this range is open; the
            // replacement finishes it, so this job ends here (a failure of
            // its own past this point would push a second replacement).
            warn!(error = %e, "range ended with an error; a replacement job will take it over");
            return replace_job(env, &taken).await;
        }
        crate::jobs::settle_run::finish_if_done(env, taken.run_id).await
    }
    .instrument(span)
    .await
}

/// Tries the candidates in priority order: the first whose Redis lock we get
/// and whose row accepts our fence is ours.
async fn take_heaviest(env: &Arc<Environment>) -> anyhow::Result<Option<(TakenRange, KeptLock)>> {
    let candidates = env
        .db(|c| pipeline::range_candidates(c, CANDIDATES))
        .await?;
    for cand in candidates {
        let Some(lock) = env
            .range_locks
            .try_lock(cand.range_id, &env.worker_id)
            .await?
        else {
            continue;
        };
        let (id, fence, worker) = (cand.range_id, lock.fence, env.worker_id.clone());
        match env
            .db(move |c| pipeline::take_range(c, id, fence, &worker))
            .await?
        {
            Some(t) => return Ok(Some((t, KeptLock::keep(env.range_locks.clone(), lock)))),
            None => {
                let _ = env.range_locks.release(lock).await;
            }
        }
    }
    Ok(None)
}

enum Stop {
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

async fn report(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
) -> anyhow::Result<()> {
    let fence = lock.lock.fence;
    let (rid, uid) = (t.range_id, t.user_id);
    if !env
        .db(move |c| pipeline::mark_processing(c, rid, fence))
        .await?
    {
        info!("range taken over before it started; abandoning");
        return Ok(());
    }
    let msg = progress::reporting(t.range_start, t.range_end, t.total_pending_orders);
    let ru = t.run_user_id;
    env.db(move |c| pipeline::set_message(c, ru, &msg)).await?;

    let t2 = t.clone();
    let orders = env.db(move |c| pipeline::orders_to_report(c, &t2)).await?;
    debug!(to_report = orders.len(), "orders without a report yet");
    let stop = if orders.is_empty() {
        Stop::Finished
    } else {
        let u = env.db(move |c| user::find(c, uid)).await?;
        let creds = u.and_then(|u| {
            u.portal_credentials(env.settings.credentials_cipher())
                .ok()
                .flatten()
        });
        match creds {
            None => Stop::Failed {
                error: PortalError::InvalidCredentials,
                progressed: false,
            },
            Some((email, password)) => {
                report_orders(env, lease, lock, t, &orders, &email, &password).await?
            }
        }
    };

    match stop {
        Stop::Finished => {
            let t2 = t.clone();
            match env
                .db(move |c| pipeline::complete_range(c, &t2, fence))
                .await?
            {
                Some((done, total)) => {
                    info!(ranges_done = done, ranges_total = total, "range completed")
                }
                None => info!("range completion refused by fence; another holder owns it"),
            }
        }
        Stop::HandBack => {
            let t2 = t.clone();
            pipeline_release(env, t2, fence, None, false).await?;
            info!("shutting down: range handed back");
            env.queues
                .push_report_range(
                    ReportRange {
                        range_id: t.range_id,
                        push: 1000 + t.attempts as u32,
                    },
                    Duration::ZERO,
                )
                .await?;
        }
        Stop::Abandon(why) => {
            warn!(why, "abandoning range");
            replace_job(env, t).await?;
        }
        Stop::Failed {
            error: e,
            progressed,
        } => {
            let permanent = !e.is_retryable();
            let t2 = t.clone();
            let status =
                pipeline_release(env, t2, fence, Some((e.to_string(), permanent)), progressed)
                    .await?;
            warn!(error = %e, status = ?status, takes = t.attempts, progressed, "range attempt failed");
            let delay = match status {
                Some(Released::Pending) => Some(Duration::from_secs(env.settings.range_retry_secs)),
                Some(Released::LastChance(due)) => {
                    info!(%due, "retry budget spent: one more chance before the hour ends");
                    Some((due - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                }
                Some(Released::Failed) | None => None,
            };
            if let Some(delay) = delay {
                super::count_retry(ReportRange::KIND);
                env.queues
                    .push_report_range(
                        ReportRange {
                            range_id: t.range_id,
                            push: t.attempts as u32,
                        },
                        delay,
                    )
                    .await?;
            }
        }
    }
    Ok(())
}

/// A job that leaves its range unfinished without handing it back pushes a
/// replacement: whoever owns the range now may die too, and a range must
/// never be left without a job that will look at it again.
async fn replace_job(env: &Arc<Environment>, t: &TakenRange) -> anyhow::Result<()> {
    env.queues
        .push_report_range(
            ReportRange {
                range_id: t.range_id,
                push: 2000 + t.attempts as u32,
            },
            RECHECK,
        )
        .await?;
    Ok(())
}

async fn pipeline_release(
    env: &Arc<Environment>,
    t: TakenRange,
    fence: i64,
    error: Option<(String, bool)>,
    progressed: bool,
) -> anyhow::Result<Option<Released>> {
    let retry_at = Utc::now()
        + chrono::Duration::seconds(if error.is_some() {
            env.settings.range_retry_secs as i64
        } else {
            0
        });
    let retry_secs = env.settings.range_retry_secs;
    let status = env
        .db(move |c| {
            let (msg, permanent) = match &error {
                Some((m, p)) => (Some(m.as_str()), *p),
                None => (None, false),
            };
            // A permanent error gives up at once; a transient one after the
            // budget of failures without progress.
            let (max, last_chance) = if permanent {
                (0, None)
            } else {
                let scheduled_at = pipeline::run_scheduled_at(c, t.run_id)?;
                let chance = pipeline::last_chance_at(scheduled_at, retry_at, retry_secs);
                (ReportRange::MAX_ATTEMPTS, Some(chance))
            };
            pipeline::release_range(c, &t, fence, msg, progressed, retry_at, max, last_chance)
        })
        .await?;
    Ok(status)
}

/// Reports the orders in one logged-in session. Each order's page is opened
/// while the previous order's ledger row is written, and nothing is filed
/// before that write came back recorded under our fence: the same guarantee
/// as writing each row before touching the next order, without waiting for
/// the database on the portal's time.
#[allow(clippy::too_many_arguments)]
async fn report_orders(
    env: &Arc<Environment>,
    lease: &HeldLease,
    lock: &KeptLock,
    t: &TakenRange,
    orders: &[pipeline::StuckOrder],
    email: &str,
    password: &str,
) -> anyhow::Result<Stop> {
    if let Some(stop) = still_ours(lease, lock) {
        return Ok(stop);
    }
    let ctx = SessionContext {
        run_id: t.run_id,
        user_id: t.user_id,
        range_id: Some(t.range_id),
        on_browser_starting: env.record_browser_tag_on(lease),
        on_browser_started: env.record_browser_on(lease),
        still_held: env.still_held(lease),
    };
    let mut session = match env.portal.login(email, password, &ctx).await {
        Ok(s) => s,
        Err(e) => {
            // A login cut short because the lease was lost is not a failure.
            return Ok(still_ours(lease, lock).unwrap_or(Stop::Failed {
                error: e,
                progressed: false,
            }));
        }
    };
    if let Some(id) = session.webdriver_session() {
        let _ = lease.set_webdriver_session(&id).await;
    }
    let result = report_in_session(env, lease, lock, t, orders, session.as_mut()).await;
    // Also after a database error: the browser never outlives the job.
    session.close().await;
    result
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
fn still_ours(lease: &HeldLease, lock: &KeptLock) -> Option<Stop> {
    if lease.is_lost() {
        Some(Stop::Abandon("browser lease lost"))
    } else if lock.is_lost() {
        Some(Stop::Abandon("range lock lost"))
    } else {
        None
    }
}

async fn hand_back(
    env: &Arc<Environment>,
    job: &ReportRange,
    delay: Duration,
) -> anyhow::Result<()> {
    env.queues
        .push_report_range(
            ReportRange {
                range_id: job.range_id,
                push: job.push + 1,
            },
            delay,
        )
        .await?;
    Ok(())
}

/// Nothing to take now: if ranges are still open (held by others, or
/// waiting for their retry time), look again later; else this job is done.
async fn recheck_later(env: &Arc<Environment>, job: &ReportRange) -> anyhow::Result<()> {
    let open = env.db(pipeline::unfinished_ranges).await?;
    if open > 0 {
        let due = env.db(pipeline::next_due).await?;
        let wait = due
            .map(|d| {
                (d - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .max(Duration::from_millis(200))
            })
            .unwrap_or(RECHECK)
            .min(RECHECK);
        hand_back(env, job, wait).await?;
    }
    Ok(())
}
