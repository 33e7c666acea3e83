//! Connector plugins: WebAssembly components behind the `crossdock:connector` WIT contract,
//! run by wasmtime in a sandbox (memory cap, CPU budget, wall-clock timeout, HTTP allow-list).
//!
//! `runtime` owns the engine and linkers; `plugin` loads and checks a component; `call`
//! runs one export in a fresh `wasmtime::Store`; `store_connector` and `channel_connector`
//! are the typed faces the flows use; `convert` is the one place WIT meets domain types.

mod bindings;
pub mod builtin;
mod call;
pub mod channel_connector;
pub mod conformance;
mod convert;
pub mod error;
mod host_imports;
pub mod interim;
pub mod manifest;
pub mod plugin;
pub mod rate_limit;
pub mod registry;
pub mod runtime;
pub mod secret_sink;
pub mod settings;
pub mod store_connector;

pub use channel_connector::{
    ChannelConnector, ListingDraft, ListingRef, ListingSku, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
};
pub use error::{ConnectorError, ErrorKind};
pub use manifest::{Manifest, PluginKind};
pub use plugin::Plugin;
pub use registry::PluginRegistry;
pub use runtime::PluginRuntime;
pub use secret_sink::SecretSink;
pub use settings::ConnectionSettings;
pub use store_connector::{ProductPage, StoreConnector, StoreEvent, WebhookDelivery};

/// The contract version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";
