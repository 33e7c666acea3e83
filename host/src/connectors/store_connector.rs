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
    runtime: PluginRuntime,
    plugin: Arc<Plugin>,
    pre: StorePre,
    ctx: Arc<ConnectionContext>,
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
        let started = tokio::time::Instant::now();
        let mut wait = PREPARING_WAIT_FIRST;
        let mut cursor = cursor;
        loop {
            let page = self.read_page(cursor.as_deref(), limit).await?;
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

    async fn read_page(&self, cursor: Option<&str>, limit: u32) -> Result<ProductPage, ConnectorError> {
        store_call!(
            self,
            "list-products",
            crossdock_connector_store_catalog,
            |inst, store, conv| inst.call_list_products(&mut store, cursor, limit),
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
