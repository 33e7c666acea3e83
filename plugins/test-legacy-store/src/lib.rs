//! A store connector exactly as one was built for `crossdock:connector@0.2.0`: generated
//! straight from `wit/0.2.0` (the SDK speaks 0.3.0 now), so it exports no `store-orders` and
//! its webhooks know no `order-changed`. It reads a Shopify store's catalog over the Admin
//! GraphQL API and verifies product webhooks, through the 0.2.0 imports only (config, http,
//! log, clock), so the host's tests see a catalog-only store plugin load, pass the kit and
//! sync. Never ship it.
//!
//! Settings: `base-url` (required); secrets: `access-token`, `webhook-secret`. Only this file
//! calls host imports; the other modules are pure and tested natively.

wit_bindgen::generate!({ world: "store", path: "../../wit/0.2.0" });

mod graphql;
mod iso8601;
mod product;
mod webhook;

use crossdock::connector::types::{AccountInfo, ConnectorError, Product};
use crossdock::connector::{clock, config, http, log};
use exports::crossdock::connector::store_catalog::{self, ProductPage};
use exports::crossdock::connector::store_webhooks::{self, WebhookDelivery};
use product::{ListProductsData, ProductData, ShopInfoData};
use serde::de::DeserializeOwned;

// The manifest section the host reads before anything else (what the SDK's `manifest!` does).
#[unsafe(link_section = "crossdock-manifest")]
#[used]
static CROSSDOCK_MANIFEST: [u8; include_bytes!("../crossdock.toml").len()] =
    *include_bytes!("../crossdock.toml");

/// Per-request timeout asked of the host (it caps it at the connection's limit).
const REQUEST_TIMEOUT_MS: u32 = 10_000;

struct LegacyStore;

/// One connection's GraphQL endpoint and access token, read from its settings.
struct Admin {
    /// `https://x.myshopify.com`, without a trailing slash.
    base_url: String,
    endpoint: String,
    token: String,
}

impl Admin {
    fn from_config() -> Result<Self, ConnectorError> {
        let base_url = config::get("base-url")
            .map(|b| b.trim().trim_end_matches('/').to_string())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                ConnectorError::Fatal(
                    "connection setting `base-url` is not set; set it to the shop's address, such as \
                     https://shop.myshopify.com"
                        .into(),
                )
            })?;
        let endpoint = graphql::endpoint(&base_url)?;
        let token = config::secret("access-token").filter(|t| !t.is_empty()).ok_or_else(|| {
            ConnectorError::Unauthorized(
                "connection secret `access-token` is not set; give the Admin API access token of the \
                 store's app"
                    .into(),
            )
        })?;
        Ok(Admin { base_url, endpoint, token })
    }

    /// Posts one GraphQL request and decodes its `data`, or returns the failure as a contract
    /// error.
    fn post<T: DeserializeOwned>(&self, body: &serde_json::Value) -> Result<T, ConnectorError> {
        let operation = body["operationName"].as_str().unwrap_or("query").to_string();
        let request = http::Request {
            method: http::Method::Post,
            url: self.endpoint.clone(),
            headers: vec![
                header("X-Shopify-Access-Token", &self.token),
                header("content-type", "application/json"),
                header("accept", "application/json"),
            ],
            body: Some(body.to_string().into_bytes()),
            timeout_ms: Some(REQUEST_TIMEOUT_MS),
        };
        let started = clock::now_millis();
        let response = http::send(&request).map_err(|e| graphql::http_error(&operation, e))?;
        log::log(
            log::Level::Debug,
            &format!(
                "shopify operation={operation} status={} ms={}",
                response.status,
                clock::now_millis().saturating_sub(started)
            ),
        );
        let retry_after_ms = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("retry-after"))
            .and_then(|h| graphql::retry_after_ms(&h.value));
        let data = graphql::check(&operation, response.status, retry_after_ms, &response.body)?;
        graphql::decode(&operation, data)
    }
}

fn header(name: &str, value: &str) -> http::Header {
    http::Header { name: name.to_string(), value: value.to_string() }
}

impl store_catalog::Guest for LegacyStore {
    fn store_info() -> Result<AccountInfo, ConnectorError> {
        let admin = Admin::from_config()?;
        let data: ShopInfoData = admin.post(&graphql::shop_info())?;
        let id = graphql::authority(&admin.base_url).unwrap_or_else(|| admin.base_url.clone());
        Ok(AccountInfo {
            name: data.shop.name.unwrap_or_else(|| id.clone()),
            id,
            currency: data.shop.currency_code,
            region: None,
        })
    }

    fn list_products(cursor: Option<String>, limit: u32) -> Result<ProductPage, ConnectorError> {
        let admin = Admin::from_config()?;
        let data: ListProductsData = admin.post(&graphql::list_products(limit, cursor.as_deref()))?;
        let (products, next_cursor) = product::page(data)?;
        Ok(ProductPage { products, next_cursor })
    }

    fn get_product(id: String) -> Result<Option<Product>, ConnectorError> {
        if !product::is_product_gid(&id) {
            return Err(ConnectorError::Invalid(crossdock::connector::types::InvalidField {
                field: "id".into(),
                message: format!("`{id}` is not a Shopify product id (gid://shopify/Product/…)"),
            }));
        }
        let data: ProductData = Admin::from_config()?.post(&graphql::product(&id))?;
        product::one(data)
    }
}

impl store_webhooks::Guest for LegacyStore {
    fn verify_webhook(
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<WebhookDelivery, ConnectorError> {
        let secret = config::secret("webhook-secret").ok_or_else(|| {
            ConnectorError::Unauthorized(
                "connection secret `webhook-secret` is not set; give the app's client secret, which signs \
                 Shopify's webhooks"
                    .into(),
            )
        })?;
        let delivery = webhook::verify(&secret, &headers, &body)?;
        log::log(
            log::Level::Debug,
            &format!(
                "shopify webhook topic={} events={} event_id={}",
                delivery.topic,
                delivery.events.len(),
                delivery.event_id.as_deref().unwrap_or("-")
            ),
        );
        Ok(delivery)
    }
}

export!(LegacyStore);
