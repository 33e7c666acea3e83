//! The WooCommerce sandbox over real HTTP, as a client sees it.

use super::*;
use crate::catalog::{demo_catalog, generated_catalog};
use axum::http::HeaderMap;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::collections::HashSet;

const KEY: &str = "ck_sandbox_key";
const SECRET: &str = "cs_sandbox_secret";

fn config(catalog: Vec<CatalogProduct>) -> WooConfig {
    WooConfig {
        store_name: "Crossdock Woo Outfitters".into(),
        currency: "USD".into(),
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
        catalog,
    }
}

fn api(woo: &WooSandbox, path: &str) -> String {
    format!("{}/wp-json/wc/v3{path}", woo.base_url())
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let response =
        reqwest::Client::new().get(url).basic_auth(KEY, Some(SECRET)).send().await.expect("answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.expect("JSON body"))
}

async fn put(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .put(url)
        .basic_auth(KEY, Some(SECRET))
        .json(&body)
        .send()
        .await
        .expect("answers");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(KEY, Some(SECRET))
        .json(&body)
        .send()
        .await
        .expect("answers");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn paging_reports_totals_and_links_and_returns_every_product_once() {
    let woo = WooSandbox::start(config(generated_catalog(23, 1, 7))).await.expect("starts");
    let mut seen = Vec::new();
    let mut url = api(&woo, "/products?per_page=5&orderby=id&order=asc");
    let mut pages = 0;
    loop {
        let (status, headers, body) = get(&url).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        assert_eq!(header(&headers, "x-wp-total"), "23");
        assert_eq!(header(&headers, "x-wp-totalpages"), "5");
        seen.extend(body.as_array().expect("a list").iter().map(|p| p["id"].as_u64().expect("id")));
        let link = header(&headers, "link").to_string();
        assert_eq!(link.contains("rel=\"prev\""), pages > 1, "{link}");
        let Some(next) = link.split(", ").find(|l| l.ends_with("rel=\"next\"")) else {
            break;
        };
        url = next.trim_start_matches('<').split('>').next().expect("a URL in <>").to_string();
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 23);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "orderby=id&order=asc is ascending");

    let (status, _, body) = get(&api(&woo, "/products?per_page=101")).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "rest_invalid_param");
    assert_eq!(body["data"]["status"], 400);
    woo.stop().await;
}

#[tokio::test]
async fn variable_products_list_their_variations_with_string_prices() {
    let woo = WooSandbox::start(config(generated_catalog(2, 3, 11))).await.expect("starts");
    let (_, _, list) = get(&api(&woo, "/products?orderby=id&order=asc")).await;
    let product = &list[0];
    assert_eq!(product["type"], "variable");
    assert_eq!(product["status"], "publish");
    let variation_ids = product["variations"].as_array().expect("variation ids");
    assert_eq!(variation_ids.len(), 3);
    assert!(product["attributes"].as_array().expect("attributes").iter().any(|a| a["variation"] == true));
    assert!(product["date_modified_gmt"].as_str().is_some_and(|d| d.len() == 19));

    let id = product["id"].as_u64().expect("id");
    let (status, headers, variations) = get(&api(&woo, &format!("/products/{id}/variations"))).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-wp-total"), "3");
    let first = &variations[0];
    assert_eq!(first["sku"], "GEN-000000-00");
    assert!(first["price"].is_string() && first["regular_price"].is_string());
    assert!(first["stock_quantity"].is_i64());
    assert_eq!(first["attributes"][0]["name"], "Size");
    let vid = first["id"].as_u64().expect("id");
    let (status, _, one) = get(&api(&woo, &format!("/products/{id}/variations/{vid}"))).await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], first["id"]);

    let demo = WooSandbox::start(config(demo_catalog())).await.expect("starts");
    let (_, _, simple) = get(&api(&demo, "/products?per_page=100")).await;
    let simple =
        simple.as_array().expect("list").iter().find(|p| p["type"] == "simple").expect("a simple product");
    assert!(simple["sku"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(simple["variations"], json!([]));
    woo.stop().await;
    demo.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_refused_with_woocommerce_errors() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 1))).await.expect("starts");
    let client = reqwest::Client::new();
    let wrong_key = client
        .get(api(&woo, "/products"))
        .basic_auth("ck_wrong", Some(SECRET))
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong_key.status().as_u16(), 401);
    let body: Value = wrong_key.json().await.expect("JSON");
    assert_eq!(body["code"], "woocommerce_rest_authentication_error");
    assert_eq!(body["data"]["status"], 401);

    let anonymous: Value =
        client.get(api(&woo, "/products")).send().await.expect("answers").json().await.expect("JSON");
    assert_eq!(anonymous["code"], "woocommerce_rest_cannot_view");

    let by_query = client
        .get(api(&woo, &format!("/products?consumer_key={KEY}&consumer_secret={SECRET}")))
        .send()
        .await
        .expect("answers");
    assert_eq!(by_query.status().as_u16(), 200, "the query-string fallback works");
    woo.stop().await;
}

#[tokio::test]
async fn a_put_of_stock_quantity_changes_the_stock() {
    let woo = WooSandbox::start(config(generated_catalog(3, 1, 2))).await.expect("starts");
    let id = woo.product_id(&first_slug(&woo)).expect("a product");
    let (status, body) =
        put(&api(&woo, &format!("/products/{id}")), json!({"stock_quantity": 42, "name": "Renamed"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stock_quantity"], 42);
    assert_eq!(body["name"], "Renamed");
    let sku = body["sku"].as_str().expect("sku").to_string();
    assert_eq!(woo.stock(&sku), Some(42));
    let (_, _, read) = get(&api(&woo, &format!("/products/{id}"))).await;
    assert_eq!(read["stock_quantity"], 42);

    let (status, body) = put(&api(&woo, "/products/999999"), json!({"stock_quantity": 1})).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "woocommerce_rest_product_invalid_id");
    woo.stop().await;
}

#[tokio::test]
async fn paid_orders_reduce_stock_once_and_cancelling_restores_it() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 3))).await.expect("starts");
    let before = woo.stock("GEN-000000-01").expect("stock");
    let (status, order) = post(
        &api(&woo, "/orders"),
        json!({"set_paid": true, "line_items": [{"sku": "GEN-000000-01", "quantity": 2}],
               "meta_data": [{"key": "tiktok_order_id", "value": "576000000000000001"}]}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "processing");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2));
    let id = order["id"].as_u64().expect("id");
    let (_, completed) = put(&api(&woo, &format!("/orders/{id}")), json!({"status": "completed"})).await;
    assert_eq!(completed["status"], "completed");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before - 2), "reduction is idempotent");
    let (_, cancelled) = put(&api(&woo, &format!("/orders/{id}")), json!({"status": "cancelled"})).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(woo.stock("GEN-000000-01"), Some(before));

    let (status, note) =
        post(&api(&woo, &format!("/orders/{id}/notes")), json!({"note": "Shipped", "customer_note": false}))
            .await;
    assert_eq!(status, 201);
    assert_eq!(note["note"], "Shipped");
    let (_, _, notes) = get(&api(&woo, &format!("/orders/{id}/notes"))).await;
    assert_eq!(notes.as_array().map(Vec::len), Some(3), "two stock notes and ours: {notes}");
    let (_, headers, orders) = get(&api(&woo, "/orders")).await;
    assert_eq!(header(&headers, "x-wp-total"), "1");
    assert_eq!(orders[0]["meta_data"][0]["value"], "576000000000000001");
    woo.stop().await;
}

#[tokio::test]
async fn the_currency_and_store_name_are_readable() {
    let woo = WooSandbox::start(config(Vec::new())).await.expect("starts");
    let (_, _, setting) = get(&api(&woo, "/settings/general/woocommerce_currency")).await;
    assert_eq!(setting["value"], "USD");
    let index: Value = reqwest::get(format!("{}/wp-json/", woo.base_url()))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(index["name"], "Crossdock Woo Outfitters");
    woo.stop().await;
}

#[tokio::test]
async fn chaos_is_deterministic_for_a_seed() {
    let woo = WooSandbox::start(config(generated_catalog(2, 1, 1))).await.expect("starts");
    let run = async |woo: &WooSandbox| {
        let mut statuses = Vec::new();
        for _ in 0..20 {
            let response = reqwest::Client::new()
                .get(api(woo, "/products"))
                .basic_auth(KEY, Some(SECRET))
                .send()
                .await
                .expect("answers");
            let status = response.status().as_u16();
            let parses = response.json::<Value>().await.is_ok();
            statuses.push((status, parses));
        }
        statuses
    };
    woo.set_chaos(Chaos { error_rate: 0.3, malformed_rate: 0.3, seed: 9, ..Chaos::default() });
    let first = run(&woo).await;
    assert!(first.iter().any(|(s, _)| *s == 500));
    assert!(first.iter().any(|(s, parses)| *s == 200 && !parses));
    assert!(first.iter().any(|(s, parses)| *s == 200 && *parses));
    woo.stop().await;
    let again = WooSandbox::start(config(generated_catalog(2, 1, 1))).await.expect("starts");
    again.set_chaos(Chaos { error_rate: 0.3, malformed_rate: 0.3, seed: 9, ..Chaos::default() });
    assert_eq!(run(&again).await, first);
    again.stop().await;
}

/// Deliveries a receiver got: headers and raw body.
type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A webhook receiver that records deliveries and answers `status`.
struct Receiver {
    server: ServerHandle,
    seen: Seen,
}

async fn receiver(status: u16) -> Receiver {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let record = Arc::clone(&record);
            async move {
                record.lock().expect("not poisoned").push((headers, body.to_vec()));
                StatusCode::from_u16(status).expect("a valid status")
            }
        }),
    );
    Receiver { server: ServerHandle::start(app, 0).await.expect("binds"), seen }
}

#[tokio::test]
async fn webhooks_are_signed_and_carry_the_woocommerce_headers() {
    let woo = WooSandbox::start(config(generated_catalog(2, 1, 4))).await.expect("starts");
    let hooks = receiver(200).await;
    let url = format!("{}/hooks", hooks.server.base_url());
    let id = woo.subscribe_webhook("product.updated", &url, "whsec").expect("subscribed");
    woo.wait_for_webhooks().await;
    assert!(woo.set_stock("GEN-000001-00", 5));
    woo.wait_for_webhooks().await;
    let seen = hooks.seen.lock().expect("not poisoned").clone();
    assert_eq!(seen.len(), 2, "the ping, then the update");
    let (ping_headers, ping) = &seen[0];
    assert_eq!(ping.as_slice(), format!("webhook_id={id}").as_bytes());
    assert!(ping_headers.get("x-wc-webhook-signature").is_none(), "the ping is unsigned");

    let (headers, body) = &seen[1];
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec").expect("any key length");
    mac.update(body);
    let signature = base64::engine::general_purpose::STANDARD
        .decode(value("x-wc-webhook-signature"))
        .expect("base64 signature");
    mac.verify_slice(&signature).expect("the signature matches the body");
    assert_eq!(value("x-wc-webhook-topic"), "product.updated");
    assert_eq!(value("x-wc-webhook-resource"), "product");
    assert_eq!(value("x-wc-webhook-event"), "updated");
    assert_eq!(value("x-wc-webhook-id"), id.to_string());
    assert_eq!(value("x-wc-webhook-delivery-id").len(), 32);
    assert_eq!(value("x-wc-webhook-source"), format!("{}/", woo.base_url()));
    let payload: Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(payload["sku"], "GEN-000001-00");
    assert_eq!(payload["stock_quantity"], 5);
    assert_eq!(woo.webhook_deliveries(), 1);

    let deleted = receiver(200).await;
    woo.subscribe_webhook("product.deleted", &format!("{}/hooks", deleted.server.base_url()), "whsec");
    assert!(woo.delete_product(&first_slug(&woo)));
    woo.wait_for_webhooks().await;
    let seen = deleted.seen.lock().expect("not poisoned").clone();
    let payload: Value = serde_json::from_slice(&seen[1].1).expect("JSON body");
    assert_eq!(payload.as_object().map(|o| o.len()), Some(1), "a deleted event carries only the id");
    woo.stop().await;
}

fn first_slug(woo: &WooSandbox) -> String {
    woo.state.store().products.values().next().map(|p| p.slug.clone()).unwrap_or_default()
}

#[tokio::test]
async fn a_webhook_is_disabled_once_failures_exceed_five_without_retries() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 4))).await.expect("starts");
    let hooks = receiver(500).await;
    let id = woo
        .subscribe_webhook("product.updated", &format!("{}/hooks", hooks.server.base_url()), "whsec")
        .expect("subscribed");
    woo.wait_for_webhooks().await;
    for n in 1..=MAX_DELIVERY_FAILURES {
        woo.set_stock("GEN-000000-00", i64::from(n));
        woo.wait_for_webhooks().await;
        assert_eq!(woo.webhook_failure_count(id), Some(n));
        assert_eq!(woo.webhook_status(id), Some(WebhookStatus::Active));
    }
    woo.set_stock("GEN-000000-00", 99);
    woo.wait_for_webhooks().await;
    assert_eq!(woo.webhook_status(id), Some(WebhookStatus::Disabled));
    woo.set_stock("GEN-000000-00", 100);
    woo.wait_for_webhooks().await;
    let attempts = hooks.seen.lock().expect("not poisoned").len();
    assert_eq!(
        attempts,
        1 + MAX_DELIVERY_FAILURES as usize + 1,
        "the ping and one attempt per event, none after"
    );
    woo.stop().await;
}

#[tokio::test]
async fn chaos_is_set_over_http_and_control_calls_are_never_throttled() {
    let woo = WooSandbox::start(config(generated_catalog(2, 1, 1))).await.expect("starts");
    let client = reqwest::Client::new();
    let control = format!("{}/_sandbox/chaos", woo.base_url());
    let refused = client.put(&control).json(&json!({"throttle_rate": 0.7, "error_rate": 0.7})).send().await;
    let refused = refused.expect("answers");
    assert_eq!(refused.status().as_u16(), 422);
    let reason: Value = refused.json().await.expect("json");
    assert!(reason["error"].as_str().expect("a reason").contains("add up to"), "{reason}");

    let set = client.put(&control).json(&json!({"throttle_rate": 1.0})).send().await.expect("answers");
    assert_eq!(set.status().as_u16(), 200);
    let throttled =
        client.get(api(&woo, "/products")).basic_auth(KEY, Some(SECRET)).send().await.expect("answers");
    assert_eq!(throttled.status().as_u16(), 429);
    assert_eq!(throttled.headers()["retry-after"], "1");
    let knobs: Value = client.get(&control).send().await.expect("answers").json().await.expect("json");
    assert_eq!(knobs["throttle_rate"], 1.0);

    client.put(&control).json(&json!({})).send().await.expect("answers");
    let served =
        client.get(api(&woo, "/products")).basic_auth(KEY, Some(SECRET)).send().await.expect("answers");
    assert_eq!(served.status().as_u16(), 200);
    woo.stop().await;
}

mod batch;
mod control;
mod orders;
mod refunds;
