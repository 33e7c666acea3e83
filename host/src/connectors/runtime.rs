//! The one wasmtime `Engine` of the process, its pooling allocator, the epoch ticker that
//! measures plugin CPU time, and the linkers that grant plugins their imports.

use super::bindings::{v0_1, v0_2, v0_3};
use super::call::CallState;
use super::contract::Contract;
use super::egress::{self, EgressPolicy};
use super::manifest::{Limits, PluginKind};
use super::rate_limit::Pacer;
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
    /// Where plugin HTTP may go, and the client that keeps to it (see `with_egress`).
    egress: Arc<Egress>,
}

struct Egress {
    policy: Arc<EgressPolicy>,
    http: reqwest::Client,
}

struct Inner {
    engine: Engine,
    /// One linker per (world, contract version): each grants that version's imports.
    linkers: HashMap<(PluginKind, Contract), Linker<CallState>>,
    /// Pacers by connection label, kept for the life of the process.
    pacers: Mutex<HashMap<String, Arc<Pacer>>>,
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

        let mut linkers = HashMap::new();
        for kind in [PluginKind::Store, PluginKind::Channel] {
            for contract in Contract::ALL {
                let mut linker = Linker::new(&engine);
                wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
                match (kind, contract) {
                    (PluginKind::Store, Contract::V0_1) => {
                        v0_1::store_world::Store::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?
                    }
                    (PluginKind::Store, Contract::V0_2) => {
                        v0_2::store_world::Store::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?
                    }
                    (PluginKind::Store, Contract::V0_3) => {
                        v0_3::store_world::Store::add_to_linker::<_, HasSelf<CallState>>(&mut linker, |s| s)?
                    }
                    (PluginKind::Channel, Contract::V0_1) => v0_1::channel_world::Channel::add_to_linker::<
                        _,
                        HasSelf<CallState>,
                    >(&mut linker, |s| s)?,
                    (PluginKind::Channel, Contract::V0_2) => v0_2::channel_world::Channel::add_to_linker::<
                        _,
                        HasSelf<CallState>,
                    >(&mut linker, |s| s)?,
                    (PluginKind::Channel, Contract::V0_3) => v0_3::channel_world::Channel::add_to_linker::<
                        _,
                        HasSelf<CallState>,
                    >(&mut linker, |s| s)?,
                }
                linkers.insert((kind, contract), linker);
            }
        }

        let egress = Arc::new(Egress::new(EgressPolicy::default())?);
        Ok(PluginRuntime { inner: Arc::new(Inner { engine, linkers, pacers: Mutex::default() }), egress })
    }

    /// The same runtime with another egress policy (the default refuses loopback, private
    /// and other special addresses); connectors bound afterwards use it.
    pub fn with_egress(mut self, policy: EgressPolicy) -> reqwest::Result<Self> {
        self.egress = Arc::new(Egress::new(policy)?);
        Ok(self)
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
    /// The linker granting `contract`'s imports to a plugin of `kind`.
    pub(crate) fn linker(&self, kind: PluginKind, contract: Contract) -> &Linker<CallState> {
        self.inner.linkers.get(&(kind, contract)).expect("PluginRuntime::new links every kind and version")
    }
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.egress.http
    }
    /// The address rules plugin HTTP keeps to.
    pub fn egress(&self) -> &Arc<EgressPolicy> {
        &self.egress.policy
    }

    /// The pacer of one connection, created on first use; a plugin whose manifest changed
    /// limits gets a new one. None when the manifest asks for no pacing.
    pub(crate) fn pacer(&self, connection: &str, limits: &Limits) -> Option<Arc<Pacer>> {
        let mut pacers = self.inner.pacers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pacer) = pacers.get(connection)
            && pacer.limits() == limits
        {
            return Some(pacer.clone());
        }
        let pacer = Arc::new(Pacer::new(limits)?);
        pacers.insert(connection.to_string(), pacer.clone());
        Some(pacer)
    }
}

impl Egress {
    fn new(policy: EgressPolicy) -> reqwest::Result<Self> {
        let policy = Arc::new(policy);
        Ok(Egress { http: egress::client(policy.clone())?, policy })
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
