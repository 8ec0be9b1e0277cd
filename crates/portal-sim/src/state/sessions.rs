//! Login sessions keyed by the `portal_session` cookie, with idle expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Session {
    email: String,
    last_seen: Instant,
}

#[derive(Debug)]
pub struct SessionStore {
    ttl: Duration,
    sessions: HashMap<String, Session>,
}

impl SessionStore {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            sessions: HashMap::new(),
        }
    }

    /// Opens a session for `email` and returns its token.
    pub fn open(&mut self, email: &str, now: Instant) -> String {
        // Logins are rare enough that sweeping here keeps the map small.
        self.sweep(now);
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.sessions.insert(
            token.clone(),
            Session {
                email: email.to_owned(),
                last_seen: now,
            },
        );
        token
    }

    /// The session's email if it is still alive; a hit counts as activity.
    pub fn touch(&mut self, token: &str, now: Instant) -> Option<String> {
        let session = self.sessions.get_mut(token)?;
        if now.duration_since(session.last_seen) > self.ttl {
            self.sessions.remove(token);
            return None;
        }
        session.last_seen = now;
        Some(session.email.clone())
    }

    pub fn close(&mut self, token: &str) {
        self.sessions.remove(token);
    }

    pub fn active(&self, now: Instant) -> usize {
        self.sessions
            .values()
            .filter(|s| now.duration_since(s.last_seen) <= self.ttl)
            .count()
    }

    fn sweep(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.sessions
            .retain(|_, s| now.duration_since(s.last_seen) <= ttl);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_expires_after_idle_ttl_but_not_while_used() {
        let ttl = Duration::from_secs(10);
        let mut store = SessionStore::new(ttl);
        let t0 = Instant::now();
        let token = store.open("a@x", t0);
        assert_eq!(
            store.touch(&token, t0 + Duration::from_secs(8)),
            Some("a@x".into())
        );
        assert_eq!(
            store.touch(&token, t0 + Duration::from_secs(16)),
            Some("a@x".into())
        );
        assert_eq!(store.touch(&token, t0 + Duration::from_secs(27)), None);
        assert_eq!(store.active(t0 + Duration::from_secs(27)), 0);
    }
}
