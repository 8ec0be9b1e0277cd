//! A job whose future is dropped before it ends. apalis drops the jobs in
//! flight when its worker stream dies (a Redis poll error ends the stream;
//! the runner starts it again), and a dropped report-range leaves its range
//! `processing`, a dropped download-compare its run-user `running`, with no
//! job left to finish them (found by the soak: the range waited for beat's
//! hourly sweep). The guard pushes a replacement from a task of its own.

use std::time::Duration;

use futures::future::BoxFuture;
use tracing::{error, warn};

type Push = Box<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// How long the replacement push is retried: the failure that dropped the
/// job is usually Redis going away, and the push needs it back.
const PUSH_FOR: Duration = Duration::from_secs(600);

pub(crate) struct ReplaceIfDropped {
    job: &'static str,
    push: Option<Push>,
}

impl ReplaceIfDropped {
    pub(crate) fn new(
        job: &'static str,
        push: impl Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync + 'static,
    ) -> Self {
        ReplaceIfDropped {
            job,
            push: Some(Box::new(push)),
        }
    }

    /// The job ended (well or not) and took care of its own follow-up.
    pub(crate) fn disarm(mut self) {
        self.push = None;
    }
}

impl Drop for ReplaceIfDropped {
    fn drop(&mut self) {
        let Some(push) = self.push.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let job = self.job;
        warn!(
            job,
            "job dropped before it ended (its worker stream stopped); pushing a replacement"
        );
        runtime.spawn(async move {
            let started = tokio::time::Instant::now();
            let mut wait = Duration::from_millis(250);
            loop {
                match push().await {
                    Ok(()) => return,
                    Err(e) if started.elapsed() >= PUSH_FOR => {
                        error!(job, error = %e, "could not push the replacement of a dropped job; beat's sweep will find its work");
                        return;
                    }
                    Err(_) => {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    fn counting(fails: u32) -> (Arc<AtomicU32>, ReplaceIfDropped) {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let guard = ReplaceIfDropped::new("test", move || {
            let c = c.clone();
            Box::pin(async move {
                let n = c.fetch_add(1, Ordering::SeqCst);
                if n < fails {
                    anyhow::bail!("Redis is still down")
                }
                Ok(())
            })
        });
        (calls, guard)
    }

    #[tokio::test]
    async fn a_dropped_job_is_replaced_once_retrying_until_the_push_lands() {
        let (calls, guard) = counting(2);
        let job = tokio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        job.abort();
        let _ = job.await;
        for _ in 0..100 {
            if calls.load(Ordering::SeqCst) == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "two failed pushes, then one that lands"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "nothing pushed after it landed"
        );
    }

    #[tokio::test]
    async fn a_job_that_ended_pushes_nothing() {
        let (calls, guard) = counting(0);
        guard.disarm();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
