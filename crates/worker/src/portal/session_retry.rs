//! The retry policy of a portal session, shared by the browser adapter and
//! the HTTP driver so both put the same load on a portal: a transient
//! failure is tried again a few times with a short backoff, a session sent
//! back to the login page logs in again once, and nothing is retried once
//! the browser lease is lost.

use std::future::Future;
use std::time::Duration;

use tracing::{debug, info};

use super::{PortalError, StillHeld};

/// How a step of a session failed.
pub(super) enum Step {
    Portal(PortalError),
    /// The portal sent the session to the login page: it expired.
    LoggedOut,
}

impl From<PortalError> for Step {
    fn from(e: PortalError) -> Self {
        Step::Portal(e)
    }
}

pub(super) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * u64::from(attempt))
}

/// Runs `f` until it succeeds, fails for good or has had `attempts`; a
/// retry is made only while `held` (the browser lease is still ours).
pub(super) async fn retry<T, F, Fut>(
    attempts: u32,
    what: &str,
    held: &StillHeld,
    mut f: F,
) -> Result<T, PortalError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PortalError>>,
{
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if e.is_retryable() && attempt < attempts => {
                debug!(what, attempt, error = %e, "retrying");
                tokio::time::sleep(backoff(attempt)).await;
                held.ensure(what)?;
                attempt += 1;
            }
            r => return r,
        }
    }
}

/// Runs `step` with retries of transient failures while the lease is held,
/// logging in again once (with `relogin`) if the portal sent the session
/// back to the login page.
pub(super) async fn with_session<T, F, Fut, L, LFut>(
    what: &str,
    attempts: u32,
    held: &StillHeld,
    mut step: F,
    relogin: L,
) -> Result<T, PortalError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Step>>,
    L: Fn() -> LFut,
    LFut: Future<Output = Result<(), PortalError>>,
{
    let mut relogged = false;
    let mut attempt = 1;
    loop {
        match step().await {
            Ok(v) => return Ok(v),
            Err(Step::LoggedOut) if !relogged => {
                held.ensure(what)?;
                info!(what, "portal session expired; logging in again");
                relogged = true;
                relogin().await?;
            }
            Err(Step::LoggedOut) => {
                return Err(PortalError::Transient(format!(
                    "{what}: sent back to the login page right after logging in again"
                )))
            }
            Err(Step::Portal(e)) if e.is_retryable() && attempt < attempts => {
                debug!(what, attempt, error = %e, "retrying");
                tokio::time::sleep(backoff(attempt)).await;
                held.ensure(what)?;
                attempt += 1;
            }
            Err(Step::Portal(e)) => return Err(e),
        }
    }
}
