//! Where products go on each channel: which products are selected, and which category
//! (with attribute values) they take, by hand or through category templates.

use super::{Context, Db, DbError, now_ms};
use crate::model::{AttributeValue, ChannelId, ProductId};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;

/// A comma-separated list of row ids for an `IN (…)`: integers from the database, never
/// from input.
pub(crate) fn id_list(ids: &[ProductId]) -> String {
    ids.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(", ")
}

/// Which store field a category template matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    ProductType,
    Tag,
    Vendor,
}

impl MatchField {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchField::ProductType => "product_type",
            MatchField::Tag => "tag",
            MatchField::Vendor => "vendor",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [MatchField::ProductType, MatchField::Tag, MatchField::Vendor].into_iter().find(|f| f.as_str() == s)
    }
}

/// Store products matching (field, value) go to `category_id` with these attribute values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryTemplate {
    pub id: i64,
    pub channel_id: ChannelId,
    pub match_field: MatchField,
    pub match_value: String,
    pub category_id: String,
    pub attributes: Vec<AttributeValue>,
    /// Lower wins when several templates match.
    pub priority: i64,
}

/// A category chosen by hand for one product on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HandCategory {
    pub category_id: String,
    pub attributes: Vec<AttributeValue>,
}

fn attributes_json(attributes: &[AttributeValue]) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "[]".into())
}

fn attributes_from(text: &str) -> Result<Vec<AttributeValue>, DbError> {
    serde_json::from_str(text).map_err(|e| DbError::Corrupt(format!("attribute values: {e}")))
}

impl Db {
    /// Selects or deselects products for a channel, one or many at once.
    pub async fn set_selection(
        &self,
        channel: ChannelId,
        products: &[ProductId],
        selected: bool,
    ) -> Result<(), DbError> {
        for product in products {
            sqlx::query(
                "INSERT INTO product_selections (product_id, channel_id, selected) VALUES ($1, $2, $3) \
                 ON CONFLICT (product_id, channel_id) DO UPDATE SET selected = excluded.selected",
            )
            .bind(product.0)
            .bind(channel.0)
            .bind(i64::from(selected))
            .execute(self.pool())
            .await
            .context(|| format!("selecting product {product} for channel {channel}"))?;
        }
        Ok(())
    }

    /// The merchant's explicit choice for (product, channel), if any.
    pub async fn selection(&self, product: ProductId, channel: ChannelId) -> Result<Option<bool>, DbError> {
        let row =
            sqlx::query("SELECT selected FROM product_selections WHERE product_id = $1 AND channel_id = $2")
                .bind(product.0)
                .bind(channel.0)
                .fetch_optional(self.pool())
                .await
                .context(|| format!("reading the selection of product {product}"))?;
        row.map(|r| r.try_get::<i64, _>("selected").map(|v| v != 0))
            .transpose()
            .context(|| "reading selection".into())
    }

    pub async fn set_hand_category(
        &self,
        product: ProductId,
        channel: ChannelId,
        category: &HandCategory,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO product_categories (product_id, channel_id, category_id, attributes) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (product_id, channel_id) DO UPDATE SET category_id = excluded.category_id, \
             attributes = excluded.attributes",
        )
        .bind(product.0)
        .bind(channel.0)
        .bind(&category.category_id)
        .bind(attributes_json(&category.attributes))
        .execute(self.pool())
        .await
        .context(|| format!("mapping the category of product {product} on channel {channel}"))?;
        Ok(())
    }

    pub async fn hand_category(
        &self,
        product: ProductId,
        channel: ChannelId,
    ) -> Result<Option<HandCategory>, DbError> {
        let row = sqlx::query(
            "SELECT category_id, attributes FROM product_categories WHERE product_id = $1 AND channel_id = $2",
        )
        .bind(product.0)
        .bind(channel.0)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("reading the category of product {product}"))?;
        let Some(row) = row else { return Ok(None) };
        let ctx = || "reading category".to_string();
        let attributes: String = row.try_get("attributes").context(ctx)?;
        Ok(Some(HandCategory {
            category_id: row.try_get("category_id").context(ctx)?,
            attributes: attributes_from(&attributes)?,
        }))
    }

    /// The merchant's explicit choices for `products` on a channel.
    pub async fn selections_for(
        &self,
        channel: ChannelId,
        products: &[ProductId],
    ) -> Result<HashMap<ProductId, bool>, DbError> {
        let mut found = HashMap::new();
        for chunk in products.chunks(500) {
            let sql = format!(
                "SELECT product_id, selected FROM product_selections WHERE channel_id = $1 AND product_id IN ({})",
                id_list(chunk)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(channel.0)
                .fetch_all(self.pool())
                .await
                .context(|| format!("reading selections of channel {channel}"))?;
            for row in &rows {
                let ctx = || "reading selection".to_string();
                found.insert(
                    ProductId(row.try_get("product_id").context(ctx)?),
                    row.try_get::<i64, _>("selected").context(ctx)? != 0,
                );
            }
        }
        Ok(found)
    }

    /// The categories chosen by hand for `products` on a channel.
    pub async fn hand_categories_for(
        &self,
        channel: ChannelId,
        products: &[ProductId],
    ) -> Result<HashMap<ProductId, HandCategory>, DbError> {
        let mut found = HashMap::new();
        for chunk in products.chunks(500) {
            let sql = format!(
                "SELECT product_id, category_id, attributes FROM product_categories WHERE channel_id = $1 \
                 AND product_id IN ({})",
                id_list(chunk)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(channel.0)
                .fetch_all(self.pool())
                .await
                .context(|| format!("reading hand categories of channel {channel}"))?;
            for row in &rows {
                let ctx = || "reading category".to_string();
                let attributes: String = row.try_get("attributes").context(ctx)?;
                found.insert(
                    ProductId(row.try_get("product_id").context(ctx)?),
                    HandCategory {
                        category_id: row.try_get("category_id").context(ctx)?,
                        attributes: attributes_from(&attributes)?,
                    },
                );
            }
        }
        Ok(found)
    }

    /// Adds or replaces the template for (channel, field, value).
    pub async fn save_template(&self, t: &CategoryTemplate) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO category_templates (channel_id, match_field, match_value, category_id, attributes, priority) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, match_field, match_value) DO UPDATE SET \
             category_id = excluded.category_id, attributes = excluded.attributes, priority = excluded.priority",
        )
        .bind(t.channel_id.0)
        .bind(t.match_field.as_str())
        .bind(&t.match_value)
        .bind(&t.category_id)
        .bind(attributes_json(&t.attributes))
        .bind(t.priority)
        .execute(self.pool())
        .await
        .context(|| format!("saving a category template of channel {}", t.channel_id))?;
        self.channel_inputs_changed(t.channel_id).await
    }

    pub async fn templates(&self, channel: ChannelId) -> Result<Vec<CategoryTemplate>, DbError> {
        let rows = sqlx::query(
            "SELECT id, match_field, match_value, category_id, attributes, priority FROM category_templates \
             WHERE channel_id = $1 ORDER BY priority, id",
        )
        .bind(channel.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the category templates of channel {channel}"))?;
        rows.iter()
            .map(|row| {
                let ctx = || "reading template".to_string();
                let field: String = row.try_get("match_field").context(ctx)?;
                let attributes: String = row.try_get("attributes").context(ctx)?;
                Ok(CategoryTemplate {
                    id: row.try_get("id").context(ctx)?,
                    channel_id: channel,
                    match_field: MatchField::parse(&field)
                        .ok_or_else(|| DbError::Corrupt(format!("template field `{field}`")))?,
                    match_value: row.try_get("match_value").context(ctx)?,
                    category_id: row.try_get("category_id").context(ctx)?,
                    attributes: attributes_from(&attributes)?,
                    priority: row.try_get("priority").context(ctx)?,
                })
            })
            .collect()
    }
}

/// One thing SKU linking could not decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LinkIssue {
    pub channel_id: ChannelId,
    /// The store product held because of it.
    pub product_id: ProductId,
    pub sku: String,
    /// `duplicate_in_store`, `ambiguous_on_channel`, `split_on_channel`, `partial`.
    pub kind: String,
    pub detail: String,
}

impl Db {
    /// Replaces the link issues of `products` on a channel with a fresh report; other
    /// products' issues stay.
    pub async fn replace_link_issues(
        &self,
        channel: ChannelId,
        products: &[ProductId],
        issues: &[LinkIssue],
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await.context(|| "saving link issues".into())?;
        for chunk in products.chunks(500) {
            let sql = format!(
                "DELETE FROM link_issues WHERE channel_id = $1 AND (product_id IN ({}) OR product_id IS NULL)",
                id_list(chunk)
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(channel.0)
                .execute(&mut *tx)
                .await
                .context(|| "clearing link issues".into())?;
        }
        for issue in issues {
            sqlx::query(
                "INSERT INTO link_issues (channel_id, product_id, sku, kind, detail, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(channel.0)
            .bind(issue.product_id.0)
            .bind(&issue.sku)
            .bind(&issue.kind)
            .bind(&issue.detail)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context(|| "saving a link issue".into())?;
        }
        tx.commit().await.context(|| "saving link issues".into())?;
        Ok(())
    }

    pub async fn link_issues(&self, channel: ChannelId) -> Result<Vec<LinkIssue>, DbError> {
        let rows = sqlx::query(
            "SELECT product_id, sku, kind, detail FROM link_issues WHERE channel_id = $1 \
                 AND product_id IS NOT NULL ORDER BY sku, id",
        )
        .bind(channel.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading link issues of channel {channel}"))?;
        rows.iter()
            .map(|row| {
                let ctx = || "reading link issue".to_string();
                Ok(LinkIssue {
                    channel_id: channel,
                    product_id: ProductId(row.try_get("product_id").context(ctx)?),
                    sku: row.try_get("sku").context(ctx)?,
                    kind: row.try_get("kind").context(ctx)?,
                    detail: row.try_get("detail").context(ctx)?,
                })
            })
            .collect()
    }

    /// Whether a webhook delivery was handled before (a duplicate).
    pub async fn delivery_handled(
        &self,
        store: crate::model::StoreId,
        event_id: &str,
    ) -> Result<bool, DbError> {
        let row =
            sqlx::query("SELECT 1 AS seen FROM webhook_deliveries WHERE store_id = $1 AND event_id = $2")
                .bind(store.0)
                .bind(event_id)
                .fetch_optional(self.pool())
                .await
                .context(|| format!("looking up webhook delivery {event_id}"))?;
        Ok(row.is_some())
    }

    /// Forgets deliveries received longer than `retention` ago: a platform retries for hours
    /// (Shopify: 48), not for weeks, so older keys only grow the table.
    pub async fn prune_webhook_deliveries(&self, retention: std::time::Duration) -> Result<u64, DbError> {
        let before = now_ms().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        let result = sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(before)
            .execute(self.pool())
            .await
            .context(|| "pruning webhook deliveries".into())?;
        Ok(result.rows_affected())
    }

    /// Records a delivery once it was handled, so a redelivery is known as a duplicate.
    /// Recorded after, never before: a delivery that failed half-way is handled again when
    /// the platform retries it.
    pub async fn record_delivery(&self, store: crate::model::StoreId, event_id: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (store_id, event_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (store_id, event_id) DO NOTHING",
        )
        .bind(store.0)
        .bind(event_id)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| format!("recording webhook delivery {event_id}"))?;
        Ok(())
    }
}
