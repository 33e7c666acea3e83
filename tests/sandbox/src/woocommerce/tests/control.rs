//! Over real HTTP: the control API under `/_sandbox/` changes the store as tests do from Rust,
//! and a REST client sees the result.

use super::*;

async fn control(woo: &WooSandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", woo.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answers");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn products_added_renamed_restocked_and_deleted_over_http_show_in_the_rest_api() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 9))).await.expect("starts");
    let mut product = generated_catalog(2, 1, 9).pop().expect("a product");
    product.handle = "control-added".into();
    product.variants[0].sku = "CTRL-1".into();
    let body = serde_json::to_value(&product).expect("serializes");
    let (status, added) = control(&woo, reqwest::Method::POST, "/_sandbox/products", Some(body)).await;
    assert_eq!(status, 200, "{added}");
    let id = added["id"].as_u64().expect("id");
    let (status, _, read) = get(&api(&woo, &format!("/products/{id}"))).await;
    assert_eq!((status, read["sku"].as_str()), (200, Some("CTRL-1")));

    let stock = json!({"sku": "CTRL-1", "quantity": 17});
    let (status, _) = control(&woo, reqwest::Method::PUT, "/_sandbox/stock", Some(stock)).await;
    assert_eq!(status, 200);
    let rename = json!({"name": "Renamed over HTTP"});
    let (status, _) =
        control(&woo, reqwest::Method::PUT, "/_sandbox/products/control-added/name", Some(rename)).await;
    assert_eq!(status, 200);
    let (_, _, read) = get(&api(&woo, &format!("/products/{id}"))).await;
    assert_eq!(
        (read["stock_quantity"].as_i64(), read["name"].as_str()),
        (Some(17), Some("Renamed over HTTP"))
    );

    let (status, _) = control(&woo, reqwest::Method::DELETE, "/_sandbox/products/control-added", None).await;
    assert_eq!(status, 200);
    let (status, _, _) = get(&api(&woo, &format!("/products/{id}"))).await;
    assert_eq!(status, 404);

    let (status, gone) =
        control(&woo, reqwest::Method::DELETE, "/_sandbox/products/control-added", None).await;
    assert_eq!(status, 404);
    assert!(gone["error"].as_str().expect("a reason").contains("control-added"), "{gone}");
    let (status, unknown) =
        control(&woo, reqwest::Method::PUT, "/_sandbox/stock", Some(json!({"sku": "NOPE", "quantity": 1})))
            .await;
    assert_eq!((status, unknown["error"].is_string()), (404, true));
    let (status, bad) =
        control(&woo, reqwest::Method::POST, "/_sandbox/products", Some(json!({"handle": "x"}))).await;
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().expect("a reason").contains("missing field"), "{bad}");
    woo.stop().await;
}

#[tokio::test]
async fn webhooks_subscribed_over_http_report_their_failures_and_the_stats_count_rest_calls() {
    let woo = WooSandbox::start(config(generated_catalog(1, 1, 9))).await.expect("starts");
    let hooks = receiver(500).await;
    let body = json!({"topic": "product.updated", "delivery_url": format!("{}/hooks", hooks.server.base_url()),
                      "secret": "whsec"});
    let (status, subscribed) = control(&woo, reqwest::Method::POST, "/_sandbox/webhooks", Some(body)).await;
    assert_eq!(status, 200, "{subscribed}");
    let id = subscribed["id"].as_u64().expect("id");
    woo.wait_for_webhooks().await;
    let sku = woo.state.store().products.values().next().map(|p| p.stocked.sku.clone()).expect("a sku");
    control(&woo, reqwest::Method::PUT, "/_sandbox/stock", Some(json!({"sku": sku, "quantity": 2}))).await;
    woo.wait_for_webhooks().await;
    let (status, hook) = control(&woo, reqwest::Method::GET, &format!("/_sandbox/webhooks/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (hook["status"].as_str(), hook["failure_count"].as_u64()),
        (Some("active"), Some(1)),
        "{hook}"
    );

    let bad = json!({"topic": "order.paid", "delivery_url": "http://127.0.0.1:1/", "secret": "s"});
    let (status, refused) = control(&woo, reqwest::Method::POST, "/_sandbox/webhooks", Some(bad)).await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().expect("a reason").contains("order.paid"), "{refused}");
    let (status, _) = control(&woo, reqwest::Method::GET, "/_sandbox/webhooks/99", None).await;
    assert_eq!(status, 404);

    get(&api(&woo, "/products")).await;
    let (_, stats) = control(&woo, reqwest::Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(stats["requests"], 1, "control calls are not counted: {stats}");
    assert_eq!(stats["webhook_deliveries"], 0);
    assert_eq!(stats["products"], 1);
    woo.stop().await;
}

#[tokio::test]
async fn orders_changed_over_http_move_stock_send_webhooks_and_show_in_the_rest_api() {
    let woo = WooSandbox::start(config(generated_catalog(1, 2, 9))).await.expect("starts");
    let hooks = receiver(200).await;
    let url = format!("{}/hooks", hooks.server.base_url());
    let body = json!({"topic": "order.updated", "delivery_url": url, "secret": "whsec"});
    let (status, _) = control(&woo, reqwest::Method::POST, "/_sandbox/webhooks", Some(body)).await;
    assert_eq!(status, 200);
    let before = woo.stock("GEN-000000-00").expect("stock");
    let (_, order) = post(
        &api(&woo, "/orders"),
        json!({"status": "processing", "line_items": [{"sku": "GEN-000000-00", "quantity": 3}]}),
    )
    .await;
    let id = order["id"].as_u64().expect("id");
    assert_eq!(woo.stock("GEN-000000-00"), Some(before - 3));

    let path = format!("/_sandbox/orders/{id}");
    let (status, cancelled) =
        control(&woo, reqwest::Method::PUT, &format!("{path}/status"), Some(json!({"status": "cancelled"})))
            .await;
    assert_eq!((status, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert_eq!(woo.stock("GEN-000000-00"), Some(before), "cancelling restocks, as in wp-admin");
    let tracking = json!([{"tracking_provider": "usps", "tracking_number": "9400100000000000000000"}]);
    let meta = json!({"key": "_wc_shipment_tracking_items", "value": tracking});
    let (status, tracked) = control(&woo, reqwest::Method::PUT, &format!("{path}/meta"), Some(meta)).await;
    assert_eq!(status, 200, "{tracked}");
    let (_, _, read) = get(&api(&woo, &format!("/orders/{id}"))).await;
    assert_eq!(read["meta_data"][0]["value"][0]["tracking_provider"], "usps");

    let (status, trashed) = control(&woo, reqwest::Method::DELETE, &path, None).await;
    assert_eq!((status, trashed["status"].as_str()), (200, Some("trash")));
    let (_, _, listed) = get(&api(&woo, "/orders")).await;
    assert_eq!(listed, json!([]), "the trash is not listed by default");
    let (status, restored) = control(&woo, reqwest::Method::POST, &format!("{path}/restore"), None).await;
    assert_eq!((status, restored["status"].as_str()), (200, Some("cancelled")));
    let (_, all) = control(&woo, reqwest::Method::GET, "/_sandbox/orders", None).await;
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    let (_, stats) = control(&woo, reqwest::Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(stats["orders"], 1);

    woo.wait_for_webhooks().await;
    let statuses: Vec<String> = hooks.seen.lock().expect("not poisoned")[1..]
        .iter()
        .filter_map(|(_, body)| serde_json::from_slice::<Value>(body).ok())
        .filter_map(|p| p["status"].as_str().map(str::to_string))
        .collect();
    assert_eq!(statuses.len(), 3, "the create's save, the status and the meta: {statuses:?}");
    assert!(statuses.contains(&"cancelled".to_string()));

    let (status, refused) =
        control(&woo, reqwest::Method::PUT, &format!("{path}/status"), Some(json!({"status": "shipped"})))
            .await;
    assert_eq!(status, 400);
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("rest_invalid_param")), "{refused}");
    let (status, _) = control(
        &woo,
        reqwest::Method::PUT,
        "/_sandbox/orders/999999/status",
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(status, 404);
    woo.stop().await;
}
