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
        let _ = locks.release(self.lock).await;
    }
}
