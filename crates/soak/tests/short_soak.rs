//! The short soak of the test suite: 3 days, 8 customers, the default fault
//! schedule (every fault kind at least once), the browserless driver. The
//! fleet binaries are the workspace's debug builds (`scripts/test.sh` builds
//! them first); the verdict is read from the soak's JSON.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::path::PathBuf;
use std::process::Command;

fn bin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reporter-soak"))
        .parent()
        .expect("target dir")
        .to_path_buf()
}

#[test]
fn three_days_with_every_fault_lose_nothing_duplicate_nothing_miss_nothing() {
    let dir = bin_dir();
    for b in [
        "reporter-api",
        "reporter-worker",
        "reporter-beat",
        "reporterctl",
        "portal-sim",
    ] {
        assert!(
            dir.join(b).exists(),
            "{b} is not built in {}: run `cargo build --workspace` first (scripts/test.sh does)",
            dir.display()
        );
    }
    let out_dir = std::env::temp_dir().join(format!("reporter-short-soak-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let json = out_dir.join("verdict.json");
    let run = Command::new(env!("CARGO_BIN_EXE_reporter-soak"))
        .args([
            "--days",
            "3",
            "--customers",
            "8",
            "--faults",
            "default",
            "--seed",
            "11",
        ])
        .args(["--hour-deadline-secs", "120"])
        .arg("--json")
        .arg(&json)
        .arg("--report")
        .arg(out_dir.join("report"))
        .arg("--work-dir")
        .arg(out_dir.join("work"))
        .output()
        .expect("run reporter-soak");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap_or_default())
        .unwrap_or_else(|_| panic!("no verdict JSON\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    let t = &v["totals"];
    let n = |k: &str| t[k].as_u64().unwrap_or(u64::MAX);
    let context = format!("{stdout}\n{stderr}");
    assert_eq!(n("customer_days"), 24, "{context}");
    assert_eq!(n("lost_reports"), 0, "{context}");
    assert_eq!(n("duplicate_reports"), 0, "{context}");
    assert_eq!(n("unexpected_reports"), 0, "{context}");
    assert_eq!(n("ledger_mismatches"), 0, "{context}");
    assert_eq!(n("missed"), 0, "{context}");
    assert_eq!(n("runs_not_finished"), 0, "{context}");
    assert_eq!(n("hours_past_deadline"), 0, "{context}");
    assert_eq!(n("lease_samples_above_limit"), 0, "{context}");
    assert!(
        n("max_browser_leases") >= 1,
        "the semaphore was sampled\n{context}"
    );
    // Something was reported, and the faults really fired: every kind, and
    // the mid-run ones at least once while a range was being reported.
    assert!(n("reported") > 100, "{context}");
    let faults = v["faults"].as_array().expect("faults");
    let kinds: std::collections::BTreeSet<&str> =
        faults.iter().filter_map(|f| f["kind"].as_str()).collect();
    assert_eq!(
        kinds.len(),
        9,
        "every fault kind fires: {kinds:?}\n{context}"
    );
    assert!(
        faults.iter().any(|f| f["mid_run"] == true),
        "no fault struck mid-run\n{context}"
    );
    assert!(
        n("late") >= 1,
        "the beat outage makes late customer-days\n{context}"
    );
    assert!(
        n("excused") >= 1,
        "the blocked account's day is excused\n{context}"
    );
    assert!(run.status.success(), "{context}");
    let page = std::fs::read_to_string(out_dir.join("report/index.html")).unwrap();
    assert!(page.contains("<svg") && !page.contains("http://") && !page.contains("https://"));
    let _ = std::fs::remove_dir_all(&out_dir);
}
