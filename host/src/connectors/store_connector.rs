//! A store plugin bound to one store connection: the typed calls the catalog flow makes.

use super::bindings::store_world;
use super::call::{self, ConnectionContext};
use super::convert;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::PluginKind;
use super::plugin::{Plugin, Pre};
use super::runtime::PluginRuntime;
use super::settings::{ConnectionSettings, HostAllowList};
use crate::model::{AccountInfo, Product};
use std::sync::Arc;

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
    pre: store_world::StorePre<call::CallState>,
    ctx: Arc<ConnectionContext>,
}

impl std::fmt::Debug for StoreConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConnector").field("plugin", &self.plugin.id()).finish_non_exhaustive()
    }
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
        let ctx = Arc::new(ConnectionContext {
            plugin_id: plugin.id().to_string(),
            label: label.to_string(),
            hosts: HostAllowList::resolve(&plugin.manifest, &settings),
            limits: plugin.manifest.limits.clone(),
            settings,
            http: runtime.http().clone(),
            bucket: runtime.bucket(label, plugin.manifest.limits.requests_per_second),
        });
        Ok(StoreConnector { runtime: runtime.clone(), plugin, pre, ctx })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id()))]
    pub async fn store_info(&self) -> Result<AccountInfo, ConnectorError> {
        let (mut store, probe) = call::new_store(&self.runtime, self.ctx.clone());
        let pre = self.pre.clone();
        let info = call::finish(self.plugin.id(), "store-info", &self.ctx.limits, probe, async move {
            let instance = pre.instantiate_async(&mut store).await?;
            instance.crossdock_connector_store_catalog().call_store_info(&mut store).await
        })
        .await?;
        convert::account_from_wit(info).map_err(|k| ConnectorError::new(self.plugin.id(), "store-info", k))
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id(), cursor = cursor.as_deref()))]
    pub async fn list_products(
        &self,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<ProductPage, ConnectorError> {
        let (mut store, probe) = call::new_store(&self.runtime, self.ctx.clone());
        let pre = self.pre.clone();
        let page = call::finish(self.plugin.id(), "list-products", &self.ctx.limits, probe, async move {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .crossdock_connector_store_catalog()
                .call_list_products(&mut store, cursor.as_deref(), limit)
                .await
        })
        .await?;
        let products = page
            .products
            .into_iter()
            .map(convert::product_from_wit)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|k| ConnectorError::new(self.plugin.id(), "list-products", k))?;
        Ok(ProductPage { products, next_cursor: page.next_cursor })
    }

    #[tracing::instrument(skip_all, fields(plugin = %self.plugin.id(), product = id))]
    pub async fn get_product(&self, id: &str) -> Result<Option<Product>, ConnectorError> {
        let (mut store, probe) = call::new_store(&self.runtime, self.ctx.clone());
        let pre = self.pre.clone();
        let id = id.to_string();
        let product = call::finish(self.plugin.id(), "get-product", &self.ctx.limits, probe, async move {
            let instance = pre.instantiate_async(&mut store).await?;
            instance.crossdock_connector_store_catalog().call_get_product(&mut store, &id).await
        })
        .await?;
        product
            .map(convert::product_from_wit)
            .transpose()
            .map_err(|k| ConnectorError::new(self.plugin.id(), "get-product", k))
    }

    /// Verifies and decodes a webhook delivery with the connection's secret.
    pub async fn verify_webhook(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<WebhookDelivery, ConnectorError> {
        let (mut store, probe) = call::new_store(&self.runtime, self.ctx.clone());
        let pre = self.pre.clone();
        let delivery =
            call::finish(self.plugin.id(), "verify-webhook", &self.ctx.limits, probe, async move {
                let instance = pre.instantiate_async(&mut store).await?;
                instance
                    .crossdock_connector_store_webhooks()
                    .call_verify_webhook(&mut store, &headers, &body)
                    .await
            })
            .await?;
        Ok(convert::delivery_from_wit(delivery))
    }
}
