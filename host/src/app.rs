//! The application: database, plugin runtime and registry, and rule engine, built once at
//! start and shared by the CLI, the sync loop and the tests.

use crate::connectors::{ConnectorError, EgressPolicy, PluginRegistry, PluginRuntime};
use crate::db::{Db, DbError};
use crate::rules::RuleEngine;
use crate::secrets::SecretKey;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Plugin(#[from] ConnectorError),
    #[error("starting the wasm runtime: {0}")]
    Runtime(String),
}

/// Everything a flow needs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    pub db: Db,
    pub runtime: PluginRuntime,
    pub plugins: PluginRegistry,
    pub rules: RuleEngine,
}

impl App {
    /// Connects to the database (applying migrations) and loads the built-in plugins; the
    /// secret key comes from `CROSSDOCK_SECRET_KEY` or, for SQLite, the key file beside the
    /// database.
    pub async fn start(database_url: &str) -> Result<Self, StartError> {
        Self::start_with_key(database_url, None).await
    }

    /// As `start`, with the operator's configured secret key first (see
    /// `SecretKey::for_database`).
    pub async fn start_with_key(database_url: &str, key: Option<SecretKey>) -> Result<Self, StartError> {
        let runtime = PluginRuntime::new().map_err(|e| StartError::Runtime(format!("{e:#}")))?;
        Self::start_with(database_url, key, runtime).await
    }

    /// As `start_with_key`, with a plugin runtime of the caller's (the operator's limits).
    pub async fn start_with(
        database_url: &str,
        key: Option<SecretKey>,
        runtime: PluginRuntime,
    ) -> Result<Self, StartError> {
        let db = Db::connect_with_key(database_url, key).await?;
        let plugins = PluginRegistry::with_builtins(&runtime)?;
        Ok(App { db, runtime, plugins, rules: RuleEngine::default() })
    }

    /// The same app with another egress policy for plugin HTTP (the default refuses
    /// loopback, private and other special addresses): `serve` passes the operator's
    /// `[plugins.egress]`, the demo and the tests allow the sandboxes on this machine.
    pub fn with_egress(mut self, policy: EgressPolicy) -> Result<Self, StartError> {
        self.runtime = self
            .runtime
            .with_egress(policy)
            .map_err(|e| StartError::Runtime(format!("the HTTP client: {e}")))?;
        Ok(self)
    }
}
