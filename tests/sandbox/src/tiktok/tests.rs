//! The TikTok sandbox over real HTTP: request checks, the review flow, idempotency, updates.

use super::*;
use reqwest::Method;
use serde_json::{Value, json};

const KEY: &str = "test-app-key";
const SECRET: &str = "test-app-secret";

async fn sandbox(review: ReviewPolicy) -> TikTokSandbox {
    let config = TikTokConfig {
        app_key: KEY.into(),
        app_secret: SECRET.into(),
        shops: vec![ShopSpec::new("US shop", "US", "USD"), ShopSpec::new("UK shop", "GB", "GBP")],
        review,
    };
    TikTokSandbox::start(config).await.expect("sandbox starts")
}

/// A signing client, as a connector would be.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(sandbox: &TikTokSandbox) -> Self {
        // No pooled connections: their idle timers would let a paused clock jump ahead.
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
        Client { http, base: sandbox.base_url(), token: sandbox.access_token() }
    }

    /// A call signed over `query` (plus app_key and timestamp unless given) and `body`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !query.iter().any(|(k, _)| *k == "app_key") {
            pairs.push(("app_key".into(), KEY.into()));
        }
        if !query.iter().any(|(k, _)| *k == "timestamp") {
            pairs.push(("timestamp".into(), envelope::unix_now().to_string()));
        }
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json")).unwrap_or_default();
        if !query.iter().any(|(k, _)| *k == "sign") {
            pairs.push(("sign".into(), sign(SECRET, path, &pairs, &bytes)));
        }
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .query(&pairs)
            .header("x-tts-access-token", &self.token)
            .header("content-type", "application/json");
        if body.is_some() {
            request = request.body(bytes);
        }
        let response = request.send().await.expect("sandbox answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json envelope"))
    }

    async fn shop_call(&self, method: Method, path: &str, cipher: &str, body: Option<&Value>) -> Value {
        let (_, envelope) = self.call(method, path, &[("shop_cipher", cipher)], body).await;
        envelope
    }
}

fn product_body(shop: &SandboxShop, key: &str) -> Value {
    json!({
        "title": "Organic cotton tee",
        "description": "<p>Soft.</p>",
        "category_id": "601101",
        "main_images": [{ "uri": "https://example.com/tee.jpg" }],
        "package_weight": { "value": "0.3", "unit": "KILOGRAM" },
        "external_product_id": "gid://shopify/Product/1",
        "idempotency_key": key,
        "skus": [
            {
                "seller_sku": "TEE-S",
                "price": { "amount": "19.99", "currency": shop.currency },
                "inventory": [{ "warehouse_id": shop.warehouse_id, "quantity": 5 }],
                "sales_attributes": [{ "name": "Size", "value_name": "S" }],
            },
            {
                "seller_sku": "TEE-M",
                "price": { "amount": "21.00", "currency": shop.currency },
                "inventory": [{ "warehouse_id": shop.warehouse_id, "quantity": 0 }],
                "sales_attributes": [{ "name": "Size", "value_name": "M" }],
            },
        ],
    })
}

async fn create(client: &Client, shop: &SandboxShop, key: &str) -> Value {
    let envelope = client
        .shop_call(Method::POST, "/product/202309/products", &shop.cipher, Some(&product_body(shop, key)))
        .await;
    assert_eq!(envelope["code"], 0, "{envelope}");
    envelope["data"].clone()
}

#[tokio::test]
async fn a_signed_call_lists_the_sellers_shops() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let (status, envelope) = client.call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!((status, envelope["code"].as_i64()), (200, Some(0)), "{envelope}");
    assert_eq!(envelope["message"], "Success");
    assert_eq!(envelope["request_id"].as_str().map(str::len), Some(34));
    let shops = envelope["data"]["shops"].as_array().expect("shops");
    assert_eq!(shops.len(), 2);
    assert_eq!(shops[0]["cipher"], sandbox.shops()[0].cipher.as_str());
    assert_eq!(shops[1]["region"], "GB");
    assert_eq!(shops[0]["seller_type"], "CROSS_BORDER");
    assert_eq!(sandbox.request_count(), 1);
}

#[tokio::test]
async fn a_wrong_signature_gets_http_401_and_106001() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let (status, envelope) =
        client.call(Method::GET, "/authorization/202309/shops", &[("sign", "deadbeef")], None).await;
    assert_eq!(status, 401);
    assert_eq!(envelope["code"], 106001);
    assert_eq!(envelope["data"], Value::Null);
}

#[tokio::test]
async fn a_stale_timestamp_gets_36009004() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let stale = (envelope::unix_now() - 400).to_string();
    let (_, envelope) =
        client.call(Method::GET, "/authorization/202309/shops", &[("timestamp", &stale)], None).await;
    assert_eq!(envelope["code"], 36009004);
    assert!(envelope["message"].as_str().unwrap_or_default().contains("timestamp"));
}

#[tokio::test]
async fn checks_refuse_bad_app_keys_tokens_and_ciphers_with_their_codes() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = &sandbox.shops()[0];

    let (_, missing) = client.call(Method::GET, "/product/202309/categories", &[], None).await;
    assert_eq!(missing["code"], 106013);
    let (_, unexpected) =
        client.call(Method::GET, "/authorization/202309/shops", &[("shop_cipher", &us.cipher)], None).await;
    assert_eq!(unexpected["code"], 36009004);
    let (_, foreign) = client
        .call(Method::GET, "/product/202309/categories", &[("shop_cipher", "ROW_someone_else")], None)
        .await;
    assert_eq!(foreign["code"], 101000);
    let (_, bad_key) =
        client.call(Method::GET, "/authorization/202309/shops", &[("app_key", "nope")], None).await;
    assert_eq!(bad_key["code"], 36009004);

    let stranger = Client { token: "TTP_not_a_token".into(), ..Client::new(&sandbox) };
    let (_, bad_token) = stranger.call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(bad_token["code"], 36009004);
    sandbox.expire_access_token();
    let (_, expired) = client.call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(expired["code"], 105002);
}

#[tokio::test]
async fn unknown_paths_and_versions_have_their_codes() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let (_, path) = client.call(Method::GET, "/product/202309/nothing", &[], None).await;
    assert_eq!(path["code"], 36009009);
    let (_, version) = client.call(Method::GET, "/authorization/2023x9/shops", &[], None).await;
    assert_eq!(version["code"], 36009014);
    let (_, newer) = client.call(Method::GET, "/authorization/202507/shops", &[], None).await;
    assert_eq!(newer["code"], 0);
}

#[tokio::test]
async fn warehouses_and_categories_are_served_per_shop() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = &sandbox.shops()[0];
    let warehouses = client.shop_call(Method::GET, "/logistics/202309/warehouses", &us.cipher, None).await;
    let sales: Vec<&Value> = warehouses["data"]["warehouses"]
        .as_array()
        .expect("warehouses")
        .iter()
        .filter(|w| w["type"] == "SALES_WAREHOUSE" && w["is_default"] == true)
        .collect();
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0]["id"], us.warehouse_id.as_str());
    let categories = client.shop_call(Method::GET, "/product/202309/categories", &us.cipher, None).await;
    let list = categories["data"]["categories"].as_array().expect("categories");
    assert!(list.iter().any(|c| c["id"] == "600001" && c["is_leaf"] == true && c["parent_id"] == "600000"));
}

#[tokio::test(start_paused = true)]
async fn a_created_product_is_pending_then_active_after_the_review_delay() {
    let delay = Duration::from_secs(600);
    let sandbox = sandbox(ReviewPolicy { delay, outcome: ReviewOutcome::Approve }).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let created = create(&client, &us, "key-1").await;
    let id = created["product_id"].as_str().expect("product id").to_owned();
    assert_eq!(id.len(), 19);
    assert!(id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(created["skus"].as_array().map(Vec::len), Some(2));

    let products = sandbox.products(&us.cipher);
    assert_eq!(products[0].status, "PENDING");
    assert_eq!(products[0].skus[1].quantity, 0);
    assert_eq!(products[0].skus[0].price.amount, Decimal::new(1999, 2));

    tokio::time::advance(delay).await;
    let got =
        client.shop_call(Method::GET, &format!("/product/202309/products/{id}"), &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "ACTIVATE", "{got}");
    assert_eq!(got["data"]["audit"]["status"], "APPROVED");
    assert_eq!(got["data"]["skus"][0]["price"]["sale_price"], "19.99");
    assert_eq!(got["data"]["external_product_id"], "gid://shopify/Product/1");
}

#[tokio::test(start_paused = true)]
async fn a_rejected_product_fails_with_the_reasons() {
    let reasons = vec!["Main image is blurry".to_owned()];
    let sandbox = sandbox(ReviewPolicy {
        delay: Duration::from_secs(60),
        outcome: ReviewOutcome::Reject(reasons.clone()),
    })
    .await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let id = create(&client, &us, "key-2").await["product_id"].as_str().expect("id").to_owned();
    tokio::time::advance(Duration::from_secs(60)).await;

    let got =
        client.shop_call(Method::GET, &format!("/product/202309/products/{id}"), &us.cipher, None).await;
    assert_eq!(got["data"]["status"], "FAILED");
    assert_eq!(got["data"]["audit_failed_reasons"][0]["reasons"][0], "Main image is blurry");
    assert_eq!(sandbox.products(&us.cipher)[0].audit_failed_reasons, reasons);
}

#[tokio::test]
async fn the_same_idempotency_key_never_lists_twice() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let first = create(&client, &us, "same-key").await;
    let second = create(&client, &us, "same-key").await;
    assert_eq!(first, second);
    assert_eq!(sandbox.products(&us.cipher).len(), 1);
    create(&client, &us, "other-key").await;
    assert_eq!(sandbox.products(&us.cipher).len(), 2);
}

#[tokio::test]
async fn a_price_update_on_a_pending_product_is_refused() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let created = create(&client, &us, "key-3").await;
    let id = created["product_id"].as_str().expect("id");
    let body = json!({ "skus": [{ "id": created["skus"][0]["id"], "price": { "amount": "9.99", "currency": "USD" } }] });
    let refused = client
        .shop_call(
            Method::POST,
            &format!("/product/202309/products/{id}/prices/update"),
            &us.cipher,
            Some(&body),
        )
        .await;
    assert_eq!(refused["code"], 12052901);
}

#[tokio::test(start_paused = true)]
async fn live_products_take_price_and_stock_at_once_and_edits_go_back_to_review() {
    let sandbox =
        sandbox(ReviewPolicy { delay: Duration::from_secs(60), outcome: ReviewOutcome::Approve }).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let created = create(&client, &us, "key-4").await;
    let id = created["product_id"].as_str().expect("id").to_owned();
    let small = created["skus"][0]["id"].clone();
    tokio::time::advance(Duration::from_secs(60)).await;

    let prices = json!({ "skus": [{ "id": small, "price": { "amount": "17.50", "currency": "USD" } }] });
    let path = format!("/product/202309/products/{id}/prices/update");
    assert_eq!(client.shop_call(Method::POST, &path, &us.cipher, Some(&prices)).await["code"], 0);
    let wrong = json!({ "skus": [{ "id": small, "price": { "amount": "17.50", "currency": "EUR" } }] });
    assert_eq!(client.shop_call(Method::POST, &path, &us.cipher, Some(&wrong)).await["code"], 12052084);

    let stock = json!({ "skus": [{ "id": small, "inventory": [{ "warehouse_id": us.warehouse_id, "quantity": 0 }] }] });
    let path = format!("/product/202309/products/{id}/inventory/update");
    let updated = client.shop_call(Method::POST, &path, &us.cipher, Some(&stock)).await;
    assert_eq!(updated["data"]["errors"], json!([]), "{updated}");
    let sku = &sandbox.products(&us.cipher)[0].skus[0];
    assert_eq!((sku.price.amount, sku.quantity), (Decimal::new(1750, 2), 0));

    // Edit: keep the small SKU by id, drop the medium one, add a large one.
    let mut edit = product_body(&us, "unused");
    edit["title"] = json!("Organic cotton tee, new");
    edit["skus"] = json!([
        { "id": small, "seller_sku": "TEE-S", "sales_attributes": [{ "name": "Size", "value_name": "S" }] },
        {
            "seller_sku": "TEE-L",
            "price": { "amount": "23.00", "currency": "USD" },
            "inventory": [{ "warehouse_id": us.warehouse_id, "quantity": 2 }],
            "sales_attributes": [{ "name": "Size", "value_name": "L" }],
        },
    ]);
    let edited = client
        .shop_call(Method::PUT, &format!("/product/202309/products/{id}"), &us.cipher, Some(&edit))
        .await;
    assert_eq!(edited["data"]["audit"]["status"], "AUDITING", "{edited}");
    assert_eq!(edited["data"]["skus"][0]["id"], small);

    let product = &sandbox.products(&us.cipher)[0];
    assert_eq!(product.status, "ACTIVATE", "the old version stays live during review");
    let skus: Vec<&str> = product.skus.iter().map(|s| s.seller_sku.as_str()).collect();
    assert_eq!(skus, ["TEE-S", "TEE-L"]);
    assert_eq!(product.skus[0].price.amount, Decimal::new(1750, 2), "omitted price is kept");
    let live =
        client.shop_call(Method::GET, &format!("/product/202309/products/{id}"), &us.cipher, None).await;
    assert_eq!(live["data"]["title"], "Organic cotton tee");
    tokio::time::advance(Duration::from_secs(60)).await;
    let live =
        client.shop_call(Method::GET, &format!("/product/202309/products/{id}"), &us.cipher, None).await;
    assert_eq!(live["data"]["title"], "Organic cotton tee, new");
}

#[tokio::test]
async fn create_refuses_non_leaf_categories_and_foreign_currencies() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let mut body = product_body(&us, "k");
    body["category_id"] = json!("601100");
    let refused = client.shop_call(Method::POST, "/product/202309/products", &us.cipher, Some(&body)).await;
    assert_eq!(refused["code"], 12052230);
    let mut body = product_body(&us, "k");
    body["skus"][0]["price"]["currency"] = json!("GBP");
    let refused = client.shop_call(Method::POST, "/product/202309/products", &us.cipher, Some(&body)).await;
    assert_eq!(refused["code"], 12052084);
    let mut body = product_body(&us, "k");
    body["title"] = json!("");
    let refused = client.shop_call(Method::POST, "/product/202309/products", &us.cipher, Some(&body)).await;
    assert_eq!(refused["code"], 12052700);
    assert!(sandbox.products(&us.cipher).is_empty());
}

#[tokio::test]
async fn search_pages_through_a_shops_products() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    for key in ["a", "b", "c"] {
        create(&client, &us, key).await;
    }
    let filters = json!({ "status": "PENDING", "seller_skus": ["TEE-S"] });
    let query = [("shop_cipher", us.cipher.as_str()), ("page_size", "2")];
    let (_, first) =
        client.call(Method::POST, "/product/202309/products/search", &query, Some(&filters)).await;
    assert_eq!(first["data"]["total_count"], 3, "{first}");
    assert_eq!(first["data"]["products"].as_array().map(Vec::len), Some(2));
    let token = first["data"]["next_page_token"].as_str().expect("token").to_owned();
    let query = [("shop_cipher", us.cipher.as_str()), ("page_size", "2"), ("page_token", token.as_str())];
    let (_, second) =
        client.call(Method::POST, "/product/202309/products/search", &query, Some(&filters)).await;
    assert_eq!(second["data"]["products"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["data"]["next_page_token"], "");
}

#[tokio::test(start_paused = true)]
async fn the_fifty_first_call_in_a_second_is_throttled() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    for _ in 0..50 {
        let ok = client.shop_call(Method::GET, "/product/202309/categories", &us.cipher, None).await;
        assert_eq!(ok["code"], 0);
    }
    let (status, throttled) =
        client.call(Method::GET, "/product/202309/categories", &[("shop_cipher", &us.cipher)], None).await;
    assert_eq!((status, throttled["code"].as_i64()), (429, Some(36009002)));
    // Another shop and another API have their own buckets.
    let uk = &sandbox.shops()[1];
    assert_eq!(
        client.shop_call(Method::GET, "/product/202309/categories", &uk.cipher, None).await["code"],
        0
    );
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(
        client.shop_call(Method::GET, "/product/202309/categories", &us.cipher, None).await["code"],
        0
    );
}

#[tokio::test]
async fn shops_with_a_currency_not_of_their_region_are_refused_at_start() {
    let config = TikTokConfig { shops: vec![ShopSpec::new("odd", "US", "EUR")], ..TikTokConfig::default() };
    let error = TikTokSandbox::start(config).await.expect_err("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

mod attributes;
mod control;
mod drift;
mod lifecycle;
mod orders;
mod product_webhooks;
mod returns;
