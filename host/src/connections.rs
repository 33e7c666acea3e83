//! Connecting an organization's store and channels: each connection is checked against its
//! platform when it is made (credentials, currency), and a channel whose currency differs
//! from the store's needs an exchange rate before anything is listed there. Re-applied
//! credentials are checked the same way before they replace the stored ones, and a
//! connector's rotated secrets are kept through a `DbSecretSink`.

use crate::app::App;
use crate::connectors::secret_sink::CapturedSecrets;
use crate::connectors::{
    ChannelConnector, ConnectionSettings, ConnectorError, PluginKind, SecretSink, StoreConnector,
};
use crate::db::DbError;
use crate::db::orgs::{ChannelRow, NewChannel, StoreRow};
use crate::db::secrets::{ConnectionUpdate, DbSecretSink, SecretOwner};
use crate::model::{ChannelId, OrgId, StoreId};
use crate::rules::{DEFAULT_PRICE_RULE, DEFAULT_PRODUCT_RULE, RuleKind};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Why a connection could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error("no plugin `{0}` is installed (see `crossdock plugin list`)")]
    UnknownPlugin(String),
    #[error("plugin `{id}` is a {actual} plugin; {needed}")]
    WrongKind { id: String, actual: &'static str, needed: &'static str },
    #[error("exchange rate {0}")]
    BadRate(crate::model::limits::FieldError),
}

/// The store connector of a stored store connection; the secrets it rotates are kept.
pub fn store_connector(app: &App, store: &StoreRow) -> Result<StoreConnector, SetupError> {
    let connector =
        new_store_connector(app, &store.plugin_id, &format!("store {}", store.id), &store.settings)?;
    Ok(connector.with_secret_sink(secret_sink_for_store(app, store.id)))
}

/// The channel connector of a stored channel connection; the secrets it rotates (a refreshed
/// access token) are kept.
pub fn channel_connector(app: &App, channel: &ChannelRow) -> Result<ChannelConnector, SetupError> {
    let label = format!("channel {}", channel.id);
    let connector = new_channel_connector(app, &channel.plugin_id, &label, &channel.settings)?;
    Ok(connector.with_secret_sink(secret_sink_for_channel(app, channel.id)))
}

fn new_store_connector(
    app: &App,
    plugin_id: &str,
    label: &str,
    settings: &ConnectionSettings,
) -> Result<StoreConnector, SetupError> {
    let plugin =
        app.plugins.get(plugin_id).ok_or_else(|| SetupError::UnknownPlugin(plugin_id.to_string()))?;
    Ok(StoreConnector::new(&app.runtime, plugin, label, settings.clone())?)
}

fn new_channel_connector(
    app: &App,
    plugin_id: &str,
    label: &str,
    settings: &ConnectionSettings,
) -> Result<ChannelConnector, SetupError> {
    let plugin =
        app.plugins.get(plugin_id).ok_or_else(|| SetupError::UnknownPlugin(plugin_id.to_string()))?;
    Ok(ChannelConnector::new(&app.runtime, plugin, label, settings.clone())?)
}

fn check_kind(app: &App, plugin_id: &str, kind: PluginKind) -> Result<(), SetupError> {
    let plugin =
        app.plugins.get(plugin_id).ok_or_else(|| SetupError::UnknownPlugin(plugin_id.to_string()))?;
    if plugin.kind() != kind {
        return Err(SetupError::WrongKind {
            id: plugin_id.to_string(),
            actual: plugin.kind().as_str(),
            needed: match kind {
                PluginKind::Store => "a store needs a store plugin",
                PluginKind::Channel => "a channel needs a channel plugin",
            },
        });
    }
    Ok(())
}

/// Connects the organization's one store and records its currency, as the platform says.
/// The connection is checked with the platform before anything is stored, so a failed check
/// leaves nothing behind and can simply be tried again.
#[tracing::instrument(skip_all, fields(org = %org, plugin = plugin_id))]
pub async fn connect_store(
    app: &App,
    org: OrgId,
    name: &str,
    plugin_id: &str,
    settings: ConnectionSettings,
) -> Result<StoreId, SetupError> {
    check_kind(app, plugin_id, PluginKind::Store)?;
    let label = format!("store {name} (connecting)");
    let captured = Arc::new(CapturedSecrets::default());
    let connector =
        new_store_connector(app, plugin_id, &label, &settings)?.with_secret_sink(captured.clone());
    let info = connector.store_info().await?;
    // Tokens the connector got on this first call (for an authorization code) are the
    // connection's from the start.
    let settings = with_captured(settings, &captured);
    let id = app.db.connect_store(org, name, plugin_id, &settings, &info.currency).await?;
    tracing::info!(store = %id, currency = %info.currency, "store connected");
    Ok(id)
}

/// Adds a channel, reads its currency and region from the platform, and gives it the
/// default rules (version 1). The connection is checked before anything is stored, and the
/// channel with its rules is stored in one transaction.
#[tracing::instrument(skip_all, fields(org = %org, plugin = plugin_id, channel = name))]
pub async fn add_channel(
    app: &App,
    org: OrgId,
    name: &str,
    plugin_id: &str,
    settings: ConnectionSettings,
) -> Result<ChannelId, SetupError> {
    check_kind(app, plugin_id, PluginKind::Channel)?;
    let label = format!("channel {name} (connecting)");
    let captured = Arc::new(CapturedSecrets::default());
    let connector =
        new_channel_connector(app, plugin_id, &label, &settings)?.with_secret_sink(captured.clone());
    let info = connector.channel_info().await?;
    let settings = with_captured(settings, &captured);
    let new = NewChannel {
        name,
        plugin_id,
        currency: &info.currency,
        region: info.region.as_deref(),
        rules: &[(RuleKind::Product, DEFAULT_PRODUCT_RULE), (RuleKind::Price, DEFAULT_PRICE_RULE)],
    };
    let id = app.db.add_channel(org, &new, &settings).await?;
    tracing::info!(channel = %id, currency = %info.currency, region = ?info.region, "channel added");
    Ok(id)
}

/// The settings with what the connector set during its check in place of what it was given.
fn with_captured(mut settings: ConnectionSettings, captured: &CapturedSecrets) -> ConnectionSettings {
    settings.secrets.extend(captured.take_copy());
    settings
}

/// The stored connection's settings with `fresh` laid over them (a new authorization: its
/// code, the platform's settings), written as the operator's once the platform accepted
/// them; what the connector set during that check (the new tokens) is kept too.
fn reauthorized(
    stored: &ConnectionSettings,
    fresh: &ConnectionSettings,
    checked: &ConnectionSettings,
) -> ConnectionUpdate {
    let mut given: Vec<String> = fresh.secrets.keys().cloned().collect();
    given.extend(
        checked.secrets.keys().filter(|k| stored.secrets.get(*k) != checked.secrets.get(*k)).cloned(),
    );
    given.sort();
    given.dedup();
    ConnectionUpdate { settings: checked.clone(), given, removed: Vec::new(), credentials_changed: true }
}

fn overlay(stored: &ConnectionSettings, fresh: &ConnectionSettings) -> ConnectionSettings {
    let mut settings = stored.clone();
    settings.settings.extend(fresh.settings.clone());
    settings.secrets.extend(fresh.secrets.clone());
    settings
}

/// Connects the stored store again with `fresh` values (a new authorization through the
/// platform): checked with the platform first, then its settings and tokens replace the
/// stored ones, and what failed for want of them runs again.
#[tracing::instrument(skip_all, fields(store = %store.id))]
pub async fn reauthorize_store(
    app: &App,
    store: &StoreRow,
    fresh: &ConnectionSettings,
) -> Result<(), SetupError> {
    let candidate = overlay(&store.settings, fresh);
    let captured = Arc::new(CapturedSecrets::default());
    let label = format!("store {} (reconnecting)", store.id);
    let connector =
        new_store_connector(app, &store.plugin_id, &label, &candidate)?.with_secret_sink(captured.clone());
    let info = connector.store_info().await?;
    let checked = with_captured(candidate, &captured);
    app.db
        .update_connection(SecretOwner::Store(store.id), &reauthorized(&store.settings, fresh, &checked))
        .await?;
    app.db.set_store_currency(store.id, &info.currency).await?;
    let mut retried = 0;
    for channel in app.db.channels(store.org_id).await? {
        retried += app.db.retry_failed_orders(channel.id, Some("store_unauthorized")).await?;
    }
    tracing::info!(currency = %info.currency, retried, "store reauthorized");
    Ok(())
}

/// Connects the stored channel again with `fresh` values, as `reauthorize_store` does, and
/// records the shop's currency and region again.
#[tracing::instrument(skip_all, fields(channel = %channel.id))]
pub async fn reauthorize_channel(
    app: &App,
    channel: &ChannelRow,
    fresh: &ConnectionSettings,
) -> Result<(), SetupError> {
    let candidate = overlay(&channel.settings, fresh);
    let captured = Arc::new(CapturedSecrets::default());
    let label = format!("channel {} (reconnecting)", channel.id);
    let connector = new_channel_connector(app, &channel.plugin_id, &label, &candidate)?
        .with_secret_sink(captured.clone());
    let info = connector.channel_info().await?;
    let checked = with_captured(candidate, &captured);
    let update = reauthorized(&channel.settings, fresh, &checked);
    app.db.update_connection(SecretOwner::Channel(channel.id), &update).await?;
    app.db.set_channel_account(channel.id, &info.currency, info.region.as_deref()).await?;
    let jobs = app.db.retry_failed_jobs(channel.id).await?;
    let orders = app.db.retry_failed_orders(channel.id, Some("channel_unauthorized")).await?;
    tracing::info!(currency = %info.currency, region = ?info.region, jobs, orders, "channel reauthorized");
    Ok(())
}

/// Sets how many units of the channel's currency one unit of the store's currency buys.
pub async fn set_exchange_rate(app: &App, channel: ChannelId, rate: Decimal) -> Result<(), SetupError> {
    crate::model::limits::check_exchange_rate("rate", rate).map_err(SetupError::BadRate)?;
    app.db.set_exchange_rate(channel, rate).await?;
    Ok(())
}

/// Where the store's connector keeps a secret it rotates: encrypted in the database.
pub fn secret_sink_for_store(app: &App, store: StoreId) -> Arc<dyn SecretSink> {
    Arc::new(DbSecretSink::new(app.db.clone(), SecretOwner::Store(store)))
}

/// Where the channel's connector keeps a secret it rotates (a refreshed access token):
/// encrypted in the database.
pub fn secret_sink_for_channel(app: &App, channel: ChannelId) -> Arc<dyn SecretSink> {
    Arc::new(DbSecretSink::new(app.db.clone(), SecretOwner::Channel(channel)))
}

/// Brings a stored store connection in line with the operator's settings (a reconnected
/// shop: a new token). New credentials are checked with the platform before they replace
/// the stored ones; a secret the connector rotated stays while the operator's value is the
/// one given before. Returns whether the credentials changed.
#[tracing::instrument(skip_all, fields(store = %store.id))]
pub async fn reconfigure_store(
    app: &App,
    store: &StoreRow,
    configured: &ConnectionSettings,
) -> Result<bool, SetupError> {
    let owner = SecretOwner::Store(store.id);
    let update = ConnectionUpdate::plan(&store.settings, &app.db.secret_entries(owner).await?, configured);
    if update.is_empty() {
        return Ok(false);
    }
    if !update.credentials_changed {
        app.db.update_connection(owner, &update).await?;
        return Ok(false);
    }
    let candidate = StoreRow { settings: update.settings.clone(), ..store.clone() };
    let info = store_connector(app, &candidate)?.store_info().await?;
    app.db.update_connection(owner, &update).await?;
    app.db.set_store_currency(store.id, &info.currency).await?;
    // The store checked out with the new credentials: what failed for want of them runs again.
    let mut retried = 0;
    for channel in app.db.channels(store.org_id).await? {
        retried += app.db.retry_failed_orders(channel.id, Some("store_unauthorized")).await?;
    }
    tracing::info!(currency = %info.currency, retried, "store credentials updated");
    Ok(true)
}

/// Brings a stored channel connection in line with the operator's settings (a reconnected
/// shop: a new shop cipher, a new token), as `reconfigure_store` does, and records the
/// shop's currency and region again.
#[tracing::instrument(skip_all, fields(channel = %channel.id))]
pub async fn reconfigure_channel(
    app: &App,
    channel: &ChannelRow,
    configured: &ConnectionSettings,
) -> Result<bool, SetupError> {
    let owner = SecretOwner::Channel(channel.id);
    let update = ConnectionUpdate::plan(&channel.settings, &app.db.secret_entries(owner).await?, configured);
    if update.is_empty() {
        return Ok(false);
    }
    if !update.credentials_changed {
        app.db.update_connection(owner, &update).await?;
        return Ok(false);
    }
    let candidate = ChannelRow { settings: update.settings.clone(), ..channel.clone() };
    let info = channel_connector(app, &candidate)?.channel_info().await?;
    app.db.update_connection(owner, &update).await?;
    app.db.set_channel_account(channel.id, &info.currency, info.region.as_deref()).await?;
    // The shop checked out with the new credentials: the work that failed on it (for want of
    // them, most likely; anything else fails again with its own reason) runs again.
    let jobs = app.db.retry_failed_jobs(channel.id).await?;
    let orders = app.db.retry_failed_orders(channel.id, Some("channel_unauthorized")).await?;
    tracing::info!(currency = %info.currency, region = ?info.region, jobs, orders, "channel credentials updated");
    Ok(true)
}
