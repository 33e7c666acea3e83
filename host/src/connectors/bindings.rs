//! The host side of the WIT contract: one `bindgen!` per contract version and world. Within a
//! version, the channel world reuses the store world's imported interfaces, so one set of host
//! imports serves both worlds.
//!
//! Across versions, `types` has not changed since 0.1.0, so 0.1.0 and 0.2.0 reuse 0.3.0's Rust
//! types (the component model checks types by structure, not by name): money, products, errors
//! and the rest are one Rust type whatever the plugin's version. The imported interfaces that
//! carry functions (`http`, `log`, `clock`, `config`) and the exported ones are generated per
//! version, because the linker names them with their version.

#![allow(missing_docs, clippy::all)]

/// `crossdock:connector@0.3.0`, the contract this host is built around (`wit/`).
pub mod v0_3 {
    pub mod store_world {
        wasmtime::component::bindgen!({
            world: "store",
            path: "../wit",
            imports: { default: async | trappable },
            exports: { default: async },
        });
    }

    pub mod channel_world {
        wasmtime::component::bindgen!({
            world: "channel",
            path: "../wit",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "crossdock:connector/types": super::store_world::crossdock::connector::types,
                "crossdock:connector/commerce": super::store_world::crossdock::connector::commerce,
                "crossdock:connector/http": super::store_world::crossdock::connector::http,
                "crossdock:connector/log": super::store_world::crossdock::connector::log,
                "crossdock:connector/clock": super::store_world::crossdock::connector::clock,
                "crossdock:connector/config": super::store_world::crossdock::connector::config,
            },
        });
    }

    pub use store_world::crossdock::connector::{clock, commerce, config, http, log};
}

/// `crossdock:connector@0.2.0` (`wit/0.2.0/`, frozen), for catalog-only components built before
/// 0.3.0.
pub mod v0_2 {
    pub mod store_world {
        wasmtime::component::bindgen!({
            world: "store",
            path: "../wit/0.2.0",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "crossdock:connector/types": crate::connectors::bindings::v0_3::store_world::crossdock::connector::types,
            },
        });
    }

    pub mod channel_world {
        wasmtime::component::bindgen!({
            world: "channel",
            path: "../wit/0.2.0",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "crossdock:connector/types": crate::connectors::bindings::v0_3::store_world::crossdock::connector::types,
                "crossdock:connector/http": super::store_world::crossdock::connector::http,
                "crossdock:connector/log": super::store_world::crossdock::connector::log,
                "crossdock:connector/clock": super::store_world::crossdock::connector::clock,
                "crossdock:connector/config": super::store_world::crossdock::connector::config,
            },
        });
    }

    pub use store_world::crossdock::connector::{clock, config, http, log};
}

/// `crossdock:connector@0.1.0` (`wit/0.1.0/`, frozen), for components built before 0.2.0.
pub mod v0_1 {
    pub mod store_world {
        wasmtime::component::bindgen!({
            world: "store",
            path: "../wit/0.1.0",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "crossdock:connector/types": crate::connectors::bindings::v0_3::store_world::crossdock::connector::types,
            },
        });
    }

    pub mod channel_world {
        wasmtime::component::bindgen!({
            world: "channel",
            path: "../wit/0.1.0",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "crossdock:connector/types": crate::connectors::bindings::v0_3::store_world::crossdock::connector::types,
                "crossdock:connector/http": super::store_world::crossdock::connector::http,
                "crossdock:connector/log": super::store_world::crossdock::connector::log,
                "crossdock:connector/clock": super::store_world::crossdock::connector::clock,
                "crossdock:connector/config": super::store_world::crossdock::connector::config,
            },
        });
    }

    pub use store_world::crossdock::connector::{clock, config, http, log};
}

/// The records every version shares (money, product, connector-error…).
pub use v0_3::store_world::crossdock::connector::types;
