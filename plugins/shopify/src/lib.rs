//! Shopify store connector: reads the merchant's catalog through the Admin GraphQL API and
//! hands it to the host as contract records. Settings: `base-url` (required), `api-version`
//! (default `2026-01`); secret: `access-token`.
//!
//! Only this file calls host imports; [`mapping`], [`query`] and [`iso8601`] are pure and
//! tested natively.

mod iso8601;
mod mapping;
mod query;

use crossdock_plugin_sdk::http::Request;
use crossdock_plugin_sdk::types::{AccountInfo, ConnectorError};
use crossdock_plugin_sdk::{
    ProductPage, Result, StoreCatalog, config, export_store, log, manifest,
};
use mapping::{ListProductsData, ProductVariantsData, ShopInfoData};

manifest!("../crossdock.toml");

struct Shopify;

/// One connection's endpoint and credentials, read from its settings.
struct Admin {
    /// `https://x.myshopify.com`, without a trailing slash.
    base_url: String,
    /// `…/admin/api/{version}/graphql.json`.
    endpoint: String,
    token: String,
}

impl Admin {
    fn from_config() -> Result<Self> {
        let base_url = config::require("base-url")?
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
            || authority(&base_url).is_none()
        {
            return Err(ConnectorError::Fatal(format!(
                "connection setting `base-url` must be an http(s) URL such as https://shop.myshopify.com, not `{base_url}`"
            )));
        }
        let version = config::get("api-version")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| query::DEFAULT_API_VERSION.to_string());
        if !version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(ConnectorError::Fatal(format!(
                "connection setting `api-version` must look like 2026-01, not `{version}`"
            )));
        }
        let token = config::require_secret("access-token")?;
        let endpoint = format!("{base_url}/admin/api/{version}/graphql.json");
        Ok(Admin {
            base_url,
            endpoint,
            token,
        })
    }

    /// Posts one GraphQL request and returns its `data`, or the failure as a contract error.
    fn post(&self, body: &serde_json::Value) -> Result<serde_json::Value> {
        let response = Request::post(&self.endpoint)
            .header("X-Shopify-Access-Token", &self.token)
            .header("accept", "application/json")
            .json(body)?
            .send()?;
        let checked =
            mapping::check_response(response.status, response.retry_after_ms(), &response.body);
        if let Err(ConnectorError::RateLimited(r)) = &checked {
            log::debug(&format!(
                "shopify throttled retry_after_ms={}",
                r.retry_after_ms
            ));
        }
        checked
    }
}

/// `host[:port]` of a URL, lower case.
fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map(|(_, a)| a)
        .unwrap_or(authority);
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

impl StoreCatalog for Shopify {
    fn store_info() -> Result<AccountInfo> {
        let admin = Admin::from_config()?;
        let data: ShopInfoData = mapping::decode(admin.post(&query::shop_info())?)?;
        let id = authority(&admin.base_url).unwrap_or_else(|| admin.base_url.clone());
        Ok(AccountInfo {
            name: data.shop.name.unwrap_or_else(|| id.clone()),
            id,
            currency: data.shop.currency_code,
            region: None,
        })
    }

    fn list_products(cursor: Option<String>, limit: u32) -> Result<ProductPage> {
        let admin = Admin::from_config()?;
        let data: ListProductsData =
            mapping::decode(admin.post(&query::list_products(limit, cursor.as_deref()))?)?;
        let currency = data.shop.currency_code;
        let next_cursor = data
            .products
            .page_info
            .has_next_page
            .then_some(data.products.page_info.end_cursor)
            .flatten();
        let mut products = Vec::with_capacity(data.products.nodes.len());
        for mut node in data.products.nodes {
            // Products with more variants than the page query reads get the rest here.
            let mut more = node
                .variants
                .page_info
                .has_next_page
                .then(|| node.variants.page_info.end_cursor.clone())
                .flatten();
            while let Some(after) = more {
                let page: ProductVariantsData =
                    mapping::decode(admin.post(&query::product_variants(&node.id, &after))?)?;
                let Some(product) = page.product else {
                    // Deleted since the list page was read; its listing goes with the next sync.
                    break;
                };
                more = product
                    .variants
                    .page_info
                    .has_next_page
                    .then_some(product.variants.page_info.end_cursor)
                    .flatten();
                node.variants.nodes.extend(product.variants.nodes);
            }
            products.push(mapping::product(node, &currency)?);
        }
        Ok(ProductPage {
            products,
            next_cursor,
        })
    }
}

export_store!(Shopify);
