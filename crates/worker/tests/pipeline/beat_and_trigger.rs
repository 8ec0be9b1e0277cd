use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::harness::*;

fn runs(p: &Pipeline) -> i64 {
    reporter_core::schema::reporter_runs::table
        .count()
        .get_result(&mut p.db.connect())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_beats_and_a_manual_trigger_for_the_same_hour_make_exactly_one_run() {
    // Catch-up over the whole hour: each beat enqueues the current hour at start.
    let mut p = Pipeline::new(&[], &[("REPORTER_BEAT_CATCHUP_MINUTES", "60")]).await;
    p.start_worker();
    let beat_bin =
        env!("CARGO_MANIFEST_DIR").replace("crates/worker", "target/debug/reporter-beat");
    let ctl_bin = env!("CARGO_MANIFEST_DIR").replace("crates/worker", "target/debug/reporterctl");
    if !std::path::Path::new(&beat_bin).exists() || !std::path::Path::new(&ctl_bin).exists() {
        panic!("build the workspace binaries first (scripts/test.sh does): {beat_bin}");
    }
    let mut beats: Vec<_> = (0..2)
        .map(|_| {
            p.command(&beat_bin)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let out = p.command(&ctl_bin).arg("trigger-slot").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let start = Instant::now();
    while runs(&p) == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "no run created");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give duplicates every chance to appear.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(runs(&p), 1);
    for b in &mut beats {
        let _ = b.kill();
        let _ = b.wait();
    }
    // The beat recorded its tick for the health check.
    let mut r = p.redis.clone();
    let tick: Option<i64> =
        redis::AsyncCommands::get(&mut r, format!("{}:beat:last_tick", p.prefix))
            .await
            .unwrap();
    assert!(tick.is_some());
}
