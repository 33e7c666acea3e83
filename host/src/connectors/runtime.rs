//! The one wasmtime `Engine` of the process, its pooling allocator, the epoch ticker that
//! measures plugin CPU time, and the linkers that grant plugins their imports.

use super::bindings::{v0_1, v0_2, v0_3};
use super::call::CallState;
use super::contract::Contract;
use super::egress::{self, EgressPolicy};
use super::health::{HealthBoard, HealthPolicy};
use super::manifest::{Limits, PluginKind};
use super::policy::{LimitsPolicy, SlotBudget};
use super::rate_limit::Pacer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; the CPU budget is counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

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
    /// The operator's limits.
    policy: LimitsPolicy,
    /// The instance pool's slots in use, by plugin.
    slots: Arc<SlotBudget>,
    /// Each connection's plugin health.
    health: HealthBoard,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime").finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// The runtime with the default limits policy (see `with_policy`).
    pub fn new() -> wasmtime::Result<Self> {
        Self::with_policy(LimitsPolicy::default(), HealthPolicy::default())
    }

    /// Builds the engine (pooling allocator sized by the operator's policy when the address
    /// space allows it, epoch interruption) and starts the epoch ticker thread, which ends
    /// with the engine.
    pub fn with_policy(policy: LimitsPolicy, health: HealthPolicy) -> wasmtime::Result<Self> {
        policy.check().map_err(wasmtime::Error::msg)?;
        health.check().map_err(wasmtime::Error::msg)?;
        let engine = match Engine::new(&config(Some(&policy))) {
            Ok(engine) => engine,
            Err(error) => {
                // Some machines cap virtual memory below what the pool reserves.
                tracing::warn!(%error, "pooling allocator unavailable; using on-demand instances");
                Engine::new(&config(None))?
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

        let slots = Arc::new(SlotBudget::new(&policy));
        let health = HealthBoard::new(health);
        let egress = Arc::new(Egress::new(EgressPolicy::default())?);
        Ok(PluginRuntime {
            inner: Arc::new(Inner { engine, linkers, pacers: Mutex::default(), policy, slots, health }),
            egress,
        })
    }

    /// The same runtime with another egress policy (the default refuses loopback, private
    /// and other special addresses); connectors bound afterwards use it.
    pub fn with_egress(mut self, policy: EgressPolicy) -> reqwest::Result<Self> {
        self.egress = Arc::new(Egress::new(policy)?);
        Ok(self)
    }

    /// The operator's limits this runtime enforces.
    pub fn policy(&self) -> &LimitsPolicy {
        &self.inner.policy
    }
    /// The instance pool's slots in use, by plugin.
    pub fn slots(&self) -> &Arc<SlotBudget> {
        &self.inner.slots
    }
    /// Each connection's plugin health (`channel 3`, `store 1`).
    pub fn health(&self) -> &HealthBoard {
        &self.inner.health
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

/// The engine's configuration; `pooling` sizes the instance pool from the policy.
fn config(pooling: Option<&LimitsPolicy>) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // Synchronous component calls are cheaper; no plugin needs component-model async.
    config.concurrency_support(false);
    config.max_wasm_stack(1024 * 1024);
    if let Some(policy) = pooling {
        let slots = policy.pool();
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(slots.instances)
            .total_core_instances(slots.core_instances)
            .total_memories(slots.memories)
            .total_tables(slots.tables)
            .total_stacks(slots.instances)
            .max_core_instances_per_component(policy.core_instances)
            .max_memories_per_component(policy.memories)
            .max_tables_per_component(policy.tables)
            // One memory can be the whole of an instance's allowance.
            .max_memory_size(usize::try_from(policy.memory_mb * 1024 * 1024).unwrap_or(usize::MAX));
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
