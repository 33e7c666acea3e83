//! The conformance kit behind `crossdock plugin check`: the standard suite of contract calls
//! run against a live endpoint (a sandbox or a real shop), each reported as passed or failed
//! with the reason, so a plugin author knows exactly what to fix. Operations a plugin's
//! contract version lacks are reported as not available, not as failures.

use super::channel_connector::{ChannelConnector, ListingSnapshot, ReviewStatus, SkuPrice, SkuStock};
use super::error::ErrorKind;
use super::store_connector::StoreConnector;
use crate::model::Money;
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::future::Future;
use std::time::Instant;

mod orders;

/// What the kit may do besides reading.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// A live listing of the shop (channel plugins): the kit changes its first SKU's price and
    /// stock and puts them back, then deactivates and activates it, reading it back after each
    /// step. Without one those checks are skipped and the kit only reads.
    pub listing_id: Option<String>,
}

/// Runs the suite that fits the plugin's kind against the connection `settings`, reading only.
pub async fn check(
    runtime: &super::PluginRuntime,
    plugin: std::sync::Arc<super::Plugin>,
    settings: super::ConnectionSettings,
) -> Result<Vec<CheckResult>, super::ConnectorError> {
    check_with(runtime, plugin, settings, &CheckOptions::default()).await
}

/// Runs the suite that fits the plugin's kind, with `options`.
pub async fn check_with(
    runtime: &super::PluginRuntime,
    plugin: std::sync::Arc<super::Plugin>,
    settings: super::ConnectionSettings,
    options: &CheckOptions,
) -> Result<Vec<CheckResult>, super::ConnectorError> {
    Ok(match plugin.kind() {
        super::PluginKind::Store => {
            check_store(&StoreConnector::new(runtime, plugin, "check", settings)?).await
        }
        super::PluginKind::Channel => {
            let channel = ChannelConnector::new(runtime, plugin, "check", settings)?;
            check_channel_with(&channel, options).await
        }
    })
}

/// How many pages the paging check follows at most.
const MAX_PAGES: usize = 200;

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckResult {
    pub operation: String,
    pub check: String,
    pub passed: bool,
    pub detail: String,
    pub millis: u64,
}

#[derive(Debug, Default)]
struct Report(Vec<CheckResult>);

impl Report {
    async fn run<F>(&mut self, operation: &str, check: &str, f: F)
    where
        F: Future<Output = Result<String, String>>,
    {
        let started = Instant::now();
        let outcome = f.await;
        let millis = started.elapsed().as_millis() as u64;
        let (passed, detail) = match outcome {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        self.0.push(CheckResult { operation: operation.into(), check: check.into(), passed, detail, millis });
    }

    /// A check that did not run, and why; it does not count as failed.
    fn skip(&mut self, operation: &str, check: &str, why: String) {
        let result = CheckResult {
            operation: operation.into(),
            check: check.into(),
            passed: true,
            detail: why,
            millis: 0,
        };
        self.0.push(result);
    }
}

/// The store suite: account, a first page, paging to the end without repeats, reading one
/// product back, an unknown product, and a forged webhook.
pub async fn check_store(store: &StoreConnector) -> Vec<CheckResult> {
    let mut report = Report::default();
    report
        .run("store-info", "describes the store with a valid currency", async {
            store
                .store_info()
                .await
                .map(|a| format!("{} ({}), currency {}", a.name, a.id, a.currency))
                .map_err(|e| e.to_string())
        })
        .await;
    let mut first_id = None;
    report
        .run("list-products", "returns a first page of valid products", async {
            let page = store.list_products(None, 10).await.map_err(|e| e.to_string())?;
            if page.products.len() > 10 {
                return Err(format!("asked for 10, got {}", page.products.len()));
            }
            first_id = page.products.first().map(|p| p.external_id.clone());
            Ok(format!("{} products, next cursor {}", page.products.len(), page.next_cursor.is_some()))
        })
        .await;
    report
        .run("list-products", "pages to the end without repeating a product", async {
            let mut seen = HashSet::new();
            let mut cursor = None;
            for page_number in 1..=MAX_PAGES {
                let page = read_with_patience(|| store.list_products(cursor.clone(), 50))
                    .await
                    .map_err(|e| e.to_string())?;
                for p in &page.products {
                    if !seen.insert(p.external_id.clone()) {
                        return Err(format!(
                            "product {} came back twice (page {page_number})",
                            p.external_id
                        ));
                    }
                }
                match page.next_cursor {
                    Some(next) if Some(&next) == cursor.as_ref() => {
                        return Err("the cursor did not move: paging would never end".into());
                    }
                    Some(next) => cursor = Some(next),
                    None => return Ok(format!("{} products over {page_number} pages", seen.len())),
                }
            }
            Err(format!("still paging after {MAX_PAGES} pages"))
        })
        .await;
    report
        .run("get-product", "reads a listed product back by id", async {
            let Some(id) = first_id.clone() else { return Ok("skipped: the store has no products".into()) };
            match store.get_product(&id).await.map_err(|e| e.to_string())? {
                Some(p) if p.external_id == id => Ok(format!("{} ({} variants)", p.title, p.variants.len())),
                Some(p) => Err(format!("asked for {id}, got {}", p.external_id)),
                None => Err(format!("{id} was listed but get-product says it does not exist")),
            }
        })
        .await;
    report
        .run("get-product", "answers none or not-found for an unknown product", async {
            match store.get_product("crossdock-conformance-unknown-product").await {
                Ok(None) => Ok("none".into()),
                Ok(Some(p)) => {
                    Err(format!("returned product {} for an id that does not exist", p.external_id))
                }
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_) | ErrorKind::Invalid { .. }) => {
                    Ok(e.to_string())
                }
                Err(e) => Err(format!("expected none or not-found, got: {e}")),
            }
        })
        .await;
    report
        .run("verify-webhook", "refuses a delivery with a forged signature", async {
            let headers = vec![
                ("x-shopify-hmac-sha256".to_string(), "Zm9yZ2Vk".to_string()),
                ("x-wc-webhook-signature".to_string(), "Zm9yZ2Vk".to_string()),
                ("x-shopify-topic".to_string(), "products/update".to_string()),
                ("x-wc-webhook-topic".to_string(), "product.updated".to_string()),
            ];
            match store.verify_webhook(headers, br#"{"id":1}"#.to_vec()).await {
                Err(e) if matches!(e.kind, ErrorKind::Unauthorized(_)) => Ok(e.to_string()),
                Err(e) => Err(format!("expected unauthorized, got: {e}")),
                Ok(d) => Err(format!("accepted a forged delivery (topic {})", d.topic)),
            }
        })
        .await;
    orders::check_store_orders(store, &mut report).await;
    report.0
}

/// The channel suite, reading only: account, categories, a leaf's attributes, SKU search, and
/// an unknown listing (status, read-back, activation).
pub async fn check_channel(channel: &ChannelConnector) -> Vec<CheckResult> {
    check_channel_with(channel, &CheckOptions::default()).await
}

/// The channel suite; with `options.listing_id`, also the round trips on that live listing
/// (price, stock, deactivation and activation read back). Nothing is ever created.
pub async fn check_channel_with(channel: &ChannelConnector, options: &CheckOptions) -> Vec<CheckResult> {
    let mut report = Report::default();
    report
        .run("channel-info", "describes the shop with a valid currency", async {
            channel
                .channel_info()
                .await
                .map(|a| format!("{} ({}), currency {}", a.name, a.id, a.currency))
                .map_err(|e| e.to_string())
        })
        .await;
    let mut leaf = None;
    report
        .run("list-categories", "returns a tree with leaves whose parents exist", async {
            let categories = channel.list_categories().await.map_err(|e| e.to_string())?;
            let ids: HashSet<&str> = categories.iter().map(|c| c.id.as_str()).collect();
            if let Some(orphan) =
                categories.iter().find(|c| c.parent_id.as_deref().is_some_and(|p| !ids.contains(p)))
            {
                return Err(format!("category {} names a parent that is not in the list", orphan.id));
            }
            leaf = categories.iter().find(|c| c.is_leaf).map(|c| c.id.clone());
            match &leaf {
                Some(id) => Ok(format!("{} categories, first leaf {id}", categories.len())),
                None => Err("no leaf category: nothing could ever be listed".into()),
            }
        })
        .await;
    report
        .run("category-attributes", "describes a leaf category's attributes", async {
            let Some(id) = leaf.clone() else { return Err("no leaf to ask about".into()) };
            let attributes = channel.category_attributes(&id).await.map_err(|e| e.to_string())?;
            let required = attributes.iter().filter(|a| a.required).count();
            Ok(format!("{} attributes ({required} required) in {id}", attributes.len()))
        })
        .await;
    report
        .run("find-skus", "finds nothing for a SKU that does not exist", async {
            let matches = channel
                .find_skus(&["crossdock-conformance-no-such-sku".to_string()])
                .await
                .map_err(|e| e.to_string())?;
            if matches.is_empty() {
                Ok("no matches".into())
            } else {
                Err(format!("{} matches for a made-up SKU", matches.len()))
            }
        })
        .await;
    report
        .run("listing-status", "answers not-found for an unknown listing", async {
            match channel.listing_status("1000000000000000001").await {
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_) | ErrorKind::Invalid { .. }) => {
                    Ok(e.to_string())
                }
                Err(e) => Err(format!("expected not-found, got: {e}")),
                Ok(ReviewStatus::Active) => Err("reported an unknown listing as active".into()),
                Ok(other) => Err(format!("reported an unknown listing as {other:?}")),
            }
        })
        .await;
    check_activation_and_read_back(channel, options, &mut report).await;
    orders::check_channel_orders(channel, &mut report).await;
    report.0
}

/// An id no shop has.
const UNKNOWN_LISTING: &str = "1000000000000000001";

/// `activate-listing` and `read-listing` (contract 0.2.0): unknown listings, then, on the
/// listing the author named, price and stock read back and a deactivate/activate round trip.
async fn check_activation_and_read_back(
    channel: &ChannelConnector,
    options: &CheckOptions,
    report: &mut Report,
) {
    if !channel.supports_read_listing() || !channel.supports_activation() {
        let why = format!("not available (contract {})", channel.contract());
        report.skip("read-listing", "reads back what the channel holds", why.clone());
        report.skip("activate-listing", "puts a deactivated listing back on sale", why);
        return;
    }
    report
        .run("read-listing", "answers not-found for an unknown listing", async {
            match channel.read_listing(UNKNOWN_LISTING).await {
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => Ok(e.to_string()),
                Err(e) => Err(format!("expected not-found, got: {e}")),
                Ok(s) => Err(format!("read an unknown listing as {:?} with {} SKUs", s.status, s.skus.len())),
            }
        })
        .await;
    report
        .run("activate-listing", "answers not-found for an unknown listing", async {
            match channel.activate_listing(UNKNOWN_LISTING).await {
                Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => Ok(e.to_string()),
                Err(e) => Err(format!("expected not-found, got: {e}")),
                Ok(()) => Err("activated a listing that does not exist".into()),
            }
        })
        .await;
    let Some(listing) = options.listing_id.as_deref() else {
        let why = "skipped: name a live listing the kit may change and put back (`--listing ID`)".to_string();
        report.skip(
            "read-listing",
            "reads back the price and stock update-prices and update-stock set",
            why.clone(),
        );
        report.skip("activate-listing", "deactivate, read inactive, activate, read active", why);
        return;
    };

    let mut before: Option<ListingSnapshot> = None;
    report
        .run("read-listing", "reads a live listing with its SKUs", async {
            let snapshot = channel.read_listing(listing).await.map_err(|e| e.to_string())?;
            if snapshot.status != ReviewStatus::Active {
                return Err(format!("listing {listing} is {:?}; the kit needs a live one", snapshot.status));
            }
            let Some(sku) = snapshot.skus.first() else {
                return Err(format!("listing {listing} has no SKUs"));
            };
            let detail = format!(
                "{} SKU(s), the first {} at {} with {} in stock",
                snapshot.skus.len(),
                sku.sku_id,
                sku.price,
                sku.stock
            );
            before = Some(snapshot);
            Ok(detail)
        })
        .await;
    let Some(before) = before else { return };
    let Some(sku) = before.skus.first().cloned() else { return };

    report
        .run("update-prices", "read-listing shows the price update-prices set", async {
            let changed =
                Money { amount: sku.price.amount + Decimal::ONE, currency: sku.price.currency.clone() };
            let set = |price: &Money| {
                vec![SkuPrice { sku_id: sku.sku_id.clone(), price: price.clone(), compare_at_price: None }]
            };
            channel.update_prices(listing, &set(&changed)).await.map_err(|e| e.to_string())?;
            let after = channel.read_listing(listing).await.map_err(|e| e.to_string())?;
            let read = after.sku(&sku.sku_id).map(|s| s.price.clone());
            // Put the price back whatever the outcome.
            let restored = channel.update_prices(listing, &set(&sku.price)).await;
            match read {
                Some(price) if price == changed => {
                    restored.map_err(|e| {
                        format!("set and read {changed}, but putting {} back failed: {e}", sku.price)
                    })?;
                    Ok(format!("set {changed}, read {price}, put {} back", sku.price))
                }
                Some(price) => Err(format!("set {changed} on SKU {}, read {price}", sku.sku_id)),
                None => Err(format!("SKU {} is missing from the read-back", sku.sku_id)),
            }
        })
        .await;
    report
        .run("update-stock", "read-listing shows the stock update-stock set", async {
            let changed = if sku.stock >= 99_998 { sku.stock - 1 } else { sku.stock + 1 };
            let set = |stock: i64| vec![SkuStock { sku_id: sku.sku_id.clone(), stock }];
            channel.update_stock(listing, &set(changed)).await.map_err(|e| e.to_string())?;
            let after = channel.read_listing(listing).await.map_err(|e| e.to_string())?;
            let read = after.sku(&sku.sku_id).map(|s| s.stock);
            let restored = channel.update_stock(listing, &set(sku.stock)).await;
            match read {
                Some(stock) if stock == changed => {
                    restored.map_err(|e| {
                        format!("set and read {changed}, but putting {} back failed: {e}", sku.stock)
                    })?;
                    Ok(format!("set {changed}, read {stock}, put {} back", sku.stock))
                }
                Some(stock) => Err(format!("set {changed} on SKU {}, read {stock}", sku.sku_id)),
                None => Err(format!("SKU {} is missing from the read-back", sku.sku_id)),
            }
        })
        .await;
    report
        .run("deactivate-listing", "read-listing shows a deactivated listing as inactive", async {
            channel.deactivate_listing(listing).await.map_err(|e| e.to_string())?;
            match channel.read_listing(listing).await.map_err(|e| e.to_string())?.status {
                ReviewStatus::Inactive(status) => Ok(format!("inactive ({status})")),
                other => Err(format!("deactivated, but read-listing says {other:?}")),
            }
        })
        .await;
    report
        .run("activate-listing", "puts it back on sale: read-listing shows it active or in review", async {
            channel.activate_listing(listing).await.map_err(|e| e.to_string())?;
            match channel.read_listing(listing).await.map_err(|e| e.to_string())?.status {
                status @ (ReviewStatus::Active | ReviewStatus::InReview) => Ok(format!("{status:?}")),
                other => Err(format!("activated, but read-listing says {other:?}")),
            }
        })
        .await;
    report
        .run("activate-listing", "activating a listing that is on sale succeeds", async {
            channel.activate_listing(listing).await.map(|()| "ok".to_string()).map_err(|e| e.to_string())
        })
        .await;
}

/// Retries throttled calls a few times, as the sync loop would.
async fn read_with_patience<T, F, Fut>(mut call: F) -> Result<T, super::ConnectorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, super::ConnectorError>>,
{
    let mut attempts = 0;
    loop {
        match call().await {
            Err(e) if e.is_retryable() && attempts < 8 => {
                attempts += 1;
                let wait = e.retry_after().unwrap_or(std::time::Duration::from_millis(250 * attempts));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}
