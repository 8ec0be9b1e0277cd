//! A short-lived, per-process memory of which token belongs to whom, so the
//! hot read paths (slots, progress polling) skip one database round trip.
//!
//! Only identity is cached (user id, role), never profile data. A token
//! revoked through this process is forgotten at once; through another API
//! replica it may still work here for up to [`TTL`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);
/// Bounds memory if many tokens are seen within one TTL.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub user_id: i64,
    pub token_id: i64,
    pub is_admin: bool,
}

#[derive(Default)]
pub struct AuthCache {
    entries: RwLock<HashMap<Vec<u8>, (Instant, Identity)>>,
}

impl AuthCache {
    pub fn get(&self, token_hash: &[u8]) -> Option<Identity> {
        let map = self.entries.read().unwrap_or_else(|p| p.into_inner());
        map.get(token_hash)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, id)| *id)
    }

    pub fn put(&self, token_hash: Vec<u8>, identity: Identity) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, (at, _)| at.elapsed() < TTL);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        map.insert(token_hash, (Instant::now(), identity));
    }

    pub fn forget_token(&self, token_id: i64) {
        let mut map = self.entries.write().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (_, id)| id.token_id != token_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_and_forgets() {
        let c = AuthCache::default();
        let id = Identity {
            user_id: 1,
            token_id: 7,
            is_admin: false,
        };
        assert_eq!(c.get(b"h"), None);
        c.put(b"h".to_vec(), id);
        assert_eq!(c.get(b"h"), Some(id));
        c.forget_token(7);
        assert_eq!(c.get(b"h"), None);
    }
}
