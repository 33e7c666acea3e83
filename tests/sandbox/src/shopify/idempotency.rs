//! The `@idempotent(key: "…")` directive (2026-01: optional on the inventory and refund
//! mutations; 2026-04 makes it mandatory). The directive is registered in the schema, so
//! documents using it validate; it hands its key to the mutation it decorates, which runs at
//! most once per key: the same key with the same arguments returns the first result without
//! applying anything again, the same key with other arguments is refused with the mutation's
//! `IDEMPOTENCY_KEY_PARAMETER_MISMATCH` user error (or its closest code).
//!
//! Choices of ours: the sandbox honours the key on every mutation it serves (Shopify lists
//! specific ones); a replay returns the first payload as it was (the objects it names as they
//! were then); the first result is kept whatever it was, user errors included; keys are kept
//! for the sandbox's life, the oldest dropped past [`MAX_KEYS`]. Because a keyed mutation runs
//! under the cache's lock, `IDEMPOTENCY_CONCURRENT_REQUEST` never happens here.

use async_graphql::extensions::ResolveFut;
use async_graphql::{Context, CustomDirective, Directive, Error, ServerResult, Value};
use std::any::Any;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Keys remembered at most.
pub const MAX_KEYS: usize = 10_000;

/// Shopify's message for a key reused with other arguments.
pub const MISMATCH_MESSAGE: &str =
    "The same idempotency key cannot be used with different operation parameters.";

tokio::task_local! {
    /// The key of the `@idempotent` directive on the field being resolved.
    static KEY: String;
}

struct Idempotent {
    key: String,
}

#[async_graphql::async_trait::async_trait]
impl CustomDirective for Idempotent {
    async fn resolve_field(
        &self,
        _ctx: &Context<'_>,
        resolve: ResolveFut<'_>,
    ) -> ServerResult<Option<Value>> {
        KEY.scope(self.key.clone(), resolve).await
    }
}

/// `directive @idempotent(key: String!) on FIELD`.
#[Directive(location = "Field")]
pub fn idempotent(key: String) -> impl CustomDirective {
    Idempotent { key }
}

/// Why a keyed mutation did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The key was used before with other arguments.
    ParameterMismatch,
}

/// First results by key.
#[derive(Default)]
pub struct IdempotencyCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Entry>,
    order: VecDeque<String>,
}

struct Entry {
    fingerprint: String,
    result: Arc<dyn Any + Send + Sync>,
}

impl IdempotencyCache {
    /// Runs `run` unless the field's `@idempotent` key was seen: then returns the first result
    /// (same arguments) or `conflict`'s answer (other arguments).
    pub fn once<T: Clone + Send + Sync + 'static>(
        &self,
        ctx: &Context<'_>,
        run: impl FnOnce() -> T,
        conflict: impl FnOnce(Conflict) -> T,
    ) -> Result<T, Error> {
        let Ok(key) = KEY.try_with(String::clone) else {
            return Ok(run());
        };
        let fingerprint = fingerprint(ctx)?;
        let mut entries =
            self.inner.lock().expect("idempotency lock is never poisoned: no code panics while holding it");
        if let Some(entry) = entries.by_key.get(&key) {
            if entry.fingerprint != fingerprint {
                return Ok(conflict(Conflict::ParameterMismatch));
            }
            return match entry.result.downcast_ref::<T>() {
                Some(first) => Ok(first.clone()),
                // Same field and arguments means the same payload type.
                None => Ok(conflict(Conflict::ParameterMismatch)),
            };
        }
        let result = run();
        entries.order.push_back(key.clone());
        entries.by_key.insert(key, Entry { fingerprint, result: Arc::new(result.clone()) });
        while entries.order.len() > MAX_KEYS {
            if let Some(oldest) = entries.order.pop_front() {
                entries.by_key.remove(&oldest);
            }
        }
        Ok(result)
    }
}

/// The mutation's name and arguments, variables resolved, in a stable order.
fn fingerprint(ctx: &Context<'_>) -> Result<String, Error> {
    let field = ctx.field();
    let mut arguments = BTreeMap::new();
    for (name, value) in field.arguments()? {
        arguments.insert(name.to_string(), value.into_json().map_err(|e| Error::new(e.to_string()))?);
    }
    Ok(format!("{}:{}", field.name(), serde_json::Value::from_iter(arguments)))
}
