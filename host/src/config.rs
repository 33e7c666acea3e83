//! `crossdock serve`'s configuration: a TOML file, with `CROSSDOCK_DATABASE_URL` overriding
//! the database and secrets read from the environment (`env:NAME`) or from files
//! (`file:PATH`), never kept in the configuration itself.

use crate::connectors::health::HealthPolicy;
use crate::connectors::policy::LimitsPolicy;
use crate::connectors::{ConnectionSettings, EgressConfig};
use crate::secrets::{KeyOrigin, SecretKey};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: secret `{name}` refers to environment variable {var}, which is not set")]
    MissingEnv { path: PathBuf, name: String, var: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeConfig {
    /// `sqlite:crossdock.db` (default) or `postgres://…`.
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Where the HTTP API (and, unless `listen-webhooks` is set, the webhook receivers)
    /// listen.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// A separate address for the public webhook receivers (`/webhooks/…`), e.g.
    /// `0.0.0.0:8081`: when set, `listen` serves only the authenticated API and this only the
    /// webhooks, so the admin can stay on a private network.
    #[serde(default)]
    pub listen_webhooks: Option<String>,
    /// Mark the session cookie `Secure` (set it when the admin is reached over HTTPS, e.g.
    /// behind a TLS-terminating proxy).
    #[serde(default)]
    pub secure_cookies: bool,
    /// The organization this process syncs; created on first start.
    pub organization: String,
    /// Seconds between catalog reads (webhooks come later; this is the reconciliation).
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Seconds between polls of every channel's orders and after-sale requests, and of the
    /// store's orders (webhooks bring them sooner; this catches missed ones).
    #[serde(default = "default_order_poll")]
    pub order_poll_secs: u64,
    /// Seconds between checks of a listing under review.
    #[serde(default = "default_review_poll")]
    pub review_poll_secs: u64,
    /// Seconds between read-backs of what each shop holds (drift from Seller Center edits).
    #[serde(default = "default_drift_check")]
    pub drift_check_secs: u64,
    /// Seconds a claimed job stays with its worker unless renewed (renewed every third of
    /// it while the job runs); a crashed process's jobs are taken back after this.
    #[serde(default = "default_lease")]
    pub lease_secs: u64,
    /// Jobs run at once.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Days a handled store webhook is remembered for deduplication (1 to 365).
    #[serde(default = "default_webhook_retention")]
    pub webhook_retention_days: u64,
    /// The key that encrypts connection secrets in the database (base64 of 32 random bytes),
    /// as `env:VARIABLE` or `file:PATH`. Required for PostgreSQL unless `CROSSDOCK_SECRET_KEY`
    /// is set; a SQLite database without one keeps its key in `<database file>.key`.
    #[serde(default)]
    pub secret_key: Option<String>,
    /// The organization's one store; leave it out to connect the store from the admin pages
    /// (through the platform's authorization, see `apps`).
    #[serde(default)]
    pub store: Option<ConnectionConfig>,
    /// TikTok Shops.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// Installed connector files and the limits every plugin runs under.
    #[serde(default)]
    pub plugins: PluginsConfig,
    /// The admin's address as the merchant's browser reaches it
    /// (`https://crossdock.example.com`): a platform sends the browser back to
    /// `<public-url>/connect/callback` after an authorization, so register that URL with the
    /// app. Unset: the address the browser used to reach the admin.
    #[serde(default)]
    pub public_url: Option<String>,
    /// The operator's app credentials, per plugin id (`[apps.tiktok-shop]`,
    /// `[apps.shopify]`): what connections made through the platform's own authorization
    /// use. A plugin without an entry cannot be connected that way.
    #[serde(default)]
    pub apps: BTreeMap<String, AppConfig>,
}

/// One app registered with a platform (`[apps.<plugin>]`): its plain settings (`app-key`,
/// `service-id`, `client-id`, `scopes`…) and its secrets (`app-secret`, `client-secret`), as
/// `env:VARIABLE` or `file:PATH`. A connection made through authorization starts from these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppConfig {
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Values are `env:VARIABLE` or `file:PATH` (relative to the config file), never inline.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

impl AppConfig {
    /// The settings with every secret resolved.
    pub fn resolve(&self, path: &Path) -> Result<ConnectionSettings, ConfigError> {
        let mut secrets = BTreeMap::new();
        for (name, value) in &self.secrets {
            secrets.insert(name.clone(), resolve_secret(path, name, value)?);
        }
        Ok(ConnectionSettings { settings: self.settings.clone(), secrets, allowed_hosts: None })
    }
}

/// The `[plugins]` table: connector files the operator installs, and the operator's limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PluginsConfig {
    /// A directory (relative to the config file) whose `*.wasm` files are installed at start.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Plugin ids an installed file may replace (a built-in included); any other id that is
    /// already taken refuses to start, naming both files.
    #[serde(default, rename = "override")]
    pub override_ids: Vec<String>,
    /// Ceilings for what a plugin's manifest may ask for, and the shared instance pool.
    #[serde(default)]
    pub limits: LimitsPolicy,
    /// When a connection whose plugin keeps failing is paused, and for how long.
    #[serde(default)]
    pub health: HealthPolicy,
    /// Where plugin HTTP may go besides public addresses (`[plugins.egress]`).
    #[serde(default)]
    pub egress: EgressConfig,
}

/// One connection's plugin, settings and secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConnectionConfig {
    pub name: String,
    /// Plugin id (`shopify`, `tiktok-shop`), or a component file to install (`*.wasm`,
    /// relative to the config file); either may end in `@sha256:<hex>` to pin the plugin.
    pub plugin: String,
    /// `sha256:<hex>` the plugin's component must hash to (as `plugin inspect` prints it);
    /// any other file refuses to start, naming both hashes.
    #[serde(default)]
    pub plugin_sha256: Option<String>,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Values are `env:VARIABLE` or `file:PATH` (relative to the config file); the secret
    /// itself never sits in the configuration.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Narrows the plugin's declared hosts.
    #[serde(default)]
    pub allowed_hosts: Option<Vec<String>>,
}

/// A channel: its connection plus pricing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChannelConfig {
    #[serde(flatten)]
    pub connection: ConnectionConfig,
    /// Channel currency per unit of store currency, when the currencies differ.
    #[serde(default)]
    pub exchange_rate: Option<Decimal>,
    /// Path of a product rule (Rhai), relative to the config file.
    #[serde(default)]
    pub product_rule: Option<PathBuf>,
    /// Path of a price rule (Rhai), relative to the config file.
    #[serde(default)]
    pub price_rule: Option<PathBuf>,
    /// Path of a category rule (Rhai), the fallback after hand mappings and templates.
    #[serde(default)]
    pub category_rule: Option<PathBuf>,
    /// Path of an order rule (Rhai): import, hold or skip each order, with its tags and note.
    #[serde(default)]
    pub order_rule: Option<PathBuf>,
    /// The channel's order, fulfillment, cancellation and refund settings (see
    /// `docs/orders.md`); absent groups and fields keep their defaults.
    #[serde(default)]
    pub orders: Option<crate::orders::OrderSettings>,
    /// Keep title, description and images in step once listed (prices and stock always are).
    #[serde(default)]
    pub sync_content: bool,
    /// New store products go to this channel unless deselected.
    #[serde(default = "default_true")]
    pub auto_select: bool,
    /// Units of store stock never offered on this channel.
    #[serde(default)]
    pub stock_buffer: i64,
    /// This channel's share of the store stock relative to the other channels.
    #[serde(default = "default_share")]
    pub stock_share: i64,
    /// Category templates: store product type, tag or vendor → channel leaf category.
    #[serde(default)]
    pub templates: Vec<TemplateConfig>,
}

/// One category template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TemplateConfig {
    /// `product_type`, `tag` or `vendor`.
    pub match_field: crate::db::placement::MatchField,
    pub match_value: String,
    pub category_id: String,
    /// Attribute values the category asks for.
    #[serde(default)]
    pub attributes: Vec<crate::model::AttributeValue>,
    #[serde(default = "default_priority")]
    pub priority: i64,
}

fn default_true() -> bool {
    true
}
fn default_share() -> i64 {
    1
}
fn default_priority() -> i64 {
    100
}

fn default_database_url() -> String {
    "sqlite:crossdock.db".into()
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_poll() -> u64 {
    300
}
fn default_order_poll() -> u64 {
    60
}
fn default_review_poll() -> u64 {
    60
}
fn default_drift_check() -> u64 {
    3_600
}
fn default_lease() -> u64 {
    30
}
fn default_webhook_retention() -> u64 {
    7
}
fn default_workers() -> usize {
    4
}

impl ServeConfig {
    /// Reads and validates the file; the environment overrides the database URL.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let mut config: ServeConfig = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        if let Ok(url) = std::env::var("CROSSDOCK_DATABASE_URL") {
            config.database_url = url;
        }
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        config.plugins.limits.check().map_err(invalid)?;
        config.plugins.health.check().map_err(invalid)?;
        config.plugins.egress.policy().map_err(invalid)?;
        if let Some(url) = &config.public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(invalid(format!("public-url {url:?} must start with https:// or http://")));
        }
        config.check_bounds().map_err(|e| ConfigError::Invalid {
            path: path.into(),
            message: format!("{e}; change it in the file and start again"),
        })?;
        Ok(config)
    }

    /// Checks every number against its bound, so none can overflow the arithmetic (or the
    /// timers) it feeds.
    fn check_bounds(&self) -> Result<(), crate::model::limits::FieldError> {
        use crate::model::limits::{MAX_STOCK_BUFFER, MAX_STOCK_SHARE, check_exchange_rate, check_range};
        const WEEK: u64 = 7 * 24 * 3_600;
        check_range("workers", self.workers, 1, 256)?;
        check_range("poll-interval-secs", self.poll_interval_secs, 1, WEEK)?;
        check_range("order-poll-secs", self.order_poll_secs, 1, WEEK)?;
        check_range("review-poll-secs", self.review_poll_secs, 1, WEEK)?;
        check_range("drift-check-secs", self.drift_check_secs, 1, WEEK)?;
        check_range("lease-secs", self.lease_secs, 1, 3_600)?;
        check_range("webhook-retention-days", self.webhook_retention_days, 1, 365)?;
        for (i, channel) in self.channels.iter().enumerate() {
            let field = |name: &str| format!("channels[{i}] ({}).{name}", channel.connection.name);
            check_range(&field("stock-buffer"), channel.stock_buffer, 0, MAX_STOCK_BUFFER)?;
            check_range(&field("stock-share"), channel.stock_share, 0, MAX_STOCK_SHARE)?;
            if let Some(rate) = channel.exchange_rate {
                check_exchange_rate(&field("exchange-rate"), rate)?;
            }
            for (t, template) in channel.templates.iter().enumerate() {
                check_range(
                    &field(&format!("templates[{t}].priority")),
                    template.priority,
                    -1_000_000,
                    1_000_000,
                )?;
            }
        }
        Ok(())
    }

    /// The configured secret key, read from where `secret-key` points; `None` when the file
    /// names none (the environment or the SQLite key file then provide it).
    pub fn secret_key(&self, path: &Path) -> Result<Option<SecretKey>, ConfigError> {
        self.secret_key.as_deref().map(|reference| read_secret_key(path, reference)).transpose()
    }
}

/// The key behind `env:VARIABLE` or `file:PATH` (relative to the configuration file).
pub fn read_secret_key(path: &Path, reference: &str) -> Result<SecretKey, ConfigError> {
    let text = zeroize::Zeroizing::new(resolve_secret(path, "secret-key", reference)?);
    SecretKey::from_base64(&text, KeyOrigin::Config(reference.to_string()))
        .map_err(|e| ConfigError::Invalid { path: path.into(), message: e.to_string() })
}

/// The value behind `env:VARIABLE` or `file:PATH` (relative to the configuration file).
fn resolve_secret(path: &Path, name: &str, reference: &str) -> Result<String, ConfigError> {
    if let Some(var) = reference.strip_prefix("env:") {
        std::env::var(var).map_err(|_| ConfigError::MissingEnv {
            path: path.into(),
            name: name.to_string(),
            var: var.to_string(),
        })
    } else if let Some(file) = reference.strip_prefix("file:") {
        let file = path.parent().unwrap_or(Path::new(".")).join(file);
        Ok(std::fs::read_to_string(&file)
            .map_err(|e| ConfigError::Invalid {
                path: path.into(),
                message: format!("secret `{name}`: reading {}: {e}", file.display()),
            })?
            .trim()
            .to_string())
    } else {
        Err(ConfigError::Invalid {
            path: path.into(),
            message: format!("secret `{name}` must be written as env:VARIABLE or file:PATH, never inline"),
        })
    }
}

impl ConnectionConfig {
    /// The settings with every `env:NAME` secret resolved.
    pub fn resolve(&self, path: &Path) -> Result<ConnectionSettings, ConfigError> {
        let mut secrets = BTreeMap::new();
        for (name, value) in &self.secrets {
            secrets.insert(name.clone(), resolve_secret(path, name, value)?);
        }
        Ok(ConnectionSettings {
            settings: self.settings.clone(),
            secrets,
            allowed_hosts: self.allowed_hosts.clone(),
        })
    }
}

/// A connection on its own (`crossdock plugin check --config`): settings and secrets only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConnectionFile {
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// `env:VARIABLE` or `file:PATH`.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub allowed_hosts: Option<Vec<String>>,
}

impl ConnectionFile {
    /// Reads the file and resolves its secrets.
    pub fn load(path: &Path) -> Result<ConnectionSettings, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let file: ConnectionFile = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse { path: path.into(), message: e.to_string() })?;
        ConnectionConfig {
            name: "check".into(),
            plugin: String::new(),
            plugin_sha256: None,
            settings: file.settings,
            secrets: file.secrets,
            allowed_hosts: file.allowed_hosts,
        }
        .resolve(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration README.md shows is one `serve` accepts, order settings included.
    #[test]
    fn the_readme_example_configuration_parses() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n").expect("README shows a configuration") + "```toml\n".len();
        let end = start + readme[start..].find("```").expect("the block ends");
        let config: ServeConfig =
            toml::from_str(&readme[start..end]).expect("the README's configuration parses");
        let channel = &config.channels[0];
        assert!(channel.order_rule.is_some());
        let orders = channel.orders.as_ref().expect("order settings");
        assert!(!orders.order.import_on_hold && orders.refund.restock_returns && orders.order.import);
        assert_eq!(config.order_poll_secs, 60);
        let tiktok = &config.apps["tiktok-shop"];
        assert!(
            tiktok.settings.contains_key("service-id") && tiktok.secrets["app-secret"].starts_with("env:")
        );
        assert!(config.apps["shopify"].settings.contains_key("client-id"));
        config.check_bounds().expect("the README's numbers are in range");
    }

    /// Numbers that would overflow what they feed are refused naming the field and range.
    #[test]
    fn numbers_out_of_range_are_refused_naming_the_field() {
        let base = "organization = \"o\"\n[store]\nname = \"s\"\nplugin = \"shopify\"\n";
        let cases = [
            ("lease-secs = 9223372036854775807\n", "lease-secs"),
            ("workers = 0\n", "workers"),
            ("webhook-retention-days = 0\n", "webhook-retention-days"),
            (
                "[[channels]]\nname = \"UK\"\nplugin = \"tiktok-shop\"\nstock-share = 9223372036854775807\n",
                "channels[0] (UK).stock-share",
            ),
            (
                "[[channels]]\nname = \"UK\"\nplugin = \"tiktok-shop\"\nexchange-rate = \"1000000000000000000000000000\"\n",
                "channels[0] (UK).exchange-rate",
            ),
        ];
        for (extra, field) in cases {
            // Top-level keys go before the tables.
            let text =
                if extra.starts_with('[') { format!("{base}{extra}") } else { format!("{extra}{base}") };
            let config: ServeConfig = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let error = config.check_bounds().expect_err(field);
            assert_eq!(error.field, field, "{text}");
        }
    }
}
