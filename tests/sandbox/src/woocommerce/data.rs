//! The sandbox store's records: products (simple or variable) and variations with their REST
//! v3 JSON shapes, and the orders (see [`super::order_data`]), with WordPress-style ids from one
//! sequence (products, variations and orders are all posts) and meta ids from another.
//!
//! Choices of ours: a catalog product with one variant is a `simple` product, with more a
//! `variable` one whose attributes come from the option names; `Active` is `publish`,
//! `Draft` is `draft`, `Archived` is `private`; the catalog's product type is the one category;
//! weights are in kg (WooCommerce's default unit); a compare-at price above the price makes
//! `regular_price` the compare-at price and `sale_price` the price.

use super::order_data::Order;
use crate::catalog::{CatalogProduct, ProductStatus};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// First id of the post sequence; a fresh WordPress site has a few posts already.
const FIRST_POST_ID: u64 = 100;
/// Catalog product `i` was created this many seconds after the base time.
const CREATED_STEP: i64 = 60;

/// Product or variation prices and stock; the default is no SKU, no price and no stock managed.
#[derive(Debug, Clone, Default)]
pub struct Stocked {
    pub sku: String,
    pub regular_price: Decimal,
    pub sale_price: Option<Decimal>,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    pub grams: u32,
}

impl Stocked {
    /// What the customer pays now.
    pub fn price(&self) -> Decimal {
        self.sale_price.unwrap_or(self.regular_price)
    }

    pub fn stock_status(&self) -> &'static str {
        match (self.manage_stock, self.stock_quantity) {
            (true, Some(q)) if q <= 0 => "outofstock",
            _ => "instock",
        }
    }

    fn json_fields(&self, object: &mut serde_json::Map<String, Value>) {
        object.insert("sku".into(), json!(self.sku));
        object.insert("price".into(), json!(self.price().to_string()));
        object.insert("regular_price".into(), json!(self.regular_price.to_string()));
        object.insert("sale_price".into(), json!(self.sale_price.map(|p| p.to_string()).unwrap_or_default()));
        object.insert("on_sale".into(), json!(self.sale_price.is_some()));
        object.insert("manage_stock".into(), json!(self.manage_stock));
        object.insert("stock_quantity".into(), json!(self.stock_quantity.filter(|_| self.manage_stock)));
        object.insert("stock_status".into(), json!(self.stock_status()));
        object.insert("backorders".into(), json!("no"));
        object.insert("weight".into(), json!(kilograms(self.grams)));
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub options: Vec<String>,
    pub variation: bool,
}

#[derive(Debug, Clone)]
pub struct Variation {
    pub id: u64,
    pub stocked: Stocked,
    /// `(attribute name, option)`.
    pub attributes: Vec<(String, String)>,
    pub date_modified: i64,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: u64,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub description: String,
    pub short_description: String,
    /// For a variable product: its own SKU (may be empty) and no price or stock of its own.
    pub stocked: Stocked,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub images: Vec<String>,
    pub attributes: Vec<Attribute>,
    /// `variable` rather than `simple`, even before its first variation or after its last.
    pub variable: bool,
    /// Empty for a simple product.
    pub variations: Vec<Variation>,
    pub date_created: i64,
    pub date_modified: i64,
}

impl Product {
    pub fn is_variable(&self) -> bool {
        self.variable
    }

    /// Whether this product or one of its variations has `sku`.
    pub fn has_sku(&self, sku: &str) -> bool {
        (!self.stocked.sku.is_empty() && self.stocked.sku == sku)
            || self.variations.iter().any(|v| v.stocked.sku == sku)
    }
}

/// Everything the store holds.
#[derive(Debug)]
pub struct Store {
    pub products: BTreeMap<u64, Product>,
    pub orders: BTreeMap<u64, Order>,
    /// Category and tag names to term ids, assigned in first-use order.
    terms: BTreeMap<String, u64>,
    next_post: u64,
    next_term: u64,
    next_meta: u64,
}

impl Store {
    /// Loads a catalog; product `i` was created a minute after product `i - 1`, from `base`.
    pub fn new(catalog: Vec<CatalogProduct>, base: i64) -> Self {
        let mut store = Store {
            products: BTreeMap::new(),
            orders: BTreeMap::new(),
            terms: BTreeMap::new(),
            next_post: FIRST_POST_ID,
            next_term: 15,
            next_meta: 1,
        };
        for (i, product) in catalog.into_iter().enumerate() {
            store.insert(product, base + CREATED_STEP * i as i64);
        }
        store
    }

    /// The next post id (products, variations, orders, line items and notes share it here).
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_post;
        self.next_post += 1;
        id
    }

    /// The next meta id (order and order item meta share it here).
    pub fn next_meta_id(&mut self) -> u64 {
        let id = self.next_meta;
        self.next_meta += 1;
        id
    }

    fn term(&mut self, name: &str) -> u64 {
        if let Some(id) = self.terms.get(name) {
            return *id;
        }
        let id = self.next_term;
        self.next_term += 1;
        self.terms.insert(name.to_string(), id);
        id
    }

    /// Adds a catalog product created at `now`; returns its id.
    pub fn insert(&mut self, product: CatalogProduct, now: i64) -> u64 {
        let id = self.next_id();
        let first = product.variants.first().cloned();
        let variable = product.variants.len() > 1;
        let mut attributes: Vec<Attribute> = Vec::new();
        let mut variations = Vec::new();
        if variable {
            for variant in &product.variants {
                for (name, value) in &variant.options {
                    match attributes.iter_mut().find(|a| &a.name == name) {
                        Some(a) if !a.options.contains(value) => a.options.push(value.clone()),
                        Some(_) => {}
                        None => attributes.push(Attribute {
                            name: name.clone(),
                            options: vec![value.clone()],
                            variation: true,
                        }),
                    }
                }
            }
            for variant in &product.variants {
                let variation_id = self.next_id();
                variations.push(Variation {
                    id: variation_id,
                    stocked: stocked(variant),
                    attributes: variant.options.clone(),
                    date_modified: now,
                });
            }
        }
        let stocked = match (&first, variable) {
            (Some(variant), false) => stocked(variant),
            _ => Stocked::default(),
        };
        if !product.vendor.is_empty() {
            attributes.push(Attribute {
                name: "Brand".into(),
                options: vec![product.vendor.clone()],
                variation: false,
            });
        }
        let category = (!product.product_type.is_empty()).then(|| product.product_type.clone());
        if let Some(category) = &category {
            self.term(category);
        }
        for tag in &product.tags {
            self.term(tag);
        }
        let status = match product.status {
            ProductStatus::Active => "publish",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "private",
        };
        let mut slug = product.handle.clone();
        let mut n = 1;
        while self.products.values().any(|p| p.slug == slug) {
            n += 1;
            slug = format!("{}-{n}", product.handle);
        }
        self.products.insert(
            id,
            Product {
                id,
                name: product.title,
                slug,
                status: status.into(),
                short_description: String::new(),
                description: product.body_html,
                stocked,
                category,
                tags: product.tags,
                images: product.images,
                attributes,
                variable,
                variations,
                date_created: now,
                date_modified: now,
            },
        );
        id
    }

    /// The product, or the parent of the variation, with this SKU.
    pub fn product_with_sku(&self, sku: &str) -> Option<&Product> {
        self.products.values().find(|p| p.has_sku(sku))
    }

    /// The variation with this id and its parent product.
    pub fn variation(&self, id: u64) -> Option<(&Product, &Variation)> {
        self.products.values().find_map(|p| p.variations.iter().find(|v| v.id == id).map(|v| (p, v)))
    }

    /// The REST v3 representation of a product.
    pub fn product_json(&self, product: &Product, base_url: &str) -> Value {
        let term = |name: &str| json!({"id": self.terms.get(name).copied().unwrap_or(0), "name": name, "slug": slugify(name)});
        let mut object = serde_json::Map::new();
        object.insert("id".into(), json!(product.id));
        object.insert("name".into(), json!(product.name));
        object.insert("slug".into(), json!(product.slug));
        object.insert("permalink".into(), json!(format!("{base_url}/product/{}/", product.slug)));
        object.insert("date_created_gmt".into(), json!(wp_date(product.date_created)));
        object.insert("date_modified_gmt".into(), json!(wp_date(product.date_modified)));
        object.insert("type".into(), json!(if product.is_variable() { "variable" } else { "simple" }));
        object.insert("status".into(), json!(product.status));
        object.insert("featured".into(), json!(false));
        object.insert("catalog_visibility".into(), json!("visible"));
        object.insert("description".into(), json!(product.description));
        object.insert("short_description".into(), json!(product.short_description));
        product.stocked.json_fields(&mut object);
        if product.is_variable() {
            // A variable product's price is its cheapest variation's; it has no stock of its own.
            let cheapest = product.variations.iter().map(|v| v.stocked.price()).min();
            object.insert("price".into(), json!(cheapest.map(|p| p.to_string()).unwrap_or_default()));
            object.insert("regular_price".into(), json!(""));
            object.insert("sale_price".into(), json!(""));
            let in_stock = product.variations.iter().any(|v| v.stocked.stock_status() == "instock");
            object.insert("stock_status".into(), json!(if in_stock { "instock" } else { "outofstock" }));
            object.insert("weight".into(), json!(""));
        }
        object.insert("purchasable".into(), json!(product.status == "publish"));
        object.insert("categories".into(), Value::Array(product.category.iter().map(|c| term(c)).collect()));
        object.insert("tags".into(), Value::Array(product.tags.iter().map(|t| term(t)).collect()));
        let images: Vec<Value> = product
            .images
            .iter()
            .enumerate()
            .map(|(i, src)| {
                json!({"id": product.id * 1000 + i as u64, "src": src, "name": file_name(src), "alt": product.name})
            })
            .collect();
        object.insert("images".into(), Value::Array(images));
        let attributes: Vec<Value> = product
            .attributes
            .iter()
            .enumerate()
            .map(|(i, a)| {
                json!({"id": 0, "name": a.name, "position": i, "visible": true, "variation": a.variation, "options": a.options})
            })
            .collect();
        object.insert("attributes".into(), Value::Array(attributes));
        object
            .insert("variations".into(), json!(product.variations.iter().map(|v| v.id).collect::<Vec<_>>()));
        object.insert("meta_data".into(), json!([]));
        Value::Object(object)
    }

    /// The REST v3 representation of a variation.
    pub fn variation_json(&self, product: &Product, variation: &Variation, base_url: &str) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("id".into(), json!(variation.id));
        object.insert("parent_id".into(), json!(product.id));
        object.insert("date_modified_gmt".into(), json!(wp_date(variation.date_modified)));
        object.insert("description".into(), json!(""));
        object.insert(
            "permalink".into(),
            json!(format!("{base_url}/product/{}/?variation_id={}", product.slug, variation.id)),
        );
        object.insert("status".into(), json!("publish"));
        variation.stocked.json_fields(&mut object);
        object.insert("image".into(), Value::Null);
        let attributes: Vec<Value> = variation
            .attributes
            .iter()
            .map(|(name, option)| json!({"id": 0, "name": name, "option": option}))
            .collect();
        object.insert("attributes".into(), Value::Array(attributes));
        object.insert("menu_order".into(), json!(0));
        object.insert("meta_data".into(), json!([]));
        Value::Object(object)
    }

    /// A variation as `/products/{id}` and `/products?sku=` serve it: a product of type
    /// `variation` with its `parent_id`, named after its parent and options.
    pub fn variation_product_json(&self, product: &Product, variation: &Variation, base_url: &str) -> Value {
        let mut object = match self.variation_json(product, variation, base_url) {
            Value::Object(object) => object,
            _ => serde_json::Map::new(),
        };
        let options: Vec<&str> = variation.attributes.iter().map(|(_, o)| o.as_str()).collect();
        let name = if options.is_empty() {
            product.name.clone()
        } else {
            format!("{} - {}", product.name, options.join(", "))
        };
        let slug = slugify(&format!("{} {}", product.slug, options.join(" ")));
        for (field, value) in [
            ("name", json!(name)),
            ("slug", json!(slug)),
            ("type", json!("variation")),
            ("date_created_gmt", json!(wp_date(product.date_created))),
            ("featured", json!(false)),
            ("catalog_visibility", json!("visible")),
            ("short_description", json!("")),
            ("purchasable", json!(product.status == "publish")),
            ("categories", json!([])),
            ("tags", json!([])),
            ("images", json!([])),
            ("variations", json!([])),
        ] {
            object.insert(field.into(), value);
        }
        Value::Object(object)
    }
}

fn stocked(variant: &crate::catalog::CatalogVariant) -> Stocked {
    let (regular_price, sale_price) = match variant.compare_at_price {
        Some(was) if was > variant.price => (was, Some(variant.price)),
        _ => (variant.price, None),
    };
    Stocked {
        sku: variant.sku.clone(),
        regular_price,
        sale_price,
        manage_stock: true,
        stock_quantity: Some(variant.inventory_quantity),
        grams: variant.grams,
    }
}

/// A money string with two decimals, as WooCommerce formats totals (`"-10.00"`).
pub fn money(amount: Decimal) -> String {
    let mut rounded = amount.round_dp(2);
    rounded.rescale(2);
    rounded.to_string()
}

/// Grams as WooCommerce's default weight unit, kg (`"0.45"`); empty when unknown.
fn kilograms(grams: u32) -> String {
    if grams == 0 {
        return String::new();
    }
    (Decimal::from(grams) / Decimal::from(1000)).normalize().to_string()
}

fn file_name(src: &str) -> String {
    let last = src.rsplit('/').next().unwrap_or(src);
    last.split('.').next().unwrap_or(last).to_string()
}

pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// WordPress's `_gmt` dates: `2025-06-01T00:00:00`, UTC without a zone designator.
pub fn wp_date(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Parses an ISO 8601 date as the REST API's date parameters take it (`2025-06-01T00:00:00`,
/// with or without fractions, `Z` or an offset; without a zone it is the site's, UTC) to Unix
/// seconds.
pub fn parse_wp_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => (time, ""),
    };
    let clock = clock.split('.').next().unwrap_or(clock);
    let mut t = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next().flatten().unwrap_or(0), t.next().flatten().unwrap_or(0));
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let (hh, mm) = digits.split_at(2);
            sign * (hh.parse::<i64>().ok()? * 3600 + mm.parse::<i64>().ok()? * 60)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || !(0..24).contains(&h) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + min * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_in_wordpress_format() {
        let t = 1_748_736_000; // 2025-06-01T00:00:00Z
        assert_eq!(wp_date(t), "2025-06-01T00:00:00");
        assert_eq!(parse_wp_date("2025-06-01T00:00:00"), Some(t));
        assert_eq!(parse_wp_date(&wp_date(t + 3_723)), Some(t + 3_723));
    }

    #[test]
    fn zones_and_fractions_are_honoured() {
        let t = 1_748_736_000; // 2025-06-01T00:00:00Z
        assert_eq!(parse_wp_date("2025-06-01T00:00:00Z"), Some(t));
        assert_eq!(parse_wp_date("2025-06-01T02:00:00+02:00"), Some(t));
        assert_eq!(parse_wp_date("2025-05-31T19:30:00.250-04:30"), Some(t));
        assert_eq!(parse_wp_date("2025-06-01"), Some(t));
        assert_eq!(parse_wp_date("yesterday"), None);
        assert_eq!(parse_wp_date("2025-06-01T00:00:00+2"), None);
    }

    #[test]
    fn weights_are_kilograms() {
        assert_eq!(kilograms(450), "0.45");
        assert_eq!(kilograms(1200), "1.2");
        assert_eq!(kilograms(0), "");
    }
}
