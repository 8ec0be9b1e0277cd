//! Rollback here means "run the previous binary on the new schema", which
//! only works while migrations never drop or rename anything.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use std::path::{Path, PathBuf};

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

/// SQL with `--` comments removed and whitespace collapsed, upper-cased.
fn normalized(sql: &str) -> String {
    let no_comments: Vec<&str> = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect();
    no_comments
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// The destructive statements found in one `up.sql`.
fn destructive(sql: &str) -> Vec<&'static str> {
    let s = normalized(sql);
    [
        "DROP TABLE",
        "DROP COLUMN",
        "RENAME",
        "DROP SCHEMA",
        "TRUNCATE",
    ]
    .into_iter()
    .filter(|p| s.contains(p))
    .collect()
}

#[test]
fn no_up_migration_drops_or_renames_anything() {
    let mut checked = 0;
    for entry in std::fs::read_dir(migrations_dir()).unwrap() {
        let up = entry.unwrap().path().join("up.sql");
        if !up.exists() {
            continue;
        }
        let sql = std::fs::read_to_string(&up).unwrap();
        let found = destructive(&sql);
        assert!(
            found.is_empty(),
            "{} contains {:?}: migrations must be additive",
            up.display(),
            found
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the migrations folder, found {checked} up.sql files"
    );
}

#[test]
fn the_check_catches_destructive_statements() {
    assert_eq!(
        destructive("ALTER TABLE x\n  drop   column y;"),
        vec!["DROP COLUMN"]
    );
    assert_eq!(destructive("drop table users"), vec!["DROP TABLE"]);
    assert_eq!(destructive("ALTER TABLE a RENAME TO b"), vec!["RENAME"]);
    assert!(destructive("-- we never DROP TABLE here\nCREATE TABLE t (id int);").is_empty());
}
