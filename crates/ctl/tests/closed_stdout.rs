//! `reporterctl … | head` closes the pipe before the command is done
//! printing: it must end quietly (like a shell tool killed by SIGPIPE),
//! not panic with a backtrace.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::Command;

use test_support::{redis_url, TestDb, TEST_CREDENTIALS_KEY};

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let db = TestDb::new();
    let (reader, writer) = std::io::pipe().expect("pipe");
    // Closed before the command writes: its first line fails at once.
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_reporterctl"))
        .args(["slots", "--all"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", redis_url())
        .env("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY)
        .env("RUST_LOG", "warn")
        .stdout(writer)
        .output()
        .expect("run reporterctl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
}
