//! `advance-day`: determinism per seed and what changes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod common;

use common::*;
use serde_json::{json, Value};

/// Every account's `/_sim/export` after `days` calls of advance-day.
async fn exports_after(seed: u64, days: usize) -> Vec<Value> {
    let sim = start(config(seed)).await;
    for _ in 0..days {
        sim_post(&sim, "/_sim/advance-day", json!({})).await;
    }
    let mut out = vec![sim_get(&sim, "/_sim/state").await];
    for n in 1..=2 {
        out.push(sim_get(&sim, &format!("/_sim/export/cliente{n}@portal.test")).await);
    }
    out
}

#[tokio::test]
async fn same_seed_same_data_after_advancing() {
    let a = exports_after(11, 3).await;
    let b = exports_after(11, 3).await;
    assert_eq!(a, b);
    assert_eq!(a[0]["day"], "2025-03-13");
}

#[tokio::test]
async fn different_seeds_differ() {
    assert_ne!(exports_after(11, 0).await, exports_after(12, 0).await);
    assert_ne!(
        exports_after(11, 2).await[1..],
        exports_after(12, 2).await[1..]
    );
}

#[tokio::test]
async fn advancing_moves_some_orders_and_leaves_others_stuck() {
    let mut cfg = config(21);
    cfg.orders_per_account = 40;
    let sim = start(cfg).await;
    let before = sim_get(&sim, "/_sim/export/cliente1@portal.test").await;
    let state = sim_post(&sim, "/_sim/advance-day", json!({}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(state["day"], "2025-03-11");
    let after = sim_get(&sim, "/_sim/export/cliente1@portal.test").await;

    let (mut moved, mut stuck) = (0, 0);
    for old in before.as_array().unwrap() {
        let new = after
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == old["id"])
            .unwrap();
        let terminal =
            ["ENTREGADO", "DEVUELTO", "CANCELADO"].contains(&old["status"].as_str().unwrap());
        if terminal {
            assert_eq!(new, old, "terminal orders never change");
        } else if new["status"] == old["status"] {
            stuck += 1;
        } else {
            moved += 1;
            if new["status"] != "CANCELADO" {
                assert_ne!(new["carrier"], "", "a shipped order has a carrier: {new}");
            }
        }
    }
    assert!(moved > 0 && stuck > 0, "moved {moved}, stuck {stuck}");
}
