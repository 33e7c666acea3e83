//! `crossdock rotate-secret-key`: replaces the key that seals the connection secrets. Every
//! secret is opened with the key in use and sealed with the new one in one transaction; a
//! SQLite key file is replaced only after that commits, with the new key written beside it
//! first (`<key file>.new`), so an interruption never leaves the secrets under a key that
//! exists nowhere.

use super::{KeyOrigin, SecretKey};
use crate::config::{ServeConfig, read_secret_key};
use crate::db::Db;
use std::path::{Path, PathBuf};

/// What a rotation did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Secret rows sealed again.
    pub secrets: usize,
    /// The key file now holding the new key, when the database keeps its key in one.
    pub key_file: Option<PathBuf>,
}

/// Seals every secret of the configured database with `new_key` (`env:NAME` or
/// `file:PATH`, relative to the configuration file); without one, a database that keeps its
/// key in a key file gets a new random key there. Stop every `serve` process first.
pub async fn rotate_secret_key(config_path: &Path, new_key: Option<&str>) -> anyhow::Result<Rotation> {
    let config = ServeConfig::load(config_path)?;
    let db = Db::connect_with_key(&config.database_url, config.secret_key(config_path)?).await?;
    let key_file = match db.secret_key_origin() {
        KeyOrigin::File(path) | KeyOrigin::NewFile(path) => Some(path.clone()),
        KeyOrigin::Ephemeral => anyhow::bail!("this database lives in memory: there is no key to rotate"),
        KeyOrigin::Environment | KeyOrigin::Config(_) => None,
    };
    let new = match (new_key, &key_file) {
        (Some(reference), _) => read_secret_key(config_path, reference)?,
        (None, Some(path)) => SecretKey::generate(KeyOrigin::File(path.clone()))?,
        (None, None) => anyhow::bail!(
            "the key in use comes from {}: give the new one with --new-key env:NAME or --new-key file:PATH",
            db.secret_key_origin()
        ),
    };
    let secrets = match &key_file {
        Some(path) => {
            let mut next = path.as_os_str().to_owned();
            next.push(".new");
            let next = PathBuf::from(next);
            super::key::write_key_file(&next, &new)?;
            let secrets = db.reseal_secrets(&new).await?;
            std::fs::rename(&next, path)
                .map_err(|e| anyhow::anyhow!("the secrets are sealed with the key in {}, but moving it to {} failed: {e}; move it by hand", next.display(), path.display()))?;
            secrets
        }
        None => db.reseal_secrets(&new).await?,
    };
    db.close().await;
    tracing::info!(secrets, "secret key rotated");
    Ok(Rotation { secrets, key_file })
}
