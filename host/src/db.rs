//! Persistence through sqlx's `Any` driver: one set of queries for SQLite (the embedded
//! default: WAL, one writer) and PostgreSQL (scale-out), with one migration folder per
//! backend applied at start. Where the two dialects differ, the query says so beside it.
//! Connection secrets are sealed with the key given at connect (see `secrets`).

pub mod accounts;
pub mod admin;
pub mod authorizations;
pub mod health;
pub mod jobs;
pub mod listings;
pub mod orders;
pub mod orgs;
pub mod placement;
pub mod products;
pub mod rules;
pub mod secrets;
pub mod team;

use crate::secrets::{KeyOrigin, SecretCipher, SecretError, SecretKey};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database failure, naming what was being done.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL `{0}` is neither sqlite: nor postgres:")]
    UnsupportedUrl(String),
    #[error("{context}: {source}")]
    Sqlx {
        context: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migrating the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(String),
    /// A value outside what the record allows (a negative stock buffer).
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Attaches a description of the operation to a sqlx error.
pub(crate) trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, DbError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, DbError> {
        self.map_err(|source| DbError::Sqlx { context: what(), source })
    }
}

/// Whether a sqlx error is a uniqueness violation (the schema guarding a duplicate).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// The connection pool, its backend and the cipher of connection secrets. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    cipher: SecretCipher,
}

impl Db {
    /// Connects (creating a SQLite file when missing) and applies the migrations, with the
    /// secret key from `CROSSDOCK_SECRET_KEY` or, for SQLite, the key file beside the database.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with_key(url, None).await
    }

    /// Connects and applies the migrations; `key` (the operator's configured key) comes
    /// before `CROSSDOCK_SECRET_KEY` and the SQLite key file (see `SecretKey::for_database`).
    /// Plaintext secrets left by an older version are encrypted here, and every stored
    /// secret is opened once, so a wrong key stops the start with a clear message.
    pub async fn connect_with_key(url: &str, key: Option<SecretKey>) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
                // One connection: SQLite has one writer, and a single connection can never
                // hit SQLITE_BUSY on a read-to-write lock upgrade.
                AnyPoolOptions::new()
                    .max_connections(1)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
                    .context(|| format!("opening SQLite database {url}"))?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context(|| "connecting to PostgreSQL".to_string())?,
        };
        let cipher = SecretCipher::new(&SecretKey::for_database(url, key)?);
        let db = Db { pool, backend, cipher };
        db.migrate().await?;
        // Check before sealing: until then nothing is sealed with a key file made just now,
        // so a key file that opens nothing can go again, leaving room for the original.
        if let Err(error) = db.check_secrets_open().await {
            if let KeyOrigin::NewFile(path) = db.cipher.origin() {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
        db.seal_plaintext_secrets().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the key sealing the connection secrets came from.
    pub fn secret_key_origin(&self) -> &KeyOrigin {
        self.cipher.origin()
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
