//! Product endpoints (reference §5): create, get, edit, search, and the inventory and price
//! updates that skip review.

use super::envelope::{ApiError, code, unix_now};
use super::product_body::{self, InventoryBody, PriceBody, ProductBody, SaveMode};
use super::state::{self, Content, Lifecycle, Product, Shop, Sku, State};
use super::taxonomy;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tokio::time::Instant;

/// POST /product/{v}/products
pub(crate) fn create(state: &mut State, cipher: &str, body: &[u8], now: Instant) -> Result<Value, ApiError> {
    let shop = shop(state, cipher)?;
    let body: ProductBody = product_body::decode(body)?;
    let key = body.idempotency_key.clone().filter(|k| !k.is_empty());
    if let Some(key) = &key
        && let Some(id) = state.idempotency.get(&(cipher.to_owned(), key.clone()))
        && let Some(product) = state.products.get(id)
    {
        // A retried create returns the product the key made the first time.
        return Ok(write_response(product));
    }
    let validated = product_body::validate(state, &shop, body, None)?;
    let unix = unix_now();
    let mut product = Product {
        id: state.next_id("17"),
        cipher: cipher.to_owned(),
        create_time: unix,
        update_time: unix,
        content: validated.content,
        live: None,
        audit: state::Audit::None,
        lifecycle: Lifecycle::Listed,
    };
    if validated.save_mode == SaveMode::Listing {
        product.submit(&state.review, now);
    }
    let response = write_response(&product);
    if let Some(key) = key {
        state.idempotency.insert((cipher.to_owned(), key), product.id.clone());
    }
    state.products.insert(product.id.clone(), product);
    Ok(response)
}

/// GET /product/{v}/products/{id}
pub(crate) fn get(
    state: &mut State,
    cipher: &str,
    id: &str,
    under_review: bool,
    now: Instant,
) -> Result<Value, ApiError> {
    let product = product_mut(state, Some(cipher), id, now)?;
    // FREEZE and DELETED products are not returned (reference §5.1).
    if product.lifecycle == Lifecycle::Deleted {
        return Err(not_found(id));
    }
    // The live version by default; the newest one on `return_under_review_version=true`.
    let content = match (&product.live, under_review) {
        (Some(live), false) => live,
        _ => &product.content,
    };
    Ok(detail(product, content))
}

/// PUT /product/{v}/products/{id}: full replace; SKUs matched by id, missing ones deleted.
pub(crate) fn edit(
    state: &mut State,
    cipher: &str,
    id: &str,
    body: &[u8],
    now: Instant,
) -> Result<Value, ApiError> {
    let shop = shop(state, cipher)?;
    let body: ProductBody = product_body::decode(body)?;
    let existing = product_mut(state, Some(cipher), id, now)?;
    // Edit works on any status but FREEZE and DELETED (reference §5.4).
    if existing.lifecycle == Lifecycle::Deleted {
        return Err(ApiError::new(
            code::STATUS_NOT_VALID,
            "The product in its current status (DELETED) is not available for this operation.",
        ));
    }
    let existing = existing.content.clone();
    let validated = product_body::validate(state, &shop, body, Some(&existing))?;
    let policy = state.review.clone();
    let product = product_mut(state, Some(cipher), id, now)?;

    let is_draft = product.status() == "DRAFT";
    if validated.save_mode == SaveMode::Draft && !is_draft {
        return Err(ApiError::invalid("save_mode", "AS_DRAFT is only for products still in draft"));
    }
    // Price and inventory changes skip review and reach the live version at once.
    if let Some(live) = &mut product.live {
        for sku in &validated.content.skus {
            if let Some(live_sku) = live.skus.iter_mut().find(|s| s.id == sku.id) {
                live_sku.price = sku.price;
                live_sku.currency = sku.currency.clone();
                live_sku.inventory = sku.inventory.clone();
            }
        }
    }
    let needs_review = !matches!(product.audit, state::Audit::Approved)
        || !same_but_price_and_stock(&product.content, &validated.content);
    product.content = validated.content;
    product.update_time = unix_now();
    if validated.save_mode == SaveMode::Listing && needs_review {
        product.submit(&policy, now);
    } else if validated.save_mode == SaveMode::Listing && product.live.is_some() {
        product.live = Some(product.content.clone());
    }
    let mut response = write_response(product);
    response["audit"] = json!({ "status": product.audit_status() });
    Ok(response)
}

/// Whether two versions differ only in prices and stock (which skip review).
fn same_but_price_and_stock(a: &Content, b: &Content) -> bool {
    let strip = |c: &Content| {
        let mut c = c.clone();
        for sku in &mut c.skus {
            sku.price = Default::default();
            sku.inventory.clear();
        }
        c
    };
    strip(a) == strip(b)
}

#[derive(Debug, Deserialize)]
struct SkuUpdates<T> {
    skus: Option<Vec<T>>,
}

impl<T> Default for SkuUpdates<T> {
    fn default() -> Self {
        SkuUpdates { skus: None }
    }
}

#[derive(Debug, Deserialize)]
struct InventoryUpdate {
    id: Option<String>,
    inventory: Option<Vec<InventoryBody>>,
}

#[derive(Debug, Deserialize)]
struct PriceUpdate {
    id: Option<String>,
    price: Option<PriceBody>,
}

/// POST /product/{v}/products/{id}/inventory/update: a batch endpoint; per-SKU failures come
/// back in `data.errors[]` with code 0 at the top (reference §4.1).
pub(crate) fn update_inventory(
    state: &mut State,
    cipher: Option<&str>,
    id: &str,
    body: &[u8],
    now: Instant,
) -> Result<Value, ApiError> {
    let updates: SkuUpdates<InventoryUpdate> = product_body::decode(body)?;
    let updates =
        updates.skus.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid("skus", "is required"))?;
    let product = product_mut(state, cipher, id, now)?;
    require_active(product)?;
    let mut errors = Vec::new();
    for (i, update) in updates.into_iter().enumerate() {
        let sku_id = update.id.unwrap_or_default();
        let Some(sku) = product.content.skus.iter().find(|s| s.id == sku_id) else {
            errors.push(sku_error(
                code::INVALID_PARAMETER,
                "The SKU does not belong to this product.",
                &sku_id,
                vec![],
            ));
            continue;
        };
        match new_stock(sku, update.inventory.unwrap_or_default(), &format!("skus[{i}].inventory")) {
            Ok(stock) => product.update_sku(&sku_id, |s| s.inventory = stock.clone()),
            Err(extra) => errors.push(sku_error(
                code::BATCH_INVENTORY_ERROR,
                "batch update inventory error",
                &sku_id,
                vec![extra],
            )),
        }
    }
    product.update_time = unix_now();
    Ok(json!({ "errors": errors }))
}

/// The SKU's warehouses with new quantities: every assigned warehouse must be listed and no
/// other (12052533); `warehouse_id` may be left out when the SKU has one warehouse.
fn new_stock(sku: &Sku, entries: Vec<InventoryBody>, at: &str) -> Result<Vec<state::Stock>, Value> {
    let mut stock = Vec::with_capacity(entries.len());
    for (j, entry) in entries.into_iter().enumerate() {
        let warehouse_id = match (entry.warehouse_id.filter(|w| !w.is_empty()), sku.inventory.as_slice()) {
            (Some(w), _) => w,
            (None, [only]) => only.warehouse_id.clone(),
            (None, _) => {
                return Err(extra_error(code::INVALID_PARAMETER, "warehouse_id is required", ""));
            }
        };
        let quantity = product_body::quantity(entry.quantity, &format!("{at}[{j}]"))
            .map_err(|e| extra_error(e.code, &e.message, &warehouse_id))?;
        stock.push(state::Stock { warehouse_id, quantity });
    }
    let given: BTreeSet<&str> = stock.iter().map(|s| s.warehouse_id.as_str()).collect();
    let assigned: BTreeSet<&str> = sku.inventory.iter().map(|s| s.warehouse_id.as_str()).collect();
    if given != assigned || given.len() != stock.len() {
        return Err(extra_error(
            code::WAREHOUSE_CHANGE,
            "List every warehouse of the SKU once; warehouses cannot be added or removed here.",
            "",
        ));
    }
    Ok(stock)
}

fn sku_error(code: i64, message: &str, sku_id: &str, extra: Vec<Value>) -> Value {
    json!({ "code": code, "message": message, "detail": { "sku_id": sku_id, "extra_errors": extra } })
}

fn extra_error(code: i64, message: &str, warehouse_id: &str) -> Value {
    json!({ "code": code, "message": message, "warehouse_id": warehouse_id })
}

/// POST /product/{v}/products/{id}/prices/update: all SKUs or none; empty `data`.
pub(crate) fn update_prices(
    state: &mut State,
    cipher: &str,
    id: &str,
    body: &[u8],
    now: Instant,
) -> Result<Value, ApiError> {
    let shop = shop(state, cipher)?;
    let updates: SkuUpdates<PriceUpdate> = product_body::decode(body)?;
    let updates =
        updates.skus.filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid("skus", "is required"))?;
    let product = product_mut(state, Some(cipher), id, now)?;
    require_active(product)?;
    let mut prices = Vec::with_capacity(updates.len());
    for (i, update) in updates.into_iter().enumerate() {
        let sku_id = update.id.unwrap_or_default();
        if !product.content.skus.iter().any(|s| s.id == sku_id) {
            return Err(ApiError::invalid(
                &format!("skus[{i}].id"),
                "the SKU does not belong to this product",
            ));
        }
        let price =
            update.price.ok_or_else(|| ApiError::invalid(&format!("skus[{i}].price"), "is required"))?;
        prices.push((sku_id, product_body::validate_price(&shop, &format!("skus[{i}].price"), price)?));
    }
    for (sku_id, (amount, currency)) in prices {
        product.update_sku(&sku_id, |s| {
            s.price = amount;
            s.currency = currency.clone();
        });
    }
    product.update_time = unix_now();
    Ok(json!({}))
}

#[derive(Debug, Default, Deserialize)]
struct SearchFilters {
    status: Option<String>,
    seller_skus: Option<Vec<String>>,
    create_time_ge: Option<i64>,
    create_time_le: Option<i64>,
    update_time_ge: Option<i64>,
    update_time_le: Option<i64>,
}

const SEARCH_STATUSES: [&str; 9] = [
    "ALL",
    "DRAFT",
    "PENDING",
    "FAILED",
    "ACTIVATE",
    "SELLER_DEACTIVATED",
    "PLATFORM_DEACTIVATED",
    "FREEZE",
    "DELETED",
];

/// POST /product/{v}/products/search: filters in the body, paging in the query.
pub(crate) fn search(
    state: &mut State,
    cipher: &str,
    page_size: Option<&str>,
    page_token: Option<&str>,
    body: &[u8],
    now: Instant,
) -> Result<Value, ApiError> {
    let page_size: usize = match page_size.map(str::parse) {
        Some(Ok(n @ 1..=100)) => n,
        _ => return Err(ApiError::invalid("page_size", "1 to 100 is required")),
    };
    let offset = match page_token {
        None => 0,
        Some(token) => {
            decode_page_token(token).ok_or_else(|| ApiError::invalid("page_token", "is not valid"))?
        }
    };
    let filters: SearchFilters = product_body::decode(body)?;
    let status = filters.status.unwrap_or_else(|| "ALL".into());
    if !SEARCH_STATUSES.contains(&status.as_str()) {
        return Err(ApiError::invalid("status", format!("unknown {status:?}")));
    }
    state.settle_all(now);
    let matches: Vec<&Product> = state
        .products
        .values()
        .filter(|p| p.cipher == cipher)
        .filter(|p| status == "ALL" || p.status() == status)
        .filter(|p| match &filters.seller_skus {
            Some(wanted) if !wanted.is_empty() => {
                p.content.skus.iter().any(|s| wanted.contains(&s.seller_sku))
            }
            _ => true,
        })
        .filter(|p| filters.create_time_ge.is_none_or(|t| p.create_time >= t))
        .filter(|p| filters.create_time_le.is_none_or(|t| p.create_time <= t))
        .filter(|p| filters.update_time_ge.is_none_or(|t| p.update_time >= t))
        .filter(|p| filters.update_time_le.is_none_or(|t| p.update_time <= t))
        .collect();
    let total = matches.len();
    let page: Vec<Value> = matches.iter().skip(offset).take(page_size).map(|p| summary(p, state)).collect();
    let next = offset + page.len();
    let next_page_token = if next < total { encode_page_token(next) } else { String::new() };
    Ok(json!({ "products": page, "total_count": total, "next_page_token": next_page_token }))
}

fn encode_page_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_page_token(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    String::from_utf8(bytes).ok()?.strip_prefix("offset:")?.parse().ok()
}

fn shop(state: &State, cipher: &str) -> Result<Shop, ApiError> {
    // The checks made sure the cipher is one of the seller's shops.
    state.shop(cipher).cloned().ok_or_else(|| ApiError::new(code::SHOP_MISMATCH, "unknown shop_cipher"))
}

/// The product, its review settled; 12052032 when it is not this shop's (or, without a
/// cipher, not the seller's).
fn product_mut<'s>(
    state: &'s mut State,
    cipher: Option<&str>,
    id: &str,
    now: Instant,
) -> Result<&'s mut Product, ApiError> {
    if state.products.get(id).is_some_and(|p| cipher.is_none_or(|c| c == p.cipher)) {
        state.settle(id, now);
    }
    match state.products.get_mut(id) {
        Some(product) if cipher.is_none_or(|c| c == product.cipher) => Ok(product),
        _ => Err(not_found(id)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(code::PRODUCT_NOT_FOUND, format!("The product {id} does not exist."))
}

fn require_active(product: &Product) -> Result<(), ApiError> {
    let status = product.status();
    if status != "ACTIVATE" {
        return Err(ApiError::new(
            code::STATUS_NOT_VALID,
            format!("The product status {status} is not valid for this operation; it must be ACTIVATE."),
        ));
    }
    Ok(())
}

/// The body of Create and Edit responses.
fn write_response(product: &Product) -> Value {
    let skus: Vec<Value> = product
        .content
        .skus
        .iter()
        .map(|sku| {
            let mut value = json!({
                "id": sku.id,
                "seller_sku": sku.seller_sku,
                "sales_attributes": sku.sales_attributes.iter()
                    .map(|a| json!({ "id": a.id, "value_id": a.value_id }))
                    .collect::<Vec<_>>(),
            });
            if let Some(external) = &sku.external_sku_id {
                value["external_sku_id"] = json!(external);
            }
            value
        })
        .collect();
    json!({ "product_id": product.id, "skus": skus, "warnings": [] })
}

fn price_json(sku: &Sku) -> Value {
    // Local sellers: the display price is also the sale and tax-exclusive price.
    let amount = sku.price.to_string();
    json!({ "currency": sku.currency, "sale_price": amount, "tax_exclusive_price": amount })
}

fn inventory_json(sku: &Sku) -> Vec<Value> {
    sku.inventory.iter().map(|s| json!({ "warehouse_id": s.warehouse_id, "quantity": s.quantity })).collect()
}

/// Get Product's body for one version of the product.
fn detail(product: &Product, content: &Content) -> Value {
    let chain: Vec<Value> = category_chain(&content.category_id)
        .into_iter()
        .map(|c| json!({ "id": c.id, "parent_id": c.parent_id, "local_name": c.name, "is_leaf": c.is_leaf }))
        .collect();
    let skus: Vec<Value> = content
        .skus
        .iter()
        .map(|sku| {
            let mut value = json!({
                "id": sku.id,
                "seller_sku": sku.seller_sku,
                "price": price_json(sku),
                "inventory": inventory_json(sku),
                "sales_attributes": sku.sales_attributes.iter().map(|a| json!({
                    "id": a.id, "name": a.name, "value_id": a.value_id, "value_name": a.value_name,
                })).collect::<Vec<_>>(),
                "status_info": { "status": "NORMAL" },
            });
            if let Some(external) = &sku.external_sku_id {
                value["external_sku_id"] = json!(external);
            }
            value
        })
        .collect();
    let reasons = product.failed_reasons();
    let failed: Vec<Value> = if reasons.is_empty() {
        Vec::new()
    } else {
        vec![
            json!({ "position": "product", "reasons": reasons, "suggestions": [], "listing_platform": "TIKTOK_SHOP" }),
        ]
    };
    let mut value = json!({
        "id": product.id,
        "title": content.title,
        "description": content.description,
        "status": product.status(),
        "category_chains": chain,
        "main_images": content.main_images.iter().map(|uri| json!({
            "uri": uri, "urls": [uri], "thumb_urls": [uri], "width": 800, "height": 800,
        })).collect::<Vec<_>>(),
        "package_weight": { "value": content.package_weight.0, "unit": content.package_weight.1 },
        "skus": skus,
        "product_attributes": content.product_attributes.iter().map(|a| json!({
            "id": a.id,
            "name": a.name,
            "values": a.values.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "audit": { "status": product.audit_status(), "pre_approved_reasons": [] },
        "audit_failed_reasons": failed,
        "create_time": product.create_time,
        "update_time": product.update_time,
        "is_not_for_sale": false,
    });
    if let Some(brand) = &content.brand_id {
        value["brand"] = json!({ "id": brand, "name": "" });
    }
    if let Some(external) = &content.external_product_id {
        value["external_product_id"] = json!(external);
    }
    value
}

/// Search's lighter object per product.
fn summary(product: &Product, state: &State) -> Value {
    let region = state.shop(&product.cipher).map(|s| s.region.clone()).unwrap_or_default();
    let skus: Vec<Value> = product
        .content
        .skus
        .iter()
        .map(|sku| json!({ "id": sku.id, "seller_sku": sku.seller_sku, "price": price_json(sku), "inventory": inventory_json(sku) }))
        .collect();
    json!({
        "id": product.id,
        "title": product.content.title,
        "status": product.status(),
        "skus": skus,
        "sales_regions": [region],
        "create_time": product.create_time,
        "update_time": product.update_time,
        "is_not_for_sale": false,
        "audit": { "status": product.audit_status() },
    })
}

/// Root first.
fn category_chain(id: &str) -> Vec<&'static taxonomy::Category> {
    let mut chain = Vec::new();
    let mut next = taxonomy::category(id);
    while let Some(category) = next {
        chain.push(category);
        next = taxonomy::category(category.parent_id);
    }
    chain.reverse();
    chain
}
