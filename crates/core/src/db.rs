//! PostgreSQL pool and embedded migrations.

use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Any constant shared by every Reporter process; diesel takes no lock itself.
const MIGRATION_LOCK_KEY: i64 = 0x7265_706f_7274;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migrations: {0}")]
    Migration(String),
}

pub fn build_pool(url: &str, size: u32) -> Result<DbPool, DbError> {
    // No test_on_check_out: it costs a round trip per request; r2d2 still
    // drops connections diesel reports as broken.
    Ok(Pool::builder()
        .max_size(size)
        .min_idle(Some(1.min(size)))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))?)
}

/// A pool that does not connect up front, for processes that must start (and
/// answer health checks) while the database is still down.
pub fn build_pool_lazy(url: &str, size: u32) -> DbPool {
    Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::<PgConnection>::new(url))
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Applies pending migrations under a session advisory lock, so several
/// processes starting at once migrate one after the other instead of racing.
///
/// The lock is polled (`pg_try_advisory_lock` between short sleeps), never
/// waited for inside a statement: a waiting statement holds a snapshot, and
/// `CREATE INDEX CONCURRENTLY` in the holder's migration waits for every
/// older snapshot to go, so a blocking wait would deadlock with it.
pub fn run_migrations_locked(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    loop {
        let got: Locked = diesel::sql_query(format!(
            "SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY}) AS locked"
        ))
        .get_result(conn)?;
        if got.locked {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.iter().map(|m| m.to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    result
}

/// Names of embedded migrations not yet applied.
pub fn pending_migrations(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    conn.pending_migrations(MIGRATIONS)
        .map(|v| v.iter().map(|m| m.name().to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}
