//! Orders with WooCommerce as the store: a TikTok sandbox order comes into the WooCommerce
//! sandbox once through the real connectors, the merchant's Shipment Tracking entry goes back
//! to the shop, a refund on the shop becomes a WooCommerce refund, a cancellation on the shop
//! cancels the WooCommerce order, and a return with goods back becomes a WooCommerce refund
//! that restocks the unit.

use crossdock::connections;
use crossdock::connectors::ConnectionSettings;
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncEngine;
use crossdock::model::order::AfterSaleStage;
use crossdock::orders::import::poll_orders;
use crossdock_e2e::{fast_settings, fresh_sqlite_url, init_tracing};
use crossdock_sandbox::catalog::generated_catalog;
use crossdock_sandbox::tiktok::{OrderStatus, ReviewPolicy, ShopSpec, TikTokConfig, TikTokSandbox};
use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
use serde_json::{Value, json};
use std::time::Duration;

const KEY: &str = "ck_e2e_consumer_key";
const SECRET: &str = "cs_e2e_consumer_secret";

async fn sync_all(app: &crossdock::App, org: crossdock::model::OrgId, orders: bool) {
    let engine = SyncEngine::load(app, org, fast_settings()).await.expect("the sync engine loads");
    if orders {
        poll_orders(&engine).await.expect("the orders poll");
    } else {
        crossdock::catalog::import::import_catalog(&engine, &|_| {}).await.expect("the catalog imports");
    }
    run_until_idle(&engine, &QueueSettings::default(), &|| {}).await.expect("the queue drains");
}

fn woo_orders_for(woo: &WooSandbox, channel_order: &str) -> Vec<Value> {
    woo.orders()
        .into_iter()
        .filter(|o| {
            o["meta_data"].as_array().is_some_and(|meta| {
                meta.iter().any(|m| {
                    m["key"] == "_crossdock_source"
                        && m["value"].as_str().is_some_and(|v| v.ends_with(&format!(":{channel_order}")))
                })
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn woocommerce_as_the_store_takes_orders_once_ships_refunds_and_cancels() {
    init_tracing();
    let woo = WooSandbox::start(WooConfig {
        store_name: "Crossdock Woo Outfitters".into(),
        currency: "USD".into(),
        consumer_key: KEY.into(),
        consumer_secret: SECRET.into(),
        catalog: generated_catalog(3, 1, 41),
    })
    .await
    .expect("the WooCommerce sandbox starts");
    let tiktok_config = TikTokConfig {
        shops: vec![ShopSpec::new("Crossdock US", "US", "USD")],
        review: ReviewPolicy { delay: Duration::from_millis(100), ..ReviewPolicy::default() },
        ..TikTokConfig::default()
    };
    let (app_key, app_secret) = (tiktok_config.app_key.clone(), tiktok_config.app_secret.clone());
    let tiktok = TikTokSandbox::start(tiktok_config).await.expect("the TikTok sandbox starts");
    let app = crossdock_e2e::start_app(&fresh_sqlite_url()).await;
    let org = app.db.create_org("Crossdock Woo Outfitters").await.expect("org created");
    let store_settings = ConnectionSettings::default()
        .setting("base-url", woo.base_url())
        .secret("consumer-key", KEY)
        .secret("consumer-secret", SECRET)
        .secret("webhook-secret", "woo-webhook-secret");
    connections::connect_store(&app, org, "Woo", "woocommerce", store_settings)
        .await
        .expect("store connected");
    let shop = tiktok.shops().remove(0);
    let channel_settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", app_key)
        .setting("shop-cipher", shop.cipher.clone())
        .setting("category-id", "600001")
        .secret("app-secret", app_secret)
        .secret("access-token", tiktok.access_token());
    let channel = connections::add_channel(&app, org, &shop.name, "tiktok-shop", channel_settings)
        .await
        .expect("channel added");
    sync_all(&app, org, false).await;
    let live = tiktok.products(&shop.cipher);
    let sku =
        live.iter().find(|p| p.status == "ACTIVATE").expect("a live listing").skus[0].seller_sku.clone();
    let stock_before = woo.stock(&sku).expect("the store tracks the SKU");

    // The order comes in once, however often it is polled; WooCommerce takes the stock.
    let order_id = tiktok.place_order(&shop.cipher, &[(&sku, 2)]);
    sync_all(&app, org, true).await;
    sync_all(&app, org, true).await;
    let created = woo_orders_for(&woo, &order_id);
    assert_eq!(created.len(), 1, "one WooCommerce order: {created:#?}");
    assert_eq!(created[0]["status"], "processing", "{:#}", created[0]);
    assert_eq!(woo.stock(&sku), Some(stock_before - 2));
    let woo_id = created[0]["id"].as_u64().expect("an order id");

    // The merchant ships it with Shipment Tracking: the tracking goes to the shop.
    woo.set_order_meta(
        woo_id,
        "_wc_shipment_tracking_items",
        json!([{ "tracking_provider": "USPS", "custom_tracking_provider": "", "tracking_number": "9400111899220000000001",
                 "date_shipped": "1767225600", "tracking_id": "woo-track-1" }]),
    )
    .expect("tracking saved");
    woo.set_order_status(woo_id, "completed").expect("completed");
    sync_all(&app, org, true).await;
    assert_eq!(tiktok.order_status(&shop.cipher, &order_id), Some(OrderStatus::AwaitingCollection));

    // Delivered, a refund approved on the shop: one WooCommerce refund.
    tiktok.advance_order(&shop.cipher, &order_id, OrderStatus::InTransit);
    tiktok.advance_order(&shop.cipher, &order_id, OrderStatus::Delivered);
    let return_id = tiktok.request_return(&shop.cipher, &order_id, "REFUND");
    let engine = SyncEngine::load(&app, org, fast_settings()).await.expect("loads");
    let connector = &engine.channel(channel).expect("the channel").connector;
    for request in connector.order_after_sales(&order_id).await.expect("reads") {
        if request.stage == AfterSaleStage::Requested {
            connector.decide_after_sale(&request.id, true).await.expect("approved");
        }
    }
    tiktok.refund_paid(&shop.cipher, &return_id);
    sync_all(&app, org, true).await;
    sync_all(&app, org, true).await;
    let refunded = woo_orders_for(&woo, &order_id);
    assert_eq!(refunded[0]["refunds"].as_array().map(Vec::len), Some(1), "{:#}", refunded[0]);

    // Cancelled on the shop before shipping: the WooCommerce order is cancelled.
    let cancelled = tiktok.place_order(&shop.cipher, &[(&sku, 1)]);
    sync_all(&app, org, true).await;
    tiktok.cancel_order_as_buyer(&shop.cipher, &cancelled);
    for request in connector.order_after_sales(&cancelled).await.expect("reads") {
        if request.stage == AfterSaleStage::Requested {
            connector.decide_after_sale(&request.id, true).await.expect("approved");
        }
    }
    sync_all(&app, org, true).await;
    let woo_cancelled = woo_orders_for(&woo, &cancelled);
    assert_eq!(woo_cancelled.len(), 1);
    assert_eq!(woo_cancelled[0]["status"], "cancelled", "{:#}", woo_cancelled[0]);

    // A return of one unit of two, approved and received by the settings: once TikTok pays,
    // one WooCommerce refund of that unit, back in stock.
    let settings = json!({ "refund": { "approve-returns": true, "approve-received-goods": true } });
    app.db.set_order_settings_json(channel, &settings.to_string()).await.expect("settings saved");
    let returned = tiktok.place_order(&shop.cipher, &[(&sku, 2)]);
    sync_all(&app, org, true).await;
    for status in [OrderStatus::AwaitingCollection, OrderStatus::InTransit, OrderStatus::Delivered] {
        tiktok.advance_order(&shop.cipher, &returned, status);
    }
    let stock_before = woo.stock(&sku).expect("tracked");
    let unit = tiktok.order_line_ids(&shop.cipher, &returned).remove(0);
    let return_id = tiktok.request_return_of(&shop.cipher, &returned, "RETURN_AND_REFUND", &[&unit]);
    sync_all(&app, org, true).await;
    assert_eq!(tiktok.return_status(&shop.cipher, &return_id).as_deref(), Some("AWAITING_BUYER_SHIP"));
    tiktok.return_shipped_by_buyer(&shop.cipher, &return_id);
    sync_all(&app, org, true).await;
    tiktok.refund_paid(&shop.cipher, &return_id);
    sync_all(&app, org, true).await;
    sync_all(&app, org, true).await;
    let refunded = woo_orders_for(&woo, &returned);
    let refunds = refunded[0]["refunds"].as_array().cloned().unwrap_or_default();
    assert_eq!(refunds.len(), 1, "one WooCommerce refund: {:#}", refunded[0]);
    assert_eq!(woo.stock(&sku), Some(stock_before + 1), "the returned unit is back in stock");
    app.db.close().await;
}
