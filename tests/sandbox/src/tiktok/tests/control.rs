//! Over real HTTP: the control API under `/_sandbox/` drives the seller's and the buyer's side,
//! and a signed Open API client reads the result as a connector would.

use super::*;

/// An unauthenticated control call; the answer's status and JSON body.
async fn control(sandbox: &TikTokSandbox, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", sandbox.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sandbox answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// A raw control call with a body that is not JSON.
async fn control_raw(sandbox: &TikTokSandbox, path: &str, body: &'static str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sandbox.base_url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sandbox answers");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

async fn first_cipher(sandbox: &TikTokSandbox) -> String {
    let (status, shops) = control(sandbox, Method::GET, "/_sandbox/shops", None).await;
    assert_eq!(status, 200, "{shops}");
    shops["shops"][0]["cipher"].as_str().expect("a cipher").to_owned()
}

#[tokio::test]
async fn a_buyer_flow_driven_over_http_reads_back_through_the_signed_api() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let (_, shops) = control(&sandbox, Method::GET, "/_sandbox/shops", None).await;
    assert_eq!(shops["shops"].as_array().map(Vec::len), Some(2));
    assert_eq!(shops["shops"][1]["region"], "GB");
    assert_eq!(shops["shops"][1]["currency"], "GBP");
    assert_eq!(shops["shops"][0]["id"], sandbox.shops()[0].id.as_str());
    let cipher = first_cipher(&sandbox).await;
    let base = format!("/_sandbox/shops/{cipher}");

    let (status, seeded) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/products"),
        Some(json!({ "title": "Mug", "seller_skus": ["MUG-1", "MUG-2"] })),
    )
    .await;
    assert_eq!(status, 200, "{seeded}");
    let product_id = seeded["product_id"].as_str().expect("a product id").to_owned();
    let (_, listed) = control(&sandbox, Method::GET, &format!("{base}/products"), None).await;
    assert_eq!(listed["products"][0]["id"], product_id.as_str());
    assert_eq!(listed["products"][0]["status"], "ACTIVATE");
    assert_eq!(listed["products"][0]["skus"][1]["seller_sku"], "MUG-2");
    assert_eq!(listed["products"][0]["skus"][0]["quantity"], 10);

    let order_body = json!({ "lines": [{ "seller_sku": "MUG-1", "quantity": 2 }], "paid": true });
    let (status, placed) = control(&sandbox, Method::POST, &format!("{base}/orders"), Some(order_body)).await;
    assert_eq!(status, 200, "{placed}");
    let order = placed["order_id"].as_str().expect("an order id").to_owned();

    // A connector sees the paid order, two line items, the stock taken.
    let client = Client::new(&sandbox);
    let (_, detail) = client
        .call(Method::GET, "/order/202309/orders", &[("shop_cipher", &cipher), ("ids", &order)], None)
        .await;
    assert_eq!(detail["code"], 0, "{detail}");
    assert_eq!(detail["data"]["orders"][0]["status"], "AWAITING_SHIPMENT");
    assert_eq!(detail["data"]["orders"][0]["line_items"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["data"]["orders"][0]["line_items"][0]["product_id"], product_id.as_str());
    let got =
        client.shop_call(Method::GET, &format!("/product/202309/products/{product_id}"), &cipher, None).await;
    assert_eq!(got["data"]["skus"][0]["inventory"][0]["quantity"], 8, "{got}");

    for status in ["AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"] {
        let path = format!("{base}/orders/{order}/advance");
        let (code, moved) = control(&sandbox, Method::POST, &path, Some(json!({ "status": status }))).await;
        assert_eq!((code, moved["status"].as_str()), (200, Some(status)), "{moved}");
    }
    let (_, requested) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders/{order}/returns"),
        Some(json!({ "return_type": "RETURN_AND_REFUND" })),
    )
    .await;
    let return_id = requested["return_id"].as_str().expect("a return id").to_owned();
    let path = format!("/return_refund/202309/returns/{return_id}/approve");
    let (_, approved) = client
        .call(
            Method::POST,
            &path,
            &[("shop_cipher", &cipher)],
            Some(&json!({ "decision": "APPROVE_RETURN" })),
        )
        .await;
    assert_eq!(approved["code"], 0, "{approved}");
    let (status, shipped) =
        control(&sandbox, Method::POST, &format!("{base}/returns/{return_id}/shipped"), None).await;
    assert_eq!(status, 200, "{shipped}");
    let (_, found) = client
        .call(
            Method::POST,
            "/return_refund/202309/returns/search",
            &[("shop_cipher", &cipher)],
            Some(&json!({ "return_ids": [return_id] })),
        )
        .await;
    assert_eq!(found["data"]["return_orders"][0]["return_status"], "BUYER_SHIPPED_ITEM", "{found}");

    // The buyer cancels another order; the seller sees the request.
    let (_, second) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders"),
        Some(json!({ "lines": [{ "seller_sku": "MUG-2", "quantity": 1 }] })),
    )
    .await;
    let second = second["order_id"].as_str().expect("an order id").to_owned();
    let (status, cancelled) =
        control(&sandbox, Method::POST, &format!("{base}/orders/{second}/cancel"), None).await;
    assert_eq!(status, 200, "{cancelled}");
    let (_, requests) = client
        .call(
            Method::POST,
            "/return_refund/202309/cancellations/search",
            &[("shop_cipher", &cipher)],
            Some(&json!({ "order_ids": [second] })),
        )
        .await;
    assert_eq!(requests["data"]["cancellations"][0]["cancel_id"], cancelled["cancel_id"]);

    // Control calls are not Open API requests.
    let (_, stats) = control(&sandbox, Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(stats["requests"], 5, "{stats}");
    assert_eq!(stats["requests"], sandbox.request_count());
}

#[tokio::test]
async fn control_errors_name_their_reason_with_404_400_and_409() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let cipher = first_cipher(&sandbox).await;
    let base = format!("/_sandbox/shops/{cipher}");
    sandbox.seed_product(&cipher, "Mug", &["MUG-1"]);

    let (status, unknown) = control(&sandbox, Method::GET, "/_sandbox/shops/ROW_nope/products", None).await;
    assert_eq!(status, 404);
    assert!(unknown["error"].as_str().expect("a reason").contains("ROW_nope"), "{unknown}");
    let (status, no_order) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders/5799/advance"),
        Some(json!({ "status": "IN_TRANSIT" })),
    )
    .await;
    assert_eq!(status, 404);
    assert!(no_order["error"].as_str().expect("a reason").contains("5799"), "{no_order}");
    let (status, no_return) =
        control(&sandbox, Method::POST, &format!("{base}/returns/4199/shipped"), None).await;
    assert_eq!((status, no_return["error"].is_string()), (404, true));

    let (status, bad) = control_raw(&sandbox, &format!("{base}/orders"), "{\"lines\": 3}").await;
    assert_eq!(status, 400);
    assert!(bad["error"].as_str().expect("a reason").contains("invalid type"), "{bad}");
    let (status, missing) =
        control(&sandbox, Method::POST, &format!("{base}/products"), Some(json!({ "title": "Cup" }))).await;
    assert_eq!(status, 400);
    assert!(missing["error"].as_str().expect("a reason").contains("seller_skus"), "{missing}");
    let (status, _) = control(
        &sandbox,
        Method::PUT,
        "/_sandbox/review",
        Some(json!({ "outcome": "reject", "reasons": [] })),
    )
    .await;
    assert_eq!(status, 400, "a rejection needs a reason");

    let (_, placed) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders"),
        Some(json!({ "lines": [{ "seller_sku": "MUG-1", "quantity": 1 }] })),
    )
    .await;
    let order = placed["order_id"].as_str().expect("an order id").to_owned();
    let path = format!("{base}/orders/{order}/advance");
    let (status, refused) =
        control(&sandbox, Method::POST, &path, Some(json!({ "status": "COMPLETED" }))).await;
    assert_eq!(status, 409);
    assert!(
        refused["error"].as_str().expect("a reason").contains("AWAITING_SHIPMENT to COMPLETED"),
        "{refused}"
    );
    let (status, _) = control(&sandbox, Method::POST, &path, Some(json!({ "status": "SHIPPED" }))).await;
    assert_eq!(status, 400, "not a status");
    let (status, short) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders"),
        Some(json!({ "lines": [{ "seller_sku": "MUG-1", "quantity": 50 }] })),
    )
    .await;
    assert_eq!(status, 409);
    assert!(short["error"].as_str().expect("a reason").contains("in stock"), "{short}");
    assert_eq!(sandbox.order_status(&cipher, &order), Some(OrderStatus::AwaitingShipment));
}

#[tokio::test]
async fn review_and_rate_limit_are_set_over_http() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let client = Client::new(&sandbox);
    let us = sandbox.shops()[0].clone();
    let policy = json!({ "outcome": "reject", "reasons": ["Blurry"], "delay_ms": 0 });
    let (status, set) = control(&sandbox, Method::PUT, "/_sandbox/review", Some(policy)).await;
    assert_eq!((status, set["outcome"].as_str(), set["delay_ms"].as_u64()), (200, Some("reject"), Some(0)));
    create(&client, &us, "rejected").await;
    let (_, listed) =
        control(&sandbox, Method::GET, &format!("/_sandbox/shops/{}/products", us.cipher), None).await;
    assert_eq!(listed["products"][0]["status"], "FAILED", "{listed}");
    assert_eq!(listed["products"][0]["audit_failed_reasons"], json!(["Blurry"]));

    let (status, _) =
        control(&sandbox, Method::PUT, "/_sandbox/rate-limit", Some(json!({ "per_second": 1 }))).await;
    assert_eq!(status, 200);
    let (first, _) =
        client.call(Method::GET, "/product/202309/categories", &[("shop_cipher", &us.cipher)], None).await;
    let (second, throttled) =
        client.call(Method::GET, "/product/202309/categories", &[("shop_cipher", &us.cipher)], None).await;
    assert_eq!((first, second, throttled["code"].as_i64()), (200, 429, Some(36009002)));
    let (status, _) =
        control(&sandbox, Method::PUT, "/_sandbox/rate-limit", Some(json!({ "per_second": null }))).await;
    assert_eq!(status, 200);
    for _ in 0..60 {
        let (status, _) = client
            .call(Method::GET, "/product/202309/categories", &[("shop_cipher", &us.cipher)], None)
            .await;
        assert_eq!(status, 200, "no limit any more");
    }
}

#[tokio::test]
async fn an_oauth_walk_through_starts_from_the_control_authorization() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let (_, grant) = control(&sandbox, Method::GET, "/_sandbox/authorization", None).await;
    let code = grant["auth_code"].as_str().expect("a code").to_owned();
    assert_eq!(grant["refresh_token"], sandbox.refresh_token().as_str());
    let url = format!("{}/api/v2/token/get", sandbox.base_url());
    let query =
        [("app_key", KEY), ("app_secret", SECRET), ("auth_code", &code), ("grant_type", "authorized_code")];
    let got: Value = reqwest::Client::new()
        .get(url)
        .query(&query)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(got["data"]["access_token"], sandbox.access_token().as_str(), "{got}");

    let (status, _) = control(&sandbox, Method::POST, "/_sandbox/access-token/expire", None).await;
    assert_eq!(status, 200);
    let (_, expired) =
        Client::new(&sandbox).call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(expired["code"], 105002);
}

#[tokio::test]
async fn webhooks_set_over_http_are_counted_in_the_stats() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let cipher = first_cipher(&sandbox).await;
    sandbox.seed_product(&cipher, "Mug", &["MUG-1"]);
    let (status, refused) =
        control(&sandbox, Method::PUT, "/_sandbox/webhooks", Some(json!({ "url": "https://example.com/" })))
            .await;
    assert_eq!(status, 400, "{refused}");

    // Nothing listens on this port: every attempt fails, and each retry is counted.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}/hooks", closed.local_addr().expect("addr"));
    drop(closed);
    let body = json!({ "url": url, "retries": 2, "base_ms": 5 });
    let (status, _) = control(&sandbox, Method::PUT, "/_sandbox/webhooks", Some(body)).await;
    assert_eq!(status, 200);
    let order = json!({ "lines": [{ "seller_sku": "MUG-1", "quantity": 1 }], "paid": false });
    control(&sandbox, Method::POST, &format!("/_sandbox/shops/{cipher}/orders"), Some(order)).await;
    sandbox.webhooks_settled().await;
    let (_, stats) = control(&sandbox, Method::GET, "/_sandbox/stats", None).await;
    assert_eq!(stats["webhook_attempts"], 3, "one attempt and two retries: {stats}");
    assert_eq!(stats["webhook_deliveries"], 0);
    assert_eq!(stats["requests"], 0);
}

#[tokio::test]
async fn a_tiktok_shipped_order_is_placed_and_shipped_by_the_platform_over_http_and_refuses_the_seller() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let cipher = first_cipher(&sandbox).await;
    let base = format!("/_sandbox/shops/{cipher}");
    sandbox.seed_product(&cipher, "Mug", &["MUG-1", "MUG-2"]);
    let lines = json!([{ "seller_sku": "MUG-1", "quantity": 2 }, { "seller_sku": "MUG-2", "quantity": 1 }]);
    let (status, placed) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders"),
        Some(json!({ "lines": lines, "shipping_type": "TIKTOK" })),
    )
    .await;
    assert_eq!(status, 200, "{placed}");
    let order = placed["order_id"].as_str().expect("an order id").to_owned();
    let (status, bad) = control(
        &sandbox,
        Method::POST,
        &format!("{base}/orders"),
        Some(json!({ "lines": lines, "shipping_type": "DRONE" })),
    )
    .await;
    assert_eq!(status, 400, "{bad}");

    let client = Client::new(&sandbox);
    let path = format!("/fulfillment/202309/orders/{order}/packages");
    let body =
        json!({ "tracking_number": "9400100000000000000001", "shipping_provider_id": "7117858858072016686" });
    let refused = client.shop_call(Method::POST, &path, &cipher, Some(&body)).await;
    assert_eq!(refused["code"], 21008117, "{refused}");

    let ship = |lines: Value| {
        let (sandbox, path) = (&sandbox, format!("{base}/orders/{order}/platform-ship"));
        async move {
            control(sandbox, Method::POST, &path, Some(json!({ "lines": lines, "shipping_provider": "UPS" })))
                .await
        }
    };
    let (status, first) = ship(json!([{ "seller_sku": "MUG-2", "quantity": 1 }])).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["shipping_provider_name"], "UPS");
    assert_eq!(sandbox.order_status(&cipher, &order), Some(OrderStatus::PartiallyShipping));
    let query = [("shop_cipher", cipher.as_str()), ("ids", order.as_str())];
    let (_, detail) = client.call(Method::GET, "/order/202309/orders", &query, None).await;
    let object = &detail["data"]["orders"][0];
    assert_eq!(object["shipping_type"], "TIKTOK");
    let shipped: Vec<&Value> = object["line_items"]
        .as_array()
        .expect("units")
        .iter()
        .filter(|l| l["package_id"] == first["package_id"])
        .collect();
    assert_eq!(shipped.len(), 1, "{object}");
    assert_eq!(shipped[0]["seller_sku"], "MUG-2");
    assert_eq!(shipped[0]["tracking_number"], first["tracking_number"]);
    let (status, too_many) = ship(json!([{ "seller_sku": "MUG-2", "quantity": 1 }])).await;
    assert_eq!(status, 409, "{too_many}");
    let (status, rest) = ship(json!([])).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["order_line_item_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(sandbox.order_status(&cipher, &order), Some(OrderStatus::AwaitingCollection));
    assert_eq!(sandbox.packages(&cipher, &order).len(), 2);
}
