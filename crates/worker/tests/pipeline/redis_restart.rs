//! Redis restarted mid-run (with its append-only file, as production runs
//! it): workers reconnect and the run completes, every order filed once.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

pub(crate) struct PrivateRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl PrivateRedis {
    pub(crate) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("reporter-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = PrivateRedis {
            port,
            dir,
            child: None,
        };
        r.spawn();
        r
    }

    pub(crate) fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "private redis did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM: Redis flushes its append-only file and exits.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }

    /// Stops Redis, then it comes back after `down_for`.
    fn restart(&mut self, down_for: Duration) {
        self.stop();
        std::thread::sleep(down_for);
        self.spawn();
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_mid_run_workers_reconnect_and_the_run_completes() {
    let mut redis = PrivateRedis::start();
    let mut p = Pipeline::with_redis(&[(600, 2, true), (400, 2, true)], &[], &redis.url()).await;
    let mut cfg = p.config.clone();
    cfg.report_delay_ms = 10;
    p.fake.configure(&cfg).await.unwrap();
    p.start_worker();
    p.start_worker();
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    p.wait_for_reports(50).await;
    redis.restart(Duration::from_secs(2));
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed"
    );
    // The test's own connection broke too; its first call after the restart
    // fails, then it reconnects.
    let start = Instant::now();
    while p.fake.stats().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "test connection did not recover"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every stuck order filed exactly once, nothing else. The fake portal
    // lives in the same Redis, so a report filed just as Redis went down can
    // lose its answer; the worker then retries the range, and the order's
    // page (the view before submit, as in the browser adapter) shows the
    // report already there, so nothing is filed twice.
    let reported = p.fake.reports().await.unwrap();
    let expected = p.expected_reports(2, &[true, true]);
    assert_eq!(
        reported.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let repeated: Vec<_> = reported.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "orders filed twice: {repeated:?}");
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
}
