//! A thin HTTP proxy in front of chromedriver that counts live WebDriver
//! sessions exactly.
//!
//! It is a small HTTP/1.1 forwarder on tokio (keep-alive, `Content-Length`
//! bodies: what WebDriver clients send) that passes each request on with
//! reqwest, so the tests need no extra dependency.
//!
//! The workers get the proxy's URL as `REPORTER_WEBDRIVER_URL`, so every
//! WebDriver call (new session, commands, quit, and the lease reaper's
//! `DELETE /session/{id}`) goes through it. It forwards each request
//! unchanged and keeps, under one lock:
//!
//! - the ids of the sessions chromedriver created (`POST /session` answered
//!   2xx, id from `value.sessionId`) and has not deleted yet
//!   (`DELETE /session/{id}` answered 2xx, or "invalid session id": it is
//!   gone already);
//! - the `POST /session` calls still waiting for their answer.
//!
//! A session counts from the moment its `POST /session` arrives until its
//! `DELETE` is answered: the widest window in which chromedriver can hold
//! it, so the maximum is an upper bound of what really ran at once, never an
//! underestimate. Every change is recorded with its instant, so a test can
//! also ask how long the count stayed above a limit.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
struct Counts {
    live: BTreeSet<String>,
    /// `POST /session` calls not answered yet.
    creating: usize,
    max: usize,
    created: usize,
    deleted: usize,
    /// (when, sessions counted from then on).
    timeline: Vec<(Instant, usize)>,
    /// (when, session id, `METHOD /path`) of every request on a session.
    commands: Vec<(Instant, String, String)>,
}

impl Counts {
    fn current(&self) -> usize {
        self.live.len() + self.creating
    }

    fn record(&mut self) {
        let n = self.current();
        self.max = self.max.max(n);
        self.timeline.push((Instant::now(), n));
    }
}

/// What the proxy saw; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct SessionCounter(Arc<Mutex<Counts>>);

impl SessionCounter {
    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        f(&mut self.0.lock().unwrap())
    }

    /// Sessions live (or being created) now.
    pub fn live(&self) -> usize {
        self.with(|c| c.current())
    }

    /// `POST /session` calls not answered yet.
    pub fn creating(&self) -> usize {
        self.with(|c| c.creating)
    }

    /// The most sessions live (or being created) at once.
    pub fn max(&self) -> usize {
        self.with(|c| c.max)
    }

    /// Sessions chromedriver created / deleted through the proxy.
    pub fn created(&self) -> usize {
        self.with(|c| c.created)
    }

    pub fn deleted(&self) -> usize {
        self.with(|c| c.deleted)
    }

    /// The longest stretch during which more than `limit` sessions were
    /// live (zero if never).
    pub fn longest_above(&self, limit: usize) -> Duration {
        self.with(|c| {
            let mut longest = Duration::ZERO;
            let mut since: Option<Instant> = None;
            for (at, n) in &c.timeline {
                match (since, *n > limit) {
                    (None, true) => since = Some(*at),
                    (Some(s), false) => {
                        longest = longest.max(*at - s);
                        since = None;
                    }
                    _ => {}
                }
            }
            if let Some(s) = since {
                longest = longest.max(s.elapsed());
            }
            longest
        })
    }

    /// Requests (`METHOD /path`) made on session `id` after `after`.
    pub fn commands_on(&self, id: &str, after: Instant) -> Vec<String> {
        self.with(|c| {
            c.commands
                .iter()
                .filter(|(at, s, _)| *at > after && s == id)
                .map(|(_, _, what)| what.clone())
                .collect()
        })
    }

    /// Waits until no session is live; returns the ids still live.
    pub async fn wait_none_live(&self, limit: Duration) -> BTreeSet<String> {
        let start = Instant::now();
        loop {
            let (n, ids) = self.with(|c| (c.current(), c.live.clone()));
            if n == 0 || start.elapsed() > limit {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The proxy serving in the background until dropped.
pub struct WebDriverProxy {
    pub addr: SocketAddr,
    pub sessions: SessionCounter,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebDriverProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebDriverProxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:9515`) on a free
    /// local port. Must be called inside a tokio runtime.
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the WebDriver proxy");
        let addr = listener.local_addr().unwrap();
        let sessions = SessionCounter::default();
        let up = Arc::new(Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(300))
                .build()
                .unwrap(),
            sessions: sessions.clone(),
        });
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, up.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        WebDriverProxy {
            addr,
            sessions,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

struct Upstream {
    base: String,
    http: reqwest::Client,
    sessions: SessionCounter,
}

enum Kind {
    NewSession,
    DeleteSession(String),
    Other,
}

fn kind(method: &str, path: &str) -> Kind {
    let path = path.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["session"]) => Kind::NewSession,
        ("DELETE", ["session", id]) => Kind::DeleteSession((*id).to_string()),
        _ => Kind::Other,
    }
}

/// One client connection: requests one after the other (keep-alive).
async fn serve(stream: TcpStream, up: Arc<Upstream>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match read.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push(line.trim_end().to_string());
        }
        let Some(request_line) = head.first() else {
            return;
        };
        let mut parts = request_line.split_whitespace();
        let (method, target) = match (parts.next(), parts.next()) {
            (Some(m), Some(t)) => (m.to_string(), t.to_string()),
            _ => return,
        };
        let mut content_type = None;
        let mut length = 0usize;
        let mut close = false;
        for h in &head[1..] {
            let Some((name, value)) = h.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "content-type" => content_type = Some(value.to_string()),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        if read.read_exact(&mut body).await.is_err() {
            return;
        }
        let (status, content_type, body) = forward(&up, &method, &target, content_type, body).await;
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(ct) = content_type {
            out += &format!("Content-Type: {ct}\r\n");
        }
        out += if close {
            "Connection: close\r\n\r\n"
        } else {
            "\r\n"
        };
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&body);
        if write.write_all(&bytes).await.is_err() || close {
            return;
        }
    }
}

/// Passes one request to chromedriver and counts what it did to sessions.
async fn forward(
    up: &Upstream,
    method: &str,
    target: &str,
    content_type: Option<String>,
    body: Vec<u8>,
) -> (u16, Option<String>, Vec<u8>) {
    let kind = kind(method, target);
    let path = target.split('?').next().unwrap_or_default();
    if let ["session", id, ..] = path.trim_matches('/').split('/').collect::<Vec<_>>()[..] {
        let what = format!("{method} {path}");
        up.sessions
            .with(|c| c.commands.push((Instant::now(), id.to_string(), what)));
    }
    if let Kind::NewSession = kind {
        up.sessions.with(|c| {
            c.creating += 1;
            c.record();
        });
    }
    let mut req = up.http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET),
        format!("{}{target}", up.base),
    );
    if let Some(ct) = &content_type {
        req = req.header("content-type", ct);
    }
    if !body.is_empty() || method == "POST" {
        req = req.body(body);
    }
    let answer = match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            r.bytes().await.map(|b| (status, ct, b.to_vec()))
        }
        Err(e) => Err(e),
    };
    let ok = matches!(&answer, Ok((s, _, _)) if (200..300).contains(s));
    match &kind {
        Kind::NewSession => {
            let id = answer.as_ref().ok().filter(|_| ok).and_then(|(_, _, b)| {
                serde_json::from_slice::<serde_json::Value>(b)
                    .ok()?
                    .pointer("/value/sessionId")?
                    .as_str()
                    .map(str::to_string)
            });
            up.sessions.with(|c| {
                c.creating -= 1;
                if let Some(id) = id {
                    c.created += 1;
                    c.live.insert(id);
                }
                c.record();
            });
        }
        Kind::DeleteSession(id) => {
            // Deleted, or chromedriver no longer knows it: gone either way.
            let gone = ok
                || matches!(&answer, Ok((404, _, b))
                    if String::from_utf8_lossy(b).contains("invalid session id"));
            if gone {
                up.sessions.with(|c| {
                    if c.live.remove(id) {
                        c.deleted += 1;
                    }
                    c.record();
                });
            }
        }
        Kind::Other => {}
    }
    match answer {
        Ok(a) => a,
        Err(e) => (
            502,
            Some("text/plain".into()),
            format!("proxy: {e}").into_bytes(),
        ),
    }
}
