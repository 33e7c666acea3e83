//! A product's listing on one channel: its state there, the channel's ids and the hash of
//! what was last pushed (so an unchanged product makes no channel call).

use super::{Context, Db, DbError, now_ms};
use crate::model::{ChannelId, ProductId};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// Where a product stands on a channel.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ListingState {
    /// Waiting for its push job.
    Queued,
    /// Pushed; the channel is reviewing it.
    InReview,
    /// Live on the channel.
    Active,
    /// The channel's review refused it (reasons in `reason`).
    Rejected,
    /// A rule decided not to list it (reason in `reason`).
    Skipped,
    /// A rule held it for a person to look at.
    Held,
    /// The push failed (reason in `reason`); can be retried.
    Failed,
    /// Deactivated or removed on the channel.
    Inactive,
    /// The merchant did not choose this channel for the product.
    NotSelected,
}

impl ListingState {
    pub const ALL: [ListingState; 9] = [
        ListingState::Queued,
        ListingState::InReview,
        ListingState::Active,
        ListingState::Rejected,
        ListingState::Skipped,
        ListingState::Held,
        ListingState::Failed,
        ListingState::Inactive,
        ListingState::NotSelected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListingState::Queued => "queued",
            ListingState::InReview => "in_review",
            ListingState::Active => "active",
            ListingState::Rejected => "rejected",
            ListingState::Skipped => "skipped",
            ListingState::Held => "held",
            ListingState::Failed => "failed",
            ListingState::Inactive => "inactive",
            ListingState::NotSelected => "not_selected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ListingState::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// One listing row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRow {
    pub product_id: ProductId,
    pub channel_id: ChannelId,
    pub state: ListingState,
    /// The channel's product id, once created.
    pub external_id: Option<String>,
    /// Seller SKU → channel SKU id.
    pub sku_ids: BTreeMap<String, String>,
    /// Hash of the content (title, description, images, SKU set) the channel last accepted.
    pub pushed_hash: Option<String>,
    /// Hash of the prices and stock the channel last accepted.
    pub offer_hash: Option<String>,
    /// Why it is skipped, held, rejected or failed.
    pub reason: Option<String>,
    /// Which rule versions produced the pushed draft.
    pub explanation: Option<String>,
    /// Fingerprint of the desired state the last finished push acted on (see
    /// `catalog::desired`); the pair is out of date when its desired state hashes otherwise.
    pub target_hash: Option<String>,
    /// When a create call went out whose answer is not recorded yet: an earlier attempt may
    /// have created the listing, so the next one searches the channel first.
    pub create_started_at: Option<i64>,
    /// The listing is deactivated on the channel (by Crossdock, or as the channel says).
    pub deactivated: bool,
}

impl ListingRow {
    pub fn new(product_id: ProductId, channel_id: ChannelId) -> Self {
        ListingRow {
            product_id,
            channel_id,
            state: ListingState::Queued,
            external_id: None,
            sku_ids: BTreeMap::new(),
            pushed_hash: None,
            offer_hash: None,
            reason: None,
            explanation: None,
            target_hash: None,
            create_started_at: None,
            deactivated: false,
        }
    }
}

const COLUMNS: &str = "product_id, channel_id, state, external_id, sku_ids, pushed_hash, offer_hash, reason, \
     explanation, target_hash, create_started_at, deactivated";

fn listing_from(row: &AnyRow) -> Result<ListingRow, DbError> {
    let ctx = || "reading listing".to_string();
    let state: String = row.try_get("state").context(ctx)?;
    let sku_ids: Option<String> = row.try_get("sku_ids").context(ctx)?;
    Ok(ListingRow {
        product_id: ProductId(row.try_get("product_id").context(ctx)?),
        channel_id: ChannelId(row.try_get("channel_id").context(ctx)?),
        state: ListingState::parse(&state)
            .ok_or_else(|| DbError::Corrupt(format!("listing state `{state}`")))?,
        external_id: row.try_get("external_id").context(ctx)?,
        sku_ids: match sku_ids {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| DbError::Corrupt(format!("listing sku ids: {e}")))?
            }
            None => BTreeMap::new(),
        },
        pushed_hash: row.try_get("pushed_hash").context(ctx)?,
        offer_hash: row.try_get("offer_hash").context(ctx)?,
        reason: row.try_get("reason").context(ctx)?,
        explanation: row.try_get("explanation").context(ctx)?,
        target_hash: row.try_get("target_hash").context(ctx)?,
        create_started_at: row.try_get("create_started_at").context(ctx)?,
        deactivated: row.try_get::<i64, _>("deactivated").context(ctx)? != 0,
    })
}

impl Db {
    pub async fn listing(
        &self,
        product: ProductId,
        channel: ChannelId,
    ) -> Result<Option<ListingRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM listings WHERE product_id = $1 AND channel_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(product.0)
            .bind(channel.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading listing of product {product} on channel {channel}"))?
            .as_ref()
            .map(listing_from)
            .transpose()
    }

    /// Inserts or replaces the listing of (product, channel).
    pub async fn save_listing(&self, l: &ListingRow) -> Result<(), DbError> {
        let sku_ids = serde_json::to_string(&l.sku_ids).unwrap_or_else(|_| "{}".into());
        sqlx::query(
            "INSERT INTO listings (product_id, channel_id, state, external_id, sku_ids, pushed_hash, \
             offer_hash, reason, explanation, target_hash, create_started_at, deactivated, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13, $10) \
             ON CONFLICT (product_id, channel_id) DO UPDATE SET state = excluded.state, \
             external_id = excluded.external_id, sku_ids = excluded.sku_ids, \
             pushed_hash = excluded.pushed_hash, offer_hash = excluded.offer_hash, reason = excluded.reason, \
             explanation = excluded.explanation, target_hash = excluded.target_hash, \
             create_started_at = excluded.create_started_at, deactivated = excluded.deactivated, \
             updated_at = excluded.updated_at",
        )
        .bind(l.product_id.0)
        .bind(l.channel_id.0)
        .bind(l.state.as_str())
        .bind(l.external_id.as_deref())
        .bind(sku_ids)
        .bind(l.pushed_hash.as_deref())
        .bind(l.offer_hash.as_deref())
        .bind(l.reason.as_deref())
        .bind(l.explanation.as_deref())
        .bind(now_ms())
        .bind(l.target_hash.as_deref())
        .bind(l.create_started_at)
        .bind(i64::from(l.deactivated))
        .execute(self.pool())
        .await
        .context(|| format!("saving listing of product {} on channel {}", l.product_id, l.channel_id))?;
        Ok(())
    }

    /// Listings of a channel in one state, oldest change first.
    pub async fn listings_in_state(
        &self,
        channel: ChannelId,
        state: ListingState,
    ) -> Result<Vec<ListingRow>, DbError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM listings WHERE channel_id = $1 AND state = $2 ORDER BY updated_at, product_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(channel.0)
            .bind(state.as_str())
            .fetch_all(self.pool())
            .await
            .context(|| format!("listing {} listings of channel {channel}", state.as_str()))?;
        rows.iter().map(listing_from).collect()
    }

    /// The listings of `products` on a channel, by product.
    pub async fn listings_for(
        &self,
        channel: ChannelId,
        products: &[ProductId],
    ) -> Result<BTreeMap<ProductId, ListingRow>, DbError> {
        let mut found = BTreeMap::new();
        for chunk in products.chunks(500) {
            // Ids are integers from the database, never from input.
            let ids: Vec<String> = chunk.iter().map(|p| p.0.to_string()).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM listings WHERE channel_id = $1 AND product_id IN ({})",
                ids.join(", ")
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(channel.0)
                .fetch_all(self.pool())
                .await
                .context(|| format!("reading listings of channel {channel}"))?;
            for row in &rows {
                let listing = listing_from(row)?;
                found.insert(listing.product_id, listing);
            }
        }
        Ok(found)
    }

    /// Forgets what was applied to a listing, so the next reconciliation pushes it again
    /// (the channel drifted from it).
    pub async fn mark_listing_stale(&self, product: ProductId, channel: ChannelId) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE listings SET target_hash = NULL, offer_hash = NULL, updated_at = $1 \
             WHERE product_id = $2 AND channel_id = $3",
        )
        .bind(now_ms())
        .bind(product.0)
        .bind(channel.0)
        .execute(self.pool())
        .await
        .context(|| format!("marking the listing of product {product} on channel {channel} stale"))?;
        Ok(())
    }

    /// All listings of a channel.
    pub async fn listings_of(&self, channel: ChannelId) -> Result<Vec<ListingRow>, DbError> {
        let sql = format!("SELECT {COLUMNS} FROM listings WHERE channel_id = $1 ORDER BY product_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(channel.0)
            .fetch_all(self.pool())
            .await
            .context(|| format!("listing listings of channel {channel}"))?;
        rows.iter().map(listing_from).collect()
    }

    /// How many listings of a channel are in each state.
    pub async fn listing_counts(&self, channel: ChannelId) -> Result<BTreeMap<ListingState, i64>, DbError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM listings WHERE channel_id = $1 GROUP BY state")
                .bind(channel.0)
                .fetch_all(self.pool())
                .await
                .context(|| format!("counting listings of channel {channel}"))?;
        let mut counts = BTreeMap::new();
        for row in rows {
            let state: String = row.try_get("state").context(|| "reading counts".into())?;
            let n: i64 = row.try_get("n").context(|| "reading counts".into())?;
            if let Some(state) = ListingState::parse(&state) {
                counts.insert(state, n);
            }
        }
        Ok(counts)
    }
}

/// One row of the product center: a store product and where it stands on one channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct ProductCenterRow {
    pub product_id: i64,
    pub store_product_id: String,
    pub title: String,
    pub store_status: String,
    pub deleted: bool,
    /// None until the product's first job for this channel ran.
    pub state: Option<ListingState>,
    pub reason: Option<String>,
    pub channel_product_id: Option<String>,
    pub explanation: Option<String>,
}

impl Db {
    /// Every product of the store with its state on `channel`.
    pub async fn product_center(
        &self,
        store: crate::model::StoreId,
        channel: ChannelId,
    ) -> Result<Vec<ProductCenterRow>, DbError> {
        let rows = sqlx::query(
            "SELECT p.id, p.external_id, p.title, p.status, p.deleted, l.state, l.reason, \
             l.external_id AS channel_product_id, l.explanation FROM products p \
             LEFT JOIN listings l ON l.product_id = p.id AND l.channel_id = $2 \
             WHERE p.store_id = $1 ORDER BY p.id",
        )
        .bind(store.0)
        .bind(channel.0)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading the product center of channel {channel}"))?;
        rows.iter()
            .map(|row| {
                let ctx = || "reading product center".to_string();
                let state: Option<String> = row.try_get("state").context(ctx)?;
                Ok(ProductCenterRow {
                    product_id: row.try_get("id").context(ctx)?,
                    store_product_id: row.try_get("external_id").context(ctx)?,
                    title: row.try_get("title").context(ctx)?,
                    store_status: row.try_get("status").context(ctx)?,
                    deleted: row.try_get::<i64, _>("deleted").context(ctx)? != 0,
                    state: state.as_deref().and_then(ListingState::parse),
                    reason: row.try_get("reason").context(ctx)?,
                    channel_product_id: row.try_get("channel_product_id").context(ctx)?,
                    explanation: row.try_get("explanation").context(ctx)?,
                })
            })
            .collect()
    }
}

/// One correction the drift check made on a channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DriftCorrection {
    pub product_id: i64,
    /// `status`, `price`, `stock` or `removed`.
    pub kind: String,
    pub detail: String,
    pub corrected_at: i64,
}

impl Db {
    /// Records a correction the drift check made.
    pub async fn record_drift(
        &self,
        channel: ChannelId,
        product: ProductId,
        kind: &str,
        detail: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO drift_corrections (channel_id, product_id, kind, detail, corrected_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(channel.0)
        .bind(product.0)
        .bind(kind)
        .bind(detail)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .context(|| format!("recording drift of product {product} on channel {channel}"))?;
        Ok(())
    }

    /// The channel's latest drift corrections, newest first.
    pub async fn drift_corrections(
        &self,
        channel: ChannelId,
        limit: i64,
    ) -> Result<Vec<DriftCorrection>, DbError> {
        let rows = sqlx::query(
            "SELECT product_id, kind, detail, corrected_at FROM drift_corrections WHERE channel_id = $1 \
             ORDER BY corrected_at DESC, id DESC LIMIT $2",
        )
        .bind(channel.0)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .context(|| format!("reading drift corrections of channel {channel}"))?;
        rows.iter()
            .map(|row| {
                let ctx = || "reading drift correction".to_string();
                Ok(DriftCorrection {
                    product_id: row.try_get("product_id").context(ctx)?,
                    kind: row.try_get("kind").context(ctx)?,
                    detail: row.try_get("detail").context(ctx)?,
                    corrected_at: row.try_get("corrected_at").context(ctx)?,
                })
            })
            .collect()
    }
}
