//! The sandbox shop's records: products and variants with Shopify-style numeric ids and
//! timestamps, held as an immutable snapshot that control calls replace (copy-on-write), so
//! a GraphQL query reads one consistent catalog without holding a lock.

use super::timestamp;
use crate::catalog::{CatalogProduct, ProductStatus};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};

/// First product id; ids grow with catalog order, so `sortKey: ID` is catalog order.
const PRODUCT_ID_BASE: u64 = 8_100_000_000_000;
const VARIANT_ID_BASE: u64 = 45_000_000_000_000;
const INVENTORY_ITEM_ID_BASE: u64 = 47_000_000_000_000;

/// One product as the sandbox stores it.
#[derive(Debug, Clone)]
pub struct ProductRecord {
    pub id: u64,
    pub handle: String,
    pub title: String,
    pub body_html: String,
    pub vendor: String,
    pub product_type: String,
    pub tags: Vec<String>,
    pub status: ProductStatus,
    pub images: Vec<String>,
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    pub variants: Vec<VariantRecord>,
}

/// One variant with its inventory item.
#[derive(Debug, Clone)]
pub struct VariantRecord {
    pub id: u64,
    pub inventory_item_id: u64,
    pub sku: String,
    pub title: String,
    pub options: Vec<(String, String)>,
    pub price: Decimal,
    pub compare_at_price: Option<Decimal>,
    pub inventory_quantity: i64,
    pub grams: u32,
    pub barcode: Option<String>,
    /// Index into the product's images, when the variant has its own.
    pub image: Option<usize>,
    pub updated_at: i64,
}

impl ProductRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Product/{}", self.id)
    }
}

/// Products sorted by id; shared by every query that started while it was current.
pub type Snapshot = Arc<Vec<Arc<ProductRecord>>>;

/// The shop's catalog behind a lock held only to swap snapshots.
#[derive(Debug)]
pub struct ShopData {
    products: Mutex<Snapshot>,
}

impl ShopData {
    /// Loads a catalog; product `i` was created a minute after product `i - 1`, starting
    /// 2025-06-01, so timestamps are deterministic.
    pub fn new(catalog: Vec<CatalogProduct>) -> Self {
        let base = timestamp::unix_seconds(2025, 6, 1, 0, 0, 0);
        let mut next_variant = 0u64;
        let products = catalog
            .into_iter()
            .enumerate()
            .map(|(i, product)| {
                let id = PRODUCT_ID_BASE + i as u64;
                let created_at = base + 60 * i as i64;
                let variant_count = product.variants.len();
                let image_count = product.images.len();
                let variants = product
                    .variants
                    .into_iter()
                    .enumerate()
                    .map(|(v, variant)| {
                        next_variant += 1;
                        VariantRecord {
                            id: VARIANT_ID_BASE + next_variant,
                            inventory_item_id: INVENTORY_ITEM_ID_BASE + next_variant,
                            sku: variant.sku,
                            title: variant.title,
                            options: variant.options,
                            price: variant.price,
                            compare_at_price: variant.compare_at_price,
                            inventory_quantity: variant.inventory_quantity,
                            grams: variant.grams,
                            barcode: variant.barcode,
                            // Our catalogs list a multi-variant product's images in variant
                            // order, so variant v shows image v when there is one.
                            image: (variant_count > 1 && v < image_count).then_some(v),
                            updated_at: created_at,
                        }
                    })
                    .collect();
                Arc::new(ProductRecord {
                    id,
                    handle: product.handle,
                    title: product.title,
                    body_html: product.body_html,
                    vendor: product.vendor,
                    product_type: product.product_type,
                    tags: product.tags,
                    status: product.status,
                    images: product.images,
                    created_at,
                    updated_at: created_at,
                    variants,
                })
            })
            .collect();
        ShopData {
            products: Mutex::new(Arc::new(products)),
        }
    }

    /// The current catalog.
    pub fn snapshot(&self) -> Snapshot {
        self.products
            .lock()
            .expect("shop data lock is never poisoned: no code panics while holding it")
            .clone()
    }

    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Applies `change` to every product `select` picks and bumps their `updatedAt` to `now`
    /// (at least a second past the previous value, so pollers always see the change).
    /// Returns whether any product was picked.
    pub fn update(
        &self,
        now: i64,
        select: impl Fn(&ProductRecord) -> bool,
        mut change: impl FnMut(&mut ProductRecord, i64),
    ) -> bool {
        let mut guard = self
            .products
            .lock()
            .expect("shop data lock is never poisoned: no code panics while holding it");
        if !guard.iter().any(|p| select(p)) {
            return false;
        }
        let next = guard
            .iter()
            .map(|product| {
                if !select(product) {
                    return Arc::clone(product);
                }
                let mut copy = ProductRecord::clone(product);
                let stamp = now.max(copy.updated_at + 1);
                change(&mut copy, stamp);
                copy.updated_at = stamp;
                Arc::new(copy)
            })
            .collect();
        *guard = Arc::new(next);
        true
    }
}

/// Shopify's numeric id from a GID of the given type (`gid://shopify/Product/42` → 42).
pub fn parse_gid(gid: &str, kind: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .parse()
        .ok()
}
