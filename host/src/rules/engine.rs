//! The one Rhai engine every rule runs on, built from `Engine::new_raw()` with only the
//! standard packages rules need, and every limit set in one place: operations, call depth,
//! expression depth, string/array/map sizes, variables and a wall-clock deadline per
//! evaluation. No module imports, no `eval`, no `sleep`; `print` and `debug` go to tracing.

use super::verdict::Verdict;
use rhai::packages::{Package, StandardPackage};
use rhai::{Dynamic, Engine};
use rust_decimal::Decimal;
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits a single evaluation runs under.
#[derive(Debug, Clone, Copy)]
pub struct RuleLimits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_fn_expr_depth: usize,
    pub max_string_bytes: usize,
    pub max_array_len: usize,
    pub max_map_len: usize,
    pub max_variables: usize,
    pub max_functions: usize,
    pub wall_time: Duration,
}

impl Default for RuleLimits {
    fn default() -> Self {
        RuleLimits {
            max_operations: 200_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_fn_expr_depth: 32,
            max_string_bytes: 64 * 1024,
            max_array_len: 10_000,
            max_map_len: 1_000,
            max_variables: 256,
            max_functions: 64,
            wall_time: Duration::from_millis(100),
        }
    }
}

thread_local! {
    /// Deadline of the evaluation running on this thread; the engine is shared, so the
    /// deadline cannot live in the engine itself.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The shared, sandboxed rule engine. Cheap to clone.
#[derive(Clone)]
pub struct RuleEngine {
    engine: Arc<Engine>,
    limits: RuleLimits,
}

impl std::fmt::Debug for RuleEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleEngine").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Default for RuleEngine {
    fn default() -> Self {
        Self::new(RuleLimits::default())
    }
}

impl RuleEngine {
    pub fn new(limits: RuleLimits) -> Self {
        let mut engine = Engine::new_raw();
        engine.register_global_module(StandardPackage::new().as_shared_module());
        apply_limits(&mut engine, &limits);
        engine.set_strict_variables(true);
        engine.set_fail_on_invalid_map_property(true);
        engine.disable_symbol("eval");
        engine.on_print(|text| tracing::info!(rule_output = text, "rule print"));
        engine.on_debug(|text, source, pos| {
            tracing::debug!(rule_output = text, source, line = pos.line(), "rule debug")
        });
        engine.on_progress(|ops| {
            if ops % 512 != 0 {
                return None;
            }
            DEADLINE
                .with(Cell::get)
                .filter(|deadline| Instant::now() > *deadline)
                .map(|_| Dynamic::from("wall-clock limit"))
        });
        engine.register_fn("sleep", |_: i64| -> Result<(), Box<rhai::EvalAltResult>> {
            Err("sleep is not available in rules".into())
        });
        Verdict::register(&mut engine);
        register_money(&mut engine);
        RuleEngine { engine: Arc::new(engine), limits }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs `f` with this thread's evaluation deadline set, and clears it after.
    pub(crate) fn with_deadline<R>(&self, f: impl FnOnce(&Engine) -> R) -> R {
        DEADLINE.with(|d| d.set(Some(Instant::now() + self.limits.wall_time)));
        let result = f(&self.engine);
        DEADLINE.with(|d| d.set(None));
        result
    }
}

/// Every Rhai limit, set in one function.
fn apply_limits(engine: &mut Engine, l: &RuleLimits) {
    engine
        .set_max_operations(l.max_operations)
        .set_max_call_levels(l.max_call_levels)
        .set_max_expr_depths(l.max_expr_depth, l.max_fn_expr_depth)
        .set_max_string_size(l.max_string_bytes)
        .set_max_array_size(l.max_array_len)
        .set_max_map_size(l.max_map_len)
        .set_max_variables(l.max_variables)
        .set_max_functions(l.max_functions);
}

/// Decimal helpers merchants use in price rules.
fn register_money(engine: &mut Engine) {
    // The smallest price >= `x` whose cents are `ending` (e.g. 0.99): 12.10 -> 12.99.
    // Checked: an amount near `Decimal`'s limit is a rule error naming the values, never a
    // panic (the engine adds the record and the rule to the error).
    engine.register_fn(
        "price_ending",
        |x: Decimal, ending: Decimal| -> Result<Decimal, Box<rhai::EvalAltResult>> {
            let overflow =
                || format!("price_ending({x}, {ending}) overflows: the amount is too large").into();
            let whole = x.floor();
            let candidate = whole.checked_add(ending).ok_or_else(overflow)?;
            if candidate >= x {
                return Ok(candidate);
            }
            whole.checked_add(Decimal::ONE).and_then(|w| w.checked_add(ending)).ok_or_else(overflow)
        },
    );
    engine.register_fn("decimal", |x: i64| Decimal::from(x));
    engine.register_fn("decimal", |s: &str| -> Result<Decimal, Box<rhai::EvalAltResult>> {
        s.trim().parse::<Decimal>().map_err(|_| format!("`{s}` is not a decimal").into())
    });
}
