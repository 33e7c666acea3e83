//! The HTTP control API and the chaos knobs, over HTTP.

use super::*;
use axum::body::Bytes;
use axum::http::HeaderMap;
use tokio::sync::mpsc;

async fn control(
    shop: &ShopifySandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", shop.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sandbox answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn chaos_over_http_throttles_with_429_and_turns_off_again() {
    let shop = ShopifySandbox::start(config(demo_catalog())).await.expect("starts");
    let (status, knobs) =
        control(&shop, reqwest::Method::PUT, "/_sandbox/chaos", Some(json!({"throttle_rate": 1.0}))).await;
    assert_eq!(status, 200, "{knobs}");
    assert_eq!(shop.chaos().throttle_rate, 1.0);

    let (status, body) = post(&endpoint(&shop), Some(TOKEN), "{ shop { name } }", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["message"], "Throttled");
    assert_eq!(body["errors"][0]["extensions"]["code"], "THROTTLED");
    // Control routes are outside chaos.
    let (status, stats) = control(&shop, reqwest::Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(status, 200);
    assert_eq!(stats["requests"], 1, "{stats}");

    let (status, _) = control(&shop, reqwest::Method::PUT, "/_sandbox/chaos", Some(json!({}))).await;
    assert_eq!(status, 200);
    let (status, body) = post(&endpoint(&shop), Some(TOKEN), "{ shop { name } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["shop"]["name"], "Crossdock Demo Outfitters");
    let (status, refused) =
        control(&shop, reqwest::Method::PUT, "/_sandbox/chaos", Some(json!({"error_rate": 2.0}))).await;
    assert_eq!(status, 422);
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("error_rate")), "{refused}");
    shop.stop().await;
}

#[tokio::test]
async fn a_malformed_answer_comes_after_the_mutation_took_effect() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 2))).await.expect("starts");
    let body = query(&shop, "{ productVariants(first: 1) { nodes { id } } }", json!({})).await;
    let variant = body["data"]["productVariants"]["nodes"][0]["id"].clone();
    shop.set_chaos(Chaos { malformed_rate: 1.0, ..Chaos::default() });
    let response = reqwest::Client::new()
        .post(endpoint(&shop))
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({
            "query": "mutation($v: ID!) { orderCreate(order: {lineItems: [{variantId: $v, quantity: 1}], sourceIdentifier: \"TT-lost\"}) { order { id } } }",
            "variables": {"v": variant},
        }))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("a body");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "the body is cut: {text}");
    shop.set_chaos(Chaos::default());
    let found = query(
        &shop,
        "{ orders(first: 5, query: \"source_identifier:TT-lost\") { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(found["data"]["orders"]["nodes"].as_array().map(Vec::len), Some(1), "{found}");
    shop.stop().await;
}

#[tokio::test]
async fn a_product_seeded_over_http_reads_back_through_graphql() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 2))).await.expect("starts");
    let mut product = demo_catalog()[0].clone();
    product.handle = "seeded-tent".into();
    product.title = "Seeded Tent".into();
    let sku = product.variants[0].sku.clone();
    let (status, created) = control(
        &shop,
        reqwest::Method::POST,
        "/_sandbox/products",
        Some(serde_json::to_value(&product).expect("JSON")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["handle"], "seeded-tent");
    let id = created["id"].clone();
    let read = "query($id: ID!) { product(id: $id) { title status variants(first: 1) { nodes { sku inventoryQuantity } } } }";
    let body = query(&shop, read, json!({"id": id})).await;
    assert_eq!(body["data"]["product"]["title"], "Seeded Tent");
    assert_eq!(body["data"]["product"]["variants"]["nodes"][0]["sku"], sku.as_str());

    let path = "/_sandbox/products/seeded-tent";
    let (status, _) =
        control(&shop, reqwest::Method::PUT, &format!("{path}/status"), Some(json!({"status": "archived"})))
            .await;
    assert_eq!(status, 200);
    let (status, _) =
        control(&shop, reqwest::Method::PUT, &format!("{path}/title"), Some(json!({"title": "Renamed"})))
            .await;
    assert_eq!(status, 200);
    let (status, stock) =
        control(&shop, reqwest::Method::PUT, "/_sandbox/stock", Some(json!({"sku": sku, "quantity": 42})))
            .await;
    assert_eq!((status, stock["available"].clone()), (200, json!(42)), "{stock}");
    let body = query(&shop, read, json!({"id": id})).await;
    let product = &body["data"]["product"];
    assert_eq!(product["status"], "ARCHIVED");
    assert_eq!(product["title"], "Renamed");
    assert_eq!(product["variants"]["nodes"][0]["inventoryQuantity"], 42);

    let (status, _) = control(&shop, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 200);
    let body = query(&shop, read, json!({"id": id})).await;
    assert_eq!(body["data"]["product"], Value::Null);
    let (status, missing) = control(&shop, reqwest::Method::DELETE, path, None).await;
    assert_eq!(status, 404);
    assert!(missing["error"].as_str().is_some_and(|e| e.contains("seeded-tent")), "{missing}");
    let (status, bad) =
        control(&shop, reqwest::Method::POST, "/_sandbox/products", Some(json!({"title": "x"}))).await;
    assert_eq!(status, 400);
    assert!(bad["error"].is_string());
    shop.stop().await;
}

#[tokio::test]
async fn orders_stats_and_cost_limits_are_served_over_http() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 2))).await.expect("starts");
    let body = query(&shop, "{ productVariants(first: 1) { nodes { id } } }", json!({})).await;
    let variant = body["data"]["productVariants"]["nodes"][0]["id"].clone();
    let created = query(
        &shop,
        "mutation($v: ID!) { orderCreate(order: {lineItems: [{variantId: $v, quantity: 2}], sourceIdentifier: \"TT-http\"}) { order { id } } }",
        json!({"v": variant}),
    )
    .await;
    let (status, orders) = control(&shop, reqwest::Method::GET, "/_sandbox/orders", None).await;
    assert_eq!(status, 200);
    let order = &orders["orders"][0];
    assert_eq!(order["admin_graphql_api_id"], created["data"]["orderCreate"]["order"]["id"], "{orders}");
    assert_eq!(order["source_identifier"], "TT-http");
    assert_eq!(order["line_items"][0]["quantity"], 2);
    assert_eq!(order["fulfillments"], json!([]));
    let (_, stats) = control(&shop, reqwest::Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(
        stats,
        json!({"requests": 2, "webhook_deliveries": 0, "products": 1, "orders": 1, "bulk_downloads": 0})
    );

    let (status, _) = control(
        &shop,
        reqwest::Method::PUT,
        "/_sandbox/cost-limits",
        Some(json!({"maximum_available": 0.0, "restore_rate": 1.0, "single_query_max": 10})),
    )
    .await;
    assert_eq!(status, 422);
    let limits = json!({"maximum_available": 500.0, "restore_rate": 5.0, "single_query_max": 400});
    let (status, echoed) =
        control(&shop, reqwest::Method::PUT, "/_sandbox/cost-limits", Some(limits.clone())).await;
    assert_eq!((status, echoed), (200, limits));
    let body = query(&shop, "{ shop { name } }", json!({})).await;
    assert_eq!(body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"], json!(500.0));
    shop.stop().await;
}

#[tokio::test]
async fn webhooks_configured_over_http_carry_order_and_stock_topics() {
    let shop = ShopifySandbox::start(config(generated_catalog(1, 1, 2))).await.expect("starts");
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Value)>();
    let receiver = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let topic = headers.get("x-shopify-topic").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let _ = tx.send((topic.to_string(), serde_json::from_slice(&body).unwrap_or_default()));
                axum::http::StatusCode::OK
            }
        }),
    );
    let server = crate::server::ServerHandle::start(receiver, 0).await.expect("receiver starts");
    let settings = json!({"address": format!("{}/hooks", server.base_url()), "secret": "s", "attempts": 0});
    let (status, answer) = control(&shop, reqwest::Method::PUT, "/_sandbox/webhooks", Some(settings)).await;
    assert_eq!((status, answer["subscriptions"].clone()), (200, json!(1)), "{answer}");
    let (status, _) = control(
        &shop,
        reqwest::Method::PUT,
        "/_sandbox/webhooks",
        Some(json!({"address": "ftp://x", "secret": "s"})),
    )
    .await;
    assert_eq!(status, 422);

    let body =
        query(&shop, "{ productVariants(first: 1) { nodes { id inventoryItem { id } } } }", json!({})).await;
    let node = &body["data"]["productVariants"]["nodes"][0];
    query(
        &shop,
        "mutation($v: ID!) { orderCreate(order: {lineItems: [{variantId: $v, quantity: 1}], sourceIdentifier: \"TT-hook\"},
           options: {inventoryBehaviour: DECREMENT_IGNORING_POLICY}) { order { id } } }",
        json!({"v": node["id"]}),
    )
    .await;
    shop.wait_for_webhooks().await;
    let mut received = Vec::new();
    while let Ok(delivery) = rx.try_recv() {
        received.push(delivery);
    }
    // Each delivery is its own task, so arrival order is not the emitting order.
    received.sort_by(|a, b| a.0.cmp(&b.0));
    let topics: Vec<&str> = received.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(topics, ["inventory_levels/update", "orders/create"]);
    let item = node["inventoryItem"]["id"].as_str().expect("item").rsplit('/').next().expect("numeric id");
    assert_eq!(received[0].1["inventory_item_id"].to_string(), item);
    assert_eq!(received[1].1["source_identifier"], "TT-hook");
    server.stop().await;
    shop.stop().await;
}
