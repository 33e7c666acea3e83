//! Guest SDK for Crossdock connectors: the contract's types and traits, the export macros,
//! and friendly wrappers over the four host imports (http, log, clock, config).
//!
//! It builds against `crossdock:connector@0.3.0` ([`CONTRACT`]): set `contract = "0.3.0"` in
//! the manifest. A store connector implements [`StoreCatalog`], [`StoreWebhooks`] and
//! [`StoreOrders`] and calls [`export_store!`]; a channel connector implements
//! [`ChannelListings`], [`ChannelOrders`] and [`ChannelWebhooks`] and calls
//! [`export_channel!`]. Both declare their manifest with [`manifest!`]. Authors never touch the
//! generated bindings.

pub mod http;

/// The `crossdock:connector` version this SDK builds against; a plugin's manifest names the
/// same in `contract`.
pub const CONTRACT: &str = "0.3.0";

/// Generated bindings for the `store` world. Kept public for the export macro only.
#[doc(hidden)]
pub mod store_bindings {
    wit_bindgen::generate!({
        world: "store",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_store_bindings",
        default_bindings_module: "crossdock_plugin_sdk::store_bindings",
    });
}

/// Generated bindings for the `channel` world; the imports are shared with `store_bindings`.
#[doc(hidden)]
pub mod channel_bindings {
    wit_bindgen::generate!({
        world: "channel",
        path: "../../wit",
        with: {
            "crossdock:connector/types@0.3.0": crate::store_bindings::crossdock::connector::types,
            "crossdock:connector/commerce@0.3.0": crate::store_bindings::crossdock::connector::commerce,
            "crossdock:connector/http@0.3.0": crate::store_bindings::crossdock::connector::http,
            "crossdock:connector/log@0.3.0": crate::store_bindings::crossdock::connector::log,
            "crossdock:connector/clock@0.3.0": crate::store_bindings::crossdock::connector::clock,
            "crossdock:connector/config@0.3.0": crate::store_bindings::crossdock::connector::config,
        },
        pub_export_macro: true,
        export_macro_name: "export_channel_bindings",
        default_bindings_module: "crossdock_plugin_sdk::channel_bindings",
    });
}

/// The contract's shared records: money, product, variant, errors…
pub mod types {
    pub use crate::store_bindings::crossdock::connector::types::*;
}

pub use store_bindings::exports::crossdock::connector::store_catalog::{Guest as StoreCatalog, ProductPage};
pub use store_bindings::exports::crossdock::connector::store_orders::Guest as StoreOrders;
pub use store_bindings::exports::crossdock::connector::store_webhooks::Guest as StoreWebhooks;

/// Order, package, tracking and after-sale records both worlds share (`commerce`).
pub mod commerce {
    pub use crate::store_bindings::crossdock::connector::commerce::*;
}

/// Store-side order records: the order to create, the store's order with its fulfillments
/// and refunds, and how to cancel, refund or fulfil it.
pub mod store_orders {
    pub use crate::store_bindings::exports::crossdock::connector::store_orders::{
        Cancellation, NewFulfillment, NewOrder, NewOrderLine, NewRefund, StoreFulfillment, StoreOrder,
        StoreOrderLine, StoreOrderPage, StoreRefund,
    };
}

/// Store webhook records (a verified delivery and the catalog events it carries) and the
/// helpers most stores' deliveries need: headers by name, the topic header, and (feature
/// `hmac-webhooks`) a base64 HMAC-SHA256 signature over the raw body.
pub mod webhooks {
    pub use crate::store_bindings::exports::crossdock::connector::store_webhooks::{
        StoreEvent, WebhookDelivery,
    };
    use crate::types::ConnectorError;

    /// A header's value by case-insensitive name, trimmed; the first when it repeats.
    pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// The topic in header `name`, required.
    pub fn topic(headers: &[(String, String)], name: &str) -> Result<String, ConnectorError> {
        header(headers, name)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ConnectorError::invalid(name, "the webhook has no topic"))
    }

    /// Checks header `name`, base64(HMAC-SHA256(secret, raw body)), in constant time.
    #[cfg(feature = "hmac-webhooks")]
    pub fn verify_base64_hmac(
        secret: &str,
        headers: &[(String, String)],
        name: &str,
        body: &[u8],
    ) -> Result<(), ConnectorError> {
        use base64::Engine as _;
        use hmac::{Hmac, Mac};
        if secret.is_empty() {
            return Err(ConnectorError::Unauthorized("connection secret `webhook-secret` is empty".into()));
        }
        let Some(signature) = header(headers, name).filter(|s| !s.is_empty()) else {
            return Err(ConnectorError::Unauthorized(format!("the webhook has no {name} header")));
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature)
            .map_err(|_| ConnectorError::Unauthorized(format!("the webhook's {name} is not base64")))?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|e| ConnectorError::Fatal(format!("HMAC refused the webhook secret: {e}")))?;
        mac.update(body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(&signature).map_err(|_| {
            ConnectorError::Unauthorized(format!(
                "the webhook's {name} does not match its body; check the connection's `webhook-secret`"
            ))
        })
    }
}

/// Channel-side records: listing drafts, SKUs, review status, and what a listing holds on
/// the channel (`read-listing`).
pub mod listings {
    pub use crate::channel_bindings::exports::crossdock::connector::channel_listings::{
        ListingDraft, ListingRef, ListingSku, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuSnapshot,
        SkuStock,
    };
}
pub use channel_bindings::exports::crossdock::connector::channel_listings::Guest as ChannelListings;
pub use channel_bindings::exports::crossdock::connector::channel_orders::Guest as ChannelOrders;
pub use channel_bindings::exports::crossdock::connector::channel_webhooks::Guest as ChannelWebhooks;

/// Channel-side order records: pages of orders and after-sale requests, shipping providers,
/// shipments.
pub mod channel_orders {
    pub use crate::channel_bindings::exports::crossdock::connector::channel_orders::{
        AfterSalePage, OrderPage, Shipment, ShippingProvider,
    };
}

/// Channel webhook records: a verified delivery and the events it carries.
pub mod channel_webhooks {
    pub use crate::channel_bindings::exports::crossdock::connector::channel_webhooks::{
        ChannelDelivery, ChannelEvent,
    };
}

use types::{ConnectorError, InvalidField, RateLimited};

/// Result of every connector operation.
pub type Result<T> = std::result::Result<T, ConnectorError>;

/// Exports a type implementing [`StoreCatalog`], [`StoreWebhooks`] and [`StoreOrders`] as
/// this component's store connector.
#[macro_export]
macro_rules! export_store {
    ($ty:ident) => {
        $crate::store_bindings::export_store_bindings!($ty);
    };
}

/// Exports a type implementing [`ChannelListings`], [`ChannelOrders`] and [`ChannelWebhooks`]
/// as this component's channel connector.
#[macro_export]
macro_rules! export_channel {
    ($ty:ident) => {
        $crate::channel_bindings::export_channel_bindings!($ty);
    };
}

/// Embeds the plugin manifest (a TOML file) in the component's `crossdock-manifest` custom
/// section, where the host reads it before instantiating anything.
///
/// ```ignore
/// crossdock_plugin_sdk::manifest!("../crossdock.toml");
/// ```
#[macro_export]
macro_rules! manifest {
    ($path:literal) => {
        #[unsafe(link_section = "crossdock-manifest")]
        #[used]
        static CROSSDOCK_MANIFEST: [u8; include_bytes!($path).len()] = *include_bytes!($path);
    };
}

/// Logging into the host's tracing, tagged with this plugin and connection.
pub mod log {
    use crate::store_bindings::crossdock::connector::log::{Level, log};

    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }
    pub fn info(message: &str) {
        log(Level::Info, message);
    }
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// The host's clock.
pub mod clock {
    /// Wall-clock Unix time in milliseconds.
    pub fn now_millis() -> i64 {
        crate::store_bindings::crossdock::connector::clock::now_millis()
    }
    /// Wall-clock Unix time in seconds.
    pub fn now_seconds() -> i64 {
        now_millis() / 1000
    }
}

/// This connection's settings and secrets, and keeping a rotated secret.
pub mod config {
    use crate::store_bindings::crossdock::connector::config as imports;
    use crate::types::ConnectorError;

    pub use imports::SetSecretError;

    /// A setting, or none.
    pub fn get(key: &str) -> Option<String> {
        imports::get(key)
    }
    /// A setting that must be present; its absence is the merchant's to fix.
    pub fn require(key: &str) -> crate::Result<String> {
        imports::get(key)
            .ok_or_else(|| ConnectorError::Fatal(format!("connection setting `{key}` is not set")))
    }
    /// A secret that must be present.
    pub fn require_secret(name: &str) -> crate::Result<String> {
        imports::secret(name)
            .ok_or_else(|| ConnectorError::Unauthorized(format!("connection secret `{name}` is not set")))
    }
    /// A secret, or none.
    pub fn secret(name: &str) -> Option<String> {
        imports::secret(name)
    }
    /// Keeps a rotated credential (a refreshed access token, its new refresh token): later
    /// [`secret`] calls, in this call and in later ones, return `value`. Only names the
    /// connection has or the manifest declares (`secrets = [...]`), at most 8 KiB, at most 4
    /// per call; the host logs the name, never the value. A refusal is not fatal to the call:
    /// the credential still works now, it just will not be kept.
    pub fn set_secret(name: &str, value: &str) -> std::result::Result<(), SetSecretError> {
        imports::set_secret(name, value)
    }
}

impl ConnectorError {
    /// The platform refused a field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConnectorError::Invalid(InvalidField { field: field.into(), message: message.into() })
    }
    /// The platform throttled the call.
    pub fn rate_limited(retry_after_ms: u64, message: impl Into<String>) -> Self {
        ConnectorError::RateLimited(RateLimited { retry_after_ms, message: message.into() })
    }
}

impl types::Money {
    /// Builds money from a decimal string and a currency code.
    pub fn new(amount: impl Into<String>, currency: impl Into<String>) -> Self {
        types::Money { amount: amount.into(), currency: currency.into() }
    }
}
