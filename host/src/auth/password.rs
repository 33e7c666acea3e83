//! Passwords: Argon2id (memory-hard; the crate's defaults, 19 MiB, 2 passes, OWASP's
//! recommendation), stored as a PHC string that carries its own parameters and salt.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use std::sync::OnceLock;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest password accepted (hashing is deliberately slow; bound its input).
pub const MAX_LENGTH: usize = 1024;

/// Why a password cannot be set.
pub fn check_strength(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(format!("the password has {chars} characters; use at least {MIN_LENGTH}"));
    }
    if password.len() > MAX_LENGTH {
        return Err(format!("the password is longer than {MAX_LENGTH} bytes"));
    }
    Ok(())
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("encoding a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing a password: {e}"))
}

/// Whether `password` matches the stored PHC string (false for a corrupt one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_LENGTH {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the time a real check takes, for a login whose email matches no account, so the
/// answer's timing does not tell which emails have accounts.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not a password anyone has").unwrap_or_default());
    let _ = verify_password(password, dummy);
}

/// A password for an account made for someone (the demo, `account create` without
/// `--password-stdin`): 20 characters from an alphabet without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_argon2id_hash_only() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a phc string"));
        assert_ne!(hash, hash_password("correct horse battery").expect("hashes"), "salted");
    }

    #[test]
    fn short_passwords_are_refused_and_generated_ones_are_long_enough() {
        assert!(check_strength("short").is_err());
        assert!(check_strength(&"x".repeat(MAX_LENGTH + 1)).is_err());
        let generated = generate_password();
        assert!(check_strength(&generated).is_ok(), "{generated}");
        assert_ne!(generated, generate_password());
    }
}
