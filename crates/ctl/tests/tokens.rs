//! `reporterctl token list / revoke / prune` as real processes against a
//! real PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::process::{Command, Output};

use diesel::prelude::*;
use reporter_core::models::token;
use reporter_core::schema::api_tokens;
use test_support::{redis_url, TestDb, TEST_CREDENTIALS_KEY};

fn ctl(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reporterctl"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", redis_url())
        .env("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run reporterctl")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn revoked(c: &mut PgConnection, id: i64) -> bool {
    api_tokens::table
        .find(id)
        .select(api_tokens::revoked_at)
        .first::<Option<chrono::DateTime<chrono::Utc>>>(c)
        .unwrap()
        .is_some()
}

#[test]
fn token_list_revoke_and_prune() {
    let db = TestDb::new();
    let mut c = db.connect();
    let (uid, _) = test_support::create_user(&mut c, "ana@example.com", 1000, false);
    test_support::create_user(&mut c, "luis@example.com", 1000, false);
    let secret = token::issue(&mut c, uid, "login", None).unwrap();
    let ids: Vec<i64> = token::list_for_user(&mut c, uid)
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids.len(), 2);

    let o = ctl(&db, &["token", "list", "--email", "ana@example.com"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    for id in &ids {
        assert!(text.contains(&format!("\n{id}\t")), "{text}");
    }
    assert!(text.contains("never") && text.contains("live"), "{text}");
    assert!(!text.contains(&secret), "a token's value is never shown");

    // One token by id; another user's id is refused (exit 2).
    let o = ctl(
        &db,
        &[
            "token",
            "revoke",
            "--email",
            "luis@example.com",
            "--id",
            &ids[0].to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(!revoked(&mut c, ids[0]));
    let o = ctl(
        &db,
        &[
            "token",
            "revoke",
            "--email",
            "ana@example.com",
            "--id",
            &ids[0].to_string(),
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(revoked(&mut c, ids[0]) && !revoked(&mut c, ids[1]));
    let o = ctl(&db, &["token", "list", "--email", "ana@example.com"]);
    assert!(out(&o).contains("revoked"), "{}", out(&o));
    // Neither --id nor --all: a usage error.
    let o = ctl(&db, &["token", "revoke", "--email", "ana@example.com"]);
    assert!(!o.status.success());
    let o = ctl(
        &db,
        &["token", "revoke", "--email", "ana@example.com", "--all"],
    );
    assert!(out(&o).contains("revoked 1 token(s)"), "{}", out(&o));
    assert!(revoked(&mut c, ids[1]));

    let o = ctl(&db, &["token", "prune"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("deleted 2"), "{}", out(&o));
    assert!(token::list_for_user(&mut c, uid).unwrap().is_empty());
}
