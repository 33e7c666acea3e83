//! The 32-byte key that encrypts connection secrets, and where it comes from: the operator's
//! configuration (`secret-key` in crossdock.toml), else `CROSSDOCK_SECRET_KEY`, else — for a
//! SQLite database only — a key file beside the database, made on first start. PostgreSQL
//! serves several processes from one database, so its key is always the operator's.

use super::SecretError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Generate, Key};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// The environment variable holding the key (base64 of 32 bytes).
pub const KEY_ENV: &str = "CROSSDOCK_SECRET_KEY";

/// Where the key in use came from; error messages name it, so an operator knows which key
/// to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `CROSSDOCK_SECRET_KEY`.
    Environment,
    /// `secret-key` in the configuration file, as written there (`env:NAME`, `file:PATH`).
    Config(String),
    /// The key file beside the SQLite database.
    File(PathBuf),
    /// The key file beside the SQLite database, made on this start.
    NewFile(PathBuf),
    /// A key for this process alone: an in-memory database, or the sandbox world.
    Ephemeral,
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Environment => write!(f, "{KEY_ENV}"),
            KeyOrigin::Config(source) => write!(f, "secret-key = \"{source}\" in the configuration"),
            KeyOrigin::File(path) => write!(f, "key file {}", path.display()),
            KeyOrigin::NewFile(path) => write!(f, "key file {} (made on this start)", path.display()),
            KeyOrigin::Ephemeral => write!(f, "a key made for this process alone"),
        }
    }
}

/// The key, wiped from memory when dropped; `Debug` shows only its origin.
#[derive(Clone)]
pub struct SecretKey {
    bytes: Zeroizing<[u8; 32]>,
    origin: KeyOrigin,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Parses base64 of exactly 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(text: &str, origin: KeyOrigin) -> Result<Self, SecretError> {
        let decoded = Zeroizing::new(
            STANDARD.decode(text.trim()).map_err(|_| SecretError::BadKey { origin: origin.clone() })?,
        );
        let mut bytes = Zeroizing::new([0u8; 32]);
        if decoded.len() != bytes.len() {
            return Err(SecretError::BadKey { origin });
        }
        bytes.copy_from_slice(&decoded);
        Ok(SecretKey { bytes, origin })
    }

    /// A new random key.
    pub fn generate(origin: KeyOrigin) -> Result<Self, SecretError> {
        let mut key = Key::<XChaCha20Poly1305>::try_generate()
            .map_err(|e| SecretError::Seal(format!("no random numbers from the operating system: {e}")))?;
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(key.as_slice());
        key.as_mut_slice().zeroize();
        Ok(SecretKey { bytes, origin })
    }

    /// `CROSSDOCK_SECRET_KEY`, when set.
    pub fn from_env() -> Result<Option<Self>, SecretError> {
        match std::env::var(KEY_ENV) {
            Ok(text) => Self::from_base64(&text, KeyOrigin::Environment).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The key for the database at `database_url`: `given` (the configuration's), else
    /// `CROSSDOCK_SECRET_KEY`, else for SQLite the key file beside the database (made on
    /// first start, mode 0600). PostgreSQL without a key is refused.
    pub fn for_database(database_url: &str, given: Option<SecretKey>) -> Result<Self, SecretError> {
        if let Some(key) = given {
            return Ok(key);
        }
        if let Some(key) = Self::from_env()? {
            return Ok(key);
        }
        if !database_url.starts_with("sqlite:") {
            return Err(SecretError::KeyMissing);
        }
        match key_file_path(database_url) {
            Some(path) => load_or_create_key_file(&path),
            None => Self::generate(KeyOrigin::Ephemeral),
        }
    }

    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// Whether both are the same 32 bytes, wherever they came from.
    pub fn same_key_as(&self, other: &SecretKey) -> bool {
        self.bytes == other.bytes
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes.as_slice()))
    }
}

/// `<database file>.key` for a SQLite URL, or `None` for an in-memory database.
pub fn key_file_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory") {
        return None;
    }
    let mut file = PathBuf::from(path).into_os_string();
    file.push(".key");
    Some(file.into())
}

fn read_key_file(path: &Path) -> Result<SecretKey, SecretError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|source| SecretError::KeyFile { path: path.into(), source })?,
    );
    warn_when_readable_by_others(path);
    SecretKey::from_base64(&text, KeyOrigin::File(path.into()))
}

/// Reads the key file, or makes it when there is none. The new key is written to a private
/// temporary file and then linked into place, so two processes starting at once agree on
/// one key and nobody ever reads a half-written file.
fn load_or_create_key_file(path: &Path) -> Result<SecretKey, SecretError> {
    if path.exists() {
        return read_key_file(path);
    }
    let key = SecretKey::generate(KeyOrigin::NewFile(path.into()))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let io = |source| SecretError::KeyFile { path: path.into(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&temporary)?;
        file.write_all(key.to_base64().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    })();
    let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            tracing::warn!(
                path = %path.display(),
                "made a new secret key file: back it up with the database; without it the stored \
                 connection secrets cannot be read"
            );
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key_file(path),
        Err(e) => Err(io(e)),
    }
}

/// Writes `key` to `path` (replacing it), readable by the owner only, and syncs it.
pub(crate) fn write_key_file(path: &Path, key: &SecretKey) -> Result<(), SecretError> {
    let io = |source| SecretError::KeyFile { path: path.into(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    file.write_all(key.to_base64().as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(unix)]
fn warn_when_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the secret key file is readable by others: chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_when_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> (PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("crossdock-key-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("x.db");
        let url = format!("sqlite:{}?mode=rwc", db.display());
        (db, url)
    }

    #[test]
    fn key_file_sits_beside_the_database_file() {
        assert_eq!(key_file_path("sqlite:/a/b.db"), Some(PathBuf::from("/a/b.db.key")));
        assert_eq!(key_file_path("sqlite://rel.db?mode=rwc"), Some(PathBuf::from("rel.db.key")));
        assert_eq!(key_file_path("sqlite:///abs.db"), Some(PathBuf::from("/abs.db.key")));
        assert_eq!(key_file_path("sqlite::memory:"), None);
        assert_eq!(key_file_path("sqlite:x.db?mode=memory"), None);
        assert_eq!(key_file_path("postgres://h/db"), None);
    }

    #[test]
    fn a_sqlite_database_gets_a_private_key_file_once() {
        let (db, url) = temp_db("once");
        let first = load_or_create_key_file(&key_file_path(&url).expect("a file")).expect("made");
        assert!(matches!(first.origin(), KeyOrigin::NewFile(_)));
        let second = load_or_create_key_file(&key_file_path(&url).expect("a file")).expect("read");
        assert!(matches!(second.origin(), KeyOrigin::File(_)));
        assert_eq!(first.bytes(), second.bytes(), "the second start reads the first start's key");
        let path = PathBuf::from(format!("{}.key", db.display()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("key file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers = std::fs::read_dir(db.parent().expect("dir")).expect("dir").count();
        assert_eq!(leftovers, 1, "only the key file; no temporary file is left behind");
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let good = STANDARD.encode([7u8; 32]);
        let key = SecretKey::from_base64(&format!(" {good}\n"), KeyOrigin::Environment).expect("valid");
        assert_eq!(key.bytes(), &[7u8; 32]);
        for bad in ["", "not base64!", &STANDARD.encode([7u8; 16])] {
            let error = SecretKey::from_base64(bad, KeyOrigin::Environment).expect_err("refused");
            assert!(error.to_string().contains("CROSSDOCK_SECRET_KEY is not base64 of 32 bytes"), "{error}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::from_base64(&STANDARD.encode([0xAB; 32]), KeyOrigin::Environment).expect("key");
        let shown = format!("{key:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab"), "{shown}");
    }

    #[test]
    fn postgres_without_a_key_is_refused_with_what_to_do() {
        if std::env::var(KEY_ENV).is_ok() {
            return; // the environment gives a key; nothing to refuse
        }
        let error = SecretKey::for_database("postgres://h/db", None).expect_err("refused");
        assert!(error.to_string().contains("secret-key"), "{error}");
        let given = SecretKey::generate(KeyOrigin::Config("env:K".into())).expect("key");
        let key = SecretKey::for_database("postgres://h/db", Some(given)).expect("the given key");
        assert_eq!(key.origin(), &KeyOrigin::Config("env:K".into()));
    }
}
