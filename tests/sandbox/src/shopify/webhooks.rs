//! The sandbox shop's webhook emitter: HTTP subscriptions to the catalog, inventory, order,
//! fulfillment and refund topics, deliveries
//! signed with base64 HMAC-SHA256 over the raw body and sent with Shopify's headers (reference
//! §9), retried with exponential backoff and, when every retry failed, the subscription
//! deleted, as Shopify does with subscriptions created through the Admin API.
//!
//! Choices of ours: retries default to Shopify's 8 but 1 s apart and doubling (Shopify spreads
//! them over 4 hours); re-subscribing an address replaces its secret (Shopify refuses a second
//! subscription to the same address and topic); a pause drops changes rather than queueing them,
//! to simulate missed webhooks. Only `http://` addresses are served (the sandbox speaks to local
//! test receivers).

use super::timestamp;
use crate::http_post::HttpAddress as Address;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The topics a subscription receives.
pub const TOPICS: [&str; 9] = [
    "products/create",
    "products/update",
    "products/delete",
    "inventory_levels/update",
    "orders/create",
    "orders/cancelled",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
];

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Retries after a failed first attempt, as Shopify does.
const DEFAULT_RETRIES: u32 = 8;
const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(1);

/// Subscriptions and the deliveries in flight; dropping it aborts them.
pub struct Emitter {
    shared: Arc<Shared>,
    /// Every delivery task, so none outlives the sandbox.
    tasks: Mutex<JoinSet<()>>,
    /// The runtime the sandbox started on; control calls may come from outside it.
    runtime: Handle,
    shop_domain: String,
}

/// What delivery tasks share with the emitter.
struct Shared {
    config: Mutex<Config>,
    delivered: AtomicU64,
    in_flight: watch::Sender<usize>,
}

struct Config {
    subscriptions: Vec<Subscription>,
    paused: bool,
    retries: u32,
    retry_base: Duration,
    next_subscription: u64,
}

#[derive(Debug, Clone)]
struct Subscription {
    id: u64,
    address: Address,
    secret: String,
}

/// One event for one subscription, with everything its attempts send.
struct Delivery {
    subscription: Subscription,
    topic: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Arc<[u8]>,
    retries: u32,
    retry_base: Duration,
}

impl Emitter {
    /// An emitter with no subscription whose deliveries run on `runtime`.
    pub fn new(runtime: Handle, shop_domain: String) -> Self {
        let (in_flight, _) = watch::channel(0);
        Emitter {
            shared: Arc::new(Shared {
                config: Mutex::new(Config {
                    subscriptions: Vec::new(),
                    paused: false,
                    retries: DEFAULT_RETRIES,
                    retry_base: DEFAULT_RETRY_BASE,
                    next_subscription: 1,
                }),
                delivered: AtomicU64::new(0),
                in_flight,
            }),
            tasks: Mutex::new(JoinSet::new()),
            runtime,
            shop_domain,
        }
    }

    pub fn shop_domain(&self) -> &str {
        &self.shop_domain
    }

    /// Subscribes `address` to [`TOPICS`], signing with `secret`; an address already
    /// subscribed gets the new secret. An address that is not `http://…` is refused.
    pub fn subscribe(&self, address: &str, secret: &str) -> Result<(), String> {
        let parsed = Address::parse(address)?;
        let mut config = self.shared.config();
        config.subscriptions.retain(|s| s.address != parsed);
        let id = config.next_subscription;
        config.next_subscription += 1;
        config.subscriptions.push(Subscription { id, address: parsed, secret: secret.to_string() });
        tracing::debug!(address, id, "webhook subscription created");
        Ok(())
    }

    pub fn subscription_count(&self) -> usize {
        self.shared.config().subscriptions.len()
    }

    /// Retries after a failed first attempt, and the wait before the first retry (doubling
    /// for each next one). Applies to events emitted from now on.
    pub fn set_retry(&self, retries: u32, base: Duration) {
        let mut config = self.shared.config();
        config.retries = retries;
        config.retry_base = base;
    }

    /// While paused, events are dropped, never delivered.
    pub fn set_paused(&self, paused: bool) {
        self.shared.config().paused = paused;
    }

    /// Deliveries a receiver answered with 2xx.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Waits until no delivery is in flight (each succeeded or gave up).
    pub async fn settled(&self) {
        let mut in_flight = self.shared.in_flight.subscribe();
        // The sender lives in `self.shared`, so this only ends when the count reaches zero.
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    /// Sends `payload` as `topic` to every subscription, each in its own task.
    pub fn emit(&self, topic: &'static str, payload: &serde_json::Value) {
        let (subscriptions, retries, retry_base) = {
            let config = self.shared.config();
            if config.paused {
                tracing::debug!(topic, "webhooks paused; event dropped");
                return;
            }
            (config.subscriptions.clone(), config.retries, config.retry_base)
        };
        if subscriptions.is_empty() {
            return;
        }
        let body: Arc<[u8]> = match serde_json::to_vec(payload) {
            Ok(body) => body.into(),
            Err(error) => {
                tracing::error!(%error, topic, "could not encode a webhook payload");
                return;
            }
        };
        // The event keeps its id across subscriptions and retries; a delivery keeps its own.
        let event_id = uuid_v4();
        let triggered_at = now_iso8601();
        for subscription in subscriptions {
            let headers = vec![
                ("Content-Type", "application/json".to_string()),
                ("User-Agent", "Shopify-Captain-Hook".to_string()),
                ("X-Shopify-Topic", topic.to_string()),
                ("X-Shopify-Hmac-Sha256", sign(&subscription.secret, &body)),
                ("X-Shopify-Shop-Domain", self.shop_domain.clone()),
                ("X-Shopify-API-Version", super::API_VERSION.to_string()),
                ("X-Shopify-Webhook-Id", uuid_v4()),
                ("X-Shopify-Event-Id", event_id.clone()),
                ("X-Shopify-Triggered-At", triggered_at.clone()),
            ];
            self.spawn(Delivery {
                subscription,
                topic,
                headers,
                body: Arc::clone(&body),
                retries,
                retry_base,
            });
        }
    }

    fn spawn(&self, delivery: Delivery) {
        let guard = InFlight::start(Arc::clone(&self.shared));
        let mut tasks =
            self.tasks.lock().expect("webhook task lock is never poisoned: no code panics while holding it");
        // Reap finished deliveries so the set holds only live ones.
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(deliver(guard, delivery), &self.runtime);
    }
}

impl Shared {
    fn config(&self) -> MutexGuard<'_, Config> {
        self.config.lock().expect("webhook config lock is never poisoned: no code panics while holding it")
    }
}

/// Counts a delivery in flight until dropped, even when its task is aborted.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn start(shared: Arc<Shared>) -> Self {
        shared.in_flight.send_modify(|n| *n += 1);
        InFlight(shared)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Attempts one delivery until a 2xx answer or its retries run out, then drops the
/// subscription.
#[tracing::instrument(skip_all, fields(topic = delivery.topic, subscription = delivery.subscription.id))]
async fn deliver(guard: InFlight, delivery: Delivery) {
    let shared = &guard.0;
    let address = &delivery.subscription.address;
    for attempt in 0..=delivery.retries {
        if attempt > 0 {
            tokio::time::sleep(backoff(delivery.retry_base, attempt)).await;
        }
        match post(address, &delivery.headers, &delivery.body).await {
            Ok(status) if (200..300).contains(&status) => {
                shared.delivered.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(attempt, status, "webhook delivered");
                return;
            }
            Ok(status) => tracing::debug!(attempt, status, "webhook refused"),
            Err(error) => tracing::debug!(attempt, %error, "webhook not delivered"),
        }
    }
    let id = delivery.subscription.id;
    shared.config().subscriptions.retain(|s| s.id != id);
    tracing::warn!(
        address = %address.authority,
        path = %address.path,
        attempts = delivery.retries + 1,
        "webhook delivery failed every attempt; subscription deleted"
    );
}

/// The wait before retry `attempt` (1-based): `base`, then doubling.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
}

/// POSTs `body` over HTTP/1.1 and returns the answer's status code.
async fn post(address: &Address, headers: &[(&'static str, String)], body: &[u8]) -> Result<u16, String> {
    crate::http_post::post(&address.authority, &address.path, headers, body, DELIVERY_TIMEOUT).await
}

/// base64(HMAC-SHA256(secret, body)): the `X-Shopify-Hmac-Sha256` header.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC-SHA256 takes keys of any length; `new_from_slice` only fails for fixed-size MACs.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// A random UUID (version 4), as Shopify's webhook, event and job ids are.
pub fn uuid_v4() -> String {
    let bits = rand::random::<u128>() & !(0xF000 << 64) & !(0xC << 60);
    let bits = bits | (0x4000 << 64) | (0x8 << 60);
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `2026-01-15T10:00:00.123Z`.
fn now_iso8601() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = timestamp::format(now.as_secs() as i64);
    let whole = seconds.trim_end_matches('Z');
    format!("{whole}.{:03}Z", now.subsec_millis())
}

#[cfg(test)]
mod tests;
