//! The webhook emitter (reference §9): an app-level address (Partner Center's, set by
//! `subscribe_webhooks`) and per-shop addresses per event type (the Event API, §9.1), the §9.4
//! envelope signed in `Authorization` as hex HMAC-SHA256(app_secret, app_key + body) (§9.3),
//! a 3 s answer window, and retries at +2 min, +30 min, +3 h, +12 h (§9.2).
//!
//! Choices of ours: only `http://` addresses are served (the sandbox speaks to local receivers;
//! the real API wants HTTPS on a domain without a port); the retry waits scale with a
//! configurable base (2 min gives the real schedule); a 401 answer counts as answered and is not
//! retried, as the reference allows it for signature failures. Deliveries go over raw TCP, as
//! in the Shopify sandbox's emitter, since the sandbox has no HTTP client.

use super::envelope::{ApiError, code, unix_now};
use super::orders::invalid;
use super::product_body;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A receiver must answer within 3 s (§9.2).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);
/// The real schedule: 4 retries at these multiples of 2 minutes.
const DEFAULT_RETRIES: u32 = 4;
const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(120);
const SCHEDULE: [u32; 4] = [1, 15, 90, 360];
/// Event API addresses are at most 255 characters (§9.1).
const MAX_ADDRESS: usize = 255;

/// The `event_type` names of the numeric types the sandbox emits (§9.5).
const EVENT_TYPES: [(u32, &str); 6] = [
    (1, "ORDER_STATUS_CHANGE"),
    (5, "PRODUCT_STATUS_CHANGE"),
    (11, "CANCELLATION_STATUS_CHANGE"),
    (12, "RETURN_STATUS_CHANGE"),
    (15, "PRODUCT_INFORMATION_CHANGE"),
    (37, "PRODUCT_AUDIT_STATUS_CHANGE"),
];

/// One notification, before it is addressed.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub kind: u32,
    pub shop_id: String,
    pub data: Value,
    pub timestamp: i64,
}

impl Event {
    pub fn new(kind: u32, shop_id: &str, data: Value, timestamp: i64) -> Event {
        Event { kind, shop_id: shop_id.to_owned(), data, timestamp }
    }
}

/// hex(HMAC-SHA256(app_secret, app_key + body)): the `Authorization` header (§9.3).
pub fn webhook_signature(app_key: &str, app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(app_key.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    raw: String,
    authority: String,
    path: String,
}

impl Address {
    fn parse(address: &str) -> Result<Address, String> {
        let target = crate::http_post::HttpAddress::parse(address)?;
        Ok(Address { raw: address.trim().to_owned(), authority: target.authority, path: target.path })
    }
}

#[derive(Debug, Clone)]
struct ShopHook {
    address: Address,
    create_time: i64,
    update_time: i64,
}

#[derive(Debug)]
struct Config {
    app_address: Option<Address>,
    /// (shop id, event type name) -> address.
    shop_hooks: BTreeMap<(String, String), ShopHook>,
    retries: u32,
    retry_base: Duration,
}

#[derive(Debug)]
struct Shared {
    config: Mutex<Config>,
    delivered: AtomicU64,
    attempts: AtomicU64,
    in_flight: watch::Sender<usize>,
}

impl Shared {
    fn config(&self) -> MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Addresses and deliveries in flight; dropping it aborts them.
#[derive(Debug)]
pub(crate) struct Emitter {
    shared: Arc<Shared>,
    tasks: Mutex<JoinSet<()>>,
    runtime: Handle,
    app_key: String,
    app_secret: String,
}

impl Emitter {
    pub fn new(runtime: Handle, app_key: String, app_secret: String) -> Emitter {
        let (in_flight, _) = watch::channel(0);
        Emitter {
            shared: Arc::new(Shared {
                config: Mutex::new(Config {
                    app_address: None,
                    shop_hooks: BTreeMap::new(),
                    retries: DEFAULT_RETRIES,
                    retry_base: DEFAULT_RETRY_BASE,
                }),
                delivered: AtomicU64::new(0),
                attempts: AtomicU64::new(0),
                in_flight,
            }),
            tasks: Mutex::new(JoinSet::new()),
            runtime,
            app_key,
            app_secret,
        }
    }

    /// Sets the app-level address every event goes to (unless a shop set its own).
    pub fn subscribe(&self, address: &str) -> Result<(), String> {
        self.shared.config().app_address = Some(Address::parse(address)?);
        Ok(())
    }

    /// Whether any event has somewhere to go (the app's address or a shop's).
    pub fn has_address(&self) -> bool {
        let config = self.shared.config();
        config.app_address.is_some() || !config.shop_hooks.is_empty()
    }

    /// Retries after a failed delivery and the base of their waits.
    pub fn retry(&self) -> (u32, Duration) {
        let config = self.shared.config();
        (config.retries, config.retry_base)
    }

    pub fn set_retry(&self, retries: u32, base: Duration) {
        let mut config = self.shared.config();
        config.retries = retries;
        config.retry_base = base;
    }

    /// Deliveries answered 200.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Attempts made, retries included.
    pub fn attempts(&self) -> u64 {
        self.shared.attempts.load(Ordering::Relaxed)
    }

    pub async fn settled(&self) {
        let mut in_flight = self.shared.in_flight.subscribe();
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    /// Sends each event to its shop's address for its type, else the app's.
    pub fn emit(&self, events: Vec<Event>) {
        for event in events {
            let name = EVENT_TYPES.iter().find(|(k, _)| *k == event.kind).map_or("", |(_, n)| *n);
            let (address, retries, base) = {
                let config = self.shared.config();
                let shop = config
                    .shop_hooks
                    .get(&(event.shop_id.clone(), name.to_owned()))
                    .map(|h| h.address.clone());
                (shop.or_else(|| config.app_address.clone()), config.retries, config.retry_base)
            };
            let Some(address) = address else { continue };
            let envelope = json!({
                "type": event.kind,
                "tts_notification_id": notification_id(),
                "shop_id": event.shop_id,
                "timestamp": event.timestamp,
                "data": event.data,
            });
            let body = match serde_json::to_vec(&envelope) {
                Ok(body) => body,
                Err(error) => {
                    tracing::error!(%error, "could not encode a webhook");
                    continue;
                }
            };
            let signature = webhook_signature(&self.app_key, &self.app_secret, &body);
            let guard = InFlight::start(Arc::clone(&self.shared));
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            while tasks.try_join_next().is_some() {}
            tasks.spawn_on(deliver(guard, address, signature, body, retries, base), &self.runtime);
        }
    }

    /// GET /event/{v}/webhooks for the shop.
    pub fn list(&self, shop_id: &str) -> Value {
        let config = self.shared.config();
        let hooks: Vec<Value> = config
            .shop_hooks
            .iter()
            .filter(|((shop, _), _)| shop == shop_id)
            .map(|((_, event_type), hook)| {
                json!({ "event_type": event_type, "address": hook.address.raw,
                        "create_time": hook.create_time, "update_time": hook.update_time })
            })
            .collect();
        json!({ "total_count": hooks.len(), "webhooks": hooks })
    }

    /// PUT /event/{v}/webhooks `{address, event_type}`.
    pub fn put(&self, shop_id: &str, body: &[u8]) -> Result<Value, ApiError> {
        let body: HookBody = product_body::decode(body)?;
        let event_type = known_type(body.event_type.as_deref())?;
        let raw = body.address.unwrap_or_default();
        if raw.len() > MAX_ADDRESS {
            return Err(invalid("address", format!("at most {MAX_ADDRESS} characters")));
        }
        let address = Address::parse(&raw).map_err(|e| invalid("address", e))?;
        let now = unix_now();
        let mut config = self.shared.config();
        let key = (shop_id.to_owned(), event_type.to_owned());
        let create_time = config.shop_hooks.get(&key).map_or(now, |h| h.create_time);
        config.shop_hooks.insert(key, ShopHook { address, create_time, update_time: now });
        Ok(Value::Null)
    }

    /// DELETE /event/{v}/webhooks `{event_type}`.
    pub fn delete(&self, shop_id: &str, body: &[u8]) -> Result<Value, ApiError> {
        let body: HookBody = product_body::decode(body)?;
        let event_type = known_type(body.event_type.as_deref())?;
        self.shared.config().shop_hooks.remove(&(shop_id.to_owned(), event_type.to_owned()));
        Ok(Value::Null)
    }
}

#[derive(Debug, Default, Deserialize)]
struct HookBody {
    address: Option<String>,
    event_type: Option<String>,
}

fn known_type(event_type: Option<&str>) -> Result<&'static str, ApiError> {
    let given = event_type.unwrap_or_default();
    EVENT_TYPES.iter().find(|(_, name)| *name == given).map(|(_, name)| *name).ok_or_else(|| {
        ApiError::new(code::INVALID_REQUEST, format!("Invalid parameter `event_type`: {given:?}"))
    })
}

/// Counts a delivery in flight until dropped, even when aborted.
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

/// The wait before retry `attempt` (1-based).
fn retry_wait(base: Duration, attempt: u32) -> Duration {
    let index = (attempt.saturating_sub(1) as usize).min(SCHEDULE.len() - 1);
    base.saturating_mul(SCHEDULE[index])
}

async fn deliver(
    guard: InFlight,
    address: Address,
    signature: String,
    body: Vec<u8>,
    retries: u32,
    base: Duration,
) {
    let shared = &guard.0;
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(retry_wait(base, attempt)).await;
        }
        shared.attempts.fetch_add(1, Ordering::Relaxed);
        match post(&address, &signature, &body).await {
            Ok(200) => {
                shared.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(401) => {
                tracing::debug!(attempt, "webhook receiver refused the signature");
                return;
            }
            Ok(status) => tracing::debug!(attempt, status, "webhook refused"),
            Err(error) => tracing::debug!(attempt, %error, "webhook not delivered"),
        }
    }
    tracing::warn!(address = %address.raw, attempts = retries + 1, "webhook delivery failed every attempt");
}

async fn post(address: &Address, signature: &str, body: &[u8]) -> Result<u16, String> {
    let headers =
        [("Content-Type", "application/json".to_string()), ("Authorization", signature.to_string())];
    crate::http_post::post(&address.authority, &address.path, &headers, body, ANSWER_TIMEOUT).await
}

/// A 19-digit id, like the real `tts_notification_id`.
fn notification_id() -> String {
    format!("73{:017}", rand::random::<u64>() % 10u64.pow(17))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_the_app_key_then_the_body() {
        let body = br#"{"type":1}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").expect("key");
        mac.update(b"key{\"type\":1}");
        assert_eq!(webhook_signature("key", "secret", body), hex::encode(mac.finalize().into_bytes()));
    }

    #[test]
    fn the_default_schedule_is_the_documented_one() {
        let waits: Vec<u64> = (1..=4).map(|a| retry_wait(DEFAULT_RETRY_BASE, a).as_secs()).collect();
        assert_eq!(waits, vec![120, 1800, 10_800, 43_200]);
    }
}
