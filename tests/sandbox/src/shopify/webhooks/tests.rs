//! Webhooks over real HTTP: a small axum receiver subscribed to the sandbox shop.

use super::*;
use crate::catalog::{CatalogProduct, ProductStatus, demo_catalog};
use crate::server::ServerHandle;
use crate::shopify::{ShopifyConfig, ShopifySandbox};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post as route_post;
use serde_json::{Value, json};
use std::sync::atomic::AtomicUsize;
use tokio::sync::mpsc;

const SECRET: &str = "shpss_sandbox_webhook_secret";
const TOKEN: &str = "shpat_sandbox_token";

/// One request the receiver got.
#[derive(Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

struct Receiver {
    server: ServerHandle,
    requests: mpsc::UnboundedReceiver<Received>,
}

#[derive(Clone)]
struct ReceiverState {
    requests: mpsc::UnboundedSender<Received>,
    /// The first this many requests are answered 500.
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    /// A receiver at `/webhooks` that answers 500 to its first `failures` requests, then 200.
    async fn start(failures: usize) -> Receiver {
        let (tx, requests) = mpsc::unbounded_channel();
        let state = ReceiverState { requests: tx, failures: Arc::new(AtomicUsize::new(failures)) };
        let router = axum::Router::new().route("/webhooks", route_post(receive)).with_state(state);
        let server = ServerHandle::start(router, 0).await.expect("receiver starts");
        Receiver { server, requests }
    }

    fn address(&self) -> String {
        format!("{}/webhooks", self.server.base_url())
    }

    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.requests.recv())
            .await
            .expect("a delivery within 10 s")
            .expect("the receiver is running")
    }
}

async fn receive(State(state): State<ReceiverState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let fail = state.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let _ = state.requests.send(Received { headers, body });
    if fail { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
}

async fn shop() -> ShopifySandbox {
    ShopifySandbox::start(ShopifyConfig {
        shop_name: "Crossdock Demo Outfitters".into(),
        currency: "USD".into(),
        access_token: TOKEN.into(),
        catalog: demo_catalog(),
    })
    .await
    .expect("starts")
}

async fn graphql(shop: &ShopifySandbox, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/admin/api/{}/graphql.json", shop.base_url(), shop.api_version()))
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("sandbox answers")
        .json()
        .await
        .expect("JSON body")
}

#[tokio::test]
async fn a_subscribed_receiver_gets_a_correctly_signed_delivery() {
    let shop = shop().await;
    let mut receiver = Receiver::start(0).await;
    shop.subscribe_webhooks(&receiver.address(), SECRET);
    let catalog = demo_catalog();
    let sku = catalog[0].variants[0].sku.clone();
    assert!(shop.set_variant_stock(&sku, 3));

    let delivery = receiver.next().await;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    mac.update(&delivery.body);
    let signature = BASE64.decode(delivery.header("x-shopify-hmac-sha256")).expect("base64 signature");
    mac.verify_slice(&signature).expect("signed over the raw body with the subscription's secret");
    assert_eq!(delivery.header("x-shopify-topic"), "inventory_levels/update");
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("x-shopify-shop-domain"), "crossdock-demo-outfitters.myshopify.com");
    assert_eq!(delivery.header("x-shopify-api-version"), "2026-01");
    for id in ["x-shopify-webhook-id", "x-shopify-event-id"] {
        assert_eq!(delivery.header(id).len(), 36, "{id} is a UUID");
    }
    assert!(
        timestamp::parse(delivery.header("x-shopify-triggered-at")).is_some(),
        "{}",
        delivery.header("x-shopify-triggered-at")
    );

    let level = delivery.json();
    assert_eq!(level["available"], 3);
    assert_eq!(level["location_id"], crate::shopify::data::PRIMARY_LOCATION_ID);
    let item = level["inventory_item_id"].as_u64().expect("numeric item id");
    // The item resolves to its product, as the connector asks.
    let body = graphql(
        &shop,
        "query($id: ID!) { inventoryItem(id: $id) { id variant { sku product { id handle } } } }",
        json!({"id": format!("gid://shopify/InventoryItem/{item}")}),
    )
    .await;
    let resolved = &body["data"]["inventoryItem"];
    assert_eq!(resolved["variant"]["sku"], sku.as_str());
    assert_eq!(resolved["variant"]["product"]["handle"], catalog[0].handle.as_str());

    shop.wait_for_webhooks().await;
    assert_eq!(shop.webhook_deliveries(), 1);
    shop.stop().await;
}

#[tokio::test]
async fn a_delivery_answered_500_is_retried_with_the_same_ids_and_body() {
    let shop = shop().await;
    let mut receiver = Receiver::start(1).await;
    shop.subscribe_webhooks(&receiver.address(), SECRET);
    shop.set_webhook_retry(3, Duration::from_millis(10));
    let handle = demo_catalog()[1].handle.clone();
    assert!(shop.set_product_title(&handle, "Renamed Tent"));

    let refused = receiver.next().await;
    let retried = receiver.next().await;
    assert_eq!(refused.body, retried.body, "a retry carries the original payload");
    for header in ["x-shopify-event-id", "x-shopify-webhook-id", "x-shopify-hmac-sha256"] {
        assert_eq!(refused.header(header), retried.header(header), "{header}");
    }
    let product = retried.json();
    assert_eq!(retried.header("x-shopify-topic"), "products/update");
    assert_eq!(product["title"], "Renamed Tent");
    assert_eq!(product["handle"], handle.as_str());
    assert!(
        product["admin_graphql_api_id"]
            .as_str()
            .is_some_and(|g| g == format!("gid://shopify/Product/{}", product["id"]))
    );

    shop.wait_for_webhooks().await;
    assert_eq!(shop.webhook_deliveries(), 1);
    assert_eq!(shop.webhook_subscription_count(), 1);
    shop.stop().await;
}

#[tokio::test]
async fn a_delivery_failing_every_retry_deletes_the_subscription() {
    let shop = shop().await;
    let mut receiver = Receiver::start(usize::MAX).await;
    shop.subscribe_webhooks(&receiver.address(), SECRET);
    shop.set_webhook_retry(2, Duration::from_millis(1));
    assert!(shop.set_product_title(&demo_catalog()[0].handle, "Gone Wrong"));
    for _ in 0..3 {
        receiver.next().await;
    }
    shop.wait_for_webhooks().await;
    assert_eq!(shop.webhook_deliveries(), 0);
    assert_eq!(shop.webhook_subscription_count(), 0);
    assert!(receiver.requests.try_recv().is_err(), "one attempt and two retries");
    shop.stop().await;
}

#[tokio::test]
async fn changes_while_paused_are_never_delivered() {
    let shop = shop().await;
    let mut receiver = Receiver::start(0).await;
    shop.subscribe_webhooks(&receiver.address(), SECRET);
    let catalog = demo_catalog();
    shop.set_webhooks_paused(true);
    assert!(shop.set_product_title(&catalog[0].handle, "Missed"));
    shop.set_webhooks_paused(false);
    assert!(shop.set_product_title(&catalog[1].handle, "Seen"));

    shop.wait_for_webhooks().await;
    assert_eq!(receiver.next().await.json()["title"], "Seen");
    assert!(receiver.requests.try_recv().is_err(), "the paused change was dropped");
    assert_eq!(shop.webhook_deliveries(), 1);
    shop.stop().await;
}

#[tokio::test]
async fn adding_archiving_and_deleting_a_product_send_their_topics() {
    let shop = shop().await;
    let mut receiver = Receiver::start(0).await;
    shop.subscribe_webhooks(&receiver.address(), SECRET);
    let mut product: CatalogProduct = demo_catalog()[0].clone();
    let taken_handle = product.handle.clone();
    product.title = "Brand New".into();

    let gid = shop.add_product(product);
    let created = receiver.next().await;
    assert_eq!(created.header("x-shopify-topic"), "products/create");
    let json = created.json();
    assert_eq!(json["admin_graphql_api_id"], gid.as_str());
    assert_eq!(json["title"], "Brand New");
    let handle = json["handle"].as_str().expect("handle").to_string();
    assert_eq!(handle, format!("{taken_handle}-1"), "handles stay unique");
    assert_eq!(json["status"], "active");
    let body = graphql(&shop, "query($id: ID!) { product(id: $id) { title } }", json!({"id": gid})).await;
    assert_eq!(body["data"]["product"]["title"], "Brand New");

    assert!(shop.set_product_status(&handle, ProductStatus::Archived));
    let archived = receiver.next().await;
    assert_eq!(archived.header("x-shopify-topic"), "products/update");
    assert_eq!(archived.json()["status"], "archived");

    assert!(shop.delete_product(&handle));
    assert!(!shop.delete_product(&handle));
    let deleted = receiver.next().await;
    assert_eq!(deleted.header("x-shopify-topic"), "products/delete");
    assert_eq!(deleted.json(), json!({"id": json["id"]}));
    let body = graphql(&shop, "query($id: ID!) { product(id: $id) { title } }", json!({"id": gid})).await;
    assert_eq!(body["data"]["product"], Value::Null);

    shop.wait_for_webhooks().await;
    assert_eq!(shop.webhook_deliveries(), 3);
    shop.stop().await;
}

#[test]
fn addresses_must_be_plain_http() {
    assert_eq!(
        Address::parse("http://127.0.0.1:8080/hooks/shopify?c=1"),
        Ok(Address { authority: "127.0.0.1:8080".into(), path: "/hooks/shopify?c=1".into() })
    );
    assert_eq!(
        Address::parse("http://localhost").map(|a| (a.authority, a.path)),
        Ok(("localhost:80".into(), "/".into()))
    );
    assert!(Address::parse("https://example.com/hooks").is_err());
    assert!(Address::parse("http:///hooks").is_err());
    assert!(Address::parse("http://host/a b").is_err());
}

#[test]
fn retries_back_off_exponentially_and_ids_are_uuids() {
    let base = Duration::from_millis(100);
    assert_eq!(backoff(base, 1), base);
    assert_eq!(backoff(base, 4), Duration::from_millis(800));
    let id = uuid_v4();
    assert_eq!(id.len(), 36);
    assert_eq!(id.as_bytes()[14], b'4', "{id}");
    assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{id}");
    assert_ne!(uuid_v4(), id);
    assert_eq!(crate::http_post::status_code(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
    assert!(crate::http_post::status_code(b"SSH-2.0\r\n").is_err());
}
