//! Orders end to end: TikTok sandbox orders come into the Shopify sandbox exactly once, through
//! the real plugins, real Rhai and a real database; shipments, cancellations and returns
//! cross; every failure names its kind, cause and fix, and a retry after the fix syncs.

use crossdock::db::orders::OrderState;
use crossdock::model::ChannelId;
use crossdock_e2e::{
    active_products, api_call, api_ok, fresh_postgres_url, fresh_sqlite_url, init_tracing, serve_api,
    ship_in_shopify, sync, sync_orders, world,
};
use crossdock_sandbox::tiktok::{OrderStatus, ShopSpec};
use reqwest::Method;
use serde_json::{Value, json};

fn us_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("Crossdock US", "US", "USD")]
}

/// The first variant SKU of the first product of the world's catalog.
fn first_sku(world: &crossdock::demo::SandboxWorld) -> String {
    let cipher = &world.channels[0].shop.cipher;
    let product =
        world.tiktok.products(cipher).into_iter().find(|p| p.status == "ACTIVATE").expect("a live product");
    product.skus[0].seller_sku.clone()
}

/// The store orders that carry this channel order's source identifier.
fn store_orders_for(world: &crossdock::demo::SandboxWorld, channel_order: &str) -> Vec<Value> {
    world
        .shopify
        .orders()
        .into_iter()
        .filter(|o| {
            o["source_identifier"].as_str().is_some_and(|s| s.ends_with(&format!(":{channel_order}")))
        })
        .collect()
}

async fn orders_view(base: &str, channel: ChannelId) -> Value {
    api_ok(Method::GET, &format!("{base}/api/channels/{}/orders", channel.0), None).await
}

fn order_in<'a>(view: &'a Value, channel_order: &str) -> &'a Value {
    view["orders"]
        .as_array()
        .and_then(|orders| orders.iter().find(|o| o["channel_order_id"] == channel_order))
        .unwrap_or_else(|| panic!("order {channel_order} is on the dashboard: {view}"))
}

async fn order_lifecycle(database_url: &str) {
    init_tracing();
    let world = world(database_url, active_products(3), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let sku = first_sku(&world);
    let stock_before = world.shopify.available(&sku).expect("the store tracks the SKU");

    // An order placed on the shop comes into the store once, however often it is polled.
    let order_id = world.tiktok.place_order(&cipher, &[(&sku, 2)]);
    let report = sync_orders(&world).await;
    assert!(report.orders_seen >= 1, "{report:?}");
    sync_orders(&world).await;
    let created = store_orders_for(&world, &order_id);
    assert_eq!(created.len(), 1, "exactly one store order: {created:#?}");
    let store_order = &created[0];
    let tags: Vec<&str> = store_order["tags"].as_str().unwrap_or_default().split(", ").collect();
    assert!(tags.contains(&"Crossdock US"), "tagged with the shop's name: {store_order}");
    assert_eq!(world.shopify.available(&sku), Some(stock_before - 2), "the store's stock drops once");
    let view = orders_view(&base, channel).await;
    let row = order_in(&view, &order_id);
    assert_eq!(row["state"], "synced", "{row}");
    let store_gid = row["store_order_id"].as_str().expect("the store order id is kept").to_string();

    // The merchant ships it in the store: the tracking reaches the shop with the mapped carrier.
    ship_in_shopify(&world, &store_gid, &[], "USPS", "9400111899223344556677").await;
    sync_orders(&world).await;
    assert_eq!(
        world.tiktok.order_status(&cipher, &order_id),
        Some(OrderStatus::AwaitingCollection),
        "the shop's order is shipped"
    );
    let detail = api_ok(Method::GET, &format!("{base}/api/orders/{}", row["id"]), None).await;
    let shipments = detail["shipments"].as_array().expect("shipments");
    assert_eq!(shipments.len(), 1, "{detail}");
    assert_eq!(shipments[0]["state"], "sent");
    assert_eq!(shipments[0]["tracking_number"], "9400111899223344556677");

    // Delivered, then the buyer asks for a refund and the merchant approves it: a store refund.
    world.tiktok.advance_order(&cipher, &order_id, OrderStatus::InTransit);
    world.tiktok.advance_order(&cipher, &order_id, OrderStatus::Delivered);
    let return_id = world.tiktok.request_return(&cipher, &order_id, "REFUND");
    sync_orders(&world).await;
    let detail = api_ok(Method::GET, &format!("{base}/api/orders/{}", row["id"]), None).await;
    let request =
        detail["after_sales"].as_array().and_then(|a| a.first()).cloned().expect("the request is followed");
    assert_eq!(request["state"], "awaiting_seller", "the refund waits for the merchant: {detail}");
    api_ok(
        Method::POST,
        &format!(
            "{base}/api/orders/{}/after-sales/{}/decide",
            row["id"],
            request["after_sale_id"].as_str().unwrap_or_default()
        ),
        Some(json!({ "approve": true })),
    )
    .await;
    sync_orders(&world).await;
    let detail = api_ok(Method::GET, &format!("{base}/api/orders/{}", row["id"]), None).await;
    assert_eq!(
        detail["after_sales"][0]["stage"], "in-progress",
        "approved, the refund not paid yet: {detail}"
    );
    assert_eq!(detail["after_sales"][0]["store_refund_id"], Value::Null, "no store refund before it is paid");
    world.tiktok.refund_paid(&cipher, &return_id);
    sync_orders(&world).await;
    let detail = api_ok(Method::GET, &format!("{base}/api/orders/{}", row["id"]), None).await;
    let request = &detail["after_sales"][0];
    assert_eq!(request["state"], "done", "{detail}");
    assert!(request["store_refund_id"].is_string(), "{detail}");
    let refunded = store_orders_for(&world, &order_id);
    let refunds = refunded[0]["refunds"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(refunds, 1, "one store refund: {:#}", refunded[0]);
    sync_orders(&world).await;
    let refunded = store_orders_for(&world, &order_id);
    assert_eq!(
        refunded[0]["refunds"].as_array().map(Vec::len),
        Some(1),
        "and only one, however often it syncs"
    );
}

#[tokio::test]
async fn an_order_comes_into_the_store_once_ships_back_and_its_refund_returns_sqlite() {
    order_lifecycle(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn an_order_comes_into_the_store_once_ships_back_and_its_refund_returns_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    order_lifecycle(&url).await;
}

#[tokio::test]
async fn an_order_by_webhook_and_by_polling_at_once_is_one_store_order_and_a_forged_webhook_is_refused() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    world.tiktok.subscribe_webhooks(&format!("{base}/webhooks/channel/{}", channel.0));
    let sku = first_sku(&world);

    let order_id = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    world.tiktok.webhooks_settled().await;
    // The webhook recorded the order; a poll and the workers run at the same time as more
    // deliveries of the same order.
    let (a, b) = tokio::join!(sync_orders(&world), sync_orders(&world));
    assert!(a.orders_seen + b.orders_seen >= 2);
    world.tiktok.webhooks_settled().await;
    sync_orders(&world).await;
    assert_eq!(store_orders_for(&world, &order_id).len(), 1, "one store order for one channel order");

    // A delivery signed with another secret is refused and records nothing.
    let forged = json!({ "type": 1, "shop_id": "x", "timestamp": 1, "data": { "order_id": "1" } });
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/channel/{}", channel.0))
        .header("Authorization", "0".repeat(64))
        .json(&forged)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unlinked_sku_fails_with_its_fix_and_the_order_syncs_once_the_store_has_it() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    // A listing made in Seller Center whose SKU the store does not have.
    world.tiktok.seed_product(&cipher, "Seller Center only", &["SC-ONLY-1"]);
    let order_id = world.tiktok.place_order(&cipher, &[("SC-ONLY-1", 1)]);
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let row = order_in(&view, &order_id);
    assert_eq!(row["state"], "failed", "{row}");
    assert_eq!(row["failure"]["kind"], "unlinked_sku", "{row}");
    assert!(row["failure"]["cause"].as_str().unwrap_or_default().contains("SC-ONLY-1"), "{row}");
    assert!(!row["failure"]["fix"].as_str().unwrap_or_default().is_empty(), "{row}");
    assert!(store_orders_for(&world, &order_id).is_empty());

    // The merchant adds the SKU to the store; the catalog reads it; the retry syncs the order.
    let mut product = active_products(3).pop().expect("a product");
    product.handle = "sc-only".into();
    product.title = "Seller Center only".into();
    product.variants.truncate(1);
    product.variants[0].sku = "SC-ONLY-1".into();
    world.shopify.add_product(product);
    sync(&world).await;
    let task = api_ok(
        Method::POST,
        &format!("{base}/api/channels/{}/orders/retry?kind=unlinked_sku", channel.0),
        None,
    )
    .await;
    let task = crossdock_e2e::finished_task(&base, &task).await;
    assert_eq!((&task["state"], &task["retried"]), (&json!("done"), &json!(1)), "{task}");
    crossdock_e2e::run_queue(&world).await;
    let view = orders_view(&base, channel).await;
    assert_eq!(order_in(&view, &order_id)["state"], "synced", "{view}");
    assert_eq!(store_orders_for(&world, &order_id).len(), 1);
    let (status, _) = api_call(Method::POST, &format!("{base}/api/orders/999999/retry"), None).await;
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_crash_between_the_store_create_and_our_commit_never_makes_a_second_order() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let sku = first_sku(&world);
    let order_id = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    // Read the order, then act as a worker that called the store's create and died before
    // recording the answer: the store has the order, our row only the create marker.
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("loads");
    crossdock::orders::import::poll_orders(&engine).await.expect("polls");
    let claim = world
        .app
        .db
        .claim_order(std::time::Duration::from_millis(1), &[channel])
        .await
        .expect("claims")
        .expect("the order is due");
    assert!(world.app.db.mark_store_create_started(&claim).await.expect("marks"));
    let runtime = engine.channel(channel).expect("the channel");
    let source = crossdock::orders::create::source_identifier(runtime, &order_id);
    let store = world.app.db.store_of(world.org).await.expect("reads").expect("a store");
    let variant = world.app.db.store_variants_with_sku(store.id, &sku).await.expect("reads").remove(0);
    let lost = crossdock::model::order::NewOrder {
        source_identifier: source.clone(),
        source_name: "TikTok Shop — Crossdock US".into(),
        idempotency_key: format!("{source}:create-by-the-dead-worker"),
        lines: vec![crossdock::model::order::NewOrderLine {
            variant_id: variant.variant_id.clone(),
            sku: sku.clone(),
            title: "what the dead worker sent".into(),
            quantity: 1,
            unit_price: crossdock::model::Money::parse("1", "USD").expect("money"),
            discount: crossdock::model::Money::parse("0", "USD").expect("money"),
            source_line_id: "1".into(),
        }],
        shipping: crossdock::model::Money::parse("0", "USD").expect("money"),
        tax: crossdock::model::Money::parse("0", "USD").expect("money"),
        buyer_paid: crossdock::model::Money::parse("1", "USD").expect("money"),
        platform_discount: crossdock::model::Money::parse("0", "USD").expect("money"),
        shipping_address: None,
        email: None,
        note: None,
        tags: Vec::new(),
        attributes: Vec::new(),
        decrement_stock: true,
    };
    let made = engine.store_connector.create_order(&lost).await.expect("the store takes the order");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await; // the dead worker's lease runs out
    sync_orders(&world).await;
    let created = store_orders_for(&world, &order_id);
    assert_eq!(created.len(), 1, "the lookup found the order; no second create: {created:#?}");
    let row = world.app.db.order(claim.row.id).await.expect("reads").expect("the row");
    assert_eq!(row.store_order_id.as_deref(), Some(made.id.as_str()));
    assert_eq!(row.state, OrderState::Synced);
}

#[tokio::test]
async fn a_cancellation_on_the_shop_cancels_the_store_order_and_an_unmapped_carrier_points_to_the_mapping() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let sku = first_sku(&world);

    // Cancelled by the buyer before shipping (approved by the merchant): the store order too.
    let cancelled = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    let cancel_id = world.tiktok.cancel_order_as_buyer(&cipher, &cancelled);
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("loads");
    let connector = &engine.channel(channel).expect("channel").connector;
    let requests = connector.order_after_sales(&cancelled).await.expect("reads the request");
    let request = requests.iter().find(|r| r.id.ends_with(&cancel_id)).expect("the buyer's request");
    connector.decide_after_sale(&request.id, true).await.expect("approved");
    sync_orders(&world).await;
    let store = store_orders_for(&world, &cancelled);
    assert!(store[0]["cancelled_at"].is_string(), "the store order is cancelled: {:#}", store[0]);

    // A carrier the shop does not know stops the shipment with a pointer to the mapping;
    // mapping it sends the shipment.
    let shipped = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let gid = order_in(&view, &shipped)["store_order_id"].as_str().expect("in the store").to_string();
    ship_in_shopify(&world, &gid, &[], "Acme Parcel", "AP123456789").await;
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let row = order_in(&view, &shipped);
    assert_eq!(row["failure"]["kind"], "unmapped_carrier", "{row}");
    assert!(row["failure"]["fix"].as_str().unwrap_or_default().contains("/carriers"), "{row}");
    let carriers = api_ok(Method::GET, &format!("{base}/api/channels/{}/carriers", channel.0), None).await;
    let ups = carriers["providers"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "UPS"))
        .cloned()
        .expect("UPS is offered");
    let (status, _) = api_call(
        Method::PUT,
        &format!("{base}/api/channels/{}/carriers", channel.0),
        Some(json!({ "store_carrier": "Acme Parcel", "provider_id": "nope" })),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{}/carriers", channel.0),
        Some(json!({ "store_carrier": "Acme Parcel", "provider_id": ups["id"] })),
    )
    .await;
    crossdock_e2e::run_queue(&world).await;
    assert_eq!(world.tiktok.order_status(&cipher, &shipped), Some(OrderStatus::AwaitingCollection));
    let view = orders_view(&base, channel).await;
    assert_eq!(order_in(&view, &shipped)["state"], "synced");
}

#[tokio::test]
async fn two_shops_selling_the_last_unit_at_once_make_one_store_order_and_one_out_of_stock_failure() {
    init_tracing();
    let shops =
        vec![ShopSpec::new("Crossdock US", "US", "USD"), ShopSpec::new("Crossdock East", "US", "USD")];
    let world = world(&fresh_sqlite_url(), active_products(2), shops).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let sku = first_sku(&world);
    assert!(world.shopify.set_variant_stock(&sku, 1), "the store has one unit left");
    // Both shops still offer a unit (the store's last change has not reached them yet).
    let mut placed = Vec::new();
    for channel in &world.channels {
        let cipher = &channel.shop.cipher;
        let sku_id = crossdock_e2e::sku_on_shop(&world, cipher, &sku).id;
        let listing = crossdock_e2e::listing_with_sku(&world, cipher, &sku).id;
        world.tiktok.seller_edit(
            cipher,
            &listing,
            &crossdock_sandbox::tiktok::SellerEdit {
                sku_id: Some(sku_id),
                quantity: Some(1),
                ..Default::default()
            },
        );
        placed.push((channel.id, world.tiktok.place_order(cipher, &[(&sku, 1)])));
    }
    sync_orders(&world).await;
    let mut states = Vec::new();
    for (channel, order_id) in &placed {
        let view = orders_view(&base, *channel).await;
        let row = order_in(&view, order_id).clone();
        states.push((row["state"].as_str().unwrap_or_default().to_string(), row));
    }
    let synced = states.iter().filter(|(s, _)| s == "synced").count();
    let failed: Vec<&Value> = states.iter().filter(|(s, _)| s == "failed").map(|(_, r)| r).collect();
    assert_eq!(synced, 1, "one order got the last unit: {states:#?}");
    assert_eq!(failed.len(), 1, "the other failed: {states:#?}");
    assert_eq!(failed[0]["failure"]["kind"], "out_of_stock", "{:#}", failed[0]);
    assert_eq!(world.shopify.available(&sku), Some(0), "the store never oversells");
    let store_orders: usize = placed.iter().map(|(_, id)| store_orders_for(&world, id).len()).sum();
    assert_eq!(store_orders, 1);
}

#[tokio::test]
async fn a_store_cancellation_reaches_the_shop_the_settings_decide_each_way_and_a_held_order_waits_for_release()
 {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let sku = first_sku(&world);

    // Cancelled in the store: the shop's order is cancelled by the seller.
    let first = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let gid = order_in(&view, &first)["store_order_id"].as_str().expect("in the store").to_string();
    let cancelled = world
        .store_graphql(
            "mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: false) { \
             orderCancelUserErrors { field message } } }",
            json!({ "id": gid }),
        )
        .await
        .expect("the merchant cancels in Shopify");
    assert_eq!(cancelled["orderCancel"]["orderCancelUserErrors"], json!([]), "{cancelled}");
    sync_orders(&world).await;
    assert_eq!(
        world.tiktok.order_status(&cipher, &first),
        Some(OrderStatus::Cancelled),
        "the shop's order is cancelled"
    );

    // With channel-to-store off, a cancellation on the shop leaves the store order alone.
    api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{}/order-settings", channel.0),
        Some(json!({ "cancellation": { "channel-to-store": false } })),
    )
    .await;
    let (status, answer) = api_call(
        Method::PUT,
        &format!("{base}/api/channels/{}/order-settings", channel.0),
        Some(json!({ "cancelation": {} })),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let second = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    world.tiktok.cancel_order_as_buyer(&cipher, &second);
    let approved =
        world.approve_requests(&crossdock_e2e::fast_settings(), channel, &second).await.expect("approves");
    assert_eq!(approved, 1, "the buyer's cancellation request");
    sync_orders(&world).await;
    let store = store_orders_for(&world, &second);
    assert!(store[0]["cancelled_at"].is_null(), "the setting keeps the store order: {:#}", store[0]);

    // An order rule that holds: the order waits, named, until the merchant releases it.
    api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{}/rules/order", channel.0),
        Some(
            json!({ "source": "if order.buyer_paid > 0.0 { hold(\"check every order\") } else { keep() }" }),
        ),
    )
    .await;
    let third = world.tiktok.place_order(&cipher, &[(&sku, 1)]);
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let row = order_in(&view, &third).clone();
    assert_eq!(row["state"], "held", "{row}");
    assert_eq!(row["failure"]["kind"], "held_by_rule");
    assert!(store_orders_for(&world, &third).is_empty(), "a held order is not in the store");
    api_ok(Method::POST, &format!("{base}/api/orders/{}/release", row["id"]), None).await;
    crossdock_e2e::run_queue(&world).await;
    assert_eq!(store_orders_for(&world, &third).len(), 1, "released, it comes in");
    let (status, _) = api_call(Method::POST, &format!("{base}/api/orders/{}/release", row["id"]), None).await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "only a held order can be released");
}

#[tokio::test]
async fn a_late_delivery_of_an_older_snapshot_never_rolls_an_order_back() {
    let world = world(&fresh_sqlite_url(), active_products(1), us_shop()).await;
    sync(&world).await;
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let order_id = world.tiktok.place_order(&cipher, &[(&first_sku(&world), 1)]);
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("loads");
    let connector = &engine.channel(channel).expect("channel").connector;
    let mut newer = connector.get_order(&order_id).await.expect("reads").expect("the order");
    let mut older = newer.clone();
    older.updated_at -= 60_000;
    older.status = "ON_HOLD".into();
    older.stage = crossdock::model::order::OrderStage::OnHold;
    newer.updated_at += 1;
    let db = &world.app.db;
    let (id, changed) = db.record_channel_order(channel, &newer).await.expect("records");
    assert!(changed);
    let (same, changed) = db.record_channel_order(channel, &older).await.expect("records");
    assert_eq!(id, same, "one row per channel order");
    assert!(!changed, "an older snapshot changes nothing");
    let row = db.order(id).await.expect("reads").expect("the row");
    assert_eq!(row.status, newer.status);
    let (_, changed) = db.record_channel_order(channel, &newer).await.expect("records");
    assert!(!changed, "the same snapshot again changes nothing");
}

#[tokio::test]
async fn a_tracking_number_corrected_in_the_store_is_corrected_on_the_shop() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let order_id = world.tiktok.place_order(&cipher, &[(&first_sku(&world), 1)]);
    sync_orders(&world).await;
    let view = orders_view(&base, channel).await;
    let gid = order_in(&view, &order_id)["store_order_id"].as_str().expect("in the store").to_string();
    let fulfillment = ship_in_shopify(&world, &gid, &[], "UPS", "1Z999AA10123456784").await;
    sync_orders(&world).await;
    // The merchant typed the number wrong and corrects it in Shopify.
    let updated = world
        .store_graphql(
            "mutation($id: ID!, $t: FulfillmentTrackingInput!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id, \
             trackingInfoInput: $t) { userErrors { field message } } }",
            json!({ "id": fulfillment, "t": { "company": "UPS", "number": "1Z999AA10123456785" } }),
        )
        .await
        .expect("the merchant corrects the tracking");
    assert_eq!(updated["fulfillmentTrackingInfoUpdate"]["userErrors"], json!([]), "{updated}");
    sync_orders(&world).await;
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("loads");
    let on_shop =
        engine.channel(channel).expect("channel").connector.get_order(&order_id).await.expect("reads");
    let tracking: Vec<String> = on_shop
        .expect("the order")
        .packages
        .into_iter()
        .filter_map(|p| p.tracking.map(|t| t.tracking_number))
        .collect();
    assert_eq!(tracking, vec!["1Z999AA10123456785".to_string()], "the shop has the corrected number");
    let view = orders_view(&base, channel).await;
    let detail =
        api_ok(Method::GET, &format!("{base}/api/orders/{}", order_in(&view, &order_id)["id"]), None).await;
    assert_eq!(detail["shipments"][0]["tracking_number"], "1Z999AA10123456785", "{detail}");
}

/// A backlog bigger than the store's cost bucket: throttled orders hold back the others until
/// the points are back, so the backlog drains (without it, small lookups spent the points a
/// whole-order read waited for, and 24 of 40 orders stayed throttled for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_bigger_than_the_stores_cost_bucket_drains() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(20), us_shop()).await;
    // Shopify's Advanced plan (2,000 points, 100 restored a second) from the start: the catalog
    // reads leave the bucket low when the orders come, as in a running store.
    world.shopify.set_cost_limits(crossdock_sandbox::shopify::CostLimits {
        maximum_available: 2_000.0,
        restore_rate: 100.0,
        ..world.shopify.cost_limits()
    });
    sync(&world).await;
    let cipher = world.channels[0].shop.cipher.clone();
    let skus: Vec<String> = world
        .tiktok
        .products(&cipher)
        .into_iter()
        .filter(|p| p.status == "ACTIVATE")
        .flat_map(|p| p.skus.into_iter().map(|s| s.seller_sku))
        .collect();
    for sku in &skus {
        assert!(world.shopify.set_variant_stock(sku, 1000));
    }
    sync(&world).await;
    let placed: Vec<String> =
        (0..40).map(|i| world.tiktok.place_order(&cipher, &[(&skus[i % skus.len()], 1)])).collect();
    let engine = world.engine(crossdock_e2e::fast_settings()).await.expect("loads");
    crossdock::orders::import::poll_orders(&engine).await.expect("polls");
    let queue = crossdock::dispatch::QueueSettings { workers: 4, ..Default::default() };
    let drained = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        crossdock::dispatch::run_until_idle(&engine, &queue, &|| {}),
    )
    .await;
    let counts = world.app.db.order_counts(world.channels[0].id).await.expect("counts");
    assert!(drained.is_ok(), "the backlog did not drain in 2 minutes: {counts:?}");
    for order_id in &placed {
        assert_eq!(store_orders_for(&world, order_id).len(), 1, "order {order_id} is in the store once");
    }
    assert_eq!(counts, vec![("synced".to_string(), String::new(), 40)], "every order synced");
}

#[tokio::test]
async fn a_currency_without_a_rate_and_a_deleted_variant_fail_with_their_fix_and_the_rate_fixes_the_first() {
    init_tracing();
    let catalog = active_products(3);
    let shops = vec![ShopSpec::new("Crossdock US", "US", "USD"), ShopSpec::new("Crossdock UK", "GB", "GBP")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let (us, uk) = (&world.channels[0], &world.channels[1]);
    let kept_sku = catalog[0].variants[0].sku.clone();
    let deleted_sku = catalog[1].variants[0].sku.clone();

    // The UK shop sells in GBP and has no exchange rate yet: a listing made in Seller Center.
    world.tiktok.seed_product(&uk.shop.cipher, "Seller Center UK", &[&kept_sku]);
    let gbp_order = world.tiktok.place_order(&uk.shop.cipher, &[(&kept_sku, 1)]);
    // The store deletes a product that a US listing made in Seller Center still sells.
    assert!(world.shopify.delete_product(&catalog[1].handle));
    sync(&world).await;
    world.tiktok.seed_product(&us.shop.cipher, "Seller Center US", &[&deleted_sku]);
    let gone_order = world.tiktok.place_order(&us.shop.cipher, &[(&deleted_sku, 1)]);
    sync_orders(&world).await;

    let row = order_in(&orders_view(&base, uk.id).await, &gbp_order).clone();
    assert_eq!(row["failure"]["kind"], "currency_mismatch", "{row}");
    assert!(row["failure"]["fix"].as_str().unwrap_or_default().contains("exchange rate"), "{row}");
    let row = order_in(&orders_view(&base, us.id).await, &gone_order).clone();
    assert_eq!(row["failure"]["kind"], "variant_deleted", "{row}");
    assert!(row["failure"]["cause"].as_str().unwrap_or_default().contains(&deleted_sku), "{row}");
    assert!(
        store_orders_for(&world, &gbp_order).is_empty() && store_orders_for(&world, &gone_order).is_empty()
    );

    // The merchant sets the rate; retrying the currency failures brings the order in, converted.
    api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{}/exchange-rate", uk.id.0),
        Some(json!({ "rate": "0.80" })),
    )
    .await;
    let task = api_ok(
        Method::POST,
        &format!("{base}/api/channels/{}/orders/retry?kind=currency_mismatch", uk.id.0),
        None,
    )
    .await;
    assert_eq!(crossdock_e2e::finished_task(&base, &task).await["state"], "done");
    crossdock_e2e::run_queue(&world).await;
    assert_eq!(order_in(&orders_view(&base, uk.id).await, &gbp_order)["state"], "synced");
    let store = store_orders_for(&world, &gbp_order);
    assert_eq!(store.len(), 1);
    assert_eq!(store[0]["currency"], "USD", "the store order is in the store's currency: {:#}", store[0]);
    // The deleted variant stays failed until the merchant restores it.
    assert_eq!(order_in(&orders_view(&base, us.id).await, &gone_order)["state"], "failed");
}
