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

impl VariantRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/ProductVariant/{}", self.id)
    }
}

/// Products sorted by id; shared by every query that started while it was current.
pub type Snapshot = Arc<Vec<Arc<ProductRecord>>>;

/// The shop's catalog behind a lock held only to swap snapshots.
#[derive(Debug)]
pub struct ShopData {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    products: Snapshot,
    /// Ids are never reused, even after a delete, as on Shopify.
    next_product: u64,
    next_variant: u64,
}

impl ShopData {
    /// Loads a catalog; product `i` was created a minute after product `i - 1`, starting
    /// 2025-06-01, so timestamps are deterministic.
    pub fn new(catalog: Vec<CatalogProduct>) -> Self {
        let base = timestamp::unix_seconds(2025, 6, 1, 0, 0, 0);
        let mut next_variant = 0u64;
        let products: Vec<Arc<ProductRecord>> = catalog
            .into_iter()
            .enumerate()
            .map(|(i, product)| {
                let created_at = base + 60 * i as i64;
                Arc::new(record(PRODUCT_ID_BASE + i as u64, product, created_at, &mut next_variant))
            })
            .collect();
        ShopData {
            inner: Mutex::new(Inner {
                next_product: PRODUCT_ID_BASE + products.len() as u64,
                next_variant,
                products: Arc::new(products),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("shop data lock is never poisoned: no code panics while holding it")
    }

    /// The current catalog.
    pub fn snapshot(&self) -> Snapshot {
        self.lock().products.clone()
    }

    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Applies `change` to every product `select` picks and bumps their `updatedAt` to `now`
    /// (at least a second past the previous value, so pollers always see the change).
    /// Returns the changed products, as they are now.
    pub fn update(
        &self,
        now: i64,
        select: impl Fn(&ProductRecord) -> bool,
        mut change: impl FnMut(&mut ProductRecord, i64),
    ) -> Vec<Arc<ProductRecord>> {
        let mut inner = self.lock();
        if !inner.products.iter().any(|p| select(p)) {
            return Vec::new();
        }
        let mut changed = Vec::new();
        let next = inner
            .products
            .iter()
            .map(|product| {
                if !select(product) {
                    return Arc::clone(product);
                }
                let mut copy = ProductRecord::clone(product);
                let stamp = now.max(copy.updated_at + 1);
                change(&mut copy, stamp);
                copy.updated_at = stamp;
                let copy = Arc::new(copy);
                changed.push(Arc::clone(&copy));
                copy
            })
            .collect();
        inner.products = Arc::new(next);
        changed
    }

    /// Adds a product created at `now`, with fresh ids, and returns it. A handle already taken
    /// gets `-1`, `-2`… appended, as Shopify does.
    pub fn insert(&self, mut product: CatalogProduct, now: i64) -> Arc<ProductRecord> {
        let mut inner = self.lock();
        let taken = |handle: &str| inner.products.iter().any(|p| p.handle == handle);
        if taken(&product.handle) {
            let base = product.handle.clone();
            let mut n = 1u32;
            while taken(&format!("{base}-{n}")) {
                n += 1;
            }
            product.handle = format!("{base}-{n}");
        }
        let id = inner.next_product;
        let mut next_variant = inner.next_variant;
        let created = Arc::new(record(id, product, now, &mut next_variant));
        inner.next_product += 1;
        inner.next_variant = next_variant;
        // The new id is the largest, so the snapshot stays in id order.
        let mut products = Vec::clone(&inner.products);
        products.push(Arc::clone(&created));
        inner.products = Arc::new(products);
        created
    }

    /// Removes the first product `select` picks and returns it.
    pub fn remove(&self, select: impl Fn(&ProductRecord) -> bool) -> Option<Arc<ProductRecord>> {
        let mut inner = self.lock();
        let index = inner.products.iter().position(|p| select(p))?;
        let mut products = Vec::clone(&inner.products);
        let removed = products.remove(index);
        inner.products = Arc::new(products);
        Some(removed)
    }
}

/// A catalog product as stored, with id `id` and variant ids after `next_variant`.
fn record(id: u64, product: CatalogProduct, created_at: i64, next_variant: &mut u64) -> ProductRecord {
    let variant_count = product.variants.len();
    let image_count = product.images.len();
    let variants = product
        .variants
        .into_iter()
        .enumerate()
        .map(|(v, variant)| {
            *next_variant += 1;
            VariantRecord {
                id: VARIANT_ID_BASE + *next_variant,
                inventory_item_id: INVENTORY_ITEM_ID_BASE + *next_variant,
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
    ProductRecord {
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
    }
}

/// Shopify's numeric id from a GID of the given type (`gid://shopify/Product/42` → 42).
pub fn parse_gid(gid: &str, kind: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?.strip_prefix(kind)?.strip_prefix('/')?.parse().ok()
}
