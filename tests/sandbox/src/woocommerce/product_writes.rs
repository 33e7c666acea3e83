//! Writes to products and variations on the locked store (create, partial update, delete),
//! shared by the single endpoints and the batch ones so both behave alike. Each returns the
//! REST JSON to answer; the caller sends the webhook once the lock is released.
//!
//! Choices of ours for creates (core accepts more): `type` is `simple` (default) or `variable`;
//! a variable product's variations are created under it (`/variations` or its batch), and a
//! variation cannot be created under a simple product (400
//! `woocommerce_rest_product_variation_invalid_parent`).

use super::bump;
use super::data::{Attribute, Product, Stocked, Store, Variation};
use super::rest_error::RestError;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

pub fn product_not_found() -> RestError {
    RestError::new(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

pub fn variation_not_found() -> RestError {
    RestError::new(StatusCode::NOT_FOUND, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
}

/// Every SKU in the store but those of `except` (a product or variation id).
fn skus_taken(store: &Store, except: Option<u64>) -> Vec<String> {
    store
        .products
        .values()
        .flat_map(|p| {
            let own = (Some(p.id) != except).then(|| p.stocked.sku.clone());
            own.into_iter()
                .chain(p.variations.iter().filter(|v| Some(v.id) != except).map(|v| v.stocked.sku.clone()))
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// Applies the price, SKU and stock fields of an update; `sku_taken` says whether another
/// product or variation has a SKU.
fn apply_stocked(
    stocked: &mut Stocked,
    update: &Map<String, Value>,
    sku_taken: impl Fn(&str) -> bool,
) -> Result<(), RestError> {
    let price = |field: &str| -> Result<Option<Option<Decimal>>, RestError> {
        match update.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
            Some(Value::String(s)) => Decimal::from_str(s.trim()).map(|d| Some(Some(d))).map_err(|_| {
                RestError::invalid_param(field, format!("{field} is not of type string of a number."))
            }),
            Some(_) => Err(RestError::invalid_param(field, format!("{field} is not of type string."))),
        }
    };
    let regular = price("regular_price")?;
    let sale = price("sale_price")?;
    if let Some(sku) = update.get("sku") {
        let Some(sku) = sku.as_str() else {
            return Err(RestError::invalid_param("sku", "sku is not of type string."));
        };
        if !sku.is_empty() && sku != stocked.sku && sku_taken(sku) {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
            ));
        }
        stocked.sku = sku.to_string();
    }
    if let Some(regular) = regular {
        stocked.regular_price = regular.unwrap_or(Decimal::ZERO);
    }
    if let Some(sale) = sale {
        stocked.sale_price = sale;
    }
    if let Some(manage) = update.get("manage_stock") {
        let Some(manage) = manage.as_bool() else {
            return Err(RestError::invalid_param("manage_stock", "manage_stock is not of type boolean."));
        };
        stocked.manage_stock = manage;
    }
    match update.get("stock_quantity") {
        None | Some(Value::Null) => {}
        Some(value) => {
            let Some(quantity) =
                value.as_i64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            else {
                return Err(RestError::invalid_param(
                    "stock_quantity",
                    "stock_quantity is not of type integer.",
                ));
            };
            // WooCommerce stores a quantity only for products that manage stock.
            if stocked.manage_stock {
                stocked.stock_quantity = Some(quantity);
            }
        }
    }
    Ok(())
}

/// The prices, SKU and stock of a new product or variation.
fn new_stocked(store: &Store, request: &Map<String, Value>) -> Result<Stocked, RestError> {
    let taken = skus_taken(store, None);
    let mut stocked = Stocked::default();
    apply_stocked(&mut stocked, request, |s| taken.iter().any(|t| t == s))?;
    Ok(stocked)
}

/// Name, descriptions and status of a create or update.
fn apply_text(product: &mut Product, update: &Map<String, Value>) -> Result<(), RestError> {
    for (field, target) in [
        ("name", &mut product.name),
        ("description", &mut product.description),
        ("short_description", &mut product.short_description),
    ] {
        if let Some(value) = update.get(field).and_then(Value::as_str) {
            *target = value.to_string();
        }
    }
    if let Some(status) = update.get("status").and_then(Value::as_str) {
        if !matches!(status, "draft" | "pending" | "private" | "publish") {
            return Err(RestError::invalid_param(
                "status",
                "status is not one of draft, pending, private, publish.",
            ));
        }
        product.status = status.to_string();
    }
    Ok(())
}

/// `PUT /products/{id}`.
pub fn update_product(
    store: &mut Store,
    id: u64,
    update: &Map<String, Value>,
    base_url: &str,
    now: i64,
) -> Result<Value, RestError> {
    let taken = skus_taken(store, Some(id));
    let Some(product) = store.products.get_mut(&id) else { return Err(product_not_found()) };
    let own: Vec<String> = product.variations.iter().map(|v| v.stocked.sku.clone()).collect();
    let mut edited = product.clone();
    apply_stocked(&mut edited.stocked, update, |s| taken.iter().chain(&own).any(|t| t == s))?;
    apply_text(&mut edited, update)?;
    edited.date_modified = bump(edited.date_modified, now);
    *product = edited;
    store.products.get(&id).map(|p| store.product_json(p, base_url)).ok_or_else(product_not_found)
}

/// `POST /products`: a simple or (empty) variable product, published unless told otherwise.
pub fn create_product(
    store: &mut Store,
    request: &Map<String, Value>,
    base_url: &str,
    now: i64,
) -> Result<Value, RestError> {
    let variable = match request.get("type").and_then(Value::as_str).unwrap_or("simple") {
        "simple" => false,
        "variable" => true,
        _ => return Err(RestError::invalid_param("type", "type is not one of simple, variable.")),
    };
    let stocked = new_stocked(store, request)?;
    let mut attributes = Vec::new();
    for attribute in request.get("attributes").and_then(Value::as_array).into_iter().flatten() {
        let name = attribute.get("name").and_then(Value::as_str).unwrap_or_default();
        let options: Vec<String> = attribute
            .get("options")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str().map(str::to_string))
            .collect();
        let variation = attribute.get("variation").and_then(Value::as_bool).unwrap_or(false);
        attributes.push(Attribute { name: name.to_string(), options, variation });
    }
    let id = store.next_id();
    let mut product = Product {
        id,
        name: String::new(),
        slug: String::new(),
        status: "publish".into(),
        description: String::new(),
        short_description: String::new(),
        stocked,
        category: None,
        tags: Vec::new(),
        images: Vec::new(),
        attributes,
        variable,
        variations: Vec::new(),
        date_created: now,
        date_modified: now,
    };
    apply_text(&mut product, request)?;
    let base = super::data::slugify(&product.name);
    let base = if base.is_empty() { format!("product-{id}") } else { base };
    let mut slug = base.clone();
    let mut n = 1;
    while store.products.values().any(|p| p.slug == slug) {
        n += 1;
        slug = format!("{base}-{n}");
    }
    product.slug = slug;
    let answer = store.product_json(&product, base_url);
    store.products.insert(id, product);
    Ok(answer)
}

/// `DELETE /products/{id}?force=true`: the product as it was, its variations gone with it.
pub fn delete_product(store: &mut Store, id: u64, base_url: &str) -> Result<Value, RestError> {
    let product = store.products.remove(&id).ok_or_else(product_not_found)?;
    Ok(store.product_json(&product, base_url))
}

/// `PUT /products/{id}/variations/{vid}`.
pub fn update_variation(
    store: &mut Store,
    id: u64,
    vid: u64,
    update: &Map<String, Value>,
    base_url: &str,
    now: i64,
) -> Result<Value, RestError> {
    let taken = skus_taken(store, Some(vid));
    let Some(product) = store.products.get_mut(&id) else { return Err(product_not_found()) };
    let Some(variation) = product.variations.iter_mut().find(|v| v.id == vid) else {
        return Err(variation_not_found());
    };
    let mut edited = variation.stocked.clone();
    apply_stocked(&mut edited, update, |s| taken.iter().any(|t| t == s))?;
    variation.stocked = edited;
    variation.date_modified = bump(variation.date_modified, now);
    product.date_modified = bump(product.date_modified, now);
    variation_answer(store, id, vid, base_url)
}

/// The variation's JSON, as the store holds it now.
fn variation_answer(store: &Store, id: u64, vid: u64, base_url: &str) -> Result<Value, RestError> {
    let product = store.products.get(&id).ok_or_else(product_not_found)?;
    let variation = product.variations.iter().find(|v| v.id == vid).ok_or_else(variation_not_found)?;
    Ok(store.variation_json(product, variation, base_url))
}

/// `POST /products/{id}/variations` under a variable product: `attributes[{name, option}]`,
/// prices and stock.
pub fn create_variation(
    store: &mut Store,
    id: u64,
    request: &Map<String, Value>,
    base_url: &str,
    now: i64,
) -> Result<Value, RestError> {
    match store.products.get(&id) {
        None => return Err(product_not_found()),
        Some(p) if !p.is_variable() => {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_product_variation_invalid_parent",
                "Variations can only be created under a variable product.",
            ));
        }
        Some(_) => {}
    }
    let stocked = new_stocked(store, request)?;
    let attributes: Vec<(String, String)> = request
        .get("attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            (text("name"), text("option"))
        })
        .collect();
    let vid = store.next_id();
    let product = store.products.get_mut(&id).ok_or_else(product_not_found)?;
    product.variations.push(Variation { id: vid, stocked, attributes, date_modified: now });
    product.date_modified = bump(product.date_modified, now);
    variation_answer(store, id, vid, base_url)
}

/// `DELETE /products/{id}/variations/{vid}?force=true`: the variation as it was.
pub fn delete_variation(
    store: &mut Store,
    id: u64,
    vid: u64,
    base_url: &str,
    now: i64,
) -> Result<Value, RestError> {
    let product = store.products.get_mut(&id).ok_or_else(product_not_found)?;
    let position = product.variations.iter().position(|v| v.id == vid).ok_or_else(variation_not_found)?;
    let variation = product.variations.remove(position);
    product.date_modified = bump(product.date_modified, now);
    let product = store.products.get(&id).ok_or_else(product_not_found)?;
    Ok(store.variation_json(product, &variation, base_url))
}
