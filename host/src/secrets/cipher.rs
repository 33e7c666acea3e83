//! Sealing one secret value: XChaCha20-Poly1305 with a random 24-byte nonce per value (large
//! enough that random nonces never repeat in practice) and associated data naming where the
//! value belongs, so a sealed value moved to another connection or name does not open.
//! Text format: `v1:<base64 of nonce ‖ ciphertext ‖ tag>`; the version prefix lets a later
//! format be read beside this one.

use super::{SecretError, SecretKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use std::sync::Arc;

const V1: &str = "v1:";
const NONCE_LEN: usize = 24;

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// Not `v1:` and base64 of at least a nonce and a tag.
    Malformed,
    /// The tag does not match: another key, another place, or tampered.
    Inauthentic,
}

/// Seals and opens secret values with one key. Cheap to clone; `Debug` shows only where the
/// key came from.
#[derive(Clone)]
pub struct SecretCipher {
    aead: Arc<XChaCha20Poly1305>,
    origin: super::KeyOrigin,
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCipher").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl SecretCipher {
    pub fn new(key: &SecretKey) -> Self {
        let aead = XChaCha20Poly1305::new_from_slice(key.bytes())
            .expect("a SecretKey is always 32 bytes, the XChaCha20-Poly1305 key size");
        SecretCipher { aead: Arc::new(aead), origin: key.origin().clone() }
    }

    /// Where the key came from.
    pub fn origin(&self) -> &super::KeyOrigin {
        &self.origin
    }

    /// Encrypts `value`, binding it to `place` (associated data, not stored).
    pub fn seal(&self, place: &[u8], value: &str) -> Result<String, SecretError> {
        let nonce = XNonce::try_generate()
            .map_err(|e| SecretError::Seal(format!("no random numbers from the operating system: {e}")))?;
        let sealed = self
            .aead
            .encrypt(&nonce, Payload { msg: value.as_bytes(), aad: place })
            .map_err(|_| SecretError::Seal("the value is too long".into()))?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(nonce.as_slice());
        bytes.extend_from_slice(&sealed);
        Ok(format!("{V1}{}", STANDARD.encode(bytes)))
    }

    /// Decrypts what `seal` made for the same `place`.
    pub fn open(&self, place: &[u8], sealed: &str) -> Result<String, OpenError> {
        let encoded = sealed.strip_prefix(V1).ok_or(OpenError::Malformed)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| OpenError::Malformed)?;
        let plain = self
            .aead
            .decrypt(&nonce, Payload { msg: ciphertext, aad: place })
            .map_err(|_| OpenError::Inauthentic)?;
        String::from_utf8(plain).map_err(|_| OpenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::KeyOrigin;

    fn cipher() -> SecretCipher {
        SecretCipher::new(&SecretKey::generate(KeyOrigin::Ephemeral).expect("random"))
    }

    #[test]
    fn a_sealed_value_opens_in_its_place_only() {
        let c = cipher();
        let sealed = c.seal(b"channel/3/access-token", "tok-123").expect("sealed");
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert!(!sealed.contains("tok-123"));
        assert_eq!(c.open(b"channel/3/access-token", &sealed).as_deref(), Ok("tok-123"));
        assert_eq!(c.open(b"channel/4/access-token", &sealed), Err(OpenError::Inauthentic));
        assert_eq!(c.open(b"channel/3/app-secret", &sealed), Err(OpenError::Inauthentic));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let c = cipher();
        assert_ne!(c.seal(b"p", "same").expect("sealed"), c.seal(b"p", "same").expect("sealed"));
    }

    #[test]
    fn another_key_does_not_open_it() {
        let sealed = cipher().seal(b"p", "value").expect("sealed");
        assert_eq!(cipher().open(b"p", &sealed), Err(OpenError::Inauthentic));
    }

    #[test]
    fn tampering_and_foreign_formats_are_refused() {
        let c = cipher();
        let sealed = c.seal(b"p", "value").expect("sealed");
        let mut bytes = STANDARD.decode(&sealed[3..]).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(c.open(b"p", &format!("v1:{}", STANDARD.encode(bytes))), Err(OpenError::Inauthentic));
        assert_eq!(c.open(b"p", "value"), Err(OpenError::Malformed));
        assert_eq!(c.open(b"p", "v1:AAAA"), Err(OpenError::Malformed));
        assert_eq!(c.open(b"p", "v2:AAAA"), Err(OpenError::Malformed));
    }

    #[test]
    fn debug_shows_the_origin_only() {
        assert_eq!(format!("{:?}", cipher()), "SecretCipher { origin: Ephemeral, .. }");
    }
}
