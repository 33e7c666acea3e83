//! Organizations and their connections: exactly one store each (the schema's UNIQUE
//! guarantees it) and any number of channels.

use super::{Context, Db, DbError, is_unique_violation, now_ms};
use crate::connectors::ConnectionSettings;
use crate::model::{ChannelId, Currency, OrgId, StoreId};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;

/// An organization's store connection.
#[derive(Debug, Clone)]
pub struct StoreRow {
    pub id: StoreId,
    pub org_id: OrgId,
    pub name: String,
    pub plugin_id: String,
    pub currency: Option<Currency>,
    pub settings: ConnectionSettings,
}

/// A channel (TikTok Shop) connection.
#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: ChannelId,
    pub org_id: OrgId,
    pub name: String,
    pub plugin_id: String,
    pub currency: Option<Currency>,
    pub region: Option<String>,
    pub exchange_rate: Option<Decimal>,
    pub settings: ConnectionSettings,
}

fn settings_from(row: &AnyRow, what: &str) -> Result<ConnectionSettings, DbError> {
    let text: String = row
        .try_get("settings")
        .context(|| format!("reading {what} settings"))?;
    serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("{what} settings: {e}")))
}

fn currency_from(value: Option<String>, what: &str) -> Result<Option<Currency>, DbError> {
    value
        .map(|c| Currency::new(&c).map_err(|e| DbError::Corrupt(format!("{what} currency: {e}"))))
        .transpose()
}

fn settings_json(settings: &ConnectionSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_string())
}

impl Db {
    pub async fn create_org(&self, name: &str) -> Result<OrgId, DbError> {
        let row = sqlx::query(
            "INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(name)
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Conflict(format!("an organization named `{name}` already exists"))
            } else {
                DbError::Sqlx {
                    context: format!("creating organization {name}"),
                    source: e,
                }
            }
        })?;
        Ok(OrgId(
            row.try_get("id")
                .context(|| "reading organization id".into())?,
        ))
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, DbError> {
        let row = sqlx::query("SELECT id FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("looking up organization {name}"))?;
        row.map(|r| r.try_get("id").map(OrgId))
            .transpose()
            .context(|| "reading organization id".into())
    }

    /// Connects the organization's one store; a second is refused with what to do instead.
    pub async fn connect_store(
        &self,
        org: OrgId,
        name: &str,
        plugin_id: &str,
        settings: &ConnectionSettings,
    ) -> Result<StoreId, DbError> {
        let row = sqlx::query(
            "INSERT INTO stores (org_id, name, plugin_id, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(plugin_id)
        .bind(settings_json(settings))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Conflict(format!(
                    "organization {org} already has a store; an organization has exactly one store: \
                     disconnect the current store first, or create a new organization for `{name}`"
                ))
            } else {
                DbError::Sqlx { context: format!("connecting store {name}"), source: e }
            }
        })?;
        Ok(StoreId(
            row.try_get("id").context(|| "reading store id".into())?,
        ))
    }

    pub async fn store_of(&self, org: OrgId) -> Result<Option<StoreRow>, DbError> {
        let row = sqlx::query(
            "SELECT id, org_id, name, plugin_id, currency, settings FROM stores WHERE org_id = $1",
        )
        .bind(org.0)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading the store of organization {org}"))?;
        let Some(row) = row else { return Ok(None) };
        let ctx = || "reading store".to_string();
        Ok(Some(StoreRow {
            id: StoreId(row.try_get("id").context(ctx)?),
            org_id: OrgId(row.try_get("org_id").context(ctx)?),
            name: row.try_get("name").context(ctx)?,
            plugin_id: row.try_get("plugin_id").context(ctx)?,
            currency: currency_from(row.try_get("currency").context(ctx)?, "store")?,
            settings: settings_from(&row, "store")?,
        }))
    }

    pub async fn set_store_currency(
        &self,
        store: StoreId,
        currency: &Currency,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE stores SET currency = $1 WHERE id = $2")
            .bind(currency.as_str())
            .bind(store.0)
            .execute(self.pool())
            .await
            .context(|| format!("setting the currency of store {store}"))?;
        Ok(())
    }

    pub async fn add_channel(
        &self,
        org: OrgId,
        name: &str,
        plugin_id: &str,
        settings: &ConnectionSettings,
    ) -> Result<ChannelId, DbError> {
        let row = sqlx::query(
            "INSERT INTO channels (org_id, name, plugin_id, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(plugin_id)
        .bind(settings_json(settings))
        .bind(now_ms())
        .fetch_one(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Conflict(format!(
                    "organization {org} already has a channel named `{name}`"
                ))
            } else {
                DbError::Sqlx {
                    context: format!("adding channel {name}"),
                    source: e,
                }
            }
        })?;
        Ok(ChannelId(
            row.try_get("id").context(|| "reading channel id".into())?,
        ))
    }

    pub async fn channels(&self, org: OrgId) -> Result<Vec<ChannelRow>, DbError> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, plugin_id, currency, region, exchange_rate, settings \
             FROM channels WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the channels of organization {org}"))?;
        rows.iter().map(channel_from).collect()
    }

    pub async fn channel(&self, id: ChannelId) -> Result<ChannelRow, DbError> {
        let row = sqlx::query(
            "SELECT id, org_id, name, plugin_id, currency, region, exchange_rate, settings \
             FROM channels WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading channel {id}"))?
        .ok_or_else(|| DbError::NotFound(format!("channel {id}")))?;
        channel_from(&row)
    }

    /// Records what the channel's platform says about the shop.
    pub async fn set_channel_account(
        &self,
        id: ChannelId,
        currency: &Currency,
        region: Option<&str>,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE channels SET currency = $1, region = $2 WHERE id = $3")
            .bind(currency.as_str())
            .bind(region)
            .bind(id.0)
            .execute(self.pool())
            .await
            .context(|| format!("setting the account of channel {id}"))?;
        Ok(())
    }

    /// Sets the channel's exchange rate: channel currency per unit of store currency.
    pub async fn set_exchange_rate(&self, id: ChannelId, rate: Decimal) -> Result<(), DbError> {
        sqlx::query("UPDATE channels SET exchange_rate = $1 WHERE id = $2")
            .bind(rate.to_string())
            .bind(id.0)
            .execute(self.pool())
            .await
            .context(|| format!("setting the exchange rate of channel {id}"))?;
        Ok(())
    }
}

fn channel_from(row: &AnyRow) -> Result<ChannelRow, DbError> {
    let ctx = || "reading channel".to_string();
    let rate: Option<String> = row.try_get("exchange_rate").context(ctx)?;
    let exchange_rate = rate
        .map(|r| {
            Decimal::from_str(&r).map_err(|e| DbError::Corrupt(format!("exchange rate `{r}`: {e}")))
        })
        .transpose()?;
    Ok(ChannelRow {
        id: ChannelId(row.try_get("id").context(ctx)?),
        org_id: OrgId(row.try_get("org_id").context(ctx)?),
        name: row.try_get("name").context(ctx)?,
        plugin_id: row.try_get("plugin_id").context(ctx)?,
        currency: currency_from(row.try_get("currency").context(ctx)?, "channel")?,
        region: row.try_get("region").context(ctx)?,
        exchange_rate,
        settings: settings_from(row, "channel")?,
    })
}
