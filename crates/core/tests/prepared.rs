//! `prepared` queries are planned once per connection: PostgreSQL keeps
//! one named prepared statement for them however often they run, where a
//! `sql_query` is parsed and planned on every call.
//!
//! Needs PostgreSQL: TEST_DATABASE_URL (any database will do; nothing is
//! written), default postgres://postgres:postgres@127.0.0.1:5432/postgres.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use reporter_core::prepared::{generic_plan, prepared};

fn connect() -> PgConnection {
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into());
    PgConnection::establish(&url).expect("connect to TEST_DATABASE_URL")
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Row {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Text)]
    label: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Prepared statements on this connection whose text contains `marker`.
fn statements(c: &mut PgConnection, marker: &str) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS count FROM pg_prepared_statements WHERE strpos(statement, $1) > 0",
    )
    .bind::<Text, _>(marker)
    .get_result::<Count>(c)
    .unwrap()
    .count
}

#[test]
fn a_prepared_query_is_planned_once_per_connection_and_binds_each_call() {
    let mut c = connect();
    let label = String::from("x");
    for i in 0..7_i64 {
        let row: Row =
            prepared("SELECT $1 * $2 + $1 AS n, $3 || '$' || $3 AS label /* prepared-marker-1 */")
                .bind::<BigInt, _>(i)
                .bind::<BigInt, _>(10)
                .bind::<Text, _>(&label)
                .get_result(&mut c)
                .unwrap();
        assert_eq!(
            row,
            Row {
                n: i * 10 + i,
                label: "x$x".into()
            }
        );
    }
    assert_eq!(statements(&mut c, "prepared-marker-1"), 1);

    // What it replaces: sql_query leaves nothing to reuse.
    for i in 0..3_i64 {
        let row: Row = diesel::sql_query("SELECT $1 AS n, 'y' AS label /* sql-query-marker-1 */")
            .bind::<BigInt, _>(i)
            .get_result(&mut c)
            .unwrap();
        assert_eq!(row.n, i);
    }
    assert_eq!(statements(&mut c, "sql-query-marker-1"), 0);
}

#[test]
fn a_placeholder_without_its_bind_is_an_error_not_a_panic() {
    let mut c = connect();
    let r = prepared("SELECT $1 AS n, $2 AS label")
        .bind::<BigInt, _>(1)
        .get_result::<Row>(&mut c);
    assert!(r.is_err(), "{r:?}");
}

#[derive(QueryableByName)]
struct Plans {
    #[diesel(sql_type = BigInt)]
    generic_plans: i64,
    #[diesel(sql_type = BigInt)]
    custom_plans: i64,
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    plan_cache_mode: String,
}

#[test]
fn generic_plan_plans_once_and_leaves_the_session_as_it_was() {
    let mut c = connect();
    for limit in [3_i64, 5, 3, 7, 3, 9, 3] {
        let rows: Vec<Row> = generic_plan(&mut c, |c| {
            prepared(
                "SELECT g::int8 AS n, 'z' AS label FROM generate_series(1, 1000) AS g
                  ORDER BY g DESC LIMIT $1 /* generic-marker-1 */",
            )
            .bind::<BigInt, _>(limit)
            .load(c)
        })
        .unwrap();
        assert_eq!(rows.len() as i64, limit);
        assert_eq!(rows[0].n, 1000);
    }
    let plans: Plans = diesel::sql_query(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements
          WHERE strpos(statement, 'generic-marker-1') > 0",
    )
    .get_result(&mut c)
    .unwrap();
    assert_eq!(plans.custom_plans, 0, "never re-planned for its values");
    assert!(
        plans.generic_plans >= 7,
        "{} generic plans",
        plans.generic_plans
    );

    // SET LOCAL ended with its transaction: the connection's other
    // statements keep PostgreSQL's default.
    let setting: Setting = diesel::sql_query("SHOW plan_cache_mode")
        .get_result(&mut c)
        .unwrap();
    assert_eq!(setting.plan_cache_mode, "auto");

    // An error inside rolls back and still leaves the default.
    let failed = generic_plan(&mut c, |c| {
        prepared("SELECT 1 / ($1 - $1) AS n, 'e' AS label /* generic-marker-2 */")
            .bind::<BigInt, _>(1_i64)
            .load::<Row>(c)
    });
    assert!(failed.is_err());
    let setting: Setting = diesel::sql_query("SHOW plan_cache_mode")
        .get_result(&mut c)
        .unwrap();
    assert_eq!(setting.plan_cache_mode, "auto");
}
