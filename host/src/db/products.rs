//! Store products as last read, with a content hash so an unchanged product costs nothing
//! downstream. The product and its SKU index are written in one transaction.

use super::{Context, Db, DbError, now_ms};
use crate::model::{Product, ProductId, StoreId};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// What an upsert found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    New(ProductId),
    Changed(ProductId),
    Unchanged(ProductId),
}

impl Upserted {
    pub fn id(self) -> ProductId {
        match self {
            Upserted::New(id) | Upserted::Changed(id) | Upserted::Unchanged(id) => id,
        }
    }
}

/// `sha256:<hex>` over the product's canonical JSON.
pub fn product_hash(product: &Product) -> String {
    let json = serde_json::to_vec(product).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(json)))
}

impl Db {
    /// Inserts or updates a store product, reporting whether its content changed. Two
    /// processes storing the same new product at once both succeed: the one whose insert
    /// loses the race updates instead.
    pub async fn upsert_product(&self, store: StoreId, product: &Product) -> Result<Upserted, DbError> {
        match self.try_upsert_product(store, product).await {
            Err(DbError::Sqlx { source, .. }) if super::is_unique_violation(&source) => {
                self.try_upsert_product(store, product).await
            }
            other => other,
        }
    }

    async fn try_upsert_product(&self, store: StoreId, product: &Product) -> Result<Upserted, DbError> {
        let hash = product_hash(product);
        let record = serde_json::to_string(product)
            .map_err(|e| DbError::Corrupt(format!("product {}: {e}", product.external_id)))?;
        let what = || format!("storing product {}", product.external_id);
        let existing = sqlx::query(
            "SELECT id, content_hash, deleted FROM products WHERE store_id = $1 AND external_id = $2",
        )
        .bind(store.0)
        .bind(&product.external_id)
        .fetch_optional(self.pool())
        .await
        .context(what)?;
        let mut tx = self.pool().begin().await.context(what)?;
        let outcome = match existing {
            Some(row) => {
                let id = ProductId(row.try_get("id").context(what)?);
                let old: String = row.try_get("content_hash").context(what)?;
                let deleted = row.try_get::<i64, _>("deleted").context(what)? != 0;
                // A product the store has again (restored) is changed even with the same content.
                if old == hash && !deleted {
                    return Ok(Upserted::Unchanged(id));
                }
                sqlx::query(
                    "UPDATE products SET title = $1, status = $2, record = $3, content_hash = $4, \
                     deleted = 0, updated_at = $5 WHERE id = $6",
                )
                .bind(&product.title)
                .bind(product.status.as_str())
                .bind(&record)
                .bind(&hash)
                .bind(now_ms())
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .context(what)?;
                sqlx::query("DELETE FROM variants WHERE product_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await
                    .context(what)?;
                Upserted::Changed(id)
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO products (store_id, external_id, title, status, record, content_hash, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(store.0)
                .bind(&product.external_id)
                .bind(&product.title)
                .bind(product.status.as_str())
                .bind(&record)
                .bind(&hash)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await
                .context(what)?;
                Upserted::New(ProductId(row.try_get("id").context(what)?))
            }
        };
        for v in &product.variants {
            sqlx::query(
                "INSERT INTO variants (product_id, external_id, sku, price, currency, stock) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(outcome.id().0)
            .bind(&v.external_id)
            .bind(&v.sku)
            .bind(v.price.amount.to_string())
            .bind(v.price.currency.as_str())
            .bind(v.stock)
            .execute(&mut *tx)
            .await
            .context(what)?;
        }
        tx.commit().await.context(what)?;
        Ok(outcome)
    }

    /// Marks a product deleted in the store (its listings get deactivated); returns its id.
    pub async fn mark_product_deleted(
        &self,
        store: StoreId,
        external_id: &str,
    ) -> Result<Option<ProductId>, DbError> {
        let row = sqlx::query(
            "UPDATE products SET deleted = 1, updated_at = $1 WHERE store_id = $2 AND external_id = $3 RETURNING id",
        )
        .bind(now_ms())
        .bind(store.0)
        .bind(external_id)
        .fetch_optional(self.pool())
        .await
        .context(|| format!("marking product {external_id} deleted"))?;
        row.map(|r| r.try_get("id").map(ProductId)).transpose().context(|| "reading product id".into())
    }

    pub async fn is_deleted(&self, id: ProductId) -> Result<bool, DbError> {
        let row = sqlx::query("SELECT deleted FROM products WHERE id = $1")
            .bind(id.0)
            .fetch_one(self.pool())
            .await
            .context(|| format!("reading product {id}"))?;
        Ok(row.try_get::<i64, _>("deleted").context(|| "reading deleted".into())? != 0)
    }

    /// Store ids of every product other than `except` that uses `sku`.
    pub async fn products_with_sku(&self, store: StoreId, sku: &str) -> Result<Vec<ProductId>, DbError> {
        let rows = sqlx::query(
            "SELECT DISTINCT p.id FROM variants v JOIN products p ON p.id = v.product_id \
             WHERE p.store_id = $1 AND v.sku = $2 AND p.deleted = 0 ORDER BY p.id",
        )
        .bind(store.0)
        .bind(sku)
        .fetch_all(self.pool())
        .await
        .context(|| format!("looking up SKU {sku}"))?;
        rows.iter()
            .map(|r| r.try_get("id").map(ProductId))
            .collect::<Result<_, _>>()
            .context(|| "reading ids".into())
    }

    pub async fn product(&self, id: ProductId) -> Result<Product, DbError> {
        let row = sqlx::query("SELECT record FROM products WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .context(|| format!("reading product {id}"))?
            .ok_or_else(|| DbError::NotFound(format!("product {id}")))?;
        let record: String = row.try_get("record").context(|| format!("reading product {id}"))?;
        serde_json::from_str(&record).map_err(|e| DbError::Corrupt(format!("product {id}: {e}")))
    }

    /// Ids of every product of a store.
    pub async fn product_ids(&self, store: StoreId) -> Result<Vec<ProductId>, DbError> {
        let rows = sqlx::query("SELECT id FROM products WHERE store_id = $1 ORDER BY id")
            .bind(store.0)
            .fetch_all(self.pool())
            .await
            .context(|| format!("listing products of store {store}"))?;
        rows.iter()
            .map(|r| r.try_get("id").map(ProductId))
            .collect::<Result<_, _>>()
            .context(|| "reading product ids".into())
    }

    /// Refuses ids that are not products of `store` (unknown, or another organization's).
    pub async fn check_products_of(&self, store: StoreId, ids: &[ProductId]) -> Result<(), DbError> {
        let mut known = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id FROM products WHERE store_id = $1 AND id IN ({})",
                super::placement::id_list(chunk)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(store.0)
                .fetch_all(self.pool())
                .await
                .context(|| format!("checking products of store {store}"))?;
            for row in &rows {
                known.insert(row.try_get::<i64, _>("id").context(|| "reading product id".into())?);
            }
        }
        match ids.iter().find(|id| !known.contains(&id.0)) {
            Some(missing) => {
                Err(DbError::NotFound(format!("product {missing} of this organization's store")))
            }
            None => Ok(()),
        }
    }

    /// Products by id with their deleted flag, in id order; ids that do not exist are left out.
    pub async fn products_for(&self, ids: &[ProductId]) -> Result<Vec<StoredProduct>, DbError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, store_id, record, deleted FROM products WHERE id IN ({}) ORDER BY id",
                super::placement::id_list(chunk)
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(self.pool())
                .await
                .context(|| "reading products".into())?;
            for row in &rows {
                let ctx = || "reading product".to_string();
                let id = ProductId(row.try_get("id").context(ctx)?);
                let record: String = row.try_get("record").context(ctx)?;
                found.push(StoredProduct {
                    id,
                    store_id: StoreId(row.try_get("store_id").context(ctx)?),
                    product: serde_json::from_str(&record)
                        .map_err(|e| DbError::Corrupt(format!("product {id}: {e}")))?,
                    deleted: row.try_get::<i64, _>("deleted").context(ctx)? != 0,
                });
            }
        }
        Ok(found)
    }
}

/// A catalog read cut short: where it goes on, and when it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub next_cursor: String,
    pub started_at: i64,
}

impl Db {
    /// The catalog read in progress for `store`, if one was cut short.
    pub async fn import_progress(&self, store: StoreId) -> Result<Option<ImportProgress>, DbError> {
        let ctx = || format!("reading the catalog read in progress of store {store}");
        let row =
            sqlx::query("SELECT next_cursor, started_at FROM store_import_progress WHERE store_id = $1")
                .bind(store.0)
                .fetch_optional(self.pool())
                .await
                .context(ctx)?;
        row.map(|r| {
            Ok(ImportProgress {
                next_cursor: r.try_get("next_cursor").context(ctx)?,
                started_at: r.try_get("started_at").context(ctx)?,
            })
        })
        .transpose()
    }

    /// Records a committed page: its products seen by the read that began at
    /// `progress.started_at`, and where the read goes on. In one transaction.
    pub async fn commit_import_page(
        &self,
        store: StoreId,
        products: &[ProductId],
        progress: Option<&ImportProgress>,
        started_at: i64,
    ) -> Result<(), DbError> {
        let ctx = || format!("recording a catalog page of store {store}");
        let mut tx = self.pool().begin().await.context(ctx)?;
        for chunk in products.chunks(500) {
            let list: Vec<String> = chunk.iter().map(|p| p.0.to_string()).collect();
            // Integers formatted by Rust: nothing to inject.
            let sql = format!("UPDATE products SET seen_at = $1 WHERE id IN ({})", list.join(", "));
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(started_at).execute(&mut *tx).await.context(ctx)?;
        }
        match progress {
            Some(p) => {
                sqlx::query(
                    "INSERT INTO store_import_progress (store_id, next_cursor, started_at, updated_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (store_id) DO UPDATE SET \
                     next_cursor = excluded.next_cursor, started_at = excluded.started_at, \
                     updated_at = excluded.updated_at",
                )
                .bind(store.0)
                .bind(&p.next_cursor)
                .bind(p.started_at)
                .bind(super::now_ms())
                .execute(&mut *tx)
                .await
                .context(ctx)?;
            }
            None => {
                sqlx::query("DELETE FROM store_import_progress WHERE store_id = $1")
                    .bind(store.0)
                    .execute(&mut *tx)
                    .await
                    .context(ctx)?;
            }
        }
        tx.commit().await.context(ctx)?;
        Ok(())
    }

    /// Forgets a read in progress (its cursor no longer works): the next read starts over.
    pub async fn clear_import_progress(&self, store: StoreId) -> Result<(), DbError> {
        sqlx::query("DELETE FROM store_import_progress WHERE store_id = $1")
            .bind(store.0)
            .execute(self.pool())
            .await
            .context(|| format!("forgetting the catalog read in progress of store {store}"))?;
        Ok(())
    }

    /// Marks deleted the store's products a complete read that began at `started_at` did not
    /// see; returns them.
    pub async fn mark_unseen_since_deleted(
        &self,
        store: StoreId,
        started_at: i64,
    ) -> Result<Vec<ProductId>, DbError> {
        let rows = sqlx::query(
            "SELECT external_id FROM products WHERE store_id = $1 AND deleted = 0 \
             AND (seen_at IS NULL OR seen_at < $2)",
        )
        .bind(store.0)
        .bind(started_at)
        .fetch_all(self.pool())
        .await
        .context(|| format!("listing unseen products of store {store}"))?;
        let mut gone = Vec::new();
        for row in &rows {
            let external: String = row.try_get("external_id").context(|| "reading product".to_string())?;
            if let Some(id) = self.mark_product_deleted(store, &external).await? {
                gone.push(id);
            }
        }
        Ok(gone)
    }
}

/// A stored product with its local id and whether the store deleted it.
#[derive(Debug, Clone)]
pub struct StoredProduct {
    pub id: ProductId,
    /// The store it was read from: a channel only ever carries its own organization's.
    pub store_id: StoreId,
    pub product: Product,
    pub deleted: bool,
}
