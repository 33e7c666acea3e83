//! Connector plugins: WebAssembly components behind the `crossdock:connector` WIT contract,
//! run by wasmtime in a sandbox (memory cap, CPU budget, wall-clock timeout, HTTP allow-list).
//!
//! `runtime` owns the engine and linkers (one per world and contract version); `contract`
//! says which versions the host speaks and what each can do; `plugin` loads and checks a
//! component; `call` runs one export in a fresh `wasmtime::Store`; `store_connector` and
//! `channel_connector` are the typed faces the flows use, dispatching on the plugin's
//! version; `convert` is the one place WIT meets domain types; `secrets` and `rate_limit`
//! hold what a connection's calls share (rotated secrets, pacing); `policy` is the operator's
//! limits and the shared instance pool; `health` pauses a connection whose plugin keeps failing;
//! `egress` decides where a plugin's HTTP may go and `plugin_text` makes what a plugin says
//! safe to show.

pub mod authorization;
mod bindings;
pub mod builtin;
mod call;
pub mod channel_connector;
pub mod channel_orders;
pub mod conformance;
pub mod contract;
mod convert;
pub mod egress;
pub mod error;
pub mod health;
mod host_imports;
pub mod manifest;
pub mod plugin;
mod plugin_log;
pub mod plugin_text;
pub mod policy;
pub mod rate_limit;
pub mod registry;
pub mod runtime;
pub mod secret_sink;
mod secrets;
pub mod settings;
pub mod store_connector;
pub mod store_orders;

pub use channel_connector::{
    ChannelConnector, ListingDraft, ListingRef, ListingSku, ListingSnapshot, ReviewStatus, SkuMatch,
    SkuPrice, SkuSnapshot, SkuStock,
};
pub use contract::Contract;
pub use egress::{EgressConfig, EgressPolicy};
pub use error::{ConnectorError, ErrorKind};
pub use manifest::{Manifest, PluginKind};
pub use plugin::Plugin;
pub use registry::PluginRegistry;
pub use runtime::PluginRuntime;
pub use secret_sink::SecretSink;
pub use settings::ConnectionSettings;
pub use store_connector::{ProductPage, StoreConnector, StoreEvent, WebhookDelivery};

/// The contract version new plugins are built against.
pub const CONTRACT_VERSION: &str = "0.3.0";
/// Every contract version this host speaks, oldest first.
pub const CONTRACT_VERSIONS: [&str; 3] = ["0.1.0", "0.2.0", "0.3.0"];
