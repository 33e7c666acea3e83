//! The TikTok Shop channel connector: lists store products on one TikTok Shop through the
//! Open API (version 202309), keeps prices and stock in step, reports the review status,
//! deactivates and re-activates listings, reads a listing back as the shop holds it, finds
//! existing SKUs for linking, and reads the category tree and its attributes (this file);
//! reads orders, ships them with tracking, cancels them, lists and decides cancellations and
//! returns (`orders`), and verifies and decodes TikTok's webhooks (`webhook`). Settings:
//! `base-url`, `app-key`, `shop-cipher`, optional `shop-id` (spares webhooks a Get Authorized
//! Shops call), `warehouse-id`, `category-id`, `category-version` and `auth-base-url`;
//! secrets: `app-secret`, `access-token` and optional `refresh-token` (an expired access token
//! is then refreshed within the call and the new tokens kept by the host, so each expiry costs
//! one refresh).

mod address;
mod after_sale;
mod amount;
mod cancel_reason;
mod client;
mod cursor;
mod errors;
mod listing;
mod order;
mod orders;
mod shipping;
mod sign;
mod sku_search;
mod taxonomy;
mod units;
mod webhook;

use client::{Client, Scope};
use crossdock_plugin_sdk::http::Method;
use crossdock_plugin_sdk::listings::{
    ListingDraft, ListingRef, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
};
use crossdock_plugin_sdk::types::{AccountInfo, Attribute, Category, ConnectorError};
use crossdock_plugin_sdk::{ChannelListings, Result, config, export_channel, manifest};
use listing::Placement;
use serde_json::{Value, json};
use std::collections::HashMap;

manifest!("../crossdock.toml");

const SHOPS: &str = "/authorization/202309/shops";
const WAREHOUSES: &str = "/logistics/202309/warehouses";
const PRODUCTS: &str = "/product/202309/products";
const SEARCH: &str = "/product/202309/products/search";
const DEACTIVATE: &str = "/product/202309/products/deactivate";
const ACTIVATE: &str = "/product/202309/products/activate";
const CATEGORIES: &str = "/product/202309/categories";

struct TikTokShop;

/// `/product/202309/products/{id}`; ids are decimal strings, anything else was never ours.
fn product_path(listing_id: &str) -> Result<String> {
    if listing_id.is_empty() || !listing_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::NotFound(format!("{listing_id:?} is not a TikTok product id")));
    }
    Ok(format!("{PRODUCTS}/{listing_id}"))
}

/// The `warehouse-id` setting, else the shop's default enabled SALES_WAREHOUSE.
fn warehouse_id(client: &Client) -> Result<String> {
    if let Some(id) = config::get("warehouse-id").filter(|id| !id.is_empty()) {
        return Ok(id);
    }
    let data = client.call(Method::Get, WAREHOUSES, Scope::Shop, &[], None)?;
    let warehouses = data["warehouses"].as_array().cloned().unwrap_or_default();
    let sales = |w: &&Value| w["type"] == "SALES_WAREHOUSE" && w["effect_status"] != "DISABLED";
    warehouses
        .iter()
        .filter(sales)
        .find(|w| w["is_default"] == true)
        .or_else(|| warehouses.iter().find(sales))
        .and_then(|w| listing::id_of(&w["id"]))
        .ok_or_else(|| ConnectorError::invalid("warehouse_id", "the shop has no enabled sales warehouse"))
}

/// This connection's shop in Get Authorized Shops; unauthorized when the token does not
/// cover the configured cipher.
fn authorized_shop(client: &Client) -> Result<Value> {
    let data = client.call(Method::Get, SHOPS, Scope::Seller, &[], None)?;
    data["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|shop| shop["cipher"] == client.shop_cipher.as_str())
        .cloned()
        .ok_or_else(|| {
            ConnectorError::Unauthorized(
                "the access token does not cover this connection's shop_cipher".into(),
            )
        })
}

/// The category tree to read: the `category-version` setting, else `v2` for US shops (the
/// 7-level tree they must use) and `v1` elsewhere (reference §5.1, §10).
fn category_version(client: &Client) -> Result<String> {
    if let Some(version) = config::get("category-version").filter(|v| !v.is_empty()) {
        return Ok(version);
    }
    let shop = authorized_shop(client)?;
    Ok(if shop["region"] == "US" { "v2" } else { "v1" }.to_owned())
}

/// The draft's category, else the `category-id` setting.
fn category_id(draft: &ListingDraft) -> Result<String> {
    draft
        .category_id
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| config::get("category-id").filter(|c| !c.is_empty()))
        .ok_or_else(|| {
            ConnectorError::invalid(
                "category_id",
                "no TikTok category: map one for the product or set the connection's category-id",
            )
        })
}

impl ChannelListings for TikTokShop {
    fn channel_info() -> Result<AccountInfo> {
        let client = Client::from_config()?;
        let shop = authorized_shop(&client)?;
        let region = shop["region"].as_str().map(str::to_owned);
        // The real shops response carries no currency; a local shop prices in its region's.
        let currency = shop["currency"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| region.as_deref().and_then(listing::region_currency).map(str::to_owned))
            .ok_or_else(|| {
                ConnectorError::Fatal(format!("no known currency for TikTok region {region:?}"))
            })?;
        Ok(AccountInfo {
            id: listing::id_of(&shop["id"]).unwrap_or_default(),
            name: shop["name"].as_str().unwrap_or_default().to_owned(),
            currency,
            region,
        })
    }

    fn create_listing(draft: ListingDraft) -> Result<ListingRef> {
        let client = Client::from_config()?;
        let category_id = category_id(&draft)?;
        let warehouse_id = warehouse_id(&client)?;
        let place = Placement { category_id: &category_id, warehouse_id: &warehouse_id };
        let body = listing::product_body(&draft, place, None);
        let data = client.call(Method::Post, PRODUCTS, Scope::Shop, &[], Some(&body))?;
        listing::listing_ref(&data, None)
    }

    fn update_listing(listing_id: String, draft: ListingDraft) -> Result<ListingRef> {
        let client = Client::from_config()?;
        let path = product_path(&listing_id)?;
        let category_id = category_id(&draft)?;
        // The newest version's SKU ids: Edit deletes every existing SKU whose id is left out.
        let current =
            client.call(Method::Get, &path, Scope::Shop, &[("return_under_review_version", "true")], None)?;
        let existing: HashMap<String, String> = listing::sku_ids(&current).into_iter().collect();
        let warehouse_id = warehouse_id(&client)?;
        let place = Placement { category_id: &category_id, warehouse_id: &warehouse_id };
        let body = listing::product_body(&draft, place, Some(&existing));
        let data = client.call(Method::Put, &path, Scope::Shop, &[], Some(&body))?;
        listing::listing_ref(&data, Some(&listing_id))
    }

    fn update_prices(listing_id: String, prices: Vec<SkuPrice>) -> Result<()> {
        if prices.is_empty() {
            return Ok(());
        }
        let client = Client::from_config()?;
        let path = format!("{}/prices/update", product_path(&listing_id)?);
        client.call(Method::Post, &path, Scope::Shop, &[], Some(&listing::prices_body(&prices)))?;
        Ok(())
    }

    fn update_stock(listing_id: String, stock: Vec<SkuStock>) -> Result<()> {
        if stock.is_empty() {
            return Ok(());
        }
        let client = Client::from_config()?;
        let path = format!("{}/inventory/update", product_path(&listing_id)?);
        let warehouse_id = warehouse_id(&client)?;
        let body = listing::inventory_body(&stock, &warehouse_id);
        let data = client.call(Method::Post, &path, Scope::Shop, &[], Some(&body))?;
        // A batch endpoint: code 0 on top, per-SKU failures in data.errors[] (reference §4.1).
        match errors::batch_failure(&data, "sku_id") {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn listing_status(listing_id: String) -> Result<ReviewStatus> {
        let client = Client::from_config()?;
        let data = client.call(Method::Get, &product_path(&listing_id)?, Scope::Shop, &[], None)?;
        listing::review_status(&data)
    }

    fn deactivate_listing(listing_id: String) -> Result<()> {
        let client = Client::from_config()?;
        let path = product_path(&listing_id)?;
        let body = json!({ "product_ids": [listing_id] });
        let data = client.call(Method::Post, DEACTIVATE, Scope::Shop, &[], Some(&body))?;
        match errors::batch_failure(&data, "product_id") {
            None => Ok(()),
            // Only ACTIVATE products can be deactivated (12052901). Any other status but
            // PENDING is already out of buyers' sight, so a repeated call succeeds.
            Some(ConnectorError::Invalid(refused)) if refused.field == "status" => {
                let current = match client.call(Method::Get, &path, Scope::Shop, &[], None) {
                    // Get Product hides DELETED and FREEZE products: nobody sees them either.
                    Err(ConnectorError::NotFound(_)) => return Ok(()),
                    other => other?,
                };
                match current["status"].as_str() {
                    // Under review: it goes live once approved, so try again later.
                    Some("PENDING") => Err(ConnectorError::Transient(format!(
                        "TikTok product {listing_id} is under review and cannot be deactivated yet"
                    ))),
                    Some("ACTIVATE") => Err(ConnectorError::Invalid(refused)),
                    _ => Ok(()),
                }
            }
            Some(error) => Err(error),
        }
    }

    fn activate_listing(listing_id: String) -> Result<()> {
        let client = Client::from_config()?;
        let path = product_path(&listing_id)?;
        let body = json!({ "product_ids": [listing_id] });
        let data = client.call(Method::Post, ACTIVATE, Scope::Shop, &[], Some(&body))?;
        match errors::batch_failure(&data, "product_id") {
            None => Ok(()),
            // Only deactivated products can be activated (12052901): one that is live or under
            // review already is where activation would put it.
            Some(ConnectorError::Invalid(refused)) if refused.field == "status" => {
                // Get Product hides DELETED and FREEZE products: not-found says so.
                let current = client.call(Method::Get, &path, Scope::Shop, &[], None)?;
                match current["status"].as_str() {
                    Some("ACTIVATE" | "PENDING") => Ok(()),
                    Some(status) => Err(ConnectorError::invalid(
                        "status",
                        format!(
                            "TikTok product {listing_id} is {status} and cannot be activated: {}",
                            refused.message
                        ),
                    )),
                    None => Err(ConnectorError::Invalid(refused)),
                }
            }
            Some(error) => Err(error),
        }
    }

    fn read_listing(listing_id: String) -> Result<ListingSnapshot> {
        let client = Client::from_config()?;
        // The live version: what buyers see, and what an edit in Seller Center changed.
        let data = client.call(Method::Get, &product_path(&listing_id)?, Scope::Shop, &[], None)?;
        listing::snapshot(&data)
    }

    fn find_skus(seller_skus: Vec<String>) -> Result<Vec<SkuMatch>> {
        let wanted = sku_search::distinct(seller_skus);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let client = Client::from_config()?;
        let mut found = Vec::new();
        for chunk in wanted.chunks(sku_search::SKUS_PER_SEARCH) {
            let body = sku_search::search_body(chunk);
            let mut token: Option<String> = None;
            for page in 0.. {
                if page == sku_search::MAX_PAGES {
                    return Err(ConnectorError::Fatal(format!(
                        "TikTok search for seller SKUs did not end after {page} pages"
                    )));
                }
                let mut query = vec![("page_size", sku_search::PAGE_SIZE)];
                if let Some(token) = &token {
                    query.push(("page_token", token.as_str()));
                }
                let data = client.call(Method::Post, SEARCH, Scope::Shop, &query, Some(&body))?;
                found.extend(sku_search::matches(&data, chunk));
                token = sku_search::next_page_token(&data);
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }

    fn list_categories() -> Result<Vec<Category>> {
        let client = Client::from_config()?;
        let version = category_version(&client)?;
        let query = [("category_version", version.as_str())];
        let data = client.call(Method::Get, CATEGORIES, Scope::Shop, &query, None)?;
        taxonomy::categories(&data)
    }

    fn category_attributes(category_id: String) -> Result<Vec<Attribute>> {
        if category_id.is_empty() || !category_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConnectorError::invalid(
                "category_id",
                format!("{category_id:?} is not a TikTok category id"),
            ));
        }
        let client = Client::from_config()?;
        let version = category_version(&client)?;
        let query = [("category_version", version.as_str())];
        let path = format!("{CATEGORIES}/{category_id}/attributes");
        let data = client.call(Method::Get, &path, Scope::Shop, &query, None)?;
        taxonomy::attributes(&data)
    }
}

export_channel!(TikTokShop);
