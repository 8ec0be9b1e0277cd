use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use reporter_core::browser_semaphore::{Holder, SemaphoreError};
use reporter_core::domain::OrderSnapshot;
use reporter_core::jobs::{Dedup, DownloadCompare, Job, ReportRange, RunOrigin};
use reporter_core::models::pipeline;
use reporter_core::models::user;
use reporter_core::progress;
use reporter_core::schedule::business_date as date_of;
use tracing::{info, info_span, warn, Instrument};

use crate::environment::Environment;
use crate::portal::{PortalError, SessionContext};

/// How long a job that found no free browser waits before trying again.
const NO_BROWSER_RETRY: Duration = Duration::from_secs(30);

/// How soon a job that failed on infrastructure (database or Redis) runs
/// again.
const INFRA_RETRY: Duration = Duration::from_secs(5);

pub async fn run(job: DownloadCompare, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let shared: Arc<Environment> = (*env).clone();
    let again = job.clone();
    let guard = {
        let (env, job) = (shared.clone(), job.clone());
        super::dropped::ReplaceIfDropped::new(DownloadCompare::KIND, move || {
            let (env, job) = (env.clone(), job.clone());
            Box::pin(async move { push_in_place(&env, job).await })
        })
    };
    let r = run_once(job, env).await;
    guard.disarm();
    if r.is_ok() {
        return r;
    }
    // The run-user may be left `running` with no job (the sweep only takes
    // `pending` ones): the same attempt goes back to the queue under a key
    // of its own, one job in place of this one. Only if that push fails too
    // does apalis retry this job.
    match push_in_place(&shared, again).await {
        Ok(()) => {
            warn!("download-compare failed on infrastructure; pushed again");
            Ok(())
        }
        Err(e) => {
            warn!(error = %e, "could not push the download-compare again");
            r
        }
    }
}

/// The same attempt again, under a key of its own, in place of this job.
async fn push_in_place(env: &Arc<Environment>, job: DownloadCompare) -> anyhow::Result<()> {
    let key = format!(
        "download-compare:{}:{}:infra:{}",
        job.run_user_id,
        job.attempt,
        chrono::Utc::now().timestamp_micros()
    );
    env.queues
        .push_keyed(job, INFRA_RETRY, Dedup::Key(key))
        .await?;
    Ok(())
}

async fn run_once(job: DownloadCompare, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let ru_id = job.run_user_id;
    let loaded = env
        .db(move |c| pipeline::load_run_user(c, ru_id))
        .await
        .map_err(|e| super::abort("download-compare", e))?;
    let Some((ru, run)) = loaded else {
        warn!(
            run_user.id = ru_id,
            "download-compare for a missing run-user; nothing to do"
        );
        return Ok(());
    };
    let span = info_span!(
        "download_compare",
        run.id = run.id,
        user.id = ru.user_id,
        run_user.id = ru.id,
        attempt = job.attempt
    );
    let key = format!("download-compare:{}", ru.id);
    env.doing(
        &key,
        format!(
            "descargando órdenes del usuario {} (run {})",
            ru.user_id, run.id
        ),
    );
    let r = handle(&env, job, ru, run).instrument(span).await;
    env.done(&key);
    super::count_outcome(DownloadCompare::KIND, r.is_ok());
    r.map_err(|e| super::abort("download-compare", e))
}

async fn handle(
    env: &Arc<Environment>,
    job: DownloadCompare,
    ru: reporter_core::models::RunUser,
    run: reporter_core::models::Run,
) -> anyhow::Result<()> {
    let attempt = job.attempt;
    if !env
        .db(move |c| pipeline::start_download(c, ru.id, attempt))
        .await?
    {
        info!("download-compare already ended; duplicate job ignored");
        return Ok(());
    }
    let uid = ru.user_id;
    let u = env.db(move |c| user::find(c, uid)).await?;
    let creds = u
        .as_ref()
        .map(|u| u.portal_credentials(env.settings.credentials_cipher()));
    let (email, password) = match creds {
        Some(Ok(Some(c))) => c,
        Some(Err(e)) => {
            return fail(
                env,
                &ru,
                run.id,
                progress::invalid_credentials(),
                &e.to_string(),
            )
            .await
        }
        _ => {
            return fail(
                env,
                &ru,
                run.id,
                progress::missing_credentials(),
                "no portal credentials",
            )
            .await
        }
    };

    let holder = Holder::new(env.worker_id.clone(), format!("download-compare:{}", ru.id));
    // SIGTERM ends the wait: the job goes back to the queue for a worker
    // that is staying, without opening a browser here.
    let acquired = tokio::select! {
        r = env.acquire_browser(holder) => Some(r),
        () = env.shutdown_requested() => None,
    };
    let lease = match acquired {
        None => {
            info!("shutting down while waiting for a browser lease: job handed back");
            requeue_same_attempt(env, &ru, attempt).await?;
            return Ok(());
        }
        Some(Ok(l)) => l,
        Some(Err(SemaphoreError::Timeout { waited })) => {
            info!(
                waited_s = waited.as_secs(),
                "no browser free in time; retrying later"
            );
            set_message(env, ru.id, progress::waiting_browser()).await?;
            requeue_same_attempt(env, &ru, attempt).await?;
            return Ok(());
        }
        Some(Err(e)) => return Err(e.into()),
    };
    let ctx = SessionContext {
        run_id: run.id,
        user_id: ru.user_id,
        range_id: None,
        on_browser_starting: env.record_browser_tag_on(&lease),
        on_browser_started: env.record_browser_on(&lease),
        still_held: env.still_held(&lease),
    };
    let export = fetch_export(env, &lease, &email, &password, &ctx).await;
    let _ = lease.release().await;

    match export {
        Ok(rows) => {
            set_message(env, ru.id, progress::comparing()).await?;
            let tz = env.settings.timezone;
            let business_date = run
                .business_date
                .unwrap_or_else(|| date_of(run.scheduled_at, tz));
            // A backfill of a past day downloads today's orders: keep them
            // out of later compares (see store_and_compare).
            let baseline = run.origin != RunOrigin::Backfill.as_str()
                || business_date >= date_of(chrono::Utc::now(), tz);
            let size = env.settings.range_size as usize;
            let ru2 = ru.clone();
            let outcome = env
                .db(move |c| {
                    pipeline::store_and_compare(c, &ru2, business_date, &rows, size, baseline)
                })
                .await?;
            info!(
                batch.id = outcome.batch_id,
                stuck = outcome.stuck,
                ranges = outcome.range_ids.len(),
                baseline = outcome.had_baseline,
                "export stored and compared"
            );
            for id in &outcome.range_ids {
                env.queues.push(ReportRange::new(*id)).await?;
            }
            super::settle_run::finish_if_done(env, run.id).await
        }
        Err(PortalError::InvalidCredentials) => {
            fail(
                env,
                &ru,
                run.id,
                progress::invalid_credentials(),
                "invalid credentials",
            )
            .await
        }
        Err(PortalError::Blocked) => {
            fail(
                env,
                &ru,
                run.id,
                progress::blocked_account(),
                "account blocked",
            )
            .await
        }
        Err(e) if e.is_retryable() && attempt < DownloadCompare::MAX_ATTEMPTS => {
            warn!(error = %e, "download failed; will retry");
            set_message(
                env,
                ru.id,
                progress::retrying(attempt, DownloadCompare::MAX_ATTEMPTS - 1),
            )
            .await?;
            super::count_retry(DownloadCompare::KIND);
            let next = DownloadCompare {
                run_user_id: ru.id,
                attempt: attempt + 1,
            };
            env.queues
                .push_after(next, Duration::from_secs(env.settings.download_retry_secs))
                .await?;
            let id = ru.id;
            env.db(move |c| pipeline::download_back_to_pending(c, id))
                .await?;
            Ok(())
        }
        Err(e) => {
            fail(
                env,
                &ru,
                run.id,
                progress::download_failed(),
                &e.to_string(),
            )
            .await
        }
    }
}

/// Logs in, records the browser session on the lease, downloads; always
/// closes the session.
async fn fetch_export(
    env: &Arc<Environment>,
    lease: &reporter_core::browser_semaphore::HeldLease,
    email: &str,
    password: &str,
    ctx: &SessionContext,
) -> Result<Vec<OrderSnapshot>, PortalError> {
    lease
        .ensure_held()
        .map_err(|e| PortalError::Transient(e.to_string()))?;
    let mut session = env.portal.login(email, password, ctx).await?;
    if let Some(id) = session.webdriver_session() {
        let _ = lease.set_webdriver_session(&id).await;
    }
    let result = match lease.ensure_held() {
        Ok(()) => session.export().await,
        Err(e) => Err(PortalError::Transient(e.to_string())),
    };
    session.close().await;
    result
}

async fn set_message(env: &Arc<Environment>, ru: i64, msg: String) -> anyhow::Result<()> {
    env.db(move |c| pipeline::set_message(c, ru, &msg)).await?;
    Ok(())
}

/// The same attempt back to the queue in `NO_BROWSER_RETRY` (no browser
/// lease in time, or shutting down while waiting for one): not a retry, so
/// the attempt number stays.
async fn requeue_same_attempt(
    env: &Arc<Environment>,
    ru: &reporter_core::models::RunUser,
    attempt: u32,
) -> anyhow::Result<()> {
    let id = ru.id;
    env.db(move |c| pipeline::download_back_to_pending(c, id))
        .await?;
    // No key: this very job used the attempt's own key, so the same
    // attempt goes back as a new job.
    let job = DownloadCompare {
        run_user_id: id,
        attempt,
    };
    env.queues
        .push_keyed(job, NO_BROWSER_RETRY, Dedup::None)
        .await?;
    Ok(())
}

async fn fail(
    env: &Arc<Environment>,
    ru: &reporter_core::models::RunUser,
    run_id: i64,
    msg: String,
    error: &str,
) -> anyhow::Result<()> {
    warn!(error, "download-compare failed for good");
    let (id, error) = (ru.id, error.to_string());
    env.db(move |c| pipeline::fail_run_user(c, id, &msg, &error))
        .await?;
    super::settle_run::finish_if_done(env, run_id).await
}
