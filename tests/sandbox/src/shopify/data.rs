//! The sandbox shop's records (products, variants with their inventory levels, locations,
//! orders) with Shopify-style numeric ids and timestamps, held as one immutable snapshot. A
//! query reads the snapshot current when it started, without a lock; a write takes the lock,
//! changes a copy and swaps it in whole, so every write is one consistent step (copy-on-write).

use super::orders::OrderRecord;
use super::timestamp;
use crate::catalog::{CatalogProduct, ProductStatus};
use rust_decimal::Decimal;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

/// First product id; ids grow with catalog order, so `sortKey: ID` is catalog order.
const PRODUCT_ID_BASE: u64 = 8_100_000_000_000;
const VARIANT_ID_BASE: u64 = 45_000_000_000_000;
const INVENTORY_ITEM_ID_BASE: u64 = 47_000_000_000_000;
/// The shop's first location; later ones count up from it.
pub const PRIMARY_LOCATION_ID: u64 = 76_000_000_001;
/// The name Shopify gives a new shop's first location.
pub const PRIMARY_LOCATION_NAME: &str = "Shop location";

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

/// Whether a variant sells when it is out of stock (`ProductVariantInventoryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(name = "ProductVariantInventoryPolicy")]
pub enum InventoryPolicy {
    /// Stop selling at 0 (Shopify's default).
    Deny,
    /// Keep selling below 0.
    Continue,
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
    pub inventory_policy: InventoryPolicy,
    /// One level per location, in location order; every item is stocked at every location.
    pub levels: Vec<LevelRecord>,
    pub grams: u32,
    pub barcode: Option<String>,
    /// Index into the product's images, when the variant has its own.
    pub image: Option<usize>,
    pub updated_at: i64,
}

/// An inventory item's quantities at one location. Shopify's `on_hand` is `available` plus
/// the states a unit can be held in; the sandbox keeps only `committed` (units claimed by
/// unfulfilled orders), so `on_hand = available + committed` and the other states are 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRecord {
    pub location_id: u64,
    pub available: i64,
    pub committed: i64,
    pub updated_at: i64,
}

impl LevelRecord {
    pub fn on_hand(&self) -> i64 {
        self.available + self.committed
    }

    /// A quantity by Shopify's name; `None` for a name Shopify does not have.
    pub fn quantity(&self, name: &str) -> Option<i64> {
        match name {
            "available" => Some(self.available),
            "committed" => Some(self.committed),
            "on_hand" => Some(self.on_hand()),
            "incoming" | "reserved" | "damaged" | "safety_stock" | "quality_control" => Some(0),
            _ => None,
        }
    }
}

/// A place that stocks inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRecord {
    pub id: u64,
    pub name: String,
    pub created_at: i64,
}

impl LocationRecord {
    pub fn gid(&self) -> String {
        format!("gid://shopify/Location/{}", self.id)
    }
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

    /// `inventoryQuantity`: units available across every location.
    pub fn inventory_quantity(&self) -> i64 {
        self.levels.iter().map(|l| l.available).sum()
    }

    pub fn level(&self, location_id: u64) -> Option<&LevelRecord> {
        self.levels.iter().find(|l| l.location_id == location_id)
    }

    pub fn level_mut(&mut self, location_id: u64) -> Option<&mut LevelRecord> {
        self.levels.iter_mut().find(|l| l.location_id == location_id)
    }
}

/// A webhook a write sends once it is committed.
#[derive(Debug, Clone)]
pub struct Event {
    pub topic: &'static str,
    pub payload: serde_json::Value,
}

/// Everything the shop holds at one moment.
#[derive(Debug, Clone)]
pub struct ShopState {
    /// Sorted by id.
    pub products: Vec<Arc<ProductRecord>>,
    /// Sorted by id; the first is the primary location.
    pub locations: Vec<LocationRecord>,
    /// Sorted by id (creation order).
    pub orders: Vec<Arc<OrderRecord>>,
    /// `Job` ids handed out by `orderCancel`; each is done.
    pub jobs: Vec<String>,
    /// Ids are never reused, even after a delete, as on Shopify.
    next_product: u64,
    next_variant: u64,
    next_location: u64,
    next_record: u64,
    next_order_number: u64,
}

impl ShopState {
    /// A fresh id for an order-side record (order, line item, fulfillment order, fulfillment,
    /// refund, adjustment group); callers add their type's base so ids look like Shopify's.
    pub fn next_record_id(&mut self) -> u64 {
        self.next_record += 1;
        self.next_record
    }

    /// The next order number (`#1001`, `#1002`…).
    pub fn next_order_number(&mut self) -> u64 {
        self.next_order_number += 1;
        self.next_order_number
    }

    pub fn location(&self, id: u64) -> Option<&LocationRecord> {
        self.locations.iter().find(|l| l.id == id)
    }

    /// The product and variant index holding an inventory item.
    pub fn find_item(&self, inventory_item_id: u64) -> Option<(usize, usize)> {
        self.find_variant_by(|v| v.inventory_item_id == inventory_item_id)
    }

    /// The product and variant index of a variant id.
    pub fn find_variant(&self, variant_id: u64) -> Option<(usize, usize)> {
        self.find_variant_by(|v| v.id == variant_id)
    }

    fn find_variant_by(&self, select: impl Fn(&VariantRecord) -> bool) -> Option<(usize, usize)> {
        self.products
            .iter()
            .enumerate()
            .find_map(|(p, product)| product.variants.iter().position(&select).map(|v| (p, v)))
    }

    pub fn variant(&self, (p, v): (usize, usize)) -> &VariantRecord {
        &self.products[p].variants[v]
    }

    /// The order with this id, for reading.
    pub fn order_index(&self, id: u64) -> Option<usize> {
        self.orders.binary_search_by_key(&id, |o| o.id).ok()
    }

    /// An order to change; copied if a snapshot still shares it.
    pub fn order_mut(&mut self, index: usize) -> &mut OrderRecord {
        Arc::make_mut(&mut self.orders[index])
    }
}

/// The shop as one consistent snapshot.
pub type Snapshot = Arc<ShopState>;

/// The shop's records behind a lock held only to read or swap the snapshot, and for the
/// length of one write.
#[derive(Debug)]
pub struct ShopData {
    current: Mutex<Snapshot>,
}

impl ShopData {
    /// Loads a catalog; product `i` was created a minute after product `i - 1`, starting
    /// 2025-06-01, so timestamps are deterministic. The shop has one location.
    pub fn new(catalog: Vec<CatalogProduct>) -> Self {
        let base = timestamp::unix_seconds(2025, 6, 1, 0, 0, 0);
        let locations = vec![LocationRecord {
            id: PRIMARY_LOCATION_ID,
            name: PRIMARY_LOCATION_NAME.to_string(),
            created_at: base,
        }];
        let mut next_variant = 0u64;
        let products: Vec<Arc<ProductRecord>> = catalog
            .into_iter()
            .enumerate()
            .map(|(i, product)| {
                let created_at = base + 60 * i as i64;
                let id = PRODUCT_ID_BASE + i as u64;
                Arc::new(record(id, product, created_at, &mut next_variant, &locations))
            })
            .collect();
        ShopData {
            current: Mutex::new(Arc::new(ShopState {
                next_product: PRODUCT_ID_BASE + products.len() as u64,
                next_variant,
                next_location: PRIMARY_LOCATION_ID + 1,
                next_record: 0,
                next_order_number: 1000,
                products,
                locations,
                orders: Vec::new(),
                jobs: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.current.lock().expect("shop data lock is never poisoned: no code panics while holding it")
    }

    /// The shop as it is now.
    pub fn snapshot(&self) -> Snapshot {
        Arc::clone(&self.lock())
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.snapshot().products.len()
    }

    /// Runs `change` on a copy of the shop and, when it succeeds, makes the copy current: a
    /// write either happens whole or not at all. `change` lists the webhooks the write sends;
    /// the caller emits them. Returns the value, the events and the new snapshot.
    pub fn write<T, E>(
        &self,
        change: impl FnOnce(&mut ShopState, &mut Vec<Event>) -> Result<T, E>,
    ) -> Result<Committed<T>, E> {
        let mut current = self.lock();
        let mut next = ShopState::clone(&current);
        let mut events = Vec::new();
        let value = change(&mut next, &mut events)?;
        let snapshot = Arc::new(next);
        *current = Arc::clone(&snapshot);
        Ok(Committed { value, events, snapshot })
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
        let Ok(committed) = self.write(|shop, _| -> Result<_, Infallible> {
            let mut changed = Vec::new();
            for product in shop.products.iter_mut().filter(|p| select(p)) {
                let copy = Arc::make_mut(product);
                let stamp = now.max(copy.updated_at + 1);
                change(copy, stamp);
                copy.updated_at = stamp;
                changed.push(Arc::clone(product));
            }
            Ok(changed)
        });
        committed.value
    }

    /// Adds a product created at `now`, with fresh ids and a level at every location, and
    /// returns it. A handle already taken gets `-1`, `-2`… appended, as Shopify does.
    pub fn insert(&self, mut product: CatalogProduct, now: i64) -> Arc<ProductRecord> {
        let Ok(committed) = self.write(|shop, _| -> Result<_, Infallible> {
            let taken = |handle: &str| shop.products.iter().any(|p| p.handle == handle);
            if taken(&product.handle) {
                let base = product.handle.clone();
                let mut n = 1u32;
                while taken(&format!("{base}-{n}")) {
                    n += 1;
                }
                product.handle = format!("{base}-{n}");
            }
            let id = shop.next_product;
            let created = Arc::new(record(id, product, now, &mut shop.next_variant, &shop.locations));
            shop.next_product += 1;
            // The new id is the largest, so the products stay in id order.
            shop.products.push(Arc::clone(&created));
            Ok(created)
        });
        committed.value
    }

    /// Removes the first product `select` picks and returns it.
    pub fn remove(&self, select: impl Fn(&ProductRecord) -> bool) -> Option<Arc<ProductRecord>> {
        self.write(|shop, _| {
            let index = shop.products.iter().position(|p| select(p)).ok_or(())?;
            Ok::<_, ()>(shop.products.remove(index))
        })
        .ok()
        .map(|c| c.value)
    }

    /// Adds a location named `name` where every item is stocked at 0, and returns it.
    pub fn add_location(&self, name: &str, now: i64) -> LocationRecord {
        let Ok(committed) = self.write(|shop, _| -> Result<_, Infallible> {
            let location = LocationRecord { id: shop.next_location, name: name.to_string(), created_at: now };
            shop.next_location += 1;
            for product in shop.products.iter_mut() {
                for variant in Arc::make_mut(product).variants.iter_mut() {
                    variant.levels.push(LevelRecord {
                        location_id: location.id,
                        available: 0,
                        committed: 0,
                        updated_at: now,
                    });
                }
            }
            shop.locations.push(location.clone());
            Ok(location)
        });
        committed.value
    }
}

/// A write that took effect.
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<Event>,
    pub snapshot: Snapshot,
}

/// A catalog product as stored, with id `id` and variant ids after `next_variant`.
fn record(
    id: u64,
    product: CatalogProduct,
    created_at: i64,
    next_variant: &mut u64,
    locations: &[LocationRecord],
) -> ProductRecord {
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
                inventory_policy: InventoryPolicy::Deny,
                // The catalog's stock is at the primary location; others start at 0.
                levels: locations
                    .iter()
                    .enumerate()
                    .map(|(i, location)| LevelRecord {
                        location_id: location.id,
                        available: if i == 0 { variant.inventory_quantity } else { 0 },
                        committed: 0,
                        updated_at: created_at,
                    })
                    .collect(),
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
