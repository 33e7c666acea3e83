//! A channel plugin bound to one channel connection: the typed calls the catalog flow makes
//! to list products and keep them in step, whatever contract version the plugin speaks.
//! Operations a plugin's version lacks fail with `ErrorKind::Unsupported`; ask
//! `supports_activation` / `supports_read_listing` first to avoid the call.

use super::call::{self, ConnectionContext};
use super::contract::Contract;
use super::convert;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::PluginKind;
use super::plugin::{ChannelPre, Plugin, Pre};
use super::runtime::PluginRuntime;
use super::secret_sink::SecretSink;
use super::settings::ConnectionSettings;
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

/// What the channel holds for a listing right now, whoever changed it last: compared with
/// what Crossdock last applied, it shows drift (a listing edited or deactivated in the
/// platform's back office).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingSnapshot {
    pub status: ReviewStatus,
    pub skus: Vec<SkuSnapshot>,
}

/// One SKU of a listing as the channel holds it, in the channel's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuSnapshot {
    /// The channel's SKU id.
    pub sku_id: String,
    pub seller_sku: String,
    pub price: Money,
    pub compare_at_price: Option<Money>,
    /// Units on offer, summed over the channel's warehouses.
    pub stock: i64,
}

impl ListingSnapshot {
    /// The SKU with this channel SKU id.
    pub fn sku(&self, sku_id: &str) -> Option<&SkuSnapshot> {
        self.skus.iter().find(|s| s.sku_id == sku_id)
    }
}

/// A channel connection's plugin, ready to call.
#[derive(Clone)]
pub struct ChannelConnector {
    pub(super) runtime: PluginRuntime,
    pub(super) plugin: Arc<Plugin>,
    pub(super) pre: ChannelPre,
    pub(super) ctx: Arc<ConnectionContext>,
}

impl std::fmt::Debug for ChannelConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConnector")
            .field("plugin", &self.plugin.id())
            .field("contract", &self.plugin.contract())
            .finish_non_exhaustive()
    }
}

/// Runs one export of the channel world in a fresh instance of the given version's template
/// and maps every failure.
macro_rules! run_in {
    ($self:ident, $pre:expr, $op:literal, |$inst:ident, $store:ident| $call:expr) => {{
        let (mut $store, probe) = call::new_store(&$self.runtime, $self.ctx.clone());
        let pre = $pre.clone();
        call::finish($self.plugin.id(), $op, &$self.ctx.limits, probe, async move {
            let $inst = pre.instantiate_async(&mut $store).await?;
            let $inst = $inst.crossdock_connector_channel_listings();
            $call.await
        })
        .await
    }};
}

/// Runs an export every contract version has: `$conv` names that version's conversions in
/// both the call and `$then`, which turns the WIT result `$r` into the domain result.
macro_rules! channel_call {
    ($self:ident, $op:literal, |$inst:ident, $store:ident, $conv:ident| $call:expr, |$r:ident| $then:expr) => {
        match &$self.pre {
            ChannelPre::V0_1(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_1 as $conv;
                let $r = run_in!($self, pre, $op, |$inst, $store| $call)?;
                $then
            }
            ChannelPre::V0_2(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_2 as $conv;
                let $r = run_in!($self, pre, $op, |$inst, $store| $call)?;
                $then
            }
            ChannelPre::V0_3(pre) => {
                #[allow(unused_imports)]
                use super::convert::v0_3 as $conv;
                let $r = run_in!($self, pre, $op, |$inst, $store| $call)?;
                $then
            }
        }
    };
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
        let ctx = Arc::new(ConnectionContext::new(runtime, &plugin, label, settings));
        Ok(ChannelConnector { runtime: runtime.clone(), plugin, pre, ctx })
    }

    /// Hands the secrets the plugin rotates (`config.set-secret`: a refreshed access token)
    /// to `sink`, which keeps them for the next process; without one they live as long as
    /// this connector and its clones. Either way every later call sees the new value.
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

    /// Whether `activate_listing` can work (contract 0.2.0 and later).
    pub fn supports_activation(&self) -> bool {
        self.plugin.contract().supports_activation()
    }

    /// Whether `read_listing` can work (contract 0.2.0 and later); without it drift made in
    /// the platform's back office goes unseen.
    pub fn supports_read_listing(&self) -> bool {
        self.plugin.contract().supports_read_listing()
    }

    fn invalid(&self, op: &str, kind: ErrorKind) -> ConnectorError {
        ConnectorError::new(self.plugin.id(), op, kind)
    }

    fn unsupported(&self, op: &str, what: &str) -> ConnectorError {
        self.invalid(
            op,
            ErrorKind::Unsupported(format!(
                "the plugin was built for connector contract {}, which has no {op}; install a build \
                 for contract {} or later to {what}",
                self.plugin.contract(),
                Contract::V0_2
            )),
        )
    }

    pub async fn channel_info(&self) -> Result<AccountInfo, ConnectorError> {
        channel_call!(self, "channel-info", |inst, store, conv| inst.call_channel_info(&mut store), |info| {
            convert::account_from_wit(info).map_err(|k| self.invalid("channel-info", k))
        })
    }

    pub async fn create_listing(&self, draft: &ListingDraft) -> Result<ListingRef, ConnectorError> {
        channel_call!(
            self,
            "create-listing",
            |inst, store, conv| inst.call_create_listing(&mut store, &conv::draft_to_wit(draft)),
            |r| Ok(conv::listing_ref_from_wit(r))
        )
    }

    pub async fn update_listing(
        &self,
        listing_id: &str,
        draft: &ListingDraft,
    ) -> Result<ListingRef, ConnectorError> {
        channel_call!(
            self,
            "update-listing",
            |inst, store, conv| inst.call_update_listing(&mut store, listing_id, &conv::draft_to_wit(draft)),
            |r| Ok(conv::listing_ref_from_wit(r))
        )
    }

    pub async fn update_prices(&self, listing_id: &str, prices: &[SkuPrice]) -> Result<(), ConnectorError> {
        channel_call!(
            self,
            "update-prices",
            |inst, store, conv| inst.call_update_prices(&mut store, listing_id, &conv::prices_to_wit(prices)),
            |r| Ok(r)
        )
    }

    pub async fn update_stock(&self, listing_id: &str, stock: &[SkuStock]) -> Result<(), ConnectorError> {
        channel_call!(
            self,
            "update-stock",
            |inst, store, conv| inst.call_update_stock(&mut store, listing_id, &conv::stock_to_wit(stock)),
            |r| Ok(r)
        )
    }

    pub async fn deactivate_listing(&self, listing_id: &str) -> Result<(), ConnectorError> {
        channel_call!(
            self,
            "deactivate-listing",
            |inst, store, conv| inst.call_deactivate_listing(&mut store, listing_id),
            |r| Ok(r)
        )
    }

    /// Puts a deactivated listing back on sale (the store product was restored, selected
    /// again or is no longer skipped). Already live or in review is fine. A 0.1.0 plugin
    /// cannot: `ErrorKind::Unsupported`.
    pub async fn activate_listing(&self, listing_id: &str) -> Result<(), ConnectorError> {
        match &self.pre {
            ChannelPre::V0_1(_) => {
                Err(self.unsupported("activate-listing", "put deactivated listings back on sale"))
            }
            ChannelPre::V0_2(pre) => {
                run_in!(self, pre, "activate-listing", |inst, store| inst
                    .call_activate_listing(&mut store, listing_id))
            }
            ChannelPre::V0_3(pre) => {
                run_in!(self, pre, "activate-listing", |inst, store| inst
                    .call_activate_listing(&mut store, listing_id))
            }
        }
    }

    /// What the channel holds for a listing now (status, per-SKU price and stock), to compare
    /// with what Crossdock last applied. `ErrorKind::NotFound` when the channel no longer has
    /// it; `ErrorKind::Unsupported` for a 0.1.0 plugin.
    pub async fn read_listing(&self, listing_id: &str) -> Result<ListingSnapshot, ConnectorError> {
        match &self.pre {
            ChannelPre::V0_1(_) => {
                Err(self.unsupported("read-listing", "notice listings changed in the platform's back office"))
            }
            ChannelPre::V0_2(pre) => {
                let snapshot = run_in!(self, pre, "read-listing", |inst, store| inst
                    .call_read_listing(&mut store, listing_id))?;
                convert::v0_2::snapshot_from_wit(snapshot).map_err(|k| self.invalid("read-listing", k))
            }
            ChannelPre::V0_3(pre) => {
                let snapshot = run_in!(self, pre, "read-listing", |inst, store| inst
                    .call_read_listing(&mut store, listing_id))?;
                convert::v0_3::snapshot_from_wit(snapshot).map_err(|k| self.invalid("read-listing", k))
            }
        }
    }

    pub async fn find_skus(&self, seller_skus: &[String]) -> Result<Vec<SkuMatch>, ConnectorError> {
        channel_call!(
            self,
            "find-skus",
            |inst, store, conv| inst.call_find_skus(&mut store, seller_skus),
            |matches| Ok(matches.into_iter().map(conv::sku_match_from_wit).collect())
        )
    }

    pub async fn list_categories(&self) -> Result<Vec<Category>, ConnectorError> {
        channel_call!(
            self,
            "list-categories",
            |inst, store, conv| inst.call_list_categories(&mut store),
            |categories| Ok(categories.into_iter().map(convert::category_from_wit).collect())
        )
    }

    pub async fn category_attributes(&self, category_id: &str) -> Result<Vec<Attribute>, ConnectorError> {
        channel_call!(
            self,
            "category-attributes",
            |inst, store, conv| inst.call_category_attributes(&mut store, category_id),
            |attributes| Ok(attributes.into_iter().map(convert::attribute_from_wit).collect())
        )
    }

    pub async fn listing_status(&self, listing_id: &str) -> Result<ReviewStatus, ConnectorError> {
        channel_call!(
            self,
            "listing-status",
            |inst, store, conv| inst.call_listing_status(&mut store, listing_id),
            |status| Ok(conv::review_from_wit(status))
        )
    }
}
