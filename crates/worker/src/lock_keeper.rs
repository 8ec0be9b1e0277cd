//! Keeps a range lock alive while its range is being reported, and says at
//! once (no Redis call) when it was lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use reporter_core::range_lock::{RangeLock, RangeLocks};

pub struct KeptLock {
    pub lock: RangeLock,
    lost: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl KeptLock {
    pub fn keep(locks: RangeLocks, lock: RangeLock) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let every = locks.ttl() / 3;
        let (l2, lost2) = (lock.clone(), lost.clone());
        let task = tokio::spawn(async move {
            let mut last_ok = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(every).await;
                match locks.renew(&l2).await {
                    Ok(true) => last_ok = tokio::time::Instant::now(),
                    Ok(false) => break,
                    // A Redis hiccup: keep trying until the lock must have expired.
                    Err(_) if last_ok.elapsed() < locks.ttl() => continue,
                    Err(_) => break,
                }
            }
            lost2.store(true, Ordering::SeqCst);
        });
        KeptLock { lock, lost, task }
    }

    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub async fn release(self, locks: &RangeLocks) {
        self.task.abort();
        let _ = locks.release(self.lock.clone()).await;
    }
}

/// A job dropped mid-range (apalis drops the jobs in flight when its worker
/// stream dies) must not leave the renewal running: the lock would never
/// expire and no replacement could take the range (found by the soak). The
/// lock then expires within its TTL.
impl Drop for KeptLock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reporter_core::range_lock::RangeLocks;

    use super::*;

    #[tokio::test]
    async fn a_dropped_keeper_stops_renewing_and_the_lock_expires() {
        let conn = reporter_core::redis_conn::connect(&test_support::redis_url())
            .await
            .unwrap();
        let prefix = test_support::unique_prefix();
        let locks = RangeLocks::new(conn, &prefix, Duration::from_millis(600));
        let lock = locks.try_lock(7, "w1").await.unwrap().expect("free");
        let kept = KeptLock::keep(locks.clone(), lock);
        // Kept past several TTLs while held.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(locks.try_lock(7, "w2").await.unwrap().is_none());
        drop(kept);
        // Free once its TTL runs out (a renewal still running would keep it
        // taken for as long as we look).
        let start = tokio::time::Instant::now();
        while locks.try_lock(7, "w2").await.unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the lock outlived its dropped keeper"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
