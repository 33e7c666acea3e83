//! Organizations and their connections: exactly one store each (the schema's UNIQUE
//! guarantees it) and any number of channels. A connection's secrets are kept sealed in
//! `connection_secrets` (see `secrets`), never in its settings JSON; rows read here carry
//! them decrypted.

use super::secrets::{SecretOwner, plain_settings_json};
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
    pub options: ChannelOptions,
    /// Version of the channel's channel-wide inputs when this row was read.
    pub inputs_version: i64,
}

/// A channel being connected: what its platform reported, and its first rules.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub plugin_id: &'a str,
    pub currency: &'a Currency,
    pub region: Option<&'a str>,
    pub rules: &'a [(crate::rules::RuleKind, &'a str)],
}

/// How a channel syncs, beyond its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ChannelOptions {
    /// Keep title, description and images in step once listed (prices and stock always are).
    pub sync_content: bool,
    /// New store products go to this channel unless deselected.
    pub auto_select: bool,
    /// Units of store stock never offered here.
    pub stock_buffer: i64,
    /// This channel's share of the remaining store stock, relative to the organization's
    /// other channels: equal shares split it evenly; 0 offers none.
    pub stock_share: i64,
}

impl ChannelOptions {
    /// Checks every number against its bound (`crate::model::limits`).
    pub fn validate(&self) -> Result<(), crate::model::limits::FieldError> {
        crate::model::limits::check_stock("", self.stock_buffer, self.stock_share)
    }
}

impl Default for ChannelOptions {
    fn default() -> Self {
        ChannelOptions { sync_content: false, auto_select: true, stock_buffer: 0, stock_share: 1 }
    }
}

fn settings_from(row: &AnyRow, what: &str) -> Result<ConnectionSettings, DbError> {
    let text: String = row.try_get("settings").context(|| format!("reading {what} settings"))?;
    serde_json::from_str(&text).map_err(|e| DbError::Corrupt(format!("{what} settings: {e}")))
}

fn currency_from(value: Option<String>, what: &str) -> Result<Option<Currency>, DbError> {
    value
        .map(|c| Currency::new(&c).map_err(|e| DbError::Corrupt(format!("{what} currency: {e}"))))
        .transpose()
}

fn settings_json(settings: &ConnectionSettings) -> String {
    plain_settings_json(settings)
}

impl Db {
    pub async fn create_org(&self, name: &str) -> Result<OrgId, DbError> {
        let row = sqlx::query("INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now_ms())
            .fetch_one(self.pool())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    DbError::Conflict(format!("an organization named `{name}` already exists"))
                } else {
                    DbError::Sqlx { context: format!("creating organization {name}"), source: e }
                }
            })?;
        Ok(OrgId(row.try_get("id").context(|| "reading organization id".into())?))
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<OrgId>, DbError> {
        let row = sqlx::query("SELECT id FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("looking up organization {name}"))?;
        row.map(|r| r.try_get("id").map(OrgId)).transpose().context(|| "reading organization id".into())
    }

    /// Connects the organization's one store, with the currency its platform reported, in one
    /// statement: a connection whose check failed leaves nothing behind. A second store is
    /// refused with what to do instead.
    pub async fn connect_store(
        &self,
        org: OrgId,
        name: &str,
        plugin_id: &str,
        settings: &ConnectionSettings,
        currency: &Currency,
    ) -> Result<StoreId, DbError> {
        self.organization_exists(org).await?;
        let mut tx = self.pool().begin().await.context(|| format!("connecting store {name}"))?;
        let row = sqlx::query(
            "INSERT INTO stores (org_id, name, plugin_id, settings, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(plugin_id)
        .bind(settings_json(settings))
        .bind(currency.as_str())
        .bind(now_ms())
        .fetch_one(&mut *tx)
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
        let id = StoreId(row.try_get("id").context(|| "reading store id".into())?);
        self.put_given_secrets(&mut tx, SecretOwner::Store(id), &settings.secrets).await?;
        tx.commit().await.context(|| format!("connecting store {name}"))?;
        Ok(id)
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
        let mut store = StoreRow {
            id: StoreId(row.try_get("id").context(ctx)?),
            org_id: OrgId(row.try_get("org_id").context(ctx)?),
            name: row.try_get("name").context(ctx)?,
            plugin_id: row.try_get("plugin_id").context(ctx)?,
            currency: currency_from(row.try_get("currency").context(ctx)?, "store")?,
            settings: settings_from(&row, "store")?,
        };
        store.settings.secrets.extend(self.secrets_of(SecretOwner::Store(store.id)).await?);
        Ok(Some(store))
    }

    pub async fn set_store_currency(&self, store: StoreId, currency: &Currency) -> Result<(), DbError> {
        sqlx::query("UPDATE stores SET currency = $1 WHERE id = $2")
            .bind(currency.as_str())
            .bind(store.0)
            .execute(self.pool())
            .await
            .context(|| format!("setting the currency of store {store}"))?;
        Ok(())
    }

    /// Adds a channel with what its platform reported (currency, region) and its first
    /// rules, all in one transaction: a connection whose check failed leaves nothing behind.
    /// The organization's other channels are marked out of date (their share of the stock
    /// changes).
    pub async fn add_channel(
        &self,
        org: OrgId,
        new: &NewChannel<'_>,
        settings: &ConnectionSettings,
    ) -> Result<ChannelId, DbError> {
        self.organization_exists(org).await?;
        let name = new.name;
        let what = || format!("adding channel {name}");
        let mut tx = self.pool().begin().await.context(what)?;
        let row = sqlx::query(
            "INSERT INTO channels (org_id, name, plugin_id, settings, currency, region, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(org.0)
        .bind(name)
        .bind(new.plugin_id)
        .bind(settings_json(settings))
        .bind(new.currency.as_str())
        .bind(new.region)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                DbError::Conflict(format!("organization {org} already has a channel named `{name}`"))
            } else {
                DbError::Sqlx { context: format!("adding channel {name}"), source: e }
            }
        })?;
        let id = ChannelId(row.try_get("id").context(|| "reading channel id".into())?);
        self.put_given_secrets(&mut tx, SecretOwner::Channel(id), &settings.secrets).await?;
        for (kind, source) in new.rules {
            sqlx::query(
                "INSERT INTO rules (channel_id, kind, version, source, hash, active, created_at) \
                 VALUES ($1, $2, 1, $3, $4, 1, $5)",
            )
            .bind(id.0)
            .bind(kind.as_str())
            .bind(*source)
            .bind(crate::rules::script::source_hash(source))
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context(what)?;
        }
        sqlx::query("UPDATE channels SET inputs_version = inputs_version + 1 WHERE org_id = $1 AND id <> $2")
            .bind(org.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .context(what)?;
        tx.commit().await.context(what)?;
        Ok(id)
    }

    /// Refuses an organization id that does not exist.
    pub async fn organization_exists(&self, org: OrgId) -> Result<(), DbError> {
        let row = sqlx::query("SELECT id FROM organizations WHERE id = $1")
            .bind(org.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading organization {org}"))?;
        row.map(|_| ()).ok_or_else(|| DbError::NotFound(format!("organization {org}")))
    }

    /// Marks a channel's pairs out of date: one of its channel-wide inputs changed (a rule,
    /// the rate, a template, its options). The reconciler recomputes them.
    pub async fn channel_inputs_changed(&self, channel: ChannelId) -> Result<(), DbError> {
        sqlx::query("UPDATE channels SET inputs_version = inputs_version + 1 WHERE id = $1")
            .bind(channel.0)
            .execute(self.pool())
            .await
            .context(|| format!("marking channel {channel} out of date"))?;
        Ok(())
    }

    /// Each channel of the organization with the version of its channel-wide inputs; a
    /// loaded sync engine compares it to tell that it is stale.
    pub async fn channel_versions(&self, org: OrgId) -> Result<Vec<(ChannelId, i64)>, DbError> {
        self.versions(org, "").await
    }

    /// Channels of the organization whose channel-wide inputs changed since they were last
    /// reconciled, with the version to reconcile.
    pub async fn channels_to_reconcile(&self, org: OrgId) -> Result<Vec<(ChannelId, i64)>, DbError> {
        self.versions(org, "AND inputs_version > reconciled_version").await
    }

    async fn versions(&self, org: OrgId, filter: &'static str) -> Result<Vec<(ChannelId, i64)>, DbError> {
        let sql = format!("SELECT id, inputs_version FROM channels WHERE org_id = $1 {filter} ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.0)
            .fetch_all(self.pool())
            .await
            .context(|| format!("reading channel versions of organization {org}"))?;
        rows.iter()
            .map(|r| {
                let ctx = || "reading channel version".to_string();
                Ok((ChannelId(r.try_get("id").context(ctx)?), r.try_get("inputs_version").context(ctx)?))
            })
            .collect()
    }

    /// Records that the channel's pairs were recomputed for `version` of its inputs.
    pub async fn channel_reconciled(&self, channel: ChannelId, version: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE channels SET reconciled_version = $1 WHERE id = $2 AND reconciled_version < $1")
            .bind(version)
            .bind(channel.0)
            .execute(self.pool())
            .await
            .context(|| format!("recording the reconciliation of channel {channel}"))?;
        Ok(())
    }

    pub async fn channels(&self, org: OrgId) -> Result<Vec<ChannelRow>, DbError> {
        let rows = sqlx::query(
            "SELECT id, org_id, name, plugin_id, currency, region, exchange_rate, settings, sync_content, \
             auto_select, stock_buffer, stock_share, inputs_version FROM channels WHERE org_id = $1 ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing the channels of organization {org}"))?;
        let mut secrets = self.channel_secrets_of_org(org).await?;
        rows.iter()
            .map(|row| {
                let mut channel = channel_from(row)?;
                channel.settings.secrets.extend(secrets.remove(&channel.id).unwrap_or_default());
                Ok(channel)
            })
            .collect()
    }

    pub async fn channel(&self, id: ChannelId) -> Result<ChannelRow, DbError> {
        let row = sqlx::query(
            "SELECT id, org_id, name, plugin_id, currency, region, exchange_rate, settings, sync_content, \
             auto_select, stock_buffer, stock_share, inputs_version FROM channels WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading channel {id}"))?
        .ok_or_else(|| DbError::NotFound(format!("channel {id}")))?;
        let mut channel = channel_from(&row)?;
        channel.settings.secrets.extend(self.secrets_of(SecretOwner::Channel(id)).await?);
        Ok(channel)
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

    /// Sets how the channel syncs.
    pub async fn set_channel_options(&self, id: ChannelId, options: ChannelOptions) -> Result<(), DbError> {
        if let Err(e) = options.validate() {
            return Err(DbError::Invalid(format!("channel {id}: {e}")));
        }
        let changed = sqlx::query(
            "UPDATE channels SET sync_content = $1, auto_select = $2, stock_buffer = $3, \
             stock_share = $4 WHERE id = $5 AND (sync_content <> $1 OR auto_select <> $2 \
             OR stock_buffer <> $3 OR stock_share <> $4)",
        )
        .bind(i64::from(options.sync_content))
        .bind(i64::from(options.auto_select))
        .bind(options.stock_buffer)
        .bind(options.stock_share)
        .bind(id.0)
        .execute(self.pool())
        .await
        .context(|| format!("setting the options of channel {id}"))?;
        if changed.rows_affected() > 0 {
            // The channel's own pairs change, and so may every channel's share of the stock.
            sqlx::query(
                "UPDATE channels SET inputs_version = inputs_version + 1 \
                 WHERE org_id = (SELECT org_id FROM channels WHERE id = $1)",
            )
            .bind(id.0)
            .execute(self.pool())
            .await
            .context(|| format!("marking the channels beside channel {id} out of date"))?;
        }
        Ok(())
    }

    /// Removes a channel and everything listed for it locally (not on the channel itself).
    pub async fn delete_channel(&self, id: ChannelId) -> Result<(), DbError> {
        let row = self.channel(id).await?;
        for sql in [
            "DELETE FROM jobs WHERE channel_id = $1",
            "DELETE FROM listings WHERE channel_id = $1",
            "DELETE FROM channels WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.0)
                .execute(self.pool())
                .await
                .context(|| format!("deleting channel {id}"))?;
        }
        // The others' shares of the stock grow.
        sqlx::query("UPDATE channels SET inputs_version = inputs_version + 1 WHERE org_id = $1")
            .bind(row.org_id.0)
            .execute(self.pool())
            .await
            .context(|| format!("marking the channels of organization {} out of date", row.org_id))?;
        Ok(())
    }

    /// Disconnects the organization's store and forgets its catalog, so another can be
    /// connected. Channels stay.
    pub async fn disconnect_store(&self, org: OrgId) -> Result<(), DbError> {
        let Some(store) = self.store_of(org).await? else {
            return Err(DbError::NotFound(format!("a store of organization {org}")));
        };
        for sql in [
            "DELETE FROM jobs WHERE product_id IN (SELECT id FROM products WHERE store_id = $1)",
            "DELETE FROM products WHERE store_id = $1",
            "DELETE FROM stores WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(store.id.0)
                .execute(self.pool())
                .await
                .context(|| format!("disconnecting store {}", store.id))?;
        }
        Ok(())
    }

    /// Whether SKU auto-linking is on for the organization (one switch for all channels).
    pub async fn auto_link(&self, org: OrgId) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT auto_link FROM organizations WHERE id = $1")
            .bind(org.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading organization {org}"))?
            .ok_or_else(|| DbError::NotFound(format!("organization {org}")))?;
        Ok(row.try_get::<i64, _>("auto_link").context(|| "reading auto_link".into())? != 0)
    }

    pub async fn set_auto_link(&self, org: OrgId, on: bool) -> Result<(), DbError> {
        self.organization_exists(org).await?;
        sqlx::query("UPDATE organizations SET auto_link = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(org.0)
            .execute(self.pool())
            .await
            .context(|| format!("setting auto-link of organization {org}"))?;
        Ok(())
    }

    /// Sets the channel's exchange rate: channel currency per unit of store currency.
    pub async fn set_exchange_rate(&self, id: ChannelId, rate: Decimal) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE channels SET exchange_rate = $1, inputs_version = inputs_version + 1 \
             WHERE id = $2 AND (exchange_rate IS NULL OR exchange_rate <> $1)",
        )
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
        .map(|r| Decimal::from_str(&r).map_err(|e| DbError::Corrupt(format!("exchange rate `{r}`: {e}"))))
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
        options: ChannelOptions {
            sync_content: row.try_get::<i64, _>("sync_content").context(ctx)? != 0,
            auto_select: row.try_get::<i64, _>("auto_select").context(ctx)? != 0,
            stock_buffer: row.try_get("stock_buffer").context(ctx)?,
            stock_share: row.try_get("stock_share").context(ctx)?,
        },
        inputs_version: row.try_get("inputs_version").context(ctx)?,
    })
}
