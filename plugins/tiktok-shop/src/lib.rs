//! The TikTok Shop channel connector: lists store products on one TikTok Shop through the
//! Open API (version 202309), keeps prices and stock in step, and reports the review status.
//! Settings: `base-url`, `app-key`, `shop-cipher`, optional `warehouse-id` and `category-id`;
//! secrets: `app-secret`, `access-token`.

mod client;
mod errors;
mod listing;
mod sign;

use client::{Client, Scope};
use crossdock_plugin_sdk::http::Method;
use crossdock_plugin_sdk::listings::{ListingDraft, ListingRef, ReviewStatus, SkuPrice, SkuStock};
use crossdock_plugin_sdk::types::{AccountInfo, ConnectorError};
use crossdock_plugin_sdk::{ChannelListings, Result, config, export_channel, manifest};
use listing::Placement;
use serde_json::Value;
use std::collections::HashMap;

manifest!("../crossdock.toml");

const SHOPS: &str = "/authorization/202309/shops";
const WAREHOUSES: &str = "/logistics/202309/warehouses";
const PRODUCTS: &str = "/product/202309/products";

struct TikTokShop;

/// `/product/202309/products/{id}`; ids are decimal strings, anything else was never ours.
fn product_path(listing_id: &str) -> Result<String> {
    if listing_id.is_empty() || !listing_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConnectorError::NotFound(format!(
            "{listing_id:?} is not a TikTok product id"
        )));
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
        .ok_or_else(|| {
            ConnectorError::invalid("warehouse_id", "the shop has no enabled sales warehouse")
        })
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
        let data = client.call(Method::Get, SHOPS, Scope::Seller, &[], None)?;
        let shop = data["shops"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|shop| shop["cipher"] == client.shop_cipher.as_str())
            .ok_or_else(|| {
                ConnectorError::Unauthorized(
                    "the access token does not cover this connection's shop_cipher".into(),
                )
            })?;
        let region = shop["region"].as_str().map(str::to_owned);
        // The real shops response carries no currency; a local shop prices in its region's.
        let currency = shop["currency"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                region
                    .as_deref()
                    .and_then(listing::region_currency)
                    .map(str::to_owned)
            })
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
        let place = Placement {
            category_id: &category_id,
            warehouse_id: &warehouse_id,
        };
        let body = listing::product_body(&draft, place, None);
        let data = client.call(Method::Post, PRODUCTS, Scope::Shop, &[], Some(&body))?;
        listing::listing_ref(&data, None)
    }

    fn update_listing(listing_id: String, draft: ListingDraft) -> Result<ListingRef> {
        let client = Client::from_config()?;
        let path = product_path(&listing_id)?;
        let category_id = category_id(&draft)?;
        // The newest version's SKU ids: Edit deletes every existing SKU whose id is left out.
        let current = client.call(
            Method::Get,
            &path,
            Scope::Shop,
            &[("return_under_review_version", "true")],
            None,
        )?;
        let existing: HashMap<String, String> = listing::sku_ids(&current).into_iter().collect();
        let warehouse_id = warehouse_id(&client)?;
        let place = Placement {
            category_id: &category_id,
            warehouse_id: &warehouse_id,
        };
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
        client.call(
            Method::Post,
            &path,
            Scope::Shop,
            &[],
            Some(&listing::prices_body(&prices)),
        )?;
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
        match data["errors"].as_array().and_then(|errors| errors.first()) {
            None => Ok(()),
            Some(error) => {
                let extra = &error["detail"]["extra_errors"][0];
                let cause = if extra.is_object() { extra } else { error };
                let message = format!(
                    "SKU {}: {}",
                    error["detail"]["sku_id"].as_str().unwrap_or("?"),
                    cause["message"].as_str().unwrap_or_default()
                );
                Err(errors::classify(
                    200,
                    cause["code"].as_i64(),
                    &message,
                    None,
                ))
            }
        }
    }

    fn listing_status(listing_id: String) -> Result<ReviewStatus> {
        let client = Client::from_config()?;
        let data = client.call(
            Method::Get,
            &product_path(&listing_id)?,
            Scope::Shop,
            &[],
            None,
        )?;
        listing::review_status(&data)
    }
}

export_channel!(TikTokShop);
