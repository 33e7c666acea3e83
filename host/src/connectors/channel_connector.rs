//! A channel plugin bound to one channel connection: the typed calls the catalog flow makes
//! to list products and keep them in step.

use super::bindings::channel_world;
use super::call::{self, CallState, ConnectionContext};
use super::convert;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::PluginKind;
use super::plugin::{Plugin, Pre};
use super::runtime::PluginRuntime;
use super::settings::{ConnectionSettings, HostAllowList};
use crate::model::{AccountInfo, Attribute, AttributeValue, Category, Image, Money};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One SKU of a listing, in the channel's currency, after the channel's rules ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingSku {
    pub seller_sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    pub stock: i64,
    pub options: Vec<(String, String)>,
    pub barcode: Option<String>,
    pub image: Option<Image>,
}

/// Everything a channel needs to create or edit a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingDraft {
    pub external_id: String,
    pub title: String,
    pub description_html: String,
    pub category_id: Option<String>,
    pub brand: Option<String>,
    pub images: Vec<Image>,
    pub weight_grams: Option<u32>,
    pub skus: Vec<ListingSku>,
    pub attributes: Vec<AttributeValue>,
    pub idempotency_key: String,
}

/// The channel's ids for a listing and its SKUs (seller SKU → channel SKU id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingRef {
    pub listing_id: String,
    pub sku_ids: BTreeMap<String, String>,
}

/// Where the channel's review of a listing stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewStatus {
    InReview,
    Active,
    Rejected(Vec<String>),
    Inactive(String),
    Draft,
}

/// A new price for one channel SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuPrice {
    pub sku_id: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
}

/// A SKU that already exists on the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuMatch {
    pub seller_sku: String,
    pub listing_id: String,
    pub sku_id: String,
    /// The listing's status on the channel, verbatim.
    pub status: String,
}

/// New stock for one channel SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuStock {
    pub sku_id: String,
    pub stock: i64,
}

/// A channel connection's plugin, ready to call.
#[derive(Clone)]
pub struct ChannelConnector {
    runtime: PluginRuntime,
    plugin: Arc<Plugin>,
    pre: channel_world::ChannelPre<CallState>,
    ctx: Arc<ConnectionContext>,
}

impl std::fmt::Debug for ChannelConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConnector").field("plugin", &self.plugin.id()).finish_non_exhaustive()
    }
}

/// Runs one export of the channel world: instantiate, call, and map every failure.
macro_rules! channel_call {
    ($self:ident, $op:literal, |$inst:ident, $store:ident| $call:expr) => {{
        let (mut $store, probe) = call::new_store(&$self.runtime, $self.ctx.clone());
        let pre = $self.pre.clone();
        call::finish($self.plugin.id(), $op, &$self.ctx.limits, probe, async move {
            let $inst = pre.instantiate_async(&mut $store).await?;
            let $inst = $inst.crossdock_connector_channel_listings();
            $call.await
        })
        .await
    }};
}

impl ChannelConnector {
    pub fn new(
        runtime: &PluginRuntime,
        plugin: Arc<Plugin>,
        label: &str,
        settings: ConnectionSettings,
    ) -> Result<Self, ConnectorError> {
        let pre = match &plugin.pre {
            Pre::Channel(pre) => pre.clone(),
            Pre::Store(_) => {
                return Err(ConnectorError::new(
                    plugin.id(),
                    "connect",
                    ErrorKind::Load(format!(
                        "{label} needs a channel plugin; this is a {} plugin",
                        PluginKind::Store.as_str()
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
        Ok(ChannelConnector { runtime: runtime.clone(), plugin, pre, ctx })
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    fn invalid(&self, op: &str, kind: ErrorKind) -> ConnectorError {
        ConnectorError::new(self.plugin.id(), op, kind)
    }

    pub async fn channel_info(&self) -> Result<AccountInfo, ConnectorError> {
        let info = channel_call!(self, "channel-info", |inst, store| inst.call_channel_info(&mut store))?;
        convert::account_from_wit(info).map_err(|k| self.invalid("channel-info", k))
    }

    pub async fn create_listing(&self, draft: &ListingDraft) -> Result<ListingRef, ConnectorError> {
        let draft = convert::draft_to_wit(draft);
        let r = channel_call!(self, "create-listing", |inst, store| inst
            .call_create_listing(&mut store, &draft))?;
        Ok(convert::listing_ref_from_wit(r))
    }

    pub async fn update_listing(
        &self,
        listing_id: &str,
        draft: &ListingDraft,
    ) -> Result<ListingRef, ConnectorError> {
        let draft = convert::draft_to_wit(draft);
        let id = listing_id.to_string();
        let r = channel_call!(self, "update-listing", |inst, store| inst
            .call_update_listing(&mut store, &id, &draft))?;
        Ok(convert::listing_ref_from_wit(r))
    }

    pub async fn update_prices(&self, listing_id: &str, prices: &[SkuPrice]) -> Result<(), ConnectorError> {
        let prices = convert::prices_to_wit(prices);
        let id = listing_id.to_string();
        channel_call!(self, "update-prices", |inst, store| inst.call_update_prices(&mut store, &id, &prices))
    }

    pub async fn update_stock(&self, listing_id: &str, stock: &[SkuStock]) -> Result<(), ConnectorError> {
        let stock = convert::stock_to_wit(stock);
        let id = listing_id.to_string();
        channel_call!(self, "update-stock", |inst, store| inst.call_update_stock(&mut store, &id, &stock))
    }

    pub async fn deactivate_listing(&self, listing_id: &str) -> Result<(), ConnectorError> {
        let id = listing_id.to_string();
        channel_call!(self, "deactivate-listing", |inst, store| inst.call_deactivate_listing(&mut store, &id))
    }

    pub async fn find_skus(&self, seller_skus: &[String]) -> Result<Vec<SkuMatch>, ConnectorError> {
        let skus = seller_skus.to_vec();
        let matches = channel_call!(self, "find-skus", |inst, store| inst.call_find_skus(&mut store, &skus))?;
        Ok(matches.into_iter().map(convert::sku_match_from_wit).collect())
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>, ConnectorError> {
        let categories =
            channel_call!(self, "list-categories", |inst, store| inst.call_list_categories(&mut store))?;
        Ok(categories.into_iter().map(convert::category_from_wit).collect())
    }

    pub async fn category_attributes(&self, category_id: &str) -> Result<Vec<Attribute>, ConnectorError> {
        let id = category_id.to_string();
        let attributes = channel_call!(self, "category-attributes", |inst, store| inst
            .call_category_attributes(&mut store, &id))?;
        Ok(attributes.into_iter().map(convert::attribute_from_wit).collect())
    }

    pub async fn listing_status(&self, listing_id: &str) -> Result<ReviewStatus, ConnectorError> {
        let id = listing_id.to_string();
        let s =
            channel_call!(self, "listing-status", |inst, store| inst.call_listing_status(&mut store, &id))?;
        Ok(convert::review_from_wit(s))
    }
}
