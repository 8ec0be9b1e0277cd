//! Issue 13, "Security at the edge": login floods, rate limits, token
//! lifetimes and the forms' Origin check, against real API servers on
//! random ports, a fresh PostgreSQL database and a Redis prefix per test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod flood;
mod origin;
mod rate_limits;
mod tokens;

use std::net::TcpListener;

use diesel::PgConnection;
use reqwest::{redirect, StatusCode};
use serde_json::{json, Value};
use test_support::{unique_prefix, TestDb};

pub use test_support::TEST_PASSWORD as PASSWORD;

/// One `reporter-api` server; several may share a database and a prefix
/// (two replicas behind one proxy).
pub struct Server {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        std::mem::drop(self.handle.stop(false));
    }
}

pub struct Env {
    pub prefix: String,
    pub db: TestDb,
    pub http: reqwest::Client,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    pub fn new() -> Self {
        Env {
            prefix: unique_prefix(),
            db: TestDb::new(),
            http: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .pool_max_idle_per_host(512)
                .build()
                .unwrap(),
        }
    }

    pub fn conn(&self) -> PgConnection {
        self.db.connect()
    }

    pub fn server(&self, extra: &[(&str, &str)]) -> Server {
        let mut env = vec![("REPORTER_DB_POOL_SIZE", "4")];
        env.extend_from_slice(extra);
        let settings = self.db.settings(&self.prefix, &env);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server =
            reporter_api::serve(reporter_api::build_state(settings), listener, Some(2)).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        Server { base, handle }
    }

    /// A user who logs in with [`PASSWORD`]; their id and an API token.
    pub fn user(&self, email: &str) -> (i64, String) {
        test_support::create_user(&mut self.conn(), email, 1000, false)
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(test_support::redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Ends the account's current lock, as if its time had passed (the
    /// attempt count stays).
    pub async fn end_lock(&self, email: &str) {
        let key = reporter_api::login_guard::account_key(&self.prefix, email);
        let _: () = redis::cmd("HSET")
            .arg(&key)
            .arg("until")
            .arg(0)
            .query_async(&mut self.redis().await)
            .await
            .unwrap();
    }
}

/// An API login; `xff` is sent as `X-Forwarded-For`.
pub async fn api_login(
    env: &Env,
    s: &Server,
    email: &str,
    password: &str,
    xff: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut b = env
        .http
        .post(s.url("/api/auth/login/"))
        .json(&json!({"email": email, "password": password}));
    if let Some(ip) = xff {
        b = b.header("X-Forwarded-For", ip);
    }
    let res = b.send().await.expect("login request sent");
    let status = res.status();
    let retry = retry_after(&res);
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, retry, body)
}

/// A form login; status, `Retry-After` and the page (or nothing).
pub async fn form_login(
    env: &Env,
    s: &Server,
    email: &str,
    password: &str,
    xff: Option<&str>,
) -> (StatusCode, Option<u64>, String) {
    let mut b = env
        .http
        .post(s.url("/login"))
        .form(&[("email", email), ("password", password)]);
    if let Some(ip) = xff {
        b = b.header("X-Forwarded-For", ip);
    }
    let res = b.send().await.expect("form login sent");
    let status = res.status();
    let retry = retry_after(&res);
    (status, retry, res.text().await.unwrap_or_default())
}

pub fn retry_after(res: &reqwest::Response) -> Option<u64> {
    res.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The address `n` in 10.x.y.z, a different client for each `n`.
pub fn ip(n: u32) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}
