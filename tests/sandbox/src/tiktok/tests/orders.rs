//! Over real HTTP: OAuth token calls, order search and detail, shipping with tracking,
//! cancellations, signed webhooks with retries, and the chaos throttle.

use super::*;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn auth_call(sandbox: &TikTokSandbox, path: &str, query: &[(&str, &str)]) -> Value {
    let url = format!("{}{path}", sandbox.base_url());
    let response = reqwest::Client::new().get(url).query(query).send().await.expect("answers");
    response.json().await.expect("json envelope")
}

/// A shop with a seeded product and one paid order of two units.
async fn shop_with_order() -> (TikTokSandbox, Client, SandboxShop, String) {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let shop = sandbox.shops()[0].clone();
    sandbox.seed_product(&shop.cipher, "Mug", &["MUG-1"]);
    let order = sandbox.place_order(&shop.cipher, &[("MUG-1", 2)]);
    let client = Client::new(&sandbox);
    (sandbox, client, shop, order)
}

async fn package_of(sandbox: &TikTokSandbox, order: &str) -> String {
    let (_, detail) = client_detail(sandbox, order).await;
    detail["data"]["orders"][0]["packages"][0]["id"].as_str().expect("package").to_owned()
}

#[tokio::test]
async fn an_auth_code_is_exchanged_once_and_refresh_rotates_the_access_token() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let code = sandbox.authorization_code();
    let query = [
        ("app_key", KEY),
        ("app_secret", SECRET),
        ("auth_code", code.as_str()),
        ("grant_type", "authorized_code"),
    ];
    let got = auth_call(&sandbox, "/api/v2/token/get", &query).await;
    assert_eq!((got["code"].as_i64(), got["message"].as_str()), (Some(0), Some("success")), "{got}");
    let token = got["data"]["access_token"].as_str().expect("token").to_owned();
    let expiry = got["data"]["access_token_expire_in"].as_i64().expect("absolute expiry");
    assert!((expiry - envelope::unix_now() - 7 * 24 * 3600).abs() <= 2, "{expiry}");
    assert_eq!(token, sandbox.access_token());
    let again = auth_call(&sandbox, "/api/v2/token/get", &query).await;
    assert_eq!(again["code"], 36004005, "a code is single-use");
    let wrong_grant =
        [("app_key", KEY), ("app_secret", SECRET), ("auth_code", "x"), ("grant_type", "refresh_token")];
    assert_eq!(auth_call(&sandbox, "/api/v2/token/get", &wrong_grant).await["code"], 36009004);

    sandbox.expire_access_token();
    let (_, expired) =
        Client::new(&sandbox).call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(expired["code"], 105002);
    let refresh = sandbox.refresh_token();
    let query = [
        ("app_key", KEY),
        ("app_secret", SECRET),
        ("refresh_token", refresh.as_str()),
        ("grant_type", "refresh_token"),
    ];
    let refreshed = auth_call(&sandbox, "/api/v2/token/refresh", &query).await;
    assert_eq!(refreshed["code"], 0, "{refreshed}");
    assert_ne!(refreshed["data"]["access_token"], token.as_str());
    assert_eq!(refreshed["data"]["refresh_token"], refresh.as_str());
    let (_, shops) = Client::new(&sandbox).call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(shops["code"], 0, "{shops}");
}

#[tokio::test]
async fn order_search_pages_through_filtered_orders_and_detail_hides_unpaid_addresses() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let shop = sandbox.shops()[0].clone();
    sandbox.seed_product(&shop.cipher, "Mug", &["MUG-1", "MUG-2"]);
    let paid: Vec<String> =
        (0..3).map(|_| sandbox.place_order(&shop.cipher, &[("MUG-1", 1), ("MUG-2", 2)])).collect();
    let unpaid = sandbox.place_unpaid_order(&shop.cipher, &[("MUG-1", 1)]);
    assert_eq!(sandbox.products(&shop.cipher)[0].skus[0].quantity, 6, "placing orders takes stock");
    let client = Client::new(&sandbox);
    let filter = json!({ "order_status": "AWAITING_SHIPMENT", "create_time_ge": envelope::unix_now() - 60 });
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut query =
            vec![("shop_cipher", shop.cipher.as_str()), ("page_size", "2"), ("sort_order", "ASC")];
        if !token.is_empty() {
            query.push(("page_token", token.as_str()));
        }
        let (_, page) = client.call(Method::POST, "/order/202309/orders/search", &query, Some(&filter)).await;
        assert_eq!(page["code"], 0, "{page}");
        assert_eq!(page["data"]["total_count"], 3);
        for order in page["data"]["orders"].as_array().expect("orders") {
            seen.push(order["id"].as_str().expect("id").to_owned());
            assert_eq!(order["line_items"].as_array().map(Vec::len), Some(3), "one line item per unit");
            assert_eq!(order["payment"]["total_amount"], "30.00");
            assert_eq!(order["recipient_address"]["name"], "Sandbox Buyer");
        }
        token = page["data"]["next_page_token"].as_str().unwrap_or_default().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, paid);
    let ids = format!("{},{}", paid[0], unpaid);
    let (_, detail) = client
        .call(Method::GET, "/order/202507/orders", &[("shop_cipher", &shop.cipher), ("ids", &ids)], None)
        .await;
    let orders = detail["data"]["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[1]["status"], "UNPAID");
    assert_eq!(orders[1]["recipient_address"], json!({}));
}

#[tokio::test]
async fn shipping_with_tracking_moves_the_order_and_refuses_bad_providers_and_reused_numbers() {
    let (sandbox, client, shop, order) = shop_with_order().await;
    let second = sandbox.place_order(&shop.cipher, &[("MUG-1", 1)]);
    let package = package_of(&sandbox, &order).await;
    let (_, providers) = client
        .call(
            Method::GET,
            "/logistics/202309/delivery_options/7129736077789165314/shipping_providers",
            &[("shop_cipher", &shop.cipher)],
            None,
        )
        .await;
    let usps = providers["data"]["shipping_providers"][0]["id"].as_str().expect("provider").to_owned();
    let ship = |package: String, provider: String, tracking: &'static str| {
        let client = &client;
        let cipher = shop.cipher.clone();
        async move {
            let body = json!({ "handover_method": "DROP_OFF", "self_shipment": { "tracking_number": tracking, "shipping_provider_id": provider } });
            let path = format!("/fulfillment/202309/packages/{package}/ship");
            client.call(Method::POST, &path, &[("shop_cipher", &cipher)], Some(&body)).await.1
        }
    };
    assert_eq!(ship(package.clone(), "123".into(), "9400100000000000000001").await["code"], 21011022);
    assert_eq!(ship(package.clone(), usps.clone(), "9400100000000000000001").await["code"], 0);
    assert_eq!(sandbox.order_status(&shop.cipher, &order), Some(OrderStatus::AwaitingCollection));
    let again = ship(package.clone(), usps.clone(), "9400100000000000000002").await;
    assert_eq!(again["code"], 21011001, "an order already shipped");
    let second_package = package_of(&sandbox, &second).await;
    assert_eq!(ship(second_package, usps.clone(), "9400100000000000000001").await["code"], 21011025);

    let (_, detail) = client
        .call(
            Method::GET,
            &format!("/fulfillment/202309/packages/{package}"),
            &[("shop_cipher", &shop.cipher)],
            None,
        )
        .await;
    assert_eq!(detail["data"]["tracking_number"], "9400100000000000000001");
    assert_eq!(detail["data"]["shipping_provider_name"], "USPS");
    sandbox.advance_order(&shop.cipher, &order, OrderStatus::InTransit);
    sandbox.advance_order(&shop.cipher, &order, OrderStatus::Delivered);
    let (_, detail) = client_detail(&sandbox, &order).await;
    assert_eq!(detail["data"]["orders"][0]["status"], "DELIVERED");
    assert_eq!(detail["data"]["orders"][0]["line_items"][0]["package_status"], "COMPLETED");
}

async fn client_detail(sandbox: &TikTokSandbox, order: &str) -> (u16, Value) {
    let cipher = sandbox.shops()[0].cipher.clone();
    Client::new(sandbox)
        .call(Method::GET, "/order/202309/orders", &[("shop_cipher", &cipher), ("ids", order)], None)
        .await
}

#[tokio::test]
async fn approving_a_buyer_cancellation_cancels_the_order_and_blocks_shipping_before() {
    let (sandbox, client, shop, order) = shop_with_order().await;
    let cancel_id = sandbox.cancel_order_as_buyer(&shop.cipher, &order);
    let (_, found) = client
        .call(
            Method::POST,
            "/return_refund/202309/cancellations/search",
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "order_ids": [order] })),
        )
        .await;
    assert_eq!(found["data"]["cancellations"][0]["cancel_status"], "CANCELLATION_REQUEST_PENDING", "{found}");
    let path = format!("/return_refund/202309/cancellations/{cancel_id}/approve");
    let (_, approved) = client.call(Method::POST, &path, &[("shop_cipher", &shop.cipher)], None).await;
    assert_eq!(approved["code"], 0, "{approved}");
    assert_eq!(sandbox.order_status(&shop.cipher, &order), Some(OrderStatus::Cancelled));
    let (_, twice) = client.call(Method::POST, &path, &[("shop_cipher", &shop.cipher)], None).await;
    assert_eq!(twice["code"], 25001010);

    sandbox.advance_order(
        &shop.cipher,
        &sandbox.place_order(&shop.cipher, &[("MUG-1", 1)]),
        OrderStatus::AwaitingCollection,
    );
    let delivered = sandbox.place_order(&shop.cipher, &[("MUG-1", 1)]);
    for status in [OrderStatus::AwaitingCollection, OrderStatus::InTransit, OrderStatus::Delivered] {
        sandbox.advance_order(&shop.cipher, &delivered, status);
    }
    let return_id = sandbox.request_return(&shop.cipher, &delivered, "RETURN_AND_REFUND");
    let path = format!("/return_refund/202309/returns/{return_id}/approve");
    let (_, wrong) = client
        .call(
            Method::POST,
            &path,
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "decision": "APPROVE_REFUND" })),
        )
        .await;
    assert_eq!(wrong["code"], 25001001);
    let (_, ok) = client
        .call(
            Method::POST,
            &path,
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "decision": "APPROVE_RETURN" })),
        )
        .await;
    assert_eq!(ok["code"], 0, "{ok}");
    let (_, found) = client
        .call(
            Method::POST,
            "/return_refund/202309/returns/search",
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "return_ids": [return_id] })),
        )
        .await;
    assert_eq!(found["data"]["return_orders"][0]["return_status"], "AWAITING_BUYER_SHIP", "{found}");
}

/// A receiver that answers 500 to its first `failures` posts, then 200; it keeps each body
/// with its `Authorization` header.
pub(super) async fn receiver(failures: usize) -> (String, Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    tokio::spawn(async move {
        let mut count = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut raw = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let read = stream.read(&mut chunk).await.expect("read");
                raw.extend_from_slice(&chunk[..read]);
                if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length: "))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            while raw.len() < head_end + length {
                let read = stream.read(&mut chunk).await.expect("read");
                raw.extend_from_slice(&chunk[..read]);
            }
            let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
            let auth =
                head.lines().find_map(|l| l.strip_prefix("Authorization: ")).unwrap_or_default().to_owned();
            kept.lock().expect("lock").push((auth, raw[head_end..].to_vec()));
            count += 1;
            let status = if count <= failures { "500 Internal Server Error" } else { "200 OK" };
            let _ =
                stream.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes()).await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn order_webhooks_are_signed_and_retried_after_a_500() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    let shop = sandbox.shops()[0].clone();
    sandbox.seed_product(&shop.cipher, "Mug", &["MUG-1"]);
    let (url, seen) = receiver(1).await;
    sandbox.subscribe_webhooks(&url);
    sandbox.set_webhook_retry(4, Duration::from_millis(10));
    let order = sandbox.place_unpaid_order(&shop.cipher, &[("MUG-1", 1)]);
    sandbox.webhooks_settled().await;
    assert_eq!((sandbox.webhook_attempts(), sandbox.webhook_deliveries()), (2, 1));
    let seen = seen.lock().expect("lock").clone();
    let (signature, body) = seen.last().expect("a delivery");
    assert_eq!(signature, &webhook_signature(KEY, SECRET, body));
    let event: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(event["type"], 1);
    assert_eq!(event["shop_id"], shop.id.as_str());
    assert_eq!(event["data"]["order_id"], order.as_str());
    assert_eq!(event["data"]["order_status"], "UNPAID");
    assert_eq!(event["tts_notification_id"].as_str().map(str::len), Some(19));
}

#[tokio::test]
async fn chaos_throttles_about_the_share_asked_for() {
    let sandbox = sandbox(ReviewPolicy::default()).await;
    sandbox.set_chaos(Chaos { throttle_rate: 0.5, seed: 42, ..Chaos::default() });
    let client = Client::new(&sandbox);
    let mut throttled = 0;
    for _ in 0..40 {
        let (status, envelope) = client.call(Method::GET, "/authorization/202309/shops", &[], None).await;
        if status == 429 {
            assert_eq!(envelope["code"], 36009002);
            throttled += 1;
        }
    }
    assert!((10..=30).contains(&throttled), "{throttled}");
    sandbox.set_chaos(Chaos::default());
    let (status, _) = client.call(Method::GET, "/authorization/202309/shops", &[], None).await;
    assert_eq!(status, 200);
}

/// The seller's Cancel Order call.
async fn seller_cancel(client: &Client, cipher: &str, order: &str, reason: &str) -> Value {
    let body = json!({ "order_id": order, "cancel_reason": reason });
    client.shop_call(Method::POST, "/return_refund/202309/cancellations", cipher, Some(&body)).await
}

#[tokio::test]
async fn a_seller_cancels_an_unshipped_order_with_a_listed_reason_and_the_webhooks_tell() {
    let (sandbox, client, shop, order) = shop_with_order().await;
    let (url, seen) = receiver(0).await;
    sandbox.subscribe_webhooks(&url);
    let refused = seller_cancel(&client, &shop.cipher, &order, "because").await;
    assert_eq!(refused["code"], 36009005, "{refused}");
    let uk_spelling =
        seller_cancel(&client, &shop.cipher, &order, "seller_cancel_reason_out_of_stock_uk").await;
    assert_eq!(uk_spelling["code"], 36009005, "a US shop takes the US codes");

    let cancelled = seller_cancel(&client, &shop.cipher, &order, "seller_cancel_reason_out_of_stock").await;
    assert_eq!(cancelled["code"], 0, "{cancelled}");
    assert_eq!(cancelled["data"]["cancel_status"], "CANCELLATION_REQUEST_COMPLETE");
    let cancel_id = cancelled["data"]["cancel_id"].as_str().expect("a cancel id").to_owned();
    assert_eq!(sandbox.order_status(&shop.cipher, &order), Some(OrderStatus::Cancelled));
    let again = seller_cancel(&client, &shop.cipher, &order, "seller_cancel_reason_out_of_stock").await;
    assert_eq!(again["code"], 25001010, "an order cancelled already");

    let (_, found) = client
        .call(
            Method::POST,
            "/return_refund/202309/cancellations/search",
            &[("shop_cipher", &shop.cipher)],
            Some(&json!({ "cancel_ids": [cancel_id] })),
        )
        .await;
    let found = &found["data"]["cancellations"][0];
    assert_eq!((found["role"].as_str(), found["cancel_type"].as_str()), (Some("SELLER"), Some("CANCEL")));
    assert_eq!(found["cancel_reason"], "seller_cancel_reason_out_of_stock");
    assert_eq!(found["cancel_reason_text"], "Out of stock");
    let (_, detail) = client_detail(&sandbox, &order).await;
    assert_eq!(detail["data"]["orders"][0]["cancellation_initiator"], "SELLER");

    sandbox.webhooks_settled().await;
    let events: Vec<Value> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, body)| serde_json::from_slice(body).expect("json"))
        .collect();
    assert!(
        events.iter().any(|e| e["type"] == 11
            && e["data"]["cancellations_role"] == "SELLER"
            && e["data"]["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
            && e["data"]["order_id"] == order.as_str()),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e["type"] == 1 && e["data"]["order_status"] == "CANCEL"), "{events:?}");
}

#[tokio::test]
async fn a_seller_cannot_cancel_a_delivered_order_or_one_the_buyer_asked_to_cancel() {
    let (sandbox, client, shop, order) = shop_with_order().await;
    sandbox.cancel_order_as_buyer(&shop.cipher, &order);
    let pending = seller_cancel(&client, &shop.cipher, &order, "seller_cancel_reason_wrong_price").await;
    assert_eq!(pending["code"], 25001001, "{pending}");

    let delivered = sandbox.place_order(&shop.cipher, &[("MUG-1", 1)]);
    for status in [OrderStatus::AwaitingCollection, OrderStatus::InTransit, OrderStatus::Delivered] {
        sandbox.advance_order(&shop.cipher, &delivered, status);
    }
    let late = seller_cancel(&client, &shop.cipher, &delivered, "seller_cancel_reason_wrong_price").await;
    assert_eq!(late["code"], 25001001, "{late}");
    assert_eq!(sandbox.order_status(&shop.cipher, &delivered), Some(OrderStatus::Delivered));

    let collecting = sandbox.place_order(&shop.cipher, &[("MUG-1", 1)]);
    sandbox.advance_order(&shop.cipher, &collecting, OrderStatus::AwaitingCollection);
    let ok =
        seller_cancel(&client, &shop.cipher, &collecting, "seller_cancel_paid_reason_address_not_deliver")
            .await;
    assert_eq!(ok["code"], 0, "awaiting collection may still be cancelled: {ok}");

    let uk = sandbox.shops()[1].clone();
    sandbox.seed_product(&uk.cipher, "Mug", &["MUG-UK"]);
    let uk_order = sandbox.place_order(&uk.cipher, &[("MUG-UK", 1)]);
    let us_spelling =
        seller_cancel(&client, &uk.cipher, &uk_order, "seller_cancel_reason_out_of_stock").await;
    assert_eq!(us_spelling["code"], 36009005, "a UK shop takes the _uk codes");
    let uk_ok = seller_cancel(&client, &uk.cipher, &uk_order, "seller_cancel_reason_out_of_stock_uk").await;
    assert_eq!(uk_ok["code"], 0, "{uk_ok}");
}

#[tokio::test]
async fn shipped_tracking_is_corrected_once_over_the_api() {
    let (sandbox, client, shop, order) = shop_with_order().await;
    let package = package_of(&sandbox, &order).await;
    let update = |tracking: &'static str| {
        let (client, cipher, package) = (&client, shop.cipher.clone(), package.clone());
        async move {
            let path = format!("/fulfillment/202309/packages/{package}/shipping_info/update");
            let body = json!({ "tracking_number": tracking, "shipping_provider_id": "7117859084333745966" });
            client.shop_call(Method::POST, &path, &cipher, Some(&body)).await
        }
    };
    assert_eq!(update("1Z0001").await["code"], 21011043, "not shipped yet");
    let ship = json!({ "self_shipment": { "tracking_number": "9400100000000000000009",
                                          "shipping_provider_id": "7117858858072016686" } });
    let path = format!("/fulfillment/202309/packages/{package}/ship");
    assert_eq!(client.shop_call(Method::POST, &path, &shop.cipher, Some(&ship)).await["code"], 0);
    let corrected = update("1Z0001").await;
    assert_eq!(corrected["code"], 0, "{corrected}");
    let (_, detail) = client_detail(&sandbox, &order).await;
    let line = &detail["data"]["orders"][0]["line_items"][0];
    assert_eq!(
        (line["tracking_number"].as_str(), line["shipping_provider_name"].as_str()),
        (Some("1Z0001"), Some("UPS"))
    );
    assert_eq!(update("1Z0002").await["code"], 21011051, "one update per order");
}
