//! One sandboxed call into a plugin: a fresh `wasmtime::Store` with a memory cap, a CPU
//! budget counted in epoch ticks, a cap on bytes the guest can hand the host, WASI with
//! nothing granted and stderr captured, all under a wall-clock timeout. Whatever happens
//! inside, the caller gets a `ConnectorError` naming the plugin and the operation.

use super::egress::{EgressPolicy, HostAllowList};
use super::error::{ConnectorError, ErrorKind};
use super::manifest::Limits;
use super::plugin::Plugin;
use super::plugin_log::{self, CallLog, LogBudget};
use super::plugin_text;
use super::policy::{SlotGuard, Slots};
use super::rate_limit::Pacer;
use super::runtime::{EPOCH_TICK, PluginRuntime};
use super::secrets::ConnectionSecrets;
use super::settings::ConnectionSettings;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Trap, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Most bytes of guest stderr kept for error messages.
const STDERR_BYTES: usize = 16 * 1024;
/// Most bytes of an HTTP response body handed to the guest.
pub(crate) const HTTP_RESPONSE_BYTES: u64 = 8 * 1024 * 1024;

/// Everything a call into one connection's plugin needs besides the component. Shared by
/// every call through one connector (and its clones).
#[derive(Debug)]
pub(crate) struct ConnectionContext {
    pub plugin_id: String,
    /// Which connection this is, for logs (`channel 2`).
    pub label: String,
    /// Plain settings and the operator's host list; the secrets live in `secrets`.
    pub settings: ConnectionSettings,
    /// The secrets as calls see them, rotations included.
    pub secrets: ConnectionSecrets,
    pub hosts: HostAllowList,
    /// The process's address rules (IP literals are checked against it before sending).
    pub egress: Arc<EgressPolicy>,
    /// The manifest's limits, lowered to the operator's policy.
    pub limits: Limits,
    /// The pool slots one call takes.
    pub slots: Slots,
    pub http: reqwest::Client,
    /// How many log lines this connection may still write.
    pub log_budget: LogBudget,
    /// Paces this connection's HTTP requests to the platform's limits.
    pub pacer: Option<Arc<Pacer>>,
}

impl ConnectionContext {
    pub fn new(
        runtime: &PluginRuntime,
        plugin: &Plugin,
        label: &str,
        mut settings: ConnectionSettings,
    ) -> Self {
        let manifest = &plugin.manifest;
        let secrets = ConnectionSecrets::new(std::mem::take(&mut settings.secrets), &manifest.secrets);
        let policy = runtime.policy();
        let lowered = policy.lowered(&manifest.limits);
        if !lowered.is_empty() {
            tracing::warn!(
                plugin = %plugin.id(),
                connection = label,
                lowered = %lowered.join(", "),
                "the plugin's manifest asks for more than the operator's limits allow; using the limits"
            );
        }
        let limits = policy.clamp(&manifest.limits);
        ConnectionContext {
            plugin_id: plugin.id().to_string(),
            label: label.to_string(),
            hosts: HostAllowList::resolve(manifest, &settings),
            egress: runtime.egress().clone(),
            pacer: runtime.pacer(label, &limits),
            limits,
            slots: plugin.slots,
            settings,
            secrets,
            http: runtime.http().clone(),
            log_budget: LogBudget::default(),
        }
    }
}

/// The data of one `wasmtime::Store`: lives for exactly one call.
pub(crate) struct CallState {
    pub ctx: Arc<ConnectionContext>,
    /// `config.set-secret` calls so far in this call, refused ones included.
    pub secret_sets: u32,
    /// Log lines this call wrote and dropped.
    pub log: Arc<Mutex<CallLog>>,
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: InstanceLimiter,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Caps the linear memory of the whole instance (every memory of every core instance
/// together, not each memory alone) and the number of core instances, memories and tables,
/// and remembers that it refused memory, so the error can say so.
struct InstanceLimiter {
    /// Bytes all memories may hold together.
    limit: usize,
    /// Bytes all memories hold now.
    used: usize,
    instances: usize,
    memories: usize,
    tables: usize,
    refused: Arc<AtomicBool>,
}

impl ResourceLimiter for InstanceLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.limit {
            self.refused.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        self.used = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        self.memories
    }

    fn tables(&self) -> usize {
        self.tables
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// What the host keeps outside the store to explain a failure after the store is gone, and
/// what the call holds while it runs (its pool slots), or why it may not run at all.
pub(crate) struct Probe {
    stderr: MemoryOutputPipe,
    memory_refused: Arc<AtomicBool>,
    runtime: PluginRuntime,
    connection: String,
    /// The call's pool slots, given back when the probe goes (after the store); or why the
    /// call does not run (the pool is full, the connection is paused).
    admission: Result<SlotGuard, ErrorKind>,
    log: Arc<Mutex<CallLog>>,
    ctx: Arc<ConnectionContext>,
}

/// A fresh store for one call, and the probe that outlives it.
pub(crate) fn new_store(
    runtime: &PluginRuntime,
    ctx: Arc<ConnectionContext>,
) -> (wasmtime::Store<CallState>, Probe) {
    let stderr = MemoryOutputPipe::new(STDERR_BYTES);
    let memory_refused = Arc::new(AtomicBool::new(false));
    let limits = ctx.limits.clone();
    let policy = runtime.policy();
    let admission = match runtime.health().admit(&ctx.label, Instant::now()) {
        Err(paused) => Err(ErrorKind::Paused { remaining: paused.remaining, reason: paused.reason }),
        Ok(()) => runtime
            .slots()
            .reserve(&ctx.plugin_id, ctx.slots)
            .map_err(|full| ErrorKind::Busy { which: full.which.to_string() }),
    };
    let connection = ctx.label.clone();
    let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
    let mut table = ResourceTable::new();
    table.set_max_capacity(1_000);
    let log = Arc::new(Mutex::new(CallLog::default()));
    let probe_ctx = ctx.clone();
    let state = CallState {
        ctx,
        secret_sets: 0,
        log: log.clone(),
        wasi,
        table,
        limiter: InstanceLimiter {
            limit: usize::try_from(limits.memory_bytes()).unwrap_or(usize::MAX),
            used: 0,
            instances: policy.core_instances as usize,
            memories: policy.memories as usize,
            tables: policy.tables as usize,
            refused: memory_refused.clone(),
        },
    };
    let mut store = wasmtime::Store::new(runtime.engine(), state);
    store.limiter(|s| &mut s.limiter);
    // Bounds what one crossing from the guest may make the host allocate: an import's
    // arguments, and an export's result when it is lifted.
    store.set_hostcall_fuel(policy.hostcall_bytes);

    // The CPU budget in ticks: each expiry yields to tokio (so a busy plugin never starves
    // other tasks) until the budget is spent, then traps with `Trap::Interrupt`.
    let mut ticks_left = (limits.cpu().as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if ticks_left == 0 {
            return Ok(UpdateDeadline::Interrupt);
        }
        ticks_left -= 1;
        Ok(UpdateDeadline::Yield(1))
    });
    (
        store,
        Probe {
            stderr,
            memory_refused,
            runtime: runtime.clone(),
            connection,
            admission,
            log,
            ctx: probe_ctx,
        },
    )
}

/// Runs `call` (which owns the store) under the wall-clock limit and turns every way it
/// can end into the operation's result or a `ConnectorError`.
pub(crate) async fn finish<R, W>(
    plugin: &str,
    operation: &str,
    limits: &Limits,
    probe: Probe,
    call: impl Future<Output = wasmtime::Result<Result<R, W>>>,
) -> Result<R, ConnectorError>
where
    W: Into<ErrorKind>,
{
    // Plugin text is cleaned by `ConnectorError::new`; secrets the plugin echoed are taken out.
    let secrets = probe.ctx.secrets.values();
    let fail = |kind: ErrorKind| {
        ConnectorError::new(plugin, operation, kind.map_text(|text| plugin_text::redact(text, &secrets)))
    };
    let _slots = match &probe.admission {
        Ok(slots) => slots,
        Err(refused) => {
            drop(call);
            return Err(fail(refused.clone()));
        }
    };
    let health = probe.runtime.health();
    let outcome = tokio::time::timeout(limits.timeout(), call).await;
    {
        let log = probe.log.lock().unwrap_or_else(PoisonError::into_inner);
        plugin_log::report_dropped(plugin, &probe.ctx.label, operation, &log);
    }
    let outcome = match outcome {
        Err(_) => {
            let error = fail(ErrorKind::Timeout { after: limits.timeout() });
            health.failed(&probe.connection, &error.to_string(), Instant::now());
            return Err(error);
        }
        Ok(outcome) => outcome,
    };
    match outcome {
        Ok(Ok(value)) => {
            health.succeeded(&probe.connection);
            Ok(value)
        }
        Ok(Err(platform_error)) => {
            health.succeeded(&probe.connection);
            let mut kind: ErrorKind = platform_error.into();
            // However long the plugin asks to wait, the operator's maximum is the most.
            if let ErrorKind::RateLimited { retry_after, .. } = &mut kind {
                *retry_after = (*retry_after).min(probe.runtime.policy().max_retry_after());
            }
            Err(fail(kind))
        }
        Err(trap) => {
            let kind = if let Some(full) = trap.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
                // Another plugin's instances hold the slots: wait, this plugin did nothing wrong.
                ErrorKind::Busy { which: full.to_string() }
            } else if probe.memory_refused.load(Ordering::Relaxed) {
                ErrorKind::MemoryLimit { limit_bytes: limits.memory_bytes() }
            } else if matches!(trap.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                ErrorKind::CpuBudget { budget: limits.cpu() }
            } else {
                ErrorKind::Trap {
                    message: root_message(&trap),
                    stderr: String::from_utf8_lossy(&probe.stderr.contents()).into_owned(),
                }
            };
            let error = fail(kind);
            tracing::warn!(plugin, operation, error = %error, "plugin call failed");
            if error.is_plugin_fault() {
                health.failed(&probe.connection, &error.to_string(), Instant::now());
            }
            Err(error)
        }
    }
}

/// The trap's causes, without the wasm backtrace (a list of frames that would crowd the
/// plugin's own words out of the bounded error text; it is logged at debug level).
fn root_message(error: &wasmtime::Error) -> String {
    let mut messages: Vec<String> = error
        .chain()
        .map(|e| e.to_string())
        .filter(|m| {
            let backtrace = m.starts_with("error while executing at wasm backtrace");
            if backtrace {
                tracing::debug!(backtrace = %m, "plugin trap");
            }
            !backtrace
        })
        .collect();
    messages.dedup();
    messages.join(": ")
}
