//! Every migration's down.sql undoes its up.sql: on a fresh database, all
//! migrations up, then all down in reverse (leaving nothing of ours behind),
//! then all up again must give the same schema as the first time: columns,
//! indexes, constraints, sequences and comments, plus the seeded rows.
//!
//! Down migrations never run in production (a rollback keeps the additive
//! schema), but a developer reverting one locally, or a future "contract"
//! migration, relies on them being right.
//!
//! Needs PostgreSQL: TEST_DATABASE_URL (an admin URL of the server the
//! scratch database is created on), default
//! postgres://postgres:postgres@127.0.0.1:5432/postgres.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use reporter_core::db::MIGRATIONS;

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// A database of its own, dropped at the end (also when the test fails).
struct ScratchDb {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDb {
    fn create() -> Self {
        let admin = admin_url();
        let name = format!("reporter_rt_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL at TEST_DATABASE_URL ({admin}): {e}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create the scratch database");
        let (base, _) = admin.rsplit_once('/').expect("database URL has a path");
        let url = format!("{base}/{name}");
        ScratchDb { admin, name, url }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The schema of `public` (diesel's bookkeeping table left out), one sorted
/// line per object.
fn schema_dump(conn: &mut PgConnection) -> Vec<String> {
    let sql = r#"
        SELECT line FROM (
            SELECT format('column %s.%s #%s %s %s nullable=%s default=%s', c.table_name, c.column_name,
                          c.ordinal_position, c.data_type, coalesce(c.character_maximum_length::text, ''),
                          c.is_nullable, coalesce(c.column_default, '')) AS line
              FROM information_schema.columns c
             WHERE c.table_schema = 'public' AND c.table_name <> '__diesel_schema_migrations'
            UNION ALL
            SELECT format('index %s: %s', i.tablename, i.indexdef)
              FROM pg_indexes i
             WHERE i.schemaname = 'public' AND i.tablename <> '__diesel_schema_migrations'
            UNION ALL
            SELECT format('constraint %s.%s %s: %s', k.conrelid::regclass, k.conname, k.contype,
                          pg_get_constraintdef(k.oid))
              FROM pg_constraint k
             WHERE k.connamespace = 'public'::regnamespace
               AND k.conrelid <> 'public.__diesel_schema_migrations'::regclass
            UNION ALL
            SELECT format('sequence %s %s', s.sequence_name, s.data_type)
              FROM information_schema.sequences s
             WHERE s.sequence_schema = 'public'
            UNION ALL
            SELECT format('comment %s.%s: %s', t.relname, coalesce(a.attname, '-'), d.description)
              FROM pg_description d
              JOIN pg_class t ON t.oid = d.objoid AND d.classoid = 'pg_class'::regclass
              LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.objsubid AND d.objsubid > 0
             WHERE t.relnamespace = 'public'::regnamespace
            UNION ALL
            SELECT format('comment constraint %s: %s', k.conname, d.description)
              FROM pg_description d
              JOIN pg_constraint k ON k.oid = d.objoid AND d.classoid = 'pg_constraint'::regclass
             WHERE k.connamespace = 'public'::regnamespace
        ) dump
        ORDER BY line
    "#;
    diesel::sql_query(sql)
        .load::<Line>(conn)
        .expect("dump the schema")
        .into_iter()
        .map(|l| l.line)
        .collect()
}

/// The rows the migrations seed (slot config, the 24 hours, schedule state).
fn seeded_rows(conn: &mut PgConnection) -> Vec<(String, i64)> {
    [
        "reporter_slot_config",
        "reporter_hour_slots",
        "reporter_schedule_state",
    ]
    .into_iter()
    .map(|t| {
        let n = diesel::sql_query(format!("SELECT count(*) AS n FROM {t}"))
            .get_result::<Count>(conn)
            .unwrap_or_else(|e| panic!("count {t}: {e}"))
            .n;
        (t.to_string(), n)
    })
    .collect()
}

/// What differs between two dumps, for the failure message.
fn diff(a: &[String], b: &[String]) -> String {
    let only_a: Vec<_> = a.iter().filter(|l| !b.contains(l)).collect();
    let only_b: Vec<_> = b.iter().filter(|l| !a.contains(l)).collect();
    format!("only after the first up: {only_a:#?}\nonly after the second up: {only_b:#?}")
}

#[test]
fn every_migration_goes_up_down_and_up_again_to_the_same_schema() {
    let db = ScratchDb::create();
    let mut conn = PgConnection::establish(&db.url).expect("connect to the scratch database");

    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .expect("first up")
        .len();
    assert!(applied >= 9, "expected every migration, applied {applied}");
    let first = schema_dump(&mut conn);
    let first_rows = seeded_rows(&mut conn);
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("column reporter_ranges.last_chance_at")),
        "the dump sees the schema: {first:#?}"
    );

    // Down, one migration at a time, newest first.
    let mut reverted = 0;
    while let Some(newest) = conn
        .applied_migrations()
        .expect("applied migrations")
        .iter()
        .map(|v| v.to_string())
        .max()
    {
        conn.revert_last_migration(MIGRATIONS)
            .unwrap_or_else(|e| panic!("down.sql of {newest} failed: {e}"));
        reverted += 1;
        assert!(reverted <= applied, "reverted more than was applied");
    }
    assert_eq!(reverted, applied, "every migration reverted");
    let empty = schema_dump(&mut conn);
    assert!(
        empty.is_empty(),
        "after every down.sql nothing of ours is left, found: {empty:#?}"
    );

    let reapplied = conn
        .run_pending_migrations(MIGRATIONS)
        .expect("second up")
        .len();
    assert_eq!(reapplied, applied);
    let second = schema_dump(&mut conn);
    assert!(
        first == second,
        "the schema after down and up again differs:\n{}",
        diff(&first, &second)
    );
    assert_eq!(first_rows, seeded_rows(&mut conn), "seeded rows");
}
