//! The host side of the WIT contract, generated once per world. The channel world reuses
//! the store world's shared interfaces so a single set of host imports serves both.

#![allow(missing_docs, clippy::all)]

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
            "crossdock:connector/http": super::store_world::crossdock::connector::http,
            "crossdock:connector/log": super::store_world::crossdock::connector::log,
            "crossdock:connector/clock": super::store_world::crossdock::connector::clock,
            "crossdock:connector/config": super::store_world::crossdock::connector::config,
        },
    });
}

pub use store_world::crossdock::connector::{clock, config, http, log, types};
