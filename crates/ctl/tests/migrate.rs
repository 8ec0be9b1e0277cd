//! `reporterctl migrate` and `check` as real processes against a real
//! PostgreSQL: several at once must be safe, and a full down/up cycle works.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::{Command, Output, Stdio};

use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use test_support::{admin_database_url, redis_url, TEST_CREDENTIALS_KEY};

struct EmptyDb {
    url: String,
    name: String,
}

impl EmptyDb {
    fn new() -> Self {
        let admin = admin_database_url();
        let name = format!("reporter_m_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .unwrap();
        let (base, _) = admin.rsplit_once('/').unwrap();
        EmptyDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&admin_database_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c);
        }
    }
}

fn ctl(db_url: &str, redis: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reporterctl"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("REDIS_URL", redis)
        .env("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY)
        .env("RUST_LOG", "warn");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn eight_migrate_processes_started_together_all_succeed_and_apply_each_migration_once() {
    let db = EmptyDb::new();
    let children: Vec<_> = (0..8)
        .map(|_| {
            ctl(&db.url, &redis_url(), &["migrate"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "migrate failed: {}", text(&out));
    }
    let mut c = PgConnection::establish(&db.url).unwrap();
    assert_eq!(c.applied_migrations().unwrap().len(), migration_count());
    let check = ctl(&db.url, &redis_url(), &["check"]).output().unwrap();
    assert!(check.status.success(), "{}", text(&check));
}

#[test]
fn every_migration_reverts_and_reapplies() {
    let db = EmptyDb::new();
    let mut c = PgConnection::establish(&db.url).unwrap();
    reporter_core::db::run_migrations_locked(&mut c).unwrap();
    c.revert_all_migrations(reporter_core::db::MIGRATIONS)
        .unwrap();
    assert_eq!(
        reporter_core::db::pending_migrations(&mut c).unwrap().len(),
        migration_count()
    );
    reporter_core::db::run_migrations_locked(&mut c).unwrap();
    assert!(reporter_core::db::pending_migrations(&mut c)
        .unwrap()
        .is_empty());
    let slots: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM reporter_hour_slots WHERE capacity_points = 6)",
    ))
    .get_result(&mut c)
    .unwrap();
    assert_eq!(slots, 24);
}

#[test]
fn check_fails_with_reasons_on_pending_migrations_and_unreachable_redis() {
    let db = EmptyDb::new();
    let out = ctl(&db.url, "redis://127.0.0.1:1", &["check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("pending migrations"), "{t}");
    assert!(t.contains("redis unreachable"), "{t}");
}

#[test]
fn a_missing_required_variable_stops_with_one_line_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_reporterctl"))
        .arg("check")
        .env_clear()
        .env("REDIS_URL", "redis://x")
        .env("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("DATABASE_URL"), "{err}");
}

/// `crates/core/src/schema.rs` is exactly what `diesel print-schema` (with
/// the root `diesel.toml`) prints for a freshly migrated database: types,
/// nullability, joins and the migrations' `COMMENT ON` texts. Regenerate
/// it with the command in `diesel.toml`'s header.
#[test]
fn schema_rs_is_what_diesel_prints() {
    let db = EmptyDb::new();
    let mut c = PgConnection::establish(&db.url).unwrap();
    reporter_core::db::run_migrations_locked(&mut c).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let diesel = std::env::var("DIESEL_CLI").unwrap_or_else(|_| "diesel".into());
    let out = Command::new(&diesel)
        .args(["print-schema", "--database-url", &db.url, "--config-file"])
        .arg(format!("{root}/diesel.toml"))
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{diesel} print-schema` ({e}): install diesel_cli \
                 (`cargo install diesel_cli --version =2.3.14 --no-default-features \
                 --features postgres`; scripts/test.sh does) or set DIESEL_CLI"
            )
        });
    assert!(out.status.success(), "diesel print-schema: {}", text(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    let checked_in = include_str!("../../core/src/schema.rs");
    if printed != checked_in {
        let first = printed
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(printed.lines().count().min(checked_in.lines().count()));
        panic!(
            "crates/core/src/schema.rs is out of step with migrations/ (first difference at \
             line {}): regenerate it with `diesel print-schema` (see diesel.toml)\n\
             --- printed ---\n{}",
            first + 1,
            printed
                .lines()
                .skip(first.saturating_sub(3))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn migration_count() -> usize {
    use diesel::migration::MigrationSource;
    MigrationSource::<diesel::pg::Pg>::migrations(&reporter_core::db::MIGRATIONS)
        .unwrap()
        .len()
}

/// `reporterctl check` loads the portal profile the workers would: a typo
/// in it fails the check with the file and the key named.
#[test]
fn check_names_the_bad_key_of_the_portal_profile() {
    let db = EmptyDb::new();
    let good = include_str!("../../worker/profiles/portal-sim.toml");
    let bad = good.replacen(
        "submit = \"button#report-submit\"",
        "sumbit = \"button#report-submit\"",
        1,
    );
    assert_ne!(good, bad);
    let path = std::env::temp_dir().join(format!("bad-profile-{}.toml", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let out = ctl(&db.url, "redis://127.0.0.1:1", &["check"])
        .env("REPORTER_PORTAL_PROFILE", &path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(t.contains("FAIL invalid portal profile"), "{t}");
    assert!(t.contains("sumbit"), "{t}");

    let out = ctl(&db.url, "redis://127.0.0.1:1", &["check"])
        .output()
        .unwrap();
    assert!(text(&out).contains("ok   portal profile (built-in portal-sim) valid"));
}
