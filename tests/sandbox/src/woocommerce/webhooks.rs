//! The sandbox store's webhooks, as `WC_Webhook::deliver` sends them (reference §8): one POST
//! per event and webhook, never retried, signed with base64(HMAC-SHA256(secret, body)) and
//! carrying the seven `X-WC-Webhook-*` headers; a success (2xx, 301, 302) resets the failure
//! count, and a failure once the count exceeds five disables the webhook silently. Saving an
//! active webhook first sends the unsigned ping, a form body `webhook_id=<n>`.
//!
//! Choices of ours: a failed ping is logged and the webhook kept (WooCommerce refuses to save
//! it); only `http://` delivery URLs are served; the delivery id is a hash of the webhook id
//! and the current second, as WooCommerce's is, so two events in one second share it.

use crate::http_post::HttpAddress as Address;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The product and order topics a webhook can follow here.
pub const TOPICS: [&str; 7] = [
    "product.created",
    "product.updated",
    "product.deleted",
    "order.created",
    "order.updated",
    "order.deleted",
    "order.restored",
];

/// Failures past this many in a row disable a webhook (`woocommerce_max_webhook_delivery_failures`).
pub const MAX_DELIVERY_FAILURES: u32 = 5;

/// WooCommerce allows 60 s; the sandbox's receivers are local, so less will do.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
const USER_AGENT: &str = "WooCommerce/9.8.0 Hookshot (WordPress/6.8.1)";

/// A webhook's status, as `GET /webhooks/{id}` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    Active,
    /// Paused by the admin.
    Paused,
    /// Disabled by delivery failures.
    Disabled,
}

#[derive(Debug, Clone)]
struct Webhook {
    id: u64,
    topic: String,
    address: Address,
    secret: String,
    status: WebhookStatus,
    failures: u32,
}

/// Webhooks and the deliveries in flight; dropping it aborts them.
pub struct Emitter {
    shared: Arc<Shared>,
    tasks: Mutex<JoinSet<()>>,
    runtime: Handle,
    /// The site URL, `X-WC-Webhook-Source`, known once the server listens.
    source: std::sync::OnceLock<String>,
}

struct Shared {
    webhooks: Mutex<Vec<Webhook>>,
    next_id: AtomicU64,
    delivered: AtomicU64,
    in_flight: watch::Sender<usize>,
}

impl Shared {
    fn webhooks(&self) -> MutexGuard<'_, Vec<Webhook>> {
        self.webhooks.lock().expect("webhook lock is never poisoned: no code panics while holding it")
    }

    /// Records one delivery's outcome as `WC_Webhook::failed_delivery` does.
    fn record(&self, id: u64, succeeded: bool) {
        let mut webhooks = self.webhooks();
        let Some(webhook) = webhooks.iter_mut().find(|w| w.id == id) else {
            return;
        };
        if succeeded {
            webhook.failures = 0;
            self.delivered.fetch_add(1, Ordering::Relaxed);
        } else if webhook.failures >= MAX_DELIVERY_FAILURES {
            webhook.failures += 1;
            webhook.status = WebhookStatus::Disabled;
            tracing::warn!(
                webhook = id,
                failures = webhook.failures,
                "webhook disabled after delivery failures"
            );
        } else {
            webhook.failures += 1;
        }
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

impl Emitter {
    pub fn new(runtime: Handle) -> Self {
        let (in_flight, _) = watch::channel(0);
        Emitter {
            shared: Arc::new(Shared {
                webhooks: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
                delivered: AtomicU64::new(0),
                in_flight,
            }),
            tasks: Mutex::new(JoinSet::new()),
            runtime,
            source: std::sync::OnceLock::new(),
        }
    }

    pub fn set_source(&self, site_url: String) {
        let _ = self.source.set(site_url);
    }

    /// Creates an active webhook and pings its URL; the reason when the topic or URL is refused.
    pub fn subscribe(&self, topic: &str, delivery_url: &str, secret: &str) -> Result<u64, String> {
        if !TOPICS.contains(&topic) {
            return Err(format!("unknown topic {topic:?} (one of {})", TOPICS.join(", ")));
        }
        let address = Address::parse(delivery_url)?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        self.shared.webhooks().push(Webhook {
            id,
            topic: topic.to_string(),
            address: address.clone(),
            secret: secret.to_string(),
            status: WebhookStatus::Active,
            failures: 0,
        });
        let headers = vec![
            ("User-Agent", USER_AGENT.to_string()),
            ("Content-Type", "application/x-www-form-urlencoded".to_string()),
        ];
        let body: Arc<[u8]> = format!("webhook_id={id}").into_bytes().into();
        self.spawn(async move {
            match post(&address, &headers, &body).await {
                Ok(200) => tracing::debug!(webhook = id, "webhook ping answered"),
                Ok(status) => tracing::warn!(webhook = id, status, "webhook ping not answered with 200"),
                Err(error) => tracing::warn!(webhook = id, %error, "webhook ping failed"),
            }
        });
        Ok(id)
    }

    pub fn status(&self, id: u64) -> Option<WebhookStatus> {
        self.shared.webhooks().iter().find(|w| w.id == id).map(|w| w.status)
    }

    pub fn set_status(&self, id: u64, status: WebhookStatus) -> bool {
        let mut webhooks = self.shared.webhooks();
        let Some(webhook) = webhooks.iter_mut().find(|w| w.id == id) else {
            return false;
        };
        webhook.status = status;
        if status == WebhookStatus::Active {
            webhook.failures = 0;
        }
        true
    }

    pub fn failure_count(&self, id: u64) -> Option<u32> {
        self.shared.webhooks().iter().find(|w| w.id == id).map(|w| w.failures)
    }

    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    pub async fn settled(&self) {
        let mut in_flight = self.shared.in_flight.subscribe();
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    /// Sends `payload` to every active webhook following `topic` (`product.updated`).
    pub fn emit(&self, topic: &str, payload: &serde_json::Value) {
        let targets: Vec<Webhook> = self
            .shared
            .webhooks()
            .iter()
            .filter(|w| w.topic == topic && w.status == WebhookStatus::Active)
            .cloned()
            .collect();
        if targets.is_empty() {
            return;
        }
        let body: Arc<[u8]> = match serde_json::to_vec(payload) {
            Ok(body) => body.into(),
            Err(error) => {
                tracing::error!(%error, topic, "could not encode a webhook payload");
                return;
            }
        };
        let (resource, event) = topic.split_once('.').unwrap_or((topic, ""));
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        for webhook in targets {
            let headers = vec![
                ("User-Agent", USER_AGENT.to_string()),
                ("Content-Type", "application/json".to_string()),
                (
                    "X-WC-Webhook-Source",
                    format!("{}/", self.source.get().map(String::as_str).unwrap_or_default()),
                ),
                ("X-WC-Webhook-Topic", topic.to_string()),
                ("X-WC-Webhook-Resource", resource.to_string()),
                ("X-WC-Webhook-Event", event.to_string()),
                ("X-WC-Webhook-Signature", sign(&webhook.secret, &body)),
                ("X-WC-Webhook-ID", webhook.id.to_string()),
                ("X-WC-Webhook-Delivery-ID", delivery_id(webhook.id, second)),
            ];
            let body = Arc::clone(&body);
            let topic = topic.to_string();
            let shared = Arc::clone(&self.shared);
            self.spawn(async move {
                let outcome = post(&webhook.address, &headers, &body).await;
                let succeeded = matches!(outcome, Ok(status) if (200..300).contains(&status) || status == 301 || status == 302);
                match outcome {
                    Ok(status) => tracing::debug!(webhook = webhook.id, topic, status, "webhook delivered"),
                    Err(error) => tracing::debug!(webhook = webhook.id, topic, %error, "webhook not delivered"),
                }
                shared.record(webhook.id, succeeded);
            });
        }
    }

    fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let guard = InFlight::start(Arc::clone(&self.shared));
        let mut tasks =
            self.tasks.lock().expect("webhook task lock is never poisoned: no code panics while holding it");
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(
            async move {
                work.await;
                drop(guard);
            },
            &self.runtime,
        );
    }
}

/// base64(HMAC-SHA256(secret, body)): `X-WC-Webhook-Signature`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC-SHA256 accepts keys of any length");
    mac.update(body);
    BASE64.encode(mac.finalize().into_bytes())
}

/// 32 hex digits from the webhook id and the second, like `wp_hash( $id . strtotime('now') )`.
fn delivery_id(webhook: u64, second: u64) -> String {
    let digest = Sha256::digest(format!("{webhook}{second}").as_bytes());
    hex::encode(&digest[..16])
}

/// POSTs `body` over HTTP/1.1 and returns the answer's status code.
async fn post(address: &Address, headers: &[(&'static str, String)], body: &[u8]) -> Result<u16, String> {
    crate::http_post::post(&address.authority, &address.path, headers, body, DELIVERY_TIMEOUT).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_get_a_default_port_and_path() {
        let a = Address::parse("http://localhost/hooks").expect("valid");
        assert_eq!(a, Address { authority: "localhost:80".into(), path: "/hooks".into() });
        let b = Address::parse("http://127.0.0.1:9000").expect("valid");
        assert_eq!(b.path, "/");
        assert!(Address::parse("https://example.com/").is_err());
    }

    #[test]
    fn delivery_ids_collide_within_one_second() {
        assert_eq!(delivery_id(3, 1_000), delivery_id(3, 1_000));
        assert_ne!(delivery_id(3, 1_000), delivery_id(3, 1_001));
        assert_eq!(delivery_id(3, 1_000).len(), 32);
    }
}
