//! PostgreSQL restarted mid-range, on a cluster of the test's own (never the
//! machine's shared one): the workers' pools reconnect without a process
//! restart, and every stuck order is filed exactly once (a report filed
//! while its ledger write failed is found on the order's page on the retry,
//! not filed again).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use test_support::{redis_url, TestDb};

use crate::harness::*;

/// A PostgreSQL cluster in a temporary directory, run as the `postgres`
/// user (the server refuses to run as root).
struct PrivatePg {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn pg_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/test.sh installs them)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

fn as_postgres(bin: &Path, args: &[&str]) -> std::process::ExitStatus {
    let me_is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if me_is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    c.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
}

impl PrivatePg {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("reporter-pg-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres", dir.to_str().unwrap()])
            .status();
        let bin = pg_bin();
        let data = dir.join("data");
        let ok = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        assert!(ok.success(), "initdb failed");
        let pg = PrivatePg { port, dir, bin };
        pg.up();
        pg
    }

    fn up(&self) {
        let data = self.dir.join("data");
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let ok = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(ok.success(), "pg_ctl start failed");
    }

    /// `pg_ctl stop -m fast`: every connection is cut, as in a restart.
    fn down(&self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_range_workers_reconnect_and_every_order_is_filed_once() {
    let pg = PrivatePg::start();
    let db = TestDb::on(&pg.admin_url());
    let mut p = Pipeline::on(&[(600, 2, true), (400, 2, true)], &[], &redis_url(), db).await;
    let mut cfg = p.config.clone();
    cfg.report_delay_ms = 10;
    p.fake.configure(&cfg).await.unwrap();
    p.start_worker();
    p.start_worker();
    p.baseline().await;
    p.trigger(d("2026-11-03")).await;
    p.wait_for_reports(50).await;
    pg.down();
    std::thread::sleep(Duration::from_secs(3));
    pg.up();
    assert_eq!(
        p.wait_finished(d("2026-11-03"), Duration::from_secs(180))
            .await,
        "completed",
    );
    let reported = p.fake.reports().await.unwrap();
    let expected = p.expected_reports(2, &[true, true]);
    assert_eq!(reported, expected, "every stuck order filed exactly once");
    assert_eq!(p.fake.stats().await.unwrap().duplicate_reports, 0);
    assert_eq!(p.ledger_count(), expected.len() as i64);
    // The restart was felt mid-run (else this test proved nothing).
    let logs = format!("{}{}", p.worker_log(0), p.worker_log(1));
    assert!(
        logs.contains("terminating connection") || logs.contains("Connection refused"),
        "no worker saw the restart:\n{}",
        tail(&logs)
    );
    // The workers that lived through it are still the ones working.
    for w in 0..2 {
        assert!(
            p.workers[w].try_wait().unwrap().is_none(),
            "worker {w} exited: {}",
            tail(&p.worker_log(w))
        );
    }
}
