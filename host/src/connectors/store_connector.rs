//! A store plugin bound to one store connection: the typed calls the catalog flow makes,
//! whatever contract version the plugin speaks.

use super::call::{self, ConnectionContext};
use super::convert;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::PluginKind;
use super::plugin::{Plugin, Pre, StorePre};
use super::runtime::PluginRuntime;
use super::secret_sink::SecretSink;
use super::settings::ConnectionSettings;
use crate::model::{AccountInfo, Product};
use std::sync::Arc;
use std::time::Duration;

/// While a store prepares data (an empty page with a cursor), the first wait before asking
/// again, doubling up to `PREPARING_WAIT_MAX` (the contract's `list-products` promise).
const PREPARING_WAIT_FIRST: Duration = Duration::from_millis(250);
const PREPARING_WAIT_MAX: Duration = Duration::from_secs(2);
/// How long one `list_products` waits for a store that keeps preparing before it hands the
/// empty page (and its cursor) back to the caller.
const PREPARING_PATIENCE: Duration = Duration::from_secs(15 * 60);

/// What a store webhook delivery means for the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// The product (store id) changed.
    ProductChanged(String),
    /// The product (store id) was deleted.
    ProductDeleted(String),
    /// An order (store id) changed: fulfilled, cancelled, refunded (contract 0.3.0).
    OrderChanged(String),
}

/// A verified webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The platform's delivery id, for deduplication.
    pub event_id: Option<String>,
    pub topic: String,
    pub events: Vec<StoreEvent>,
}

/// One page of store products.
#[derive(Debug, Clone)]
pub struct ProductPage {
    pub products: Vec<Product>,
    pub next_cursor: Option<String>,
}

/// A store connection's plugin, ready to call.
#[derive(Clone)]
pub struct StoreConnector {
    pub(super) runtime: PluginRuntime,
    pub(super) plugin: Arc<Plugin>,
    pub(super) pre: StorePre,
    pub(super) ctx: Arc<ConnectionContext>,
}

impl std::fmt::Debug for StoreConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConnector")
            .field("plugin", &self.plugin.id())
            .field("contract", &self.plugin.contract())
            .finish_non_exhaustive()
    }
}

/// Runs one export of the store world (interface `$iface`) in a fresh instance of the given
/// version's template and maps every failure.
macro_rules! run_in {
    ($self:ident, $pre:expr, $op:literal, $iface:ident, |$inst:ident, $store:ident| $call:expr) => {{
        let (mut $store, probe) = call::new_store(&$self.runtime, $self.ctx.clone());
        let pre = $pre.clone();
        call::finish($self.plugin.id(), $op, &$self.ctx.limits, probe, async move {
            let $inst = pre.instantiate_async(&mut $store).await?;
            let $inst = $inst.$iface();
            $call.await
        })
        .await
    }};
}

/// Runs a store export in the plugin's version: `$conv` names that version's conversions in
/// both the call and `$then`, which turns the WIT result `$r` into the domain result.
macro_rules! store_call {
    ($self:ident, $op:literal, $iface:ident, |$inst:ident, $store:ident, $conv:ident| $call:expr, |$r:ident| $then:expr) => {
        match &$self.pre {
            StorePre::V0_1(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_1 as $conv;
                let $r = run_in!($self, pre, $op, $iface, |$inst, $store| $call)?;
                $then
            }
            StorePre::V0_2(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_2 as $conv;
                let $r = run_in!($self, pre, $op, $iface, |$inst, $store| $call)?;
                $then
            }
            StorePre::V0_3(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_3 as $conv;
                let $r = run_in!($self, pre, $op, $iface, |$inst, $store| $call)?;
                $then
            }
        }
    };
}

impl StoreConnector {
    pub fn new(
        runtime: &PluginRuntime,
        plugin: Arc<Plugin>,
        label: &str,
        settings: ConnectionSettings,
    ) -> Result<Self, ConnectorError> {
        let pre = match &plugin.pre {
            Pre::Store(pre) => pre.clone(),
            Pre::Channel(_) => {
                return Err(ConnectorError::new(
                    plugin.id(),
                    "connect",
                    ErrorKind::Load(format!(
                        "{label} needs a store plugin; this is a {} plugin",
                        PluginKind::Channel.as_str()
                    )),
                ));
            }
        };
        let ctx = Arc::new(ConnectionContext::new(runtime, &plugin, label, settings));
        Ok(StoreConnector { runtime: runtime.clone(), plugin, pre, ctx })
    }

    /// Hands the secrets the plugin rotates (`config.set-secret`) to `sink`, which keeps them
    /// for the next process; without one they live as long as this connector and its clones.
    /// Either way every later call sees the new value.
    pub fn with_secret_sink(self, sink: Arc<dyn SecretSink>) -> Self {
        self.ctx.secrets.set_sink(sink);
        self
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The contract version the plugin speaks (`0.2.0`).
    pub fn contract(&self) -> &str {
        self.plugin.contract().as_str()
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id()))]
    pub async fn store_info(&self) -> Result<AccountInfo, ConnectorError> {
        store_call!(
            self,
            "store-info",
            crossdock_connector_store_catalog,
            |inst, store, conv| inst.call_store_info(&mut store),
            |info| convert::account_from_wit(info).map_err(|k| ConnectorError::new(
                self.plugin.id(),
                "store-info",
                k
            ))
        )
    }

    /// One page of products, `cursor` none for the first. While the store prepares the data
    /// (an empty page that still has a cursor, as a bulk export answers), this waits 250 ms,
    /// then longer up to 2 s between tries, and asks again with the new cursor, for up to 15
    /// minutes; so a page comes back empty only at the end, or after that much patience.
    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id(), cursor = cursor.as_deref()))]
    pub async fn list_products(
        &self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<ProductPage, ConnectorError> {
        read_while_preparing(cursor, |cursor| self.read_page(cursor, limit)).await
    }

    async fn read_page(&self, cursor: Option<String>, limit: u32) -> Result<ProductPage, ConnectorError> {
        store_call!(
            self,
            "list-products",
            crossdock_connector_store_catalog,
            |inst, store, conv| inst.call_list_products(&mut store, cursor.as_deref(), limit),
            |page| {
                let products = page
                    .products
                    .into_iter()
                    .map(convert::product_from_wit)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|k| ConnectorError::new(self.plugin.id(), "list-products", k))?;
                Ok(ProductPage { products, next_cursor: page.next_cursor })
            }
        )
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id(), product = id))]
    pub async fn get_product(&self, id: &str) -> Result<Option<Product>, ConnectorError> {
        store_call!(
            self,
            "get-product",
            crossdock_connector_store_catalog,
            |inst, store, conv| inst.call_get_product(&mut store, id),
            |product| product.map(convert::product_from_wit).transpose().map_err(|k| ConnectorError::new(
                self.plugin.id(),
                "get-product",
                k
            ))
        )
    }

    /// Verifies and decodes a webhook delivery with the connection's secret.
    pub async fn verify_webhook(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<WebhookDelivery, ConnectorError> {
        store_call!(
            self,
            "verify-webhook",
            crossdock_connector_store_webhooks,
            |inst, store, conv| inst.call_verify_webhook(&mut store, &headers, &body),
            |delivery| Ok(conv::delivery_from_wit(delivery))
        )
    }
}

/// Reads pages from `cursor` on while the store answers an empty page that still has a
/// cursor (it is preparing the data), waiting 250 ms, then twice as long up to 2 s, between
/// tries, for at most `PREPARING_PATIENCE`.
async fn read_while_preparing<F, Fut>(
    cursor: Option<String>,
    mut read: F,
) -> Result<ProductPage, ConnectorError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<ProductPage, ConnectorError>>,
{
    let started = tokio::time::Instant::now();
    let mut wait = PREPARING_WAIT_FIRST;
    let mut cursor = cursor;
    loop {
        let page = read(cursor.clone()).await?;
        match &page.next_cursor {
            Some(next) if page.products.is_empty() && started.elapsed() < PREPARING_PATIENCE => {
                tracing::debug!(wait_ms = wait.as_millis() as u64, "store is preparing the page");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(PREPARING_WAIT_MAX);
                cursor = Some(next.clone());
            }
            _ => return Ok(page),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tokio::time::Instant;

    fn page(products: usize, next: Option<&str>) -> ProductPage {
        let product = |i: usize| Product {
            external_id: format!("p{i}"),
            title: String::new(),
            description_html: String::new(),
            vendor: None,
            product_type: None,
            tags: Vec::new(),
            status: crate::model::ProductStatus::Active,
            images: Vec::new(),
            variants: Vec::new(),
            updated_at_ms: 0,
        };
        ProductPage { products: (0..products).map(product).collect(), next_cursor: next.map(str::to_string) }
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_page_with_a_cursor_is_asked_again_after_a_growing_wait() {
        let asked = Mutex::new(Vec::new());
        let start = Instant::now();
        let answers = Mutex::new(vec![
            page(0, Some("bulk-1")),
            page(0, Some("bulk-2")),
            page(0, Some("bulk-3")),
            page(0, Some("bulk-4")),
            page(0, Some("bulk-5")),
            page(2, Some("next")),
        ]);
        let got = read_while_preparing(None, |cursor| {
            asked.lock().expect("not poisoned").push((cursor, start.elapsed().as_millis()));
            let answer = answers.lock().expect("not poisoned").remove(0);
            async move { Ok(answer) }
        })
        .await
        .expect("a page");
        assert_eq!((got.products.len(), got.next_cursor.as_deref()), (2, Some("next")));
        let asked = asked.into_inner().expect("not poisoned");
        let cursors: Vec<Option<&str>> = asked.iter().map(|(c, _)| c.as_deref()).collect();
        assert_eq!(
            cursors,
            [None, Some("bulk-1"), Some("bulk-2"), Some("bulk-3"), Some("bulk-4"), Some("bulk-5")]
        );
        let at: Vec<u128> = asked.iter().map(|(_, ms)| *ms).collect();
        assert_eq!(at, [0, 250, 750, 1750, 3750, 5750], "250 ms, doubling, at most 2 s");
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_page_and_pages_with_products_come_back_at_once() {
        let last =
            read_while_preparing(Some("c".into()), |_| async { Ok(page(0, None)) }).await.expect("page");
        assert!(last.products.is_empty() && last.next_cursor.is_none());
        let start = Instant::now();
        let full = read_while_preparing(None, |_| async { Ok(page(3, Some("n"))) }).await.expect("page");
        assert_eq!(full.products.len(), 3);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
