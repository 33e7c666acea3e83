//! The TikTok sandbox's data: the seller's access token, shops and warehouses, products with
//! their review (settled lazily from tokio's clock) and lifecycle, and the per-(shop, API)
//! token buckets. The category tree and its attributes live in `taxonomy`.

use super::{
    ReviewOutcome, ReviewPolicy, SandboxAttribute, SandboxMoney, SandboxProduct, SandboxShop, SandboxSku,
    ShopSpec,
};
use super::{product_events, region};
use rand::Rng;
use rand::distr::Alphanumeric;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use tokio::time::{Duration, Instant};

/// The seller's access token; one token is valid for all of the seller's shops.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub value: String,
    /// Absolute Unix seconds, like `access_token_expire_in`.
    pub expires_at: i64,
}

/// Default access-token lifetime (reference §2.2).
pub(crate) const TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone)]
pub(crate) struct Shop {
    pub id: String,
    pub name: String,
    pub region: String,
    pub currency: String,
    pub cipher: String,
    pub code: String,
    pub sales_warehouse_id: String,
    pub return_warehouse_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SalesAttribute {
    pub id: String,
    pub name: String,
    pub value_id: String,
    pub value_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stock {
    pub warehouse_id: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sku {
    pub id: String,
    pub seller_sku: String,
    pub price: Decimal,
    pub currency: String,
    pub inventory: Vec<Stock>,
    pub sales_attributes: Vec<SalesAttribute>,
    pub external_sku_id: Option<String>,
}

impl Sku {
    pub fn quantity(&self) -> u32 {
        self.inventory.iter().map(|s| s.quantity).sum()
    }
}

/// A product attribute as stored: built-in or generated value ids with their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProductAttribute {
    pub id: String,
    pub name: String,
    /// (value id, value name).
    pub values: Vec<(String, String)>,
}

/// One version of a product's content, as the seller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Content {
    pub title: String,
    pub description: String,
    pub category_id: String,
    pub brand_id: Option<String>,
    pub main_images: Vec<String>,
    /// (value, unit), e.g. ("0.5", "KILOGRAM").
    pub package_weight: (String, String),
    pub external_product_id: Option<String>,
    pub product_attributes: Vec<ProductAttribute>,
    pub skus: Vec<Sku>,
}

/// The review of the newest content.
#[derive(Debug, Clone)]
pub(crate) enum Audit {
    /// Saved as a draft, never submitted.
    None,
    /// Submitted; decided once `delay` has passed on tokio's clock.
    Auditing {
        submitted_at: Instant,
        delay: Duration,
        outcome: ReviewOutcome,
    },
    Approved,
    Failed(Vec<String>),
}

/// Where the seller put the product, beside its review (reference §5.3, §11.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// The status follows the review (DRAFT, PENDING, FAILED, ACTIVATE).
    Listed,
    /// Hidden by the seller (Deactivate, or Recover after Delete).
    SellerDeactivated,
    Deleted,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: String,
    pub cipher: String,
    pub create_time: i64,
    pub update_time: i64,
    /// The newest content the seller sent (under review, failed, live or draft).
    pub content: Content,
    /// The approved version buyers see; an edit of a live product leaves it live while the
    /// new content is audited (reference §5.3).
    pub live: Option<Content>,
    pub audit: Audit,
    pub lifecycle: Lifecycle,
}

impl Product {
    /// Decides a review whose delay has passed and returns the decision, which the caller
    /// announces (`State::settle` does).
    #[must_use]
    fn settle(&mut self, now: Instant) -> Option<ReviewOutcome> {
        let Audit::Auditing { submitted_at, delay, outcome } = &self.audit else {
            return None;
        };
        if now < *submitted_at + *delay {
            return None;
        }
        let outcome = outcome.clone();
        self.audit = match &outcome {
            ReviewOutcome::Approve => {
                self.live = Some(self.content.clone());
                Audit::Approved
            }
            // A failed edit leaves the live version unchanged.
            ReviewOutcome::Reject(reasons) => Audit::Failed(reasons.clone()),
        };
        self.update_time = super::envelope::unix_now();
        Some(outcome)
    }

    /// When the review in progress is decided, if one is.
    fn review_due(&self) -> Option<Instant> {
        match &self.audit {
            Audit::Auditing { submitted_at, delay, .. } => Some(*submitted_at + *delay),
            _ => None,
        }
    }

    /// Sends the newest content to review under `policy`.
    pub fn submit(&mut self, policy: &ReviewPolicy, now: Instant) {
        self.audit =
            Audit::Auditing { submitted_at: now, delay: policy.delay, outcome: policy.outcome.clone() };
    }

    /// The combined status of reference §5.3 (only the states the sandbox reaches).
    pub fn status(&self) -> &'static str {
        match self.lifecycle {
            Lifecycle::Deleted => return "DELETED",
            Lifecycle::SellerDeactivated => return "SELLER_DEACTIVATED",
            Lifecycle::Listed => {}
        }
        if self.live.is_some() {
            return "ACTIVATE";
        }
        match self.audit {
            Audit::None => "DRAFT",
            Audit::Auditing { .. } => "PENDING",
            Audit::Failed(_) => "FAILED",
            Audit::Approved => "ACTIVATE",
        }
    }

    pub fn audit_status(&self) -> &'static str {
        match self.audit {
            Audit::None => "NONE",
            Audit::Auditing { .. } => "AUDITING",
            Audit::Approved => "APPROVED",
            Audit::Failed(_) => "FAILED",
        }
    }

    pub fn failed_reasons(&self) -> &[String] {
        match &self.audit {
            Audit::Failed(reasons) => reasons,
            _ => &[],
        }
    }

    /// Applies a price or stock change to every version at once: such changes skip review.
    pub fn update_sku(&mut self, sku_id: &str, change: impl Fn(&mut Sku)) {
        let versions = std::iter::once(&mut self.content).chain(self.live.as_mut());
        for version in versions {
            if let Some(sku) = version.skus.iter_mut().find(|s| s.id == sku_id) {
                change(sku);
            }
        }
    }

    pub fn to_sandbox(&self) -> SandboxProduct {
        SandboxProduct {
            id: self.id.clone(),
            title: self.content.title.clone(),
            status: self.status().to_owned(),
            audit_status: self.audit_status().to_owned(),
            skus: self
                .content
                .skus
                .iter()
                .map(|sku| SandboxSku {
                    id: sku.id.clone(),
                    seller_sku: sku.seller_sku.clone(),
                    price: SandboxMoney { amount: sku.price, currency: sku.currency.clone() },
                    quantity: sku.quantity(),
                })
                .collect(),
            external_product_id: self.content.external_product_id.clone(),
            category_id: self.content.category_id.clone(),
            product_attributes: self
                .content
                .product_attributes
                .iter()
                .map(|a| SandboxAttribute {
                    id: a.id.clone(),
                    value_ids: a.values.iter().map(|(id, _)| id.clone()).collect(),
                    value_names: a.values.iter().map(|(_, name)| name.clone()).collect(),
                })
                .collect(),
            audit_failed_reasons: self.failed_reasons().to_vec(),
        }
    }
}

/// Token bucket: 50 requests per second per (shop, API) (reference §4.3).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

const RATE_PER_SEC: f64 = 50.0;

/// What one (shop, API) bucket let through and refused, for pacing measurements.
#[derive(Debug, Clone, Default)]
pub(crate) struct ApiUsage {
    pub admitted: u64,
    pub throttled: u64,
    pub first_admitted: Option<Instant>,
    pub last_admitted: Option<Instant>,
}

/// Everything the sandbox knows, behind one mutex.
#[derive(Debug)]
pub(crate) struct State {
    pub token: AccessToken,
    /// Authorization codes and the refresh token (reference §2.2).
    pub grants: super::oauth::Grants,
    /// Orders, packages, cancellations, returns, and the outbox of every webhook raised under
    /// the lock (product reviews and status changes too).
    pub orders: super::orders::Book,
    pub shops: Vec<Shop>,
    /// By id; ids grow with each product, so this is creation order.
    pub products: BTreeMap<String, Product>,
    /// (shop cipher, idempotency_key) -> product id.
    pub idempotency: HashMap<(String, String), String>,
    pub review: ReviewPolicy,
    attribute_ids: HashMap<String, String>,
    value_ids: HashMap<(String, String), String>,
    id_base: u64,
    id_next: u64,
    buckets: HashMap<(String, &'static str), Bucket>,
    /// Requests per second per (shop, API); None turns the limit off (benchmarks).
    pub rate_per_sec: Option<f64>,
    /// Calls admitted and throttled per (shop cipher, API), whether or not a limit is on.
    pub usage: BTreeMap<(String, &'static str), ApiUsage>,
}

impl State {
    /// Builds the seller's shops; refuses markets the reference does not list and currencies
    /// that are not the market's (the real shops response carries no currency, so a connector
    /// derives it from the region).
    pub fn new(specs: &[ShopSpec], review: ReviewPolicy, now: i64) -> Result<State, String> {
        if specs.is_empty() {
            return Err("a TikTok sandbox needs at least one shop".into());
        }
        let mut state = State {
            token: AccessToken {
                value: format!("TTP_{}", random_text(32)),
                expires_at: now + TOKEN_LIFETIME_SECS,
            },
            grants: super::oauth::Grants::new(now),
            orders: super::orders::Book::default(),
            shops: Vec::new(),
            products: BTreeMap::new(),
            idempotency: HashMap::new(),
            review,
            attribute_ids: HashMap::new(),
            value_ids: HashMap::new(),
            id_base: rand::rng().random_range(0..10u64.pow(15)) * 10,
            id_next: 0,
            buckets: HashMap::new(),
            rate_per_sec: Some(RATE_PER_SEC),
            usage: BTreeMap::new(),
        };
        for spec in specs {
            let expected = region::currency(&spec.region).ok_or_else(|| {
                format!(
                    "shop {:?}: region {:?} is not a TikTok Shop market ({})",
                    spec.name,
                    spec.region,
                    region::MARKETS.join(", ")
                )
            })?;
            if spec.currency != expected {
                return Err(format!(
                    "shop {:?}: a {} shop prices in {expected}, not {}",
                    spec.name, spec.region, spec.currency
                ));
            }
            let shop = Shop {
                id: state.next_id("74"),
                name: spec.name.clone(),
                region: spec.region.clone(),
                currency: spec.currency.clone(),
                cipher: format!("{}{}", region::cipher_prefix(&spec.region), random_text(28)),
                code: format!("{}{}", spec.region, random_text(10).to_ascii_uppercase()),
                sales_warehouse_id: state.next_id("72"),
                return_warehouse_id: state.next_id("72"),
            };
            state.shops.push(shop);
        }
        Ok(state)
    }

    pub fn shop(&self, cipher: &str) -> Option<&Shop> {
        self.shops.iter().find(|s| s.cipher == cipher)
    }

    /// A fresh 19-digit decimal id with a two-digit prefix (`17` products and SKUs, `74`
    /// shops, `72` warehouses, `70` attributes).
    pub fn next_id(&mut self, prefix: &str) -> String {
        self.id_next += 1;
        format!("{prefix}{:017}", self.id_base + self.id_next)
    }

    /// The id of a custom sales attribute, the same for every product.
    pub fn attribute_id(&mut self, name: &str) -> String {
        if let Some(id) = self.attribute_ids.get(name) {
            return id.clone();
        }
        let id = self.next_id("70");
        self.attribute_ids.insert(name.to_owned(), id.clone());
        id
    }

    /// The id of a custom sales-attribute value.
    pub fn value_id(&mut self, name: &str, value: &str) -> String {
        let key = (name.to_owned(), value.to_owned());
        if let Some(id) = self.value_ids.get(&key) {
            return id.clone();
        }
        let id = self.next_id("70");
        self.value_ids.insert(key, id.clone());
        id
    }

    /// Decides the product's review if its delay has passed, raising the review webhooks
    /// (types 5 and 37) in the outbox.
    pub fn settle(&mut self, id: &str, now: Instant) {
        let Some(product) = self.products.get_mut(id) else { return };
        let Some(outcome) = product.settle(now) else { return };
        let cipher = product.cipher.clone();
        self.announce_review(&cipher, id, &outcome);
    }

    /// Decides every review whose delay has passed, raising their webhooks.
    pub fn settle_all(&mut self, now: Instant) {
        let mut decided = Vec::new();
        for product in self.products.values_mut() {
            if let Some(outcome) = product.settle(now) {
                decided.push((product.cipher.clone(), product.id.clone(), outcome));
            }
        }
        for (cipher, id, outcome) in decided {
            self.announce_review(&cipher, &id, &outcome);
        }
    }

    /// The earliest time a review in progress is decided.
    pub fn next_review_due(&self) -> Option<Instant> {
        self.products.values().filter_map(Product::review_due).min()
    }

    fn announce_review(&mut self, cipher: &str, id: &str, outcome: &ReviewOutcome) {
        let Some(shop_id) = self.shop(cipher).map(|s| s.id.clone()) else { return };
        let events = product_events::review_decided(&shop_id, id, outcome, super::envelope::unix_now());
        self.orders.outbox.extend(events);
    }

    /// Raises the PRODUCT_STATUS_CHANGED webhook (type 5) of a lifecycle move.
    pub fn announce_status_change(&mut self, cipher: &str, id: &str) {
        let Some(shop_id) = self.shop(cipher).map(|s| s.id.clone()) else { return };
        let event = product_events::status_changed(&shop_id, id, super::envelope::unix_now());
        self.orders.outbox.push(event);
    }

    /// Takes one token from the (shop, API) bucket; false when it is empty. Either way the
    /// call is counted in `usage`.
    pub fn admit(&mut self, cipher: &str, api: &'static str, now: Instant) -> bool {
        let admitted = match self.rate_per_sec {
            None => true,
            Some(rate) => {
                let bucket = self
                    .buckets
                    .entry((cipher.to_owned(), api))
                    .or_insert(Bucket { tokens: rate, last: now });
                let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
                bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
                bucket.last = now;
                if bucket.tokens >= 1.0 {
                    bucket.tokens -= 1.0;
                    true
                } else {
                    false
                }
            }
        };
        let usage = self.usage.entry((cipher.to_owned(), api)).or_default();
        if admitted {
            usage.admitted += 1;
            usage.first_admitted.get_or_insert(now);
            usage.last_admitted = Some(now);
        } else {
            usage.throttled += 1;
        }
        admitted
    }

    pub fn sandbox_shops(&self) -> Vec<SandboxShop> {
        self.shops
            .iter()
            .map(|s| SandboxShop {
                id: s.id.clone(),
                name: s.name.clone(),
                region: s.region.clone(),
                currency: s.currency.clone(),
                cipher: s.cipher.clone(),
                warehouse_id: s.sales_warehouse_id.clone(),
            })
            .collect()
    }
}

/// Puts a live product straight into the shop (the `seed_product` control method): leaf
/// `600001`, one SKU per seller SKU at the market's lowest sensible price (10, or the market's
/// minimum), 10 in stock, and a `Variant` sales attribute when there are several SKUs.
pub(crate) fn seed(state: &mut State, shop: &Shop, title: &str, seller_skus: &[&str], now: i64) -> String {
    let price = region::price_range(&shop.region).0.max(Decimal::new(10, 0));
    let mut skus = Vec::with_capacity(seller_skus.len());
    for seller_sku in seller_skus {
        let sales_attributes = if seller_skus.len() > 1 {
            let id = state.attribute_id("Variant");
            vec![SalesAttribute {
                value_id: state.value_id(&id, seller_sku),
                id,
                name: "Variant".into(),
                value_name: (*seller_sku).into(),
            }]
        } else {
            Vec::new()
        };
        skus.push(Sku {
            id: state.next_id("17"),
            seller_sku: (*seller_sku).into(),
            price,
            currency: shop.currency.clone(),
            inventory: vec![Stock { warehouse_id: shop.sales_warehouse_id.clone(), quantity: 10 }],
            sales_attributes,
            external_sku_id: None,
        });
    }
    let content = Content {
        title: title.into(),
        description: format!("<p>{title}</p>"),
        category_id: "600001".into(),
        brand_id: None,
        main_images: vec!["https://sandbox.invalid/seeded.jpg".into()],
        package_weight: ("0.5".into(), "KILOGRAM".into()),
        external_product_id: None,
        product_attributes: Vec::new(),
        skus,
    };
    let product = Product {
        id: state.next_id("17"),
        cipher: shop.cipher.clone(),
        create_time: now,
        update_time: now,
        live: Some(content.clone()),
        content,
        audit: Audit::Approved,
        lifecycle: Lifecycle::Listed,
    };
    let id = product.id.clone();
    state.products.insert(id.clone(), product);
    id
}

fn random_text(len: usize) -> String {
    rand::rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}
