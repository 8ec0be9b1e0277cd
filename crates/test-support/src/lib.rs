//! Real PostgreSQL and Redis for tests, isolated per test: each [`TestDb`] is
//! a fresh database cloned from a migrated template, dropped on `Drop`; each
//! test gets its own Redis key prefix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap fails the test that called it, with its message"
)]

use std::collections::HashMap;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use reporter_core::config::Settings;
use sha2::{Digest, Sha256};

/// Admin URL of the server tests create databases on.
pub fn admin_database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub mod chromedriver;

/// Sends `sig` (`TERM`, `STOP`, `CONT`, …) to process `pid`; whether it was
/// delivered.
pub fn signal(pid: u32, sig: &str) -> bool {
    std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
pub mod private_services;

/// The password of every user made by [`create_user`].
pub const TEST_PASSWORD: &str = "clave-de-prueba-1";

/// One argon2 hash shared by every test user: hashing hundreds of users one
/// by one would dominate the tests' time.
fn test_password_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| reporter_core::password::hash_password(TEST_PASSWORD))
}

/// A user who logs in with [`TEST_PASSWORD`]; returns their id and an API token.
pub fn create_user(
    conn: &mut PgConnection,
    email: &str,
    monthly: i32,
    admin: bool,
) -> (i64, String) {
    use reporter_core::models::{token, user};
    let u = user::insert(
        conn,
        &user::NewUser {
            email,
            password_hash: test_password_hash(),
            role: if admin { "admin" } else { "user" },
            monthly_orders_estimate: monthly,
        },
    )
    .expect("insert test user");
    let token = token::issue(conn, u.id, "test", None).expect("issue test token");
    (u.id, token)
}

/// A Redis key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("test:{}", uuid::Uuid::new_v4().simple())
}

/// A fixed 32-byte key (base64) for encrypting portal passwords in tests.
pub const TEST_CREDENTIALS_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub struct TestDb {
    pub url: String,
    name: String,
    admin: String,
}

impl TestDb {
    pub fn new() -> Self {
        Self::on(&admin_database_url())
    }

    /// On another server (e.g. a test's own cluster it restarts), given its
    /// admin URL.
    pub fn on(admin: &str) -> Self {
        let admin = admin.to_string();
        let template = ensure_template(&admin);
        let name = format!("reporter_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn =
            PgConnection::establish(&admin).expect("connect to the test PostgreSQL server");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .expect("create test database");
        TestDb {
            url: without_tls(&replace_db_name(&admin, &name)),
            name,
            admin,
        }
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to test database")
    }

    /// Settings as a binary would load them, pointed at this database.
    pub fn settings(&self, redis_prefix: &str, extra: &[(&str, &str)]) -> Settings {
        let mut env: HashMap<String, String> = [
            ("DATABASE_URL", self.url.as_str()),
            ("REDIS_URL", redis_url().as_str()),
            ("REPORTER_CREDENTIALS_KEY", TEST_CREDENTIALS_KEY),
            ("REPORTER_REDIS_PREFIX", redis_prefix),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Settings::from_env(&env).expect("test settings")
    }

    pub fn env_vars(&self, redis_prefix: &str) -> Vec<(String, String)> {
        vec![
            ("DATABASE_URL".into(), self.url.clone()),
            ("REDIS_URL".into(), redis_url()),
            (
                "REPORTER_CREDENTIALS_KEY".into(),
                TEST_CREDENTIALS_KEY.into(),
            ),
            ("REPORTER_REDIS_PREFIX".into(), redis_prefix.into()),
        ]
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
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

fn replace_db_name(url: &str, name: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let (base, _) = path.rsplit_once('/').expect("database URL has a path");
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The test database's URL without TLS, unless the URL chose a `sslmode`.
///
/// libpq's default (`prefer`) negotiates TLS when the server offers it
/// (Debian's PostgreSQL does, with its snakeoil certificate), and then
/// OpenSSL registers an `atexit` cleanup. A test binary ends while the
/// threads of the servers it started in-process are still exiting, and
/// OpenSSL's cleanup freeing its per-thread state races those threads
/// freeing the same state: "double free or corruption" after every test
/// passed, about one run in 10–50 (core dump: `OPENSSL_cleanup` in
/// `exit` against `__nptl_deallocate_tsd` in an exiting pool thread).
/// Tests talk to a local server, so TLS buys nothing here.
fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

/// Name of a template database holding the current migrations, created once
/// per migration set (the name carries a hash of the migration files) under
/// an advisory lock so parallel test binaries build it only once.
fn ensure_template(admin: &str) -> String {
    let template = format!("reporter_tpl_{}", &migrations_hash()[..16]);
    let mut conn = PgConnection::establish(admin).expect("connect to the test PostgreSQL server");
    diesel::sql_query("SELECT pg_advisory_lock(4242424242)")
        .execute(&mut conn)
        .expect("lock");
    let exists = diesel::sql_query(format!(
        "SELECT 1 FROM pg_database WHERE datname = '{template}'"
    ))
    .execute(&mut conn)
    .expect("query pg_database")
        > 0;
    if !exists {
        let building = format!("{template}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .unwrap();
        {
            let mut tpl = PgConnection::establish(&replace_db_name(admin, &building))
                .expect("connect template");
            reporter_core::db::run_migrations_locked(&mut tpl).expect("migrate template");
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {template}"))
            .execute(&mut conn)
            .unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(4242424242)")
        .execute(&mut conn)
        .expect("unlock");
    template
}

fn migrations_hash() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut entries: Vec<_> = walk(&dir);
    entries.sort();
    let mut h = Sha256::new();
    for path in entries {
        h.update(
            path.strip_prefix(&dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .as_bytes(),
        );
        h.update(std::fs::read(&path).unwrap_or_default());
    }
    hex::encode(h.finalize())
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{replace_db_name, without_tls};

    #[test]
    fn test_database_urls_keep_their_query_and_drop_tls_unless_chosen() {
        assert_eq!(
            replace_db_name("postgres://u:p@h:5432/postgres", "t1"),
            "postgres://u:p@h:5432/t1"
        );
        assert_eq!(
            replace_db_name("postgres://u@h/postgres?sslmode=require", "t1"),
            "postgres://u@h/t1?sslmode=require"
        );
        assert_eq!(
            without_tls("postgres://u@h/t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://u@h/t1?application_name=x"),
            "postgres://u@h/t1?application_name=x&sslmode=disable"
        );
        assert_eq!(
            without_tls("postgres://u@h/t1?sslmode=require"),
            "postgres://u@h/t1?sslmode=require"
        );
    }
}
