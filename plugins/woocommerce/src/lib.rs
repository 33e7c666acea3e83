//! WooCommerce store connector: reads the merchant's catalog through the WooCommerce REST API
//! v3 and hands it to the host as contract records, creates and follows the channels' orders
//! in the store (see [`orders`]), and verifies and decodes WooCommerce's webhooks. Settings:
//! `base-url` (required), `auth` (`basic` or `query`), `weight-unit` (default `kg`),
//! `unmanaged-stock` (default 0), `order-lookup-pages` (default 5); secrets: `consumer-key`,
//! `consumer-secret`, `webhook-secret`.
//!
//! The list cursor is a page number of `GET /products?orderby=id&order=asc`; each variable
//! product's variations are read in full before the page is returned. A product deleted
//! between pages shifts later ones back by one, so one may be missed until the host's next
//! reconciliation. Only this file, [`api`] and [`orders`] call host imports; the other modules
//! are pure and tested natively.

mod api;
mod endpoint;
mod mapping;
mod money;
mod new_order;
mod order_changes;
mod order_mapping;
mod orders;
mod tracking;
mod webhook;

use api::{Api, MAX_PER_PAGE};
use crossdock_plugin_sdk::http::Request;
use crossdock_plugin_sdk::store_orders::{
    Cancellation, NewFulfillment, NewOrder, NewRefund, StoreOrder, StoreOrderPage,
};
use crossdock_plugin_sdk::types::{AccountInfo, ConnectorError, Product};
use crossdock_plugin_sdk::webhooks::WebhookDelivery;
use crossdock_plugin_sdk::{
    ProductPage, Result, StoreCatalog, StoreOrders, StoreWebhooks, config, export_store, log, manifest,
};
use mapping::{ProductNode, SiteIndex, VariationNode};

manifest!("../crossdock.toml");

struct WooCommerce;

/// The catalog reads.
impl Api {
    /// Every variation of a variable product, 100 per request.
    fn variations(&self, product: u64) -> Result<Vec<VariationNode>> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let params = [("page", page.to_string()), ("per_page", MAX_PER_PAGE.to_string())];
            let (json, response) = self.get(&format!("/products/{product}/variations"), &params)?;
            let batch: Vec<VariationNode> = mapping::decode(json)?;
            let next =
                mapping::next_page(page, response.header("x-wp-totalpages"), batch.len(), MAX_PER_PAGE);
            all.extend(batch);
            match next {
                Some(n) => page = n,
                None => return Ok(all),
            }
        }
    }

    fn product(&self, node: ProductNode, currency: &str) -> Result<Product> {
        let variations = if node.is_variable() { self.variations(node.id)? } else { Vec::new() };
        mapping::product(node, variations, currency, self.units)
    }
}

impl StoreCatalog for WooCommerce {
    fn store_info() -> Result<AccountInfo> {
        let api = Api::from_config()?;
        let currency = api.currency()?;
        // The WordPress index names the site; it is public and may be blocked, so it is optional.
        let index = api.send(Request::get(api.site.index_url())).ok().and_then(|r| {
            mapping::check_response(r.status, None, &r.body)
                .ok()
                .and_then(|j| mapping::decode::<SiteIndex>(j).ok())
        });
        let id = api.site.account_id();
        let name = index.and_then(|i| i.name).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| id.clone());
        Ok(AccountInfo { id, name, currency, region: None })
    }

    fn list_products(cursor: Option<String>, limit: u32) -> Result<ProductPage> {
        let api = Api::from_config()?;
        let page =
            match cursor.as_deref().map(str::trim) {
                None | Some("") => 1,
                Some(c) => c.parse::<u32>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                    ConnectorError::invalid("cursor", format!("`{c}` is not a page number"))
                })?,
            };
        let per_page = limit.clamp(1, MAX_PER_PAGE);
        let params = [
            ("page", page.to_string()),
            ("per_page", per_page.to_string()),
            ("orderby", "id".to_string()),
            ("order", "asc".to_string()),
        ];
        let currency = api.currency()?;
        let (json, response) = api.get("/products", &params)?;
        let nodes: Vec<ProductNode> = mapping::decode(json)?;
        let next = mapping::next_page(page, response.header("x-wp-totalpages"), nodes.len(), per_page);
        let mut products = Vec::with_capacity(nodes.len());
        for node in nodes {
            products.push(api.product(node, &currency)?);
        }
        log::debug(&format!("woocommerce list page={page} per_page={per_page} products={}", products.len()));
        Ok(ProductPage { products, next_cursor: next.map(|n| n.to_string()) })
    }

    fn get_product(id: String) -> Result<Option<Product>> {
        let Some(numeric) = id.trim().parse::<u64>().ok().filter(|n| *n > 0) else {
            return Err(ConnectorError::invalid("id", format!("`{id}` is not a WooCommerce product id")));
        };
        let api = Api::from_config()?;
        let node: ProductNode = match api.get(&format!("/products/{numeric}"), &[]) {
            Ok((json, _)) => mapping::decode(json)?,
            Err(ConnectorError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        if node.status == "trash" {
            return Ok(None);
        }
        let currency = api.currency()?;
        api.product(node, &currency).map(Some)
    }
}

impl StoreWebhooks for WooCommerce {
    fn verify_webhook(headers: Vec<(String, String)>, body: Vec<u8>) -> Result<WebhookDelivery> {
        if webhook::is_ping(&headers, &body) {
            log::debug("woocommerce webhook ping");
            return Ok(WebhookDelivery {
                event_id: None,
                topic: webhook::PING_TOPIC.into(),
                events: Vec::new(),
            });
        }
        let secret = config::require_secret("webhook-secret")?;
        webhook::verify_signature(&secret, &headers, &body)?;
        let topic = webhook::topic(&headers)?;
        let events = webhook::decode(&topic, &body)?;
        let event_id = webhook::event_id(&headers, &body);
        log::debug(&format!(
            "woocommerce webhook topic={topic} events={} event_id={}",
            events.len(),
            event_id.as_deref().unwrap_or("-")
        ));
        Ok(WebhookDelivery { event_id, topic, events })
    }
}

impl StoreOrders for WooCommerce {
    fn create_order(order: NewOrder) -> Result<StoreOrder> {
        orders::create_order(&Api::from_config()?, order)
    }

    fn find_order(source_identifier: String) -> Result<Option<StoreOrder>> {
        orders::find_order(&Api::from_config()?, source_identifier)
    }

    fn get_order(id: String) -> Result<Option<StoreOrder>> {
        orders::get_order(&Api::from_config()?, id)
    }

    fn list_orders(updated_since: i64, cursor: Option<String>, limit: u32) -> Result<StoreOrderPage> {
        orders::list_orders(&Api::from_config()?, updated_since, cursor, limit)
    }

    fn cancel_order(id: String, how: Cancellation) -> Result<()> {
        orders::cancel_order(&Api::from_config()?, id, how)
    }

    fn refund_order(id: String, refund: NewRefund) -> Result<String> {
        orders::refund_order(&Api::from_config()?, id, refund)
    }

    fn fulfill_order(id: String, fulfillment: NewFulfillment) -> Result<String> {
        orders::fulfill_order(&Api::from_config()?, id, fulfillment)
    }
}

export_store!(WooCommerce);
