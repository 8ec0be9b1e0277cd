//! Encryption at rest of customers' supplier-portal passwords (AES-256-GCM).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use thiserror::Error;

/// First byte of every stored ciphertext, so the format can change later
/// (e.g. key rotation) without guessing.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CredentialsError {
    #[error("stored portal password has an unknown format")]
    UnknownFormat,
    #[error("stored portal password cannot be decrypted with REPORTER_CREDENTIALS_KEY")]
    Decrypt,
}

#[derive(Clone)]
pub struct CredentialsCipher(Aes256Gcm);

impl std::fmt::Debug for CredentialsCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsCipher(..)")
    }
}

impl CredentialsCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)))
    }

    /// `version || nonce || ciphertext+tag`; a fresh random nonce each time.
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: AES-GCM encryption cannot fail for in-memory data"
    )]
    pub fn encrypt(&self, plaintext: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .0
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption cannot fail for in-memory data");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn decrypt(&self, stored: &[u8]) -> Result<String, CredentialsError> {
        match stored.split_first() {
            Some((&FORMAT_V1, rest)) if rest.len() > NONCE_LEN => {
                let (nonce, ct) = rest.split_at(NONCE_LEN);
                let pt = self
                    .0
                    .decrypt(Nonce::from_slice(nonce), ct)
                    .map_err(|_| CredentialsError::Decrypt)?;
                String::from_utf8(pt).map_err(|_| CredentialsError::Decrypt)
            }
            _ => Err(CredentialsError::UnknownFormat),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_uses_fresh_nonces() {
        let c = CredentialsCipher::new(&[7u8; 32]);
        let a = c.encrypt("s3cret-ñ");
        let b = c.encrypt("s3cret-ñ");
        assert_ne!(a, b);
        assert!(!a.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(c.decrypt(&a).unwrap(), "s3cret-ñ");
    }

    #[test]
    fn wrong_key_or_tampering_is_an_error() {
        let a = CredentialsCipher::new(&[7u8; 32]).encrypt("pw");
        assert_eq!(
            CredentialsCipher::new(&[8u8; 32]).decrypt(&a),
            Err(CredentialsError::Decrypt)
        );
        let mut t = a.clone();
        *t.last_mut().unwrap() ^= 1;
        assert_eq!(
            CredentialsCipher::new(&[7u8; 32]).decrypt(&t),
            Err(CredentialsError::Decrypt)
        );
        assert_eq!(
            CredentialsCipher::new(&[7u8; 32]).decrypt(&[9, 1, 2]),
            Err(CredentialsError::UnknownFormat)
        );
    }
}
