//! Secrets at rest: the key that encrypts connection secrets (`key`: where it comes from),
//! the cipher that seals one value to its connection and name (`cipher`), and replacing the
//! key itself (`rotation`). The database keeps only sealed values; see `db::secrets` for the
//! rows and `docs/operations.md` for operators.

pub mod cipher;
pub mod key;
pub mod rotation;

pub use cipher::{OpenError, SecretCipher};
pub use key::{KEY_ENV, KeyOrigin, SecretKey};

use std::path::PathBuf;

/// Why the secret key cannot be had or a stored secret cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "PostgreSQL needs a secret key to encrypt connection secrets: set {KEY_ENV}, or \
         `secret-key = \"env:NAME\"` (or \"file:PATH\") in crossdock.toml, to 32 random bytes in \
         base64 (`openssl rand -base64 32`), and keep it safe: the secrets cannot be read without it"
    )]
    KeyMissing,
    #[error("the secret key from {origin} is not base64 of 32 bytes (`openssl rand -base64 32` makes one)")]
    BadKey { origin: KeyOrigin },
    #[error("secret key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make a key or encrypt a secret: {0}")]
    Seal(String),
    #[error("cannot decrypt the secrets of {owner}: wrong key? (the key in use came from {origin})")]
    WrongKey { owner: String, origin: KeyOrigin },
    #[error(
        "cannot decrypt the secrets of {owner}: there was no key file {path}, and they were \
         encrypted with another key; restore the original key file or set {KEY_ENV}"
    )]
    LostKeyFile { owner: String, path: PathBuf },
    #[error("secret `{name}` of {owner} is not in a format this version reads (`v1:…`)")]
    Malformed { owner: String, name: String },
}
