//! The heartbeat that keeps a lease alive while its holder drives the browser.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{BrowserSemaphore, Lease, SemaphoreError};

/// A lease plus the background task renewing it every `lease_ttl / 3`.
///
/// Dropping it stops the heartbeat and releases the lease in the background
/// (if a tokio runtime is still there; otherwise the lease simply expires).
/// Prefer [`release`](Self::release) to learn whether the lease was still ours.
pub struct HeldLease {
    semaphore: BrowserSemaphore,
    lease: Lease,
    state: Arc<State>,
    task: JoinHandle<()>,
    released: bool,
}

impl std::fmt::Debug for HeldLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldLease")
            .field("lease", &self.lease)
            .field("lost", &self.is_lost())
            .finish()
    }
}

impl HeldLease {
    pub(super) fn start(semaphore: BrowserSemaphore, lease: Lease) -> Self {
        let (lost, _) = watch::channel(false);
        let state = Arc::new(State {
            lost,
            valid_until: Mutex::new(lease.valid_until),
        });
        let task = tokio::spawn(heartbeat(semaphore.clone(), lease.clone(), state.clone()));
        HeldLease {
            semaphore,
            lease,
            state,
            task,
            released: false,
        }
    }

    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    pub fn id(&self) -> &str {
        self.lease.id()
    }

    /// Cheap (no Redis call). True once a renewal was refused, or once the
    /// last confirmed renewal is older than the lease TTL, which also covers
    /// a process that was paused (SIGSTOP) past its expiry: it sees the loss
    /// before its heartbeat task even runs again. Never goes back to false.
    pub fn is_lost(&self) -> bool {
        self.state.is_lost()
    }

    /// A cheap, cloneable view of [`Self::is_lost`] for code that must stop
    /// once the lease is gone but does not own it (the browser adapter).
    pub fn watch(&self) -> LeaseWatch {
        LeaseWatch(self.state.clone())
    }

    /// For `?` before every portal action.
    pub fn ensure_held(&self) -> Result<(), SemaphoreError> {
        if self.is_lost() {
            return Err(SemaphoreError::LeaseLost {
                lease_id: self.lease.id().to_string(),
            });
        }
        Ok(())
    }

    /// Changes to `true` when the heartbeat gives the lease up, so long
    /// browser steps can be abandoned mid-way with `tokio::select!`.
    pub fn lost_signal(&self) -> watch::Receiver<bool> {
        self.state.lost.subscribe()
    }

    /// Resolves once the lease is lost.
    pub async fn lost(&self) {
        let mut signal = self.lost_signal();
        // The sender lives in `self.state`, so it cannot close while we wait.
        let _ = signal.wait_for(|lost| *lost).await;
    }

    /// See [`BrowserSemaphore::set_webdriver_session`]; a `false` here also
    /// marks the lease lost.
    pub async fn set_webdriver_session(&self, session_id: &str) -> Result<bool, SemaphoreError> {
        let stored = self
            .semaphore
            .set_webdriver_session(&self.lease, session_id)
            .await?;
        if !stored {
            self.state.mark_lost();
        }
        Ok(stored)
    }

    /// See [`BrowserSemaphore::set_browser_tag`]; a `false` here also marks
    /// the lease lost.
    pub async fn set_browser_tag(&self, tag: &str) -> Result<bool, SemaphoreError> {
        let stored = self.semaphore.set_browser_tag(&self.lease, tag).await?;
        if !stored {
            self.state.mark_lost();
        }
        Ok(stored)
    }

    /// Stops the heartbeat and frees the place; `false` if the lease had
    /// already expired.
    pub async fn release(mut self) -> Result<bool, SemaphoreError> {
        self.task.abort();
        self.released = true;
        self.semaphore.release_id(self.lease.id()).await
    }
}

impl Drop for HeldLease {
    fn drop(&mut self) {
        self.task.abort();
        if self.released {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let semaphore = self.semaphore.clone();
            let lease_id = self.lease.id().to_string();
            runtime.spawn(async move {
                if let Err(e) = semaphore.release_id(&lease_id).await {
                    tracing::warn!(lease_id, error = %e, "could not release dropped browser lease; it will expire");
                }
            });
        }
    }
}

/// See [`HeldLease::watch`].
#[derive(Clone)]
pub struct LeaseWatch(Arc<State>);

impl LeaseWatch {
    pub fn is_lost(&self) -> bool {
        self.0.is_lost()
    }
}

struct State {
    lost: watch::Sender<bool>,
    /// Local, conservative end of the lease: the last confirmed renewal's
    /// send time plus the TTL. Redis counted from later, so we give up first.
    valid_until: Mutex<Instant>,
}

impl State {
    fn is_lost(&self) -> bool {
        if *self.lost.borrow() {
            return true;
        }
        if Instant::now() >= self.valid_until() {
            self.mark_lost();
            return true;
        }
        false
    }

    fn mark_lost(&self) {
        self.lost.send_replace(true);
    }

    fn valid_until(&self) -> Instant {
        *self
            .valid_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn extend(&self, until: Instant) {
        let mut valid_until = self
            .valid_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *valid_until = (*valid_until).max(until);
    }
}

enum Renewal {
    Extended(Instant),
    /// Redis could not be asked; worth retrying while the lease may still live.
    Failed(SemaphoreError),
    Lost(&'static str),
}

async fn heartbeat(semaphore: BrowserSemaphore, lease: Lease, state: Arc<State>) {
    let every = semaphore.lease_ttl() / 3;
    let mut delay = every;
    loop {
        // Waking at the deadline at the latest makes `lost_signal` fire on
        // time even while Redis is unreachable.
        let wake = (Instant::now() + delay).min(state.valid_until());
        tokio::time::sleep_until(wake.into()).await;
        match renew_before(&semaphore, &lease, state.valid_until()).await {
            Renewal::Extended(until) => {
                state.extend(until);
                delay = every;
            }
            Renewal::Failed(e) => {
                tracing::warn!(lease_id = lease.id(), error = %e, "browser lease renewal failed; retrying");
                delay = retry_delay(every);
            }
            Renewal::Lost(reason) => {
                state.mark_lost();
                tracing::error!(
                    lease_id = lease.id(),
                    worker = lease.holder().worker,
                    job = lease.holder().job,
                    reason,
                    "browser lease lost; the browser must be closed"
                );
                return;
            }
        }
    }
}

/// A renewal still unanswered at the deadline is treated as lost: even if it
/// lands later, we could not have known in time that the lease was ours.
async fn renew_before(semaphore: &BrowserSemaphore, lease: &Lease, deadline: Instant) -> Renewal {
    let sent = Instant::now();
    if sent >= deadline {
        return Renewal::Lost("lease expired before it could be renewed");
    }
    match tokio::time::timeout_at(deadline.into(), semaphore.renew(lease)).await {
        Ok(Ok(true)) => Renewal::Extended(sent + semaphore.lease_ttl()),
        Ok(Ok(false)) => Renewal::Lost("lease expired or was removed"),
        Ok(Err(e)) => Renewal::Failed(e),
        Err(_) => Renewal::Lost("lease expired while its renewal was unanswered"),
    }
}

/// Retries sooner than the normal beat so one failed call does not eat most
/// of the remaining lease.
fn retry_delay(every: Duration) -> Duration {
    (every / 4).max(Duration::from_millis(10))
}
