//! The one wasmtime `Engine` of the process, its pooling allocator, the epoch ticker that
//! measures plugin CPU time, and the linkers that grant plugins their imports.

use super::bindings::{channel_world, store_world};
use super::call::CallState;
use super::rate_limit::TokenBucket;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; the CPU budget is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Host-wide ceilings for the instance pool.
const POOL_INSTANCES: u32 = 128;
const POOL_MAX_MEMORY: usize = 256 * 1024 * 1024;

/// Compiles and runs connector plugins. Cheap to clone.
#[derive(Clone)]
pub struct PluginRuntime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    store_linker: Linker<CallState>,
    channel_linker: Linker<CallState>,
    http: reqwest::Client,
    /// Token buckets by connection label, kept for the life of the process.
    buckets: Mutex<HashMap<String, Arc<TokenBucket>>>,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime").finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// Builds the engine (pooling allocator when the address space allows it, epoch
    /// interruption) and starts the epoch ticker thread, which ends with the engine.
    pub fn new() -> wasmtime::Result<Self> {
        let engine = match Engine::new(&config(true)) {
            Ok(engine) => engine,
            Err(error) => {
                // Some machines cap virtual memory below what the pool reserves.
                tracing::warn!(%error, "pooling allocator unavailable; using on-demand instances");
                Engine::new(&config(false))?
            }
        };
        start_epoch_ticker(&engine);

        let mut store_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut store_linker)?;
        store_world::Store::add_to_linker::<_, HasSelf<CallState>>(&mut store_linker, |s| s)?;

        let mut channel_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut channel_linker)?;
        channel_world::Channel::add_to_linker::<_, HasSelf<CallState>>(&mut channel_linker, |s| s)?;

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(PluginRuntime {
            inner: Arc::new(Inner { engine, store_linker, channel_linker, http, buckets: Mutex::default() }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
    pub(crate) fn store_linker(&self) -> &Linker<CallState> {
        &self.inner.store_linker
    }
    pub(crate) fn channel_linker(&self) -> &Linker<CallState> {
        &self.inner.channel_linker
    }
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The token bucket of one connection, created on first use.
    pub(crate) fn bucket(&self, connection: &str, per_second: Option<u32>) -> Option<Arc<TokenBucket>> {
        let per_second = per_second?;
        let mut buckets = self.inner.buckets.lock().unwrap_or_else(|p| p.into_inner());
        Some(
            buckets
                .entry(connection.to_string())
                .or_insert_with(|| Arc::new(TokenBucket::new(per_second)))
                .clone(),
        )
    }
}

fn config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // Synchronous component calls are cheaper; no plugin needs component-model async.
    config.concurrency_support(false);
    config.max_wasm_stack(1024 * 1024);
    if pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(POOL_INSTANCES * 2)
            .total_memories(POOL_INSTANCES * 2)
            .total_tables(POOL_INSTANCES * 2)
            .total_stacks(POOL_INSTANCES)
            .max_memory_size(POOL_MAX_MEMORY);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new().name("wasm-epoch".into()).spawn(move || {
        loop {
            std::thread::sleep(EPOCH_TICK);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        }
    });
    if let Err(error) = spawned {
        // Without the ticker no CPU budget is enforced; the wall-clock timeout still is.
        tracing::error!(%error, "could not start the wasm epoch ticker");
    }
}
