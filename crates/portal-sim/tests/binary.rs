//! The `portal-sim` binary prints its address and serves on it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[tokio::test]
async fn binary_prints_bound_address_and_reads_accounts_file() {
    let dir = std::env::temp_dir().join(format!("portal-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let accounts = dir.join("accounts.toml");
    let mut file = std::fs::File::create(&accounts).unwrap();
    writeln!(
        file,
        "[[accounts]]\nemail = \"ana@tienda.co\"\npassword = \"secreta\"\norders = 4"
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_portal-sim"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--seed",
            "3",
            "--start-day",
            "2025-01-31",
        ])
        .arg("--accounts-file")
        .arg(&accounts)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("portal-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let state: serde_json::Value = reqwest::get(format!("{url}/_sim/state"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        state,
        serde_json::json!({"day": "2025-01-31", "accounts": 1, "orders": 4})
    );
}
