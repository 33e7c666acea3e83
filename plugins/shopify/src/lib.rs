//! Shopify store connector: reads the merchant's catalog through the Admin GraphQL API and
//! hands it to the host as contract records, creates channel orders in the store and follows
//! their fulfillments, cancellations and refunds (see [`orders`]), and verifies and decodes
//! Shopify's webhooks.
//! Settings: `base-url` (required), `api-version` (default `2026-01`), `bulk-read` (`never`,
//! `auto`, `always`; default `auto`) and `bulk-threshold` (default 250); secrets:
//! `access-token`, `webhook-secret` (the app's client secret, which signs webhooks).
//!
//! A list page reads 10 variants per product (see [`query`] for why). A product with more
//! ends the page; the next call reads that product alone, so no call repeats a list query to
//! finish a product. A catalog above `bulk-threshold` products is read with a bulk operation
//! instead (see [`bulk`]): empty pages while Shopify prepares the file, then windows of it.
//! Only this file calls host imports; the other modules are pure and tested natively (the
//! order operations run over the [`orders::Graphql`] transport this file implements).

mod bulk;
mod cursor;
mod gid;
mod install;
mod iso8601;
mod mapping;
mod money;
mod orders;
mod query;
mod webhook;

use bulk::window::{self, Cut};
use bulk::{BulkPollData, BulkRunData, Mode, ProductsCountData, Progress, Started};
use crossdock_plugin_sdk::http::Request;
use crossdock_plugin_sdk::store_orders::{
    Cancellation, NewFulfillment, NewOrder, NewRefund, StoreOrder, StoreOrderPage,
};
use crossdock_plugin_sdk::types::{AccountInfo, ConnectorError, Product};
use crossdock_plugin_sdk::webhooks::{StoreEvent, WebhookDelivery};
use crossdock_plugin_sdk::{
    ProductPage, Result, StoreCatalog, StoreOrders, StoreWebhooks, config, export_store, log, manifest,
};
use cursor::Cursor;
use mapping::{
    InventoryItemProductData, ListProductsData, ProductData, ProductNode, ProductVariantsData, ShopInfoData,
};
use std::cell::Cell;

manifest!("../crossdock.toml");

struct Shopify;

/// One connection's endpoint and credentials, read from its settings, and the query points
/// this call has spent so far.
struct Admin {
    /// `https://x.myshopify.com`, without a trailing slash.
    base_url: String,
    /// `…/admin/api/{version}/graphql.json`.
    endpoint: String,
    token: String,
    spent: Cell<f64>,
}

impl Admin {
    fn from_config() -> Result<Self> {
        let base_url = match config::get("base-url").filter(|u| !u.trim().is_empty()) {
            Some(url) => url,
            // A store connected through the app install names its shop instead.
            None => match config::get("shop").filter(|s| install::is_shop_domain(s)) {
                Some(shop) => format!("https://{shop}"),
                None => config::require("base-url")?,
            },
        };
        let base_url = base_url.trim().trim_end_matches('/').to_string();
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
        if !version.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ConnectorError::Fatal(format!(
                "connection setting `api-version` must look like 2026-01, not `{version}`"
            )));
        }
        let token = match config::secret(install::INSTALL_QUERY).filter(|q| !q.is_empty()) {
            Some(query) => finish_install(&base_url, &query)?,
            None => config::require_secret("access-token")?,
        };
        let endpoint = format!("{base_url}/admin/api/{version}/graphql.json");
        Ok(Admin { base_url, endpoint, token, spent: Cell::new(0.0) })
    }

    /// Posts one GraphQL request and returns its `data`, or the failure as a contract error.
    fn post(&self, body: &serde_json::Value) -> Result<serde_json::Value> {
        let response = Request::post(&self.endpoint)
            .header("X-Shopify-Access-Token", &self.token)
            .header("accept", "application/json")
            .json(body)?
            .send()?;
        let checked = mapping::check_response(
            response.status,
            response.retry_after_ms(),
            &response.body,
            self.spent.get(),
        );
        match checked {
            Ok((data, cost)) => {
                self.spent.set(self.spent.get() + cost);
                Ok(data)
            }
            Err(ConnectorError::RateLimited(r)) => {
                log::debug(&format!("shopify throttled retry_after_ms={}", r.retry_after_ms));
                Err(ConnectorError::RateLimited(r))
            }
            Err(other) => Err(other),
        }
    }

    /// Adds the variants past the first page to `node`, 100 per query.
    fn complete_variants(&self, node: &mut ProductNode) -> Result<()> {
        let mut more = node
            .variants
            .page_info
            .has_next_page
            .then(|| node.variants.page_info.end_cursor.clone())
            .flatten();
        while let Some(after) = more {
            let page: ProductVariantsData =
                mapping::decode(self.post(&query::product_variants(&node.id, &after))?)?;
            let Some(product) = page.product else {
                // Deleted meanwhile; what was read is still the product as it last was.
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
        Ok(())
    }

    /// One product with all its variants; none when it no longer exists.
    fn whole_product(&self, id: &str) -> Result<Option<Product>> {
        let data: ProductData = mapping::decode(self.post(&query::product(id))?)?;
        let Some(mut node) = data.product else {
            return Ok(None);
        };
        self.complete_variants(&mut node)?;
        mapping::product(node, &data.shop.currency_code).map(Some)
    }

    /// The product an inventory item stocks; none when the item or its product is gone.
    fn inventory_item_product(&self, inventory_item_id: &str) -> Result<Option<String>> {
        let data: InventoryItemProductData =
            mapping::decode(self.post(&query::inventory_item_product(inventory_item_id))?)?;
        Ok(data.product_id())
    }

    /// Starts a bulk read when the settings and the catalog's size call for one; returns its
    /// operation's id, or none to read by pages.
    fn start_bulk_read(&self) -> Result<Option<String>> {
        let settings = bulk::Settings::parse(
            config::get("bulk-read").as_deref(),
            config::get("bulk-threshold").as_deref(),
        )?;
        let big = match settings.mode {
            Mode::Never => false,
            Mode::Always => true,
            Mode::Auto => {
                let count: ProductsCountData = mapping::decode(self.post(&query::products_count())?)?;
                count.above(settings.threshold)
            }
        };
        if !big {
            return Ok(None);
        }
        let run: BulkRunData = mapping::decode(self.post(&query::bulk_run())?)?;
        match run.started()? {
            Started::Operation(id) => {
                log::info(&format!("shopify bulk read started operation={id}"));
                Ok(Some(id))
            }
            Started::Busy(why) => {
                log::warn(&format!("shopify bulk read not started, reading by pages: {why}"));
                Ok(None)
            }
        }
    }

    /// One page of a bulk read: polls the operation, then reads the file from `offset`.
    fn bulk_page(&self, operation: String, offset: u64, limit: u32) -> Result<ProductPage> {
        let poll: BulkPollData = mapping::decode(self.post(&query::bulk_poll(&operation))?)?;
        let (url, size, products) = match poll.progress(&operation)? {
            Progress::Preparing(objects) => {
                log::debug(&format!("shopify bulk read preparing operation={operation} objects={objects}"));
                return Ok(preparing(operation, offset));
            }
            Progress::Empty => return Ok(ProductPage { products: Vec::new(), next_cursor: None }),
            Progress::Ready { url, size, products } => (url, size, products),
        };
        let currency = poll.shop.currency_code;
        let mut window = bulk::window_size(limit, size, products);
        loop {
            let Some(downloaded) = self.download(&operation, &url, offset, window, size)? else {
                return Ok(ProductPage { products: Vec::new(), next_cursor: None });
            };
            let read = downloaded.bytes.len();
            match window::read(&downloaded.bytes, offset, downloaded.at_end, limit, &currency)? {
                Cut::Page { products, next } => {
                    log::debug(&format!(
                        "shopify bulk page operation={operation} offset={offset} bytes={read} products={} next={next:?}",
                        products.len()
                    ));
                    let next_cursor = next.and_then(|offset| Cursor::Bulk { operation, offset }.encode());
                    return Ok(ProductPage { products, next_cursor });
                }
                Cut::TooSmall if window < bulk::LARGEST_WINDOW => {
                    window = (window * 2).min(bulk::LARGEST_WINDOW);
                }
                Cut::TooSmall => {
                    return Err(ConnectorError::Fatal(format!(
                        "the product at byte {offset} of bulk operation {operation}'s file is larger than {} bytes; set `bulk-read = \"never\"` to read by pages",
                        bulk::LARGEST_WINDOW
                    )));
                }
            }
        }
    }

    /// `len` bytes of a bulk result file from `offset`. The URL is signed: it carries no
    /// access token and is never logged.
    fn download(
        &self,
        operation: &str,
        url: &str,
        offset: u64,
        len: u64,
        size: u64,
    ) -> Result<Option<bulk::Downloaded>> {
        let response = Request::get(url)
            .header("Range", bulk::range_header(offset, len))
            .header("accept", "application/jsonl")
            .send()?;
        let content_range = response.header("content-range").map(str::to_string);
        let retry_after_ms = response.retry_after_ms();
        bulk::check_download(
            operation,
            response.status,
            content_range.as_deref(),
            retry_after_ms,
            response.body,
            offset,
            size,
        )
    }

    /// A list page; it ends before the first product with more variants than the page reads.
    fn list_page(&self, after: Option<&str>, limit: u32) -> Result<ProductPage> {
        let data: ListProductsData = mapping::decode(self.post(&query::list_products(limit, after))?)?;
        let currency = data.shop.currency_code;
        let end =
            data.products.page_info.has_next_page.then_some(data.products.page_info.end_cursor).flatten();
        let mut products = Vec::with_capacity(data.products.edges.len());
        for edge in data.products.edges {
            if edge.node.variants.page_info.has_next_page {
                let next = Cursor::Product { id: edge.node.id, after: edge.cursor };
                return Ok(ProductPage { products, next_cursor: next.encode() });
            }
            products.push(mapping::product(edge.node, &currency)?);
        }
        Ok(ProductPage { products, next_cursor: end.and_then(|c| Cursor::After(c).encode()) })
    }
}

/// The empty page that tells the host Shopify is still preparing a bulk read: ask again, with
/// this cursor, in a moment.
fn preparing(operation: String, offset: u64) -> ProductPage {
    ProductPage { products: Vec::new(), next_cursor: Cursor::Bulk { operation, offset }.encode() }
}

/// `host[:port]` of a URL, lower case.
/// Verifies the install callback, exchanges its code for the access token, hands the token
/// to the host and clears the used callback (see [`install`]).
fn finish_install(base_url: &str, query: &str) -> Result<String> {
    let client_id = config::require("client-id")?;
    let client_secret = config::require_secret("client-secret")?;
    let callback = install::verify(query, &client_secret)?;
    if let Some(shop) = config::get("shop").filter(|s| !s.is_empty() && *s != callback.shop) {
        return Err(ConnectorError::Unauthorized(format!(
            "the install callback is for {}, not this connection's shop {shop}; install the app again",
            callback.shop
        )));
    }
    let response = Request::post(format!("{base_url}/admin/oauth/access_token"))
        .header("accept", "application/json")
        .json(&serde_json::json!({
            "client_id": client_id,
            "client_secret": client_secret,
            "code": callback.code,
        }))?
        .send()?;
    let token = install::access_token_of(response.status, &response.body)?;
    for (name, value) in [("access-token", token.as_str()), (install::INSTALL_QUERY, "")] {
        if let Err(refused) = config::set_secret(name, value) {
            return Err(ConnectorError::Fatal(format!("the host did not keep secret {name}: {refused:?}")));
        }
    }
    log::info(&format!("app installed on {}", callback.shop));
    Ok(token)
}

fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
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
        match Cursor::decode(cursor.as_deref()) {
            Cursor::Start => match admin.start_bulk_read()? {
                Some(operation) => Ok(preparing(operation, 0)),
                None => admin.list_page(None, limit),
            },
            Cursor::Bulk { operation, offset } => admin.bulk_page(operation, offset, limit),
            Cursor::After(after) => admin.list_page(Some(&after), limit),
            Cursor::Product { id, after } => {
                let products = admin.whole_product(&id)?.into_iter().collect();
                Ok(ProductPage { products, next_cursor: Cursor::After(after).encode() })
            }
        }
    }

    fn get_product(id: String) -> Result<Option<Product>> {
        if !gid::is("Product", &id) {
            return Err(ConnectorError::invalid(
                "id",
                format!("`{id}` is not a Shopify product id (gid://shopify/Product/…)"),
            ));
        }
        Admin::from_config()?.whole_product(&id)
    }
}

impl StoreWebhooks for Shopify {
    fn verify_webhook(headers: Vec<(String, String)>, body: Vec<u8>) -> Result<WebhookDelivery> {
        // Shopify signs webhooks with the app's client secret: a store connected through the
        // app install has that one.
        let secret = match config::secret("webhook-secret").filter(|s| !s.is_empty()) {
            Some(secret) => secret,
            None => config::require_secret("client-secret")?,
        };
        webhook::verify_signature(&secret, &headers, &body)?;
        let topic = webhook::topic(&headers)?;
        let event_id = webhook::event_id(&headers);
        let events = match webhook::decode(&topic, &body)? {
            webhook::Meaning::Events(events) => events,
            webhook::Meaning::InventoryItem(item) => {
                match Admin::from_config()?.inventory_item_product(&item)? {
                    Some(product) => vec![StoreEvent::ProductChanged(product)],
                    None => {
                        log::debug(&format!("shopify webhook inventory item without product item={item}"));
                        Vec::new()
                    }
                }
            }
        };
        log::debug(&format!(
            "shopify webhook topic={topic} events={} event_id={}",
            events.len(),
            event_id.as_deref().unwrap_or("-")
        ));
        Ok(WebhookDelivery { event_id, topic, events })
    }
}

impl orders::Graphql for Admin {
    fn post(&self, body: &serde_json::Value) -> Result<serde_json::Value> {
        Admin::post(self, body)
    }
}

impl StoreOrders for Shopify {
    fn create_order(order: NewOrder) -> Result<StoreOrder> {
        let created = orders::create_order(&Admin::from_config()?, &order)?;
        log::info(&format!(
            "shopify order created order={} name={} source={}",
            created.id, created.name, order.source_identifier
        ));
        Ok(created)
    }

    fn find_order(source_identifier: String) -> Result<Option<StoreOrder>> {
        orders::find_order(&Admin::from_config()?, &source_identifier)
    }

    fn get_order(id: String) -> Result<Option<StoreOrder>> {
        orders::get_order(&Admin::from_config()?, &id)
    }

    fn list_orders(updated_since: i64, cursor: Option<String>, limit: u32) -> Result<StoreOrderPage> {
        orders::list_orders(&Admin::from_config()?, updated_since, cursor.as_deref(), limit)
    }

    fn cancel_order(id: String, how: Cancellation) -> Result<()> {
        orders::cancel_order(&Admin::from_config()?, &id, &how)
    }

    fn refund_order(id: String, refund: NewRefund) -> Result<String> {
        let refund_id = orders::refund_order(&Admin::from_config()?, &id, &refund)?;
        log::info(&format!("shopify refund recorded order={id} refund={refund_id}"));
        Ok(refund_id)
    }

    fn fulfill_order(id: String, fulfillment: NewFulfillment) -> Result<String> {
        let fulfillment_id = orders::fulfill_order(&Admin::from_config()?, &id, &fulfillment)?;
        log::info(&format!("shopify fulfillment recorded order={id} fulfillment={fulfillment_id}"));
        Ok(fulfillment_id)
    }
}

export_store!(Shopify);
