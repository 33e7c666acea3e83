//! Returns end to end: a buyer's return of some units on a TikTok sandbox shop goes through its
//! whole life (the request, the parcel back, the goods received, the refund paid) through the
//! real plugins, a real database and the real API; Crossdock decides each step the channel's
//! refund settings hand it, leaves the rest to the merchant, and records exactly one store
//! refund once the money is paid, restocked only when the goods came back and the settings say
//! so. A refused parcel makes no refund; replayed or reordered webhooks change nothing twice.

use crossdock::demo::SandboxWorld;
use crossdock::model::ChannelId;
use crossdock_e2e::{
    WebhookRecorder, active_products, api_call, api_ok, fresh_postgres_url, fresh_sqlite_url, init_tracing,
    serve_api, ship_in_shopify, sync, sync_orders, world,
};
use crossdock_sandbox::tiktok::{OrderStatus, ShopSpec};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An order of two units on the shop, in the store, shipped from the store and delivered.
struct Delivered {
    cipher: String,
    sku: String,
    order_id: String,
    /// The order's row id in the API.
    row: i64,
}

async fn delivered_order(world: &SandboxWorld, base: &str) -> Delivered {
    let cipher = world.channels[0].shop.cipher.clone();
    let product =
        world.tiktok.products(&cipher).into_iter().find(|p| p.status == "ACTIVATE").expect("a live product");
    let sku = product.skus[0].seller_sku.clone();
    let order_id = world.tiktok.place_order(&cipher, &[(&sku, 2)]);
    sync_orders(world).await;
    let view =
        api_ok(Method::GET, &format!("{base}/api/channels/{}/orders", world.channels[0].id.0), None).await;
    let row = view["orders"]
        .as_array()
        .and_then(|orders| orders.iter().find(|o| o["channel_order_id"] == order_id.as_str()))
        .unwrap_or_else(|| panic!("the order is on the dashboard: {view}"))
        .clone();
    let store_gid = row["store_order_id"].as_str().expect("in the store").to_owned();
    ship_in_shopify(world, &store_gid, &[], "USPS", "9400111899223344550001").await;
    sync_orders(world).await;
    world.tiktok.advance_order(&cipher, &order_id, OrderStatus::InTransit);
    world.tiktok.advance_order(&cipher, &order_id, OrderStatus::Delivered);
    Delivered { cipher, sku, order_id, row: row["id"].as_i64().expect("a row id") }
}

async fn set_refund_settings(base: &str, channel: ChannelId, refund: Value) {
    let url = format!("{base}/api/channels/{}/order-settings", channel.0);
    api_ok(Method::PUT, &url, Some(json!({ "refund": refund }))).await;
}

/// The store order's refunds, as the Shopify sandbox holds them.
fn store_refunds(world: &SandboxWorld, channel_order: &str) -> Vec<Value> {
    let orders = world.shopify.orders();
    let order = orders
        .iter()
        .find(|o| o["source_identifier"].as_str().is_some_and(|s| s.ends_with(&format!(":{channel_order}"))))
        .expect("the store order");
    order["refunds"].as_array().cloned().unwrap_or_default()
}

async fn after_sale(base: &str, row: i64) -> Value {
    let detail = api_ok(Method::GET, &format!("{base}/api/orders/{row}"), None).await;
    detail["after_sales"].as_array().and_then(|a| a.first()).cloned().unwrap_or(Value::Null)
}

/// A return of one unit the settings approve at each step: one store refund of that unit, with
/// the unit back in stock when `restock`.
async fn return_with_goods_back(database_url: &str, restock: bool) {
    init_tracing();
    let world =
        world(database_url, active_products(2), vec![ShopSpec::new("Crossdock US", "US", "USD")]).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let refund =
        json!({ "approve-returns": true, "approve-received-goods": true, "restock-returns": restock });
    set_refund_settings(&base, channel, refund).await;
    let order = delivered_order(&world, &base).await;
    let stock_before = world.shopify.available(&order.sku).expect("tracked");

    let lines = world.tiktok.order_line_ids(&order.cipher, &order.order_id);
    let return_id =
        world.tiktok.request_return_of(&order.cipher, &order.order_id, "RETURN_AND_REFUND", &[&lines[0]]);
    sync_orders(&world).await;
    assert_eq!(
        world.tiktok.return_status(&order.cipher, &return_id).as_deref(),
        Some("AWAITING_BUYER_SHIP"),
        "the settings approved the return"
    );
    world.tiktok.return_shipped_with(&order.cipher, &return_id, ("1ZRETURN01".into(), "UPS".into()));
    sync_orders(&world).await;
    assert_eq!(
        world.tiktok.return_status(&order.cipher, &return_id).as_deref(),
        Some("RETURN_OR_REFUND_REQUEST_SUCCESS"),
        "the settings accepted the goods back"
    );
    assert!(store_refunds(&world, &order.order_id).is_empty(), "no store refund before the money is paid");
    let request = after_sale(&base, order.row).await;
    assert_eq!(request["return_tracking"]["tracking_number"], "1ZRETURN01", "{request}");

    world.tiktok.refund_paid(&order.cipher, &return_id);
    sync_orders(&world).await;
    sync_orders(&world).await;
    let refunds = store_refunds(&world, &order.order_id);
    assert_eq!(refunds.len(), 1, "exactly one store refund: {refunds:#?}");
    let units: u64 = refunds[0]["refund_line_items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["quantity"].as_u64())
        .sum();
    assert_eq!(units, 1, "the returned unit only: {refunds:#?}");
    assert_eq!(refunds[0]["restock"], restock, "{refunds:#?}");
    let expected = if restock { stock_before + 1 } else { stock_before };
    assert_eq!(world.shopify.available(&order.sku), Some(expected));
    let request = after_sale(&base, order.row).await;
    assert_eq!((request["state"].as_str(), request["stage"].as_str()), (Some("done"), Some("completed")));
}

#[tokio::test]
async fn a_return_with_goods_back_becomes_one_store_refund_with_restock_sqlite() {
    return_with_goods_back(&fresh_sqlite_url(), true).await;
}

#[tokio::test]
async fn a_return_with_goods_back_becomes_one_store_refund_with_restock_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    return_with_goods_back(&url, true).await;
}

#[tokio::test]
async fn a_return_with_restock_off_refunds_without_restocking() {
    return_with_goods_back(&fresh_sqlite_url(), false).await;
}

/// With the settings off the merchant decides each step through the API, and only the step
/// the channel waits for; a refused parcel makes no refund.
async fn merchant_decides(database_url: &str) {
    init_tracing();
    let world =
        world(database_url, active_products(2), vec![ShopSpec::new("Crossdock US", "US", "USD")]).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let order = delivered_order(&world, &base).await;
    let return_id = world.tiktok.request_return(&order.cipher, &order.order_id, "RETURN_AND_REFUND");
    sync_orders(&world).await;
    sync_orders(&world).await;
    assert_eq!(
        world.tiktok.return_status(&order.cipher, &return_id).as_deref(),
        Some("RETURN_OR_REFUND_REQUEST_PENDING"),
        "left to the merchant"
    );
    let request = after_sale(&base, order.row).await;
    assert_eq!(request["state"], "awaiting_seller", "{request}");
    assert_eq!(request["awaiting_seller"], "request", "{request}");
    let id = request["after_sale_id"].as_str().expect("an id").to_owned();
    let decide = format!("{base}/api/orders/{}/after-sales/{id}/decide", order.row);
    api_ok(Method::POST, &decide, Some(json!({ "approve": true }))).await;
    assert_eq!(world.tiktok.return_status(&order.cipher, &return_id).as_deref(), Some("AWAITING_BUYER_SHIP"));
    let (status, answer) = api_call(Method::POST, &decide, Some(json!({ "approve": false }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing to decide while the parcel travels: {answer}");
    assert!(answer.to_string().contains("AWAITING_BUYER_SHIP"), "{answer}");
    sync_orders(&world).await;
    assert_eq!(after_sale(&base, order.row).await["state"], "open");

    world.tiktok.return_shipped_by_buyer(&order.cipher, &return_id);
    sync_orders(&world).await;
    let request = after_sale(&base, order.row).await;
    assert_eq!(request["awaiting_seller"], "received-goods", "{request}");
    api_ok(Method::POST, &decide, Some(json!({ "approve": false }))).await;
    assert_eq!(
        world.tiktok.return_status(&order.cipher, &return_id).as_deref(),
        Some("REJECT_RECEIVE_PACKAGE")
    );
    sync_orders(&world).await;
    let request = after_sale(&base, order.row).await;
    assert_eq!((request["state"].as_str(), request["stage"].as_str()), (Some("rejected"), Some("rejected")));
    assert!(store_refunds(&world, &order.order_id).is_empty(), "a refused parcel is no refund");
    // An order the caller does not have is 404.
    let (status, _) = api_call(
        Method::POST,
        &format!("{base}/api/orders/999999/after-sales/{id}/decide"),
        Some(json!({ "approve": true })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_merchant_decided_return_waits_for_each_decision_and_a_refused_parcel_is_no_refund_sqlite() {
    merchant_decides(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn a_merchant_decided_return_waits_for_each_decision_and_a_refused_parcel_is_no_refund_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    merchant_decides(&url).await;
}

#[tokio::test]
async fn replayed_and_reordered_return_webhooks_change_nothing_twice() {
    init_tracing();
    let world =
        world(&fresh_sqlite_url(), active_products(2), vec![ShopSpec::new("Crossdock US", "US", "USD")])
            .await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    set_refund_settings(&base, channel, json!({ "approve-returns": true, "approve-received-goods": true }))
        .await;
    let order = delivered_order(&world, &base).await;
    let recorder = WebhookRecorder::start().await;
    world.tiktok.subscribe_webhooks(&recorder.address());
    let return_id = world.tiktok.request_return(&order.cipher, &order.order_id, "RETURN_AND_REFUND");
    sync_orders(&world).await;
    world.tiktok.return_shipped_by_buyer(&order.cipher, &return_id);
    sync_orders(&world).await;
    world.tiktok.refund_paid(&order.cipher, &return_id);
    sync_orders(&world).await;
    world.tiktok.webhooks_settled().await;
    assert_eq!(store_refunds(&world, &order.order_id).len(), 1);
    let stock = world.shopify.available(&order.sku);

    let returns: Vec<_> = recorder
        .deliveries()
        .into_iter()
        .filter(|d| serde_json::from_slice::<Value>(&d.body).is_ok_and(|e| e["type"] == 12))
        .collect();
    assert!(returns.len() >= 5, "a webhook per change: {}", returns.len());
    let hook = format!("{base}/webhooks/channel/{}", channel.0);
    // Newest first, then all of them again: the order is due each time and reads the truth.
    for delivery in returns.iter().rev().chain(returns.iter()) {
        let response = delivery.replay(&hook).await;
        assert_eq!(response.status(), StatusCode::OK);
        sync_orders(&world).await;
    }
    assert_eq!(store_refunds(&world, &order.order_id).len(), 1, "still exactly one store refund");
    assert_eq!(world.shopify.available(&order.sku), stock, "restocked once");
    assert_eq!(
        world.tiktok.return_status(&order.cipher, &return_id).as_deref(),
        Some("RETURN_OR_REFUND_REQUEST_COMPLETE")
    );
}
