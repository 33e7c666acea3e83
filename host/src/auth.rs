//! Who is calling: accounts log in with a password and get a cookie session (the admin
//! pages), programs send an API token; either way a request acts for exactly one
//! organization (`Caller`). Every secret handed out (session, API token, setup link) is a
//! random 256-bit value the database keeps only as its SHA-256.

pub mod account;
pub mod caller;
pub mod password;
pub mod session;
pub mod team;
pub mod throttle;
pub mod token;

pub use caller::{Caller, Via};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random secret: 32 bytes from the OS generator, URL-safe base64, after `prefix`.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a secret: its SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An email as accounts are keyed: trimmed, lower case; refused when it cannot be one.
pub fn normalize_email(email: &str) -> Result<String, String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid { Ok(email) } else { Err(format!("`{email}` is not an email address (name@domain.tld)")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_kept_only_as_their_hash() {
        let (a, b) = (new_secret("cdk_"), new_secret("cdk_"));
        assert_ne!(a, b);
        assert!(a.starts_with("cdk_") && a.len() == 4 + 43, "{a}");
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert!(!secret_hash(&a).contains(&a[4..]));
        assert!(same_secret(&a, &a.clone()) && !same_secret(&a, &b) && !same_secret(&a, "cdk_"));
    }

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        assert_eq!(normalize_email("  Ann@Example.COM ").as_deref(), Ok("ann@example.com"));
        assert!(normalize_email("ann").is_err());
        assert!(normalize_email("@example.com").is_err());
        assert!(normalize_email("ann@localhost").is_err());
        assert!(normalize_email("a nn@example.com").is_err());
    }
}
