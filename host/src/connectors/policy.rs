//! The operator's limits for plugins (`[plugins.limits]` in the serve config): ceilings no
//! manifest can exceed, the shape a component may have (core modules, instances, memories,
//! tables), checked before it is compiled, and the instance pool every plugin shares, with
//! the most one plugin may hold at once so no plugin takes the slots others need.

use super::manifest::{self, Limits};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the operator allows any plugin, whatever its manifest asks for. Every field has a
/// default; the manifest's own limits apply when they are lower.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LimitsPolicy {
    /// Linear memory of one plugin instance, all its memories together, MiB.
    pub memory_mb: u64,
    /// CPU time one call may spend running wasm, ms.
    pub cpu_ms: u64,
    /// Wall-clock limit of one call, HTTP waits included, ms.
    pub timeout_ms: u64,
    /// Bytes of strings and lists one crossing may carry from the plugin to the host: the
    /// arguments of one import call, or the result of one call (a huge list is refused).
    pub hostcall_bytes: usize,
    /// HTTP requests per second one connection may make; unset leaves the manifest's own
    /// pacing (if any) as the only one.
    pub requests_per_second: Option<u32>,
    /// Core modules a component may contain, nested components included.
    pub core_modules: u32,
    /// Core instances one instance of a component may create.
    pub core_instances: u32,
    /// Linear memories a component may define.
    pub memories: u32,
    /// Tables a component may define.
    pub tables: u32,
    /// Plugin instances alive at once in the whole process (the instance pool).
    pub pool_instances: u32,
    /// The most of the pool one plugin may hold at once, percent (1–100).
    pub pool_share_percent: u32,
    /// The longest a plugin's `rate-limited(retry-after)` can make Crossdock wait, seconds.
    pub max_retry_after_secs: u64,
}

impl Default for LimitsPolicy {
    fn default() -> Self {
        LimitsPolicy {
            memory_mb: manifest::MAX_MEMORY_MB,
            cpu_ms: manifest::MAX_CPU_MS,
            timeout_ms: manifest::MAX_TIMEOUT_MS,
            hostcall_bytes: 16 * 1024 * 1024,
            requests_per_second: None,
            core_modules: 32,
            core_instances: 32,
            memories: 4,
            tables: 16,
            pool_instances: 128,
            pool_share_percent: 50,
            max_retry_after_secs: 300,
        }
    }
}

/// Pool slots per plugin instance, on average, for each kind of slot: a Rust component uses
/// a handful of core instances and tables and one memory.
const CORE_INSTANCES_PER_INSTANCE: u32 = 8;
const MEMORIES_PER_INSTANCE: u32 = 2;
const TABLES_PER_INSTANCE: u32 = 8;

impl LimitsPolicy {
    /// Whether the policy can be used: every limit at least 1, none above the host's
    /// ceilings. The message names the key.
    pub fn check(&self) -> Result<(), String> {
        let within = |key: &str, value: u64, max: u64| {
            if (1..=max).contains(&value) {
                Ok(())
            } else {
                Err(format!("plugins.limits.{key} is {value}; it must be between 1 and {max}"))
            }
        };
        within("memory-mb", self.memory_mb, manifest::MAX_MEMORY_MB)?;
        within("cpu-ms", self.cpu_ms, manifest::MAX_CPU_MS)?;
        within("timeout-ms", self.timeout_ms, manifest::MAX_TIMEOUT_MS)?;
        within("hostcall-bytes", self.hostcall_bytes as u64, 1 << 30)?;
        if let Some(rate) = self.requests_per_second {
            within("requests-per-second", rate.into(), manifest::MAX_PER_SECOND.into())?;
        }
        within("core-modules", self.core_modules.into(), 256)?;
        within("core-instances", self.core_instances.into(), 1_000)?;
        within("memories", self.memories.into(), 100)?;
        within("tables", self.tables.into(), 1_000)?;
        within("pool-instances", self.pool_instances.into(), 10_000)?;
        within("pool-share-percent", self.pool_share_percent.into(), 100)?;
        within("max-retry-after-secs", self.max_retry_after_secs, 86_400)?;
        Ok(())
    }

    /// The limits one connection's calls run with: the manifest's, lowered to the policy.
    pub fn clamp(&self, asked: &Limits) -> Limits {
        Limits {
            memory_mb: asked.memory_mb.min(self.memory_mb),
            cpu_ms: asked.cpu_ms.min(self.cpu_ms),
            timeout_ms: asked.timeout_ms.min(self.timeout_ms),
            requests_per_second: match (asked.requests_per_second, self.requests_per_second) {
                (Some(a), Some(p)) => Some(a.min(p)),
                (a, p) => a.or(p),
            },
            ..asked.clone()
        }
    }

    /// What the clamp lowered, one phrase per limit (`memory 256 MiB → 64 MiB`), to tell the
    /// operator; empty when the manifest asks for no more than the policy allows.
    pub fn lowered(&self, asked: &Limits) -> Vec<String> {
        let mut lowered = Vec::new();
        if asked.memory_mb > self.memory_mb {
            lowered.push(format!("memory {} MiB → {} MiB", asked.memory_mb, self.memory_mb));
        }
        if asked.cpu_ms > self.cpu_ms {
            lowered.push(format!("cpu {} ms → {} ms", asked.cpu_ms, self.cpu_ms));
        }
        if asked.timeout_ms > self.timeout_ms {
            lowered.push(format!("timeout {} ms → {} ms", asked.timeout_ms, self.timeout_ms));
        }
        if let Some(cap) = self.requests_per_second
            && asked.requests_per_second.is_none_or(|a| a > cap)
        {
            let asked = asked.requests_per_second.map_or("unpaced".to_string(), |a| format!("{a}/s"));
            lowered.push(format!("requests {asked} → {cap}/s"));
        }
        lowered
    }

    /// The longest wait a plugin's retry-after may impose.
    pub fn max_retry_after(&self) -> Duration {
        Duration::from_secs(self.max_retry_after_secs)
    }

    /// The pool's size for each kind of slot.
    pub fn pool(&self) -> Slots {
        let n = self.pool_instances;
        Slots {
            instances: n,
            core_instances: n.saturating_mul(CORE_INSTANCES_PER_INSTANCE).max(self.core_instances),
            memories: n.saturating_mul(MEMORIES_PER_INSTANCE).max(self.memories),
            tables: n.saturating_mul(TABLES_PER_INSTANCE).max(self.tables),
        }
    }

    /// The most of the pool one plugin may hold at once: its share, but always enough for
    /// one instance of the largest component the policy admits.
    pub fn share(&self) -> Slots {
        let pool = self.pool();
        let part = |total: u32, floor: u32| {
            ((u64::from(total) * u64::from(self.pool_share_percent) / 100) as u32).max(floor).min(total)
        };
        Slots {
            instances: part(pool.instances, 1),
            core_instances: part(pool.core_instances, self.core_instances),
            memories: part(pool.memories, self.memories),
            tables: part(pool.tables, self.tables),
        }
    }
}

/// Pool slots: component instances, core instances, memories, tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slots {
    pub instances: u32,
    pub core_instances: u32,
    pub memories: u32,
    pub tables: u32,
}

impl Slots {
    fn fits_within(&self, limit: &Slots) -> bool {
        self.instances <= limit.instances
            && self.core_instances <= limit.core_instances
            && self.memories <= limit.memories
            && self.tables <= limit.tables
    }
    fn plus(&self, other: &Slots) -> Slots {
        Slots {
            instances: self.instances.saturating_add(other.instances),
            core_instances: self.core_instances.saturating_add(other.core_instances),
            memories: self.memories.saturating_add(other.memories),
            tables: self.tables.saturating_add(other.tables),
        }
    }
    fn minus(&self, other: &Slots) -> Slots {
        Slots {
            instances: self.instances.saturating_sub(other.instances),
            core_instances: self.core_instances.saturating_sub(other.core_instances),
            memories: self.memories.saturating_sub(other.memories),
            tables: self.tables.saturating_sub(other.tables),
        }
    }
}

/// What a component is made of, counted from its bytes before anything is compiled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Core modules, nested components' included.
    pub core_modules: u32,
    /// Core instances created by instantiating a module, nested components' included.
    pub core_instances: u32,
    /// Linear memories the modules define (imported ones are someone else's).
    pub memories: u32,
    /// Tables the modules define.
    pub tables: u32,
}

impl Shape {
    /// Counts a component's parts with `wasmparser`, without validating or compiling it.
    pub fn of(bytes: &[u8]) -> Result<Shape, String> {
        let mut shape = Shape::default();
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            match payload.map_err(|e| format!("not a WebAssembly component: {e}"))? {
                wasmparser::Payload::ModuleSection { .. } => shape.core_modules += 1,
                wasmparser::Payload::InstanceSection(reader) => {
                    for instance in reader {
                        let instance = instance.map_err(|e| format!("reading its core instances: {e}"))?;
                        if matches!(instance, wasmparser::Instance::Instantiate { .. }) {
                            shape.core_instances += 1;
                        }
                    }
                }
                wasmparser::Payload::MemorySection(reader) => shape.memories += reader.count(),
                wasmparser::Payload::TableSection(reader) => shape.tables += reader.count(),
                _ => {}
            }
        }
        Ok(shape)
    }

    /// Refuses a component with more parts than the policy allows, naming the part, both
    /// numbers and the key that raises the limit.
    pub fn check(&self, policy: &LimitsPolicy) -> Result<(), String> {
        let parts = [
            ("core modules", self.core_modules, policy.core_modules, "core-modules"),
            ("core instances", self.core_instances, policy.core_instances, "core-instances"),
            ("linear memories", self.memories, policy.memories, "memories"),
            ("tables", self.tables, policy.tables, "tables"),
        ];
        for (what, has, allowed, key) in parts {
            if has > allowed {
                return Err(format!(
                    "it has {has} {what}; the operator's policy allows {allowed} \
                     (plugins.limits.{key}); refused before compiling"
                ));
            }
        }
        Ok(())
    }

    /// The pool slots one instance of this component takes.
    pub fn slots(&self) -> Slots {
        Slots {
            instances: 1,
            core_instances: self.core_instances,
            memories: self.memories,
            tables: self.tables,
        }
    }
}

/// The pool's slots in use, in total and by plugin. A call reserves its plugin's slots
/// before it instantiates and gives them back when its `wasmtime::Store` is gone.
#[derive(Debug)]
pub struct SlotBudget {
    pool: Slots,
    share: Slots,
    used: Mutex<Usage>,
}

#[derive(Debug, Default)]
struct Usage {
    total: Slots,
    by_plugin: HashMap<String, Slots>,
    /// The most each plugin held at once.
    peak: HashMap<String, Slots>,
}

/// Why a call could not get its slots: the pool, or the plugin's share of it, is full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolFull {
    /// `its share` or `the pool`.
    pub which: &'static str,
}

/// Slots held by one call; dropping it gives them back.
#[derive(Debug)]
pub struct SlotGuard {
    budget: Arc<SlotBudget>,
    plugin: String,
    slots: Slots,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|p| p.into_inner());
        used.total = used.total.minus(&self.slots);
        if let Some(held) = used.by_plugin.get_mut(&self.plugin) {
            *held = held.minus(&self.slots);
        }
    }
}

impl SlotBudget {
    pub fn new(policy: &LimitsPolicy) -> Self {
        SlotBudget { pool: policy.pool(), share: policy.share(), used: Mutex::default() }
    }

    /// Takes `slots` for one call of `plugin`, or says which limit is full.
    pub fn reserve(self: &Arc<Self>, plugin: &str, slots: Slots) -> Result<SlotGuard, PoolFull> {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let held = used.by_plugin.get(plugin).copied().unwrap_or_default().plus(&slots);
        if !held.fits_within(&self.share) {
            return Err(PoolFull { which: "its share of the instance pool" });
        }
        let total = used.total.plus(&slots);
        if !total.fits_within(&self.pool) {
            return Err(PoolFull { which: "the instance pool" });
        }
        used.total = total;
        used.by_plugin.insert(plugin.to_string(), held);
        let peak = used.peak.entry(plugin.to_string()).or_default();
        *peak = Slots {
            instances: peak.instances.max(held.instances),
            core_instances: peak.core_instances.max(held.core_instances),
            memories: peak.memories.max(held.memories),
            tables: peak.tables.max(held.tables),
        };
        Ok(SlotGuard { budget: self.clone(), plugin: plugin.to_string(), slots })
    }

    /// The most `plugin` held at once since the process started.
    pub fn peak(&self, plugin: &str) -> Slots {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).peak.get(plugin).copied().unwrap_or_default()
    }

    /// The most one plugin may hold at once.
    pub fn share(&self) -> Slots {
        self.share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_asking_for_more_than_the_policy_is_lowered_and_told() {
        let policy = LimitsPolicy {
            memory_mb: 64,
            cpu_ms: 1_000,
            requests_per_second: Some(20),
            ..Default::default()
        };
        let asked = Limits { memory_mb: 256, cpu_ms: 500, timeout_ms: 10_000, ..Limits::default() };
        let limits = policy.clamp(&asked);
        assert_eq!((limits.memory_mb, limits.cpu_ms, limits.timeout_ms), (64, 500, 10_000));
        assert_eq!(limits.requests_per_second, Some(20));
        assert_eq!(policy.lowered(&asked), ["memory 256 MiB → 64 MiB", "requests unpaced → 20/s"]);
        assert!(LimitsPolicy::default().lowered(&Limits::default()).is_empty());
    }

    #[test]
    fn a_policy_out_of_range_names_its_key() {
        let bad = LimitsPolicy { memory_mb: 0, ..Default::default() };
        assert!(bad.check().is_err_and(|m| m.contains("plugins.limits.memory-mb")));
        let bad = LimitsPolicy { pool_share_percent: 101, ..Default::default() };
        assert!(bad.check().is_err_and(|m| m.contains("pool-share-percent")));
        assert!(LimitsPolicy::default().check().is_ok());
    }

    #[test]
    fn one_plugin_cannot_take_more_than_its_share_of_the_pool() {
        let policy = LimitsPolicy {
            pool_instances: 4,
            pool_share_percent: 50,
            core_instances: 8,
            ..Default::default()
        };
        let budget = Arc::new(SlotBudget::new(&policy));
        let hog = Slots { instances: 1, core_instances: 8, memories: 1, tables: 1 };
        let first = budget.reserve("hog", hog).expect("the first call fits");
        let second = budget.reserve("hog", hog).expect("two calls are half the pool");
        assert_eq!(
            budget.reserve("hog", hog).map(|_| ()),
            Err(PoolFull { which: "its share of the instance pool" })
        );
        let polite = Slots { instances: 1, core_instances: 3, memories: 1, tables: 2 };
        let a = budget.reserve("tiktok-shop", polite).expect("another plugin still gets slots");
        let b = budget.reserve("tiktok-shop", polite).expect("and its own half");
        assert!(budget.reserve("tiktok-shop", polite).is_err(), "4 instances in all");
        drop((first, a));
        budget.reserve("hog", hog).expect("slots come back when a call ends");
        drop((second, b));
        assert_eq!(budget.peak("hog").instances, 2);
    }
}
