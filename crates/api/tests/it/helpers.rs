use std::net::TcpListener;

use diesel::prelude::*;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use test_support::{unique_prefix, TestDb};

pub use test_support::TEST_PASSWORD as PASSWORD;

pub struct TestApp {
    pub base: String,
    pub prefix: String,
    pub db: TestDb,
    pub http: reqwest::Client,
    settings: reporter_core::config::Settings,
    handle: actix_web::dev::ServerHandle,
}

/// Another API process on the same database and Redis prefix, as a second
/// replica behind the proxy is.
pub struct Replica {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Replica {
    fn drop(&mut self) {
        std::mem::drop(self.handle.clone().stop(false));
    }
}

pub struct TestUser {
    pub id: i64,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new();
        let mut env = vec![("REPORTER_DB_POOL_SIZE", "8")];
        env.extend_from_slice(extra);
        let prefix = unique_prefix();
        let settings = db.settings(&prefix, &env);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = reporter_api::serve(
            reporter_api::build_state(settings.clone()),
            listener,
            Some(2),
        )
        .unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap();
        TestApp {
            base,
            prefix,
            db,
            http,
            settings,
            handle,
        }
    }

    pub fn spawn_replica(&self) -> Replica {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = reporter_api::build_state(self.settings.clone());
        let server = reporter_api::serve(state, listener, Some(2)).unwrap();
        let handle = server.handle();
        tokio::spawn(server);
        Replica { base, handle }
    }

    pub fn conn(&self) -> PgConnection {
        self.db.connect()
    }

    pub fn create_user(&self, email: &str, monthly: i32, admin: bool) -> TestUser {
        let (id, token) = test_support::create_user(&mut self.conn(), email, monthly, admin);
        TestUser { id, token }
    }

    pub fn slot_id(&self, hour: i32) -> i32 {
        reporter_core::models::slot::find_by_hour(&mut self.conn(), hour)
            .unwrap()
            .unwrap()
            .id
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let b = self.http.request(method, self.url(path));
        match token {
            Some(t) => b.header("Authorization", format!("Token {t}")),
            None => b,
        }
    }

    /// Sends and returns status and JSON body (`Value::Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = self.req(method, path, token);
        if let Some(body) = body {
            b = b.json(&body);
        }
        send(b).await
    }
}

pub async fn send(b: RequestBuilder) -> (StatusCode, Value) {
    let res = b.send().await.expect("request sent");
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

/// Asserts the error shape every failure must have.
pub fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "body: {body}");
    assert_eq!(body["code"], want_code, "body: {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "body: {body}"
    );
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server before the database is dropped.
        let h = self.handle.clone();
        std::mem::drop(h.stop(false));
    }
}
