//! Range locks and their fencing tokens against a real Redis (`TEST_REDIS_URL`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use std::time::Duration;

use common::{
    connect, delete_prefix, eventually, redis_time_ms, unique_prefix, until_redis_time_passes,
};
use reporter_core::range_lock::RangeLocks;
use tokio::task::JoinSet;

/// Bounds broken tests only; never a speed expectation.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_concurrent_try_lock_wins() {
    let prefix = unique_prefix();
    let conns = [connect().await, connect().await];
    let mut tasks = JoinSet::new();
    for i in 0..30 {
        let locks = RangeLocks::new(conns[i % 2].clone(), &prefix, Duration::from_secs(30));
        tasks.spawn(async move { locks.try_lock(7, &format!("worker-{i}")).await.unwrap() });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        winners.extend(joined.unwrap());
    }

    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(winners[0].fence, 1);
    let locks = RangeLocks::new(conns[0].clone(), &prefix, Duration::from_secs(30));
    assert_eq!(
        locks.current_fence(7).await.unwrap(),
        Some(1),
        "failed attempts draw no fence"
    );
    let holder = locks.holder(7).await.unwrap().expect("range is held");
    assert_eq!(
        (holder.owner.as_str(), holder.fence),
        (winners[0].owner.as_str(), 1)
    );
    delete_prefix(&conns[0], &prefix).await;
}

#[tokio::test]
async fn fence_increases_with_every_acquisition() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let locks = RangeLocks::new(conn.clone(), &prefix, Duration::from_secs(30));
    let mut last = 0;
    for round in 0..5 {
        let lock = locks
            .try_lock(1, &format!("owner-{round}"))
            .await
            .unwrap()
            .expect("range is free");
        assert!(lock.fence() > last, "fence {} after {last}", lock.fence);
        assert!(locks.try_lock(1, "intruder").await.unwrap().is_none());
        last = lock.fence;
        assert!(locks.release(lock).await.unwrap());
    }
    assert_eq!(locks.current_fence(1).await.unwrap(), Some(last));
    let other = locks.try_lock(2, "owner").await.unwrap().unwrap();
    assert_eq!(other.fence, 1, "fences are per range");
    assert_eq!(locks.current_fence(3).await.unwrap(), None);
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn stale_owner_cannot_touch_the_new_owners_lock() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let locks = RangeLocks::new(conn.clone(), &prefix, Duration::from_millis(500));
    let stale = locks.try_lock(42, "paused-worker").await.unwrap().unwrap();

    let fresh = eventually(PATIENCE, "the expired range to be taken", || async {
        locks.try_lock(42, "second-worker").await.unwrap()
    })
    .await;

    assert!(fresh.fence > stale.fence);
    assert!(!locks.is_held(&stale).await.unwrap());
    assert!(!locks.renew(&stale).await.unwrap());
    assert!(!locks.release(stale.clone()).await.unwrap());
    assert!(
        locks.is_held(&fresh).await.unwrap(),
        "stale renew/release left the new lock alone"
    );
    let holder = locks.holder(42).await.unwrap().unwrap();
    assert_eq!(
        (holder.owner.as_str(), holder.fence),
        ("second-worker", fresh.fence)
    );
    assert!(holder.expires_in.is_some_and(|left| left <= locks.ttl()));
    assert!(locks.renew(&fresh).await.unwrap());
    assert!(locks.release(fresh).await.unwrap());
    assert_eq!(locks.holder(42).await.unwrap(), None);
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn same_owner_reacquiring_is_a_different_lock() {
    let prefix = unique_prefix();
    let conn = connect().await;
    let locks = RangeLocks::new(conn.clone(), &prefix, Duration::from_millis(500));
    let old = locks.try_lock(9, "worker-1").await.unwrap().unwrap();
    let new = eventually(PATIENCE, "the expired range to be retaken", || async {
        locks.try_lock(9, "worker-1").await.unwrap()
    })
    .await;

    assert!(new.fence > old.fence);
    assert!(!locks.renew(&old).await.unwrap());
    assert!(!locks.release(old).await.unwrap());
    assert!(locks.is_held(&new).await.unwrap());
    delete_prefix(&conn, &prefix).await;
}

#[tokio::test]
async fn renewal_keeps_the_range_beyond_its_ttl() {
    let prefix = unique_prefix();
    let conn = connect().await;
    // Renewing every 200 ms leaves a wide margin for a busy machine.
    let ttl = Duration::from_secs(3);
    let locks = RangeLocks::new(conn.clone(), &prefix, ttl);
    let lock = locks.try_lock(5, "worker").await.unwrap().unwrap();
    let well_past_ttl = redis_time_ms(&conn).await + 2 * i64::try_from(ttl.as_millis()).unwrap();

    let renewer = {
        let (locks, lock) = (locks.clone(), lock.clone());
        tokio::spawn(async move {
            loop {
                assert!(locks.renew(&lock).await.unwrap(), "lock lost while renewed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    until_redis_time_passes(&conn, well_past_ttl).await;
    assert!(
        !renewer.is_finished(),
        "renewer failed: {:?}",
        renewer.await
    );
    renewer.abort();

    assert!(locks.is_held(&lock).await.unwrap());
    assert!(locks.try_lock(5, "other").await.unwrap().is_none());
    assert!(locks.release(lock).await.unwrap());
    delete_prefix(&conn, &prefix).await;
}
