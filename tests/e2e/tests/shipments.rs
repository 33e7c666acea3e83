//! Partial and split shipments end to end, through the real plugins, the sandboxes over HTTP
//! and a real database (SQLite and PostgreSQL): each store fulfillment becomes its own package
//! on the TikTok shop carrying exactly the units it ships, with the mapped provider, once
//! however often the order is worked; a corrected tracking number corrects only its package;
//! WooCommerce shipment-tracking items do the same; and for an order TikTok ships itself,
//! each platform package becomes one Shopify fulfillment with the platform's tracking.

use crossdock::connections;
use crossdock::connectors::ConnectionSettings;
use crossdock::demo::SandboxWorld;
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncEngine;
use crossdock::model::ChannelId;
use crossdock::orders::import::poll_orders;
use crossdock_e2e::{
    active_products, api_ok, fast_settings, fresh_postgres_url, fresh_sqlite_url, init_tracing, serve_api,
    ship_in_shopify, sync, sync_orders, world,
};
use crossdock_sandbox::catalog::generated_catalog;
use crossdock_sandbox::tiktok::{
    OrderStatus, ReviewPolicy, SandboxPackage, ShopSpec, TikTokConfig, TikTokSandbox,
};
use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

const USPS: &str = "7117858858072016686";
const UPS: &str = "7117859084333745966";

fn us_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("Crossdock US", "US", "USD")]
}

/// Two seller SKUs of live listings on the world's first shop.
fn two_skus(tiktok: &TikTokSandbox, cipher: &str) -> (String, String) {
    let skus: Vec<String> = tiktok
        .products(cipher)
        .into_iter()
        .filter(|p| p.status == "ACTIVATE")
        .flat_map(|p| p.skus.into_iter().map(|s| s.seller_sku))
        .collect();
    assert!(skus.len() >= 2, "two live SKUs: {skus:?}");
    (skus[0].clone(), skus[1].clone())
}

/// The order's packages that left with tracking.
fn shipped_packages(tiktok: &TikTokSandbox, cipher: &str, order: &str) -> Vec<SandboxPackage> {
    tiktok.packages(cipher, order).into_iter().filter(|p| p.tracking_number.is_some()).collect()
}

/// The unit ids of `sku` in a TikTok order.
fn units_of(tiktok: &TikTokSandbox, cipher: &str, order: &str, sku: &str) -> Vec<String> {
    tiktok.units(cipher, order).into_iter().filter(|u| u.seller_sku == sku).map(|u| u.id).collect()
}

fn set(ids: &[String]) -> HashSet<String> {
    ids.iter().cloned().collect()
}

/// Calls that shipped something on the shop (Mark Package As Shipped, Ship Package).
fn ship_calls(tiktok: &TikTokSandbox, cipher: &str) -> u64 {
    tiktok
        .api_calls(cipher)
        .into_iter()
        .filter(|c| c.api == "fulfillment.order.packages" || c.api == "fulfillment.package.ship")
        .map(|c| c.admitted)
        .sum()
}

async fn order_detail(base: &str, channel: ChannelId, channel_order: &str) -> Value {
    let view = api_ok(Method::GET, &format!("{base}/api/channels/{}/orders", channel.0), None).await;
    let row = view["orders"]
        .as_array()
        .and_then(|orders| orders.iter().find(|o| o["channel_order_id"] == channel_order))
        .unwrap_or_else(|| panic!("order {channel_order} is on the dashboard: {view}"))
        .clone();
    api_ok(Method::GET, &format!("{base}/api/orders/{}", row["id"]), None).await
}

fn store_order_of(world: &SandboxWorld, channel_order: &str) -> Value {
    let found: Vec<Value> = world
        .shopify
        .orders()
        .into_iter()
        .filter(|o| {
            o["source_identifier"].as_str().is_some_and(|s| s.ends_with(&format!(":{channel_order}")))
        })
        .collect();
    assert_eq!(found.len(), 1, "one store order: {found:#?}");
    found[0].clone()
}

async fn split_shipments_from_shopify(database_url: &str) {
    init_tracing();
    let world = world(database_url, active_products(3), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let (mug, cup) = two_skus(&world.tiktok, &cipher);

    let order = world.tiktok.place_order(&cipher, &[(&mug, 2), (&cup, 1)]);
    sync_orders(&world).await;
    let gid = order_detail(&base, channel, &order).await["store_order_id"]
        .as_str()
        .expect("the order is in the store")
        .to_string();
    let mugs = units_of(&world.tiktok, &cipher, &order, &mug);
    let cups = units_of(&world.tiktok, &cipher, &order, &cup);

    // The first box: one mug and the cup, with USPS.
    let first =
        ship_in_shopify(&world, &gid, &[(&mug, 1), (&cup, 1)], "USPS", "9400111899223300000001").await;
    sync_orders(&world).await;
    sync_orders(&world).await;
    assert_eq!(world.tiktok.order_status(&cipher, &order), Some(OrderStatus::PartiallyShipping));
    let packages = shipped_packages(&world.tiktok, &cipher, &order);
    assert_eq!(packages.len(), 1, "{packages:#?}");
    let one_mug = set(&packages[0].line_item_ids);
    assert_eq!(one_mug.len(), 2, "{packages:#?}");
    assert!(one_mug.contains(&cups[0]) && mugs.iter().filter(|m| one_mug.contains(*m)).count() == 1);
    assert_eq!(packages[0].shipping_provider_id.as_deref(), Some(USPS));
    assert_eq!(packages[0].tracking_number.as_deref(), Some("9400111899223300000001"));
    assert_eq!(ship_calls(&world.tiktok, &cipher), 1);

    // The second box: the other mug, with UPS.
    let second = ship_in_shopify(&world, &gid, &[(&mug, 1)], "UPS", "1Z999AA10100000001").await;
    sync_orders(&world).await;
    sync_orders(&world).await;
    sync_orders(&world).await;
    assert_eq!(world.tiktok.order_status(&cipher, &order), Some(OrderStatus::AwaitingCollection));
    let packages = shipped_packages(&world.tiktok, &cipher, &order);
    assert_eq!(packages.len(), 2, "{packages:#?}");
    let later = packages
        .iter()
        .find(|p| p.tracking_number.as_deref() == Some("1Z999AA10100000001"))
        .expect("UPS box");
    let earlier = packages.iter().find(|p| p.id != later.id).expect("USPS box");
    assert_eq!(later.shipping_provider_id.as_deref(), Some(UPS));
    let rest: Vec<String> = mugs.iter().filter(|m| !one_mug.contains(*m)).cloned().collect();
    assert_eq!(later.line_item_ids, rest, "the second package carries exactly the other mug");
    assert_eq!(ship_calls(&world.tiktok, &cipher), 2, "each fulfillment sent once");

    let detail = order_detail(&base, channel, &order).await;
    assert_eq!(detail["state"], "synced", "{detail}");
    let shipments = detail["shipments"].as_array().expect("shipments");
    assert_eq!(shipments.len(), 2, "{detail}");
    for (fulfillment, package) in [(&first, earlier), (&second, later)] {
        let row = shipments
            .iter()
            .find(|s| s["target_id"] == package.id.as_str())
            .unwrap_or_else(|| panic!("a record for package {}: {detail}", package.id));
        assert_eq!(row["state"], "sent");
        assert_eq!(row["source_id"], fulfillment.as_str(), "one record per store fulfillment: {detail}");
        assert_eq!(
            set(&serde_json::from_value::<Vec<String>>(row["units"].clone()).expect("units")),
            set(&package.line_item_ids)
        );
    }

    // The merchant corrects the second box's number: only its package changes.
    let updated = world
        .store_graphql(
            "mutation($id: ID!, $t: FulfillmentTrackingInput!) { fulfillmentTrackingInfoUpdate(fulfillmentId: $id, \
             trackingInfoInput: $t) { userErrors { field message } } }",
            json!({ "id": second, "t": { "company": "UPS", "number": "1Z999AA10100000002" } }),
        )
        .await
        .expect("the merchant corrects the tracking");
    assert_eq!(updated["fulfillmentTrackingInfoUpdate"]["userErrors"], json!([]), "{updated}");
    sync_orders(&world).await;
    sync_orders(&world).await;
    let tracking = |id: &str| {
        world
            .tiktok
            .packages(&cipher, &order)
            .into_iter()
            .find(|p| p.id == id)
            .and_then(|p| p.tracking_number)
    };
    assert_eq!(tracking(&later.id).as_deref(), Some("1Z999AA10100000002"));
    assert_eq!(
        tracking(&earlier.id).as_deref(),
        Some("9400111899223300000001"),
        "the other package is untouched"
    );
    assert_eq!(ship_calls(&world.tiktok, &cipher), 2, "a correction ships nothing");
    let detail = order_detail(&base, channel, &order).await;
    assert_eq!(detail["state"], "synced", "{detail}");
}

#[tokio::test]
async fn two_shopify_fulfillments_become_two_packages_of_exactly_their_units_and_a_correction_touches_one_sqlite()
 {
    split_shipments_from_shopify(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn two_shopify_fulfillments_become_two_packages_of_exactly_their_units_and_a_correction_touches_one_postgres()
 {
    let Some(url) = fresh_postgres_url().await else { return };
    split_shipments_from_shopify(&url).await;
}

async fn tiktok_shipped_order_into_shopify(database_url: &str) {
    init_tracing();
    let world = world(database_url, active_products(3), us_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id;
    let cipher = world.channels[0].shop.cipher.clone();
    let (mug, cup) = two_skus(&world.tiktok, &cipher);

    let order = world.tiktok.place_order_shipped_by_tiktok(&cipher, &[(&mug, 2), (&cup, 1)]);
    sync_orders(&world).await;
    let cup_box = world.tiktok.ship_as_platform(&cipher, &order, &[(&cup, 1)], Some("UPS"));
    sync_orders(&world).await;
    let fulfillments = store_order_of(&world, &order)["fulfillments"].as_array().cloned().unwrap_or_default();
    assert_eq!(fulfillments.len(), 1, "{fulfillments:#?}");
    assert_eq!(fulfillments[0]["tracking_number"], cup_box.tracking_number.as_str());
    assert_eq!(fulfillments[0]["tracking_company"], "UPS");
    assert_eq!(fulfillments[0]["line_items"][0]["sku"], cup.as_str());
    assert_eq!(fulfillments[0]["line_items"][0]["quantity"], 1);

    let mug_box = world.tiktok.ship_as_platform(&cipher, &order, &[], None);
    for _ in 0..3 {
        sync_orders(&world).await;
    }
    let store_order = store_order_of(&world, &order);
    let fulfillments = store_order["fulfillments"].as_array().cloned().unwrap_or_default();
    assert_eq!(fulfillments.len(), 2, "one store fulfillment per platform package, once: {fulfillments:#?}");
    let mugs = fulfillments
        .iter()
        .find(|f| f["tracking_number"] == mug_box.tracking_number.as_str())
        .expect("the mug box is in the store");
    assert_eq!(
        (mugs["tracking_company"].as_str(), mugs["line_items"][0]["sku"].as_str()),
        (Some("USPS"), Some(mug.as_str()))
    );
    assert_eq!(mugs["line_items"][0]["quantity"], 2);
    assert_eq!(store_order["fulfillment_status"], "fulfilled", "{store_order}");
    let detail = order_detail(&base, channel, &order).await;
    assert_eq!(detail["state"], "synced", "{detail}");
    let recorded: Vec<&Value> = detail["shipments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["direction"] == "to_store")
        .collect();
    assert_eq!(recorded.len(), 2, "{detail}");
    assert!(
        detail["shipments"].as_array().into_iter().flatten().all(|s| s["direction"] == "to_store"),
        "the platform's own packages are not sent back to it: {detail}"
    );

    // The merchant fulfills another TikTok-shipped order in Shopify: it is not sent to TikTok,
    // and the order's detail says why instead of failing.
    let other = world.tiktok.place_order_shipped_by_tiktok(&cipher, &[(&cup, 1)]);
    sync_orders(&world).await;
    let gid = order_detail(&base, channel, &other).await["store_order_id"]
        .as_str()
        .expect("in the store")
        .to_string();
    ship_in_shopify(&world, &gid, &[], "FedEx", "FX0000000001").await;
    sync_orders(&world).await;
    sync_orders(&world).await;
    assert!(shipped_packages(&world.tiktok, &cipher, &other).is_empty(), "nothing shipped on the shop");
    assert_eq!(world.tiktok.order_status(&cipher, &other), Some(OrderStatus::AwaitingShipment));
    assert_eq!(ship_calls(&world.tiktok, &cipher), 0, "no seller ship call was tried");
    let detail = order_detail(&base, channel, &other).await;
    assert_eq!(detail["state"], "synced", "{detail}");
    let note = &detail["shipments"][0];
    assert_eq!(
        (note["direction"].as_str(), note["state"].as_str()),
        (Some("to_channel"), Some("not_sent")),
        "{detail}"
    );
    assert_eq!(note["failure"]["kind"], "shipped_by_platform", "{detail}");
    assert!(
        note["failure"]["cause"].as_str().is_some_and(|c| c.contains("FX0000000001") && c.contains(&other)),
        "{detail}"
    );
}

#[tokio::test]
async fn a_tiktok_shipped_orders_packages_become_one_shopify_fulfillment_each_with_their_tracking_sqlite() {
    tiktok_shipped_order_into_shopify(&fresh_sqlite_url()).await;
}

#[tokio::test]
async fn a_tiktok_shipped_orders_packages_become_one_shopify_fulfillment_each_with_their_tracking_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    tiktok_shipped_order_into_shopify(&url).await;
}

const WOO_KEY: &str = "ck_e2e_consumer_key";
const WOO_SECRET: &str = "cs_e2e_consumer_secret";

async fn sync_all(app: &crossdock::App, org: crossdock::model::OrgId, orders: bool) {
    let engine = SyncEngine::load(app, org, fast_settings()).await.expect("the sync engine loads");
    if orders {
        poll_orders(&engine).await.expect("the orders poll");
    } else {
        crossdock::catalog::import::import_catalog(&engine, &|_| {}).await.expect("the catalog imports");
    }
    run_until_idle(&engine, &QueueSettings::default(), &|| {}).await.expect("the queue drains");
}

async fn two_tracking_items_from_woocommerce(database_url: &str) {
    init_tracing();
    let woo = WooSandbox::start(WooConfig {
        store_name: "Crossdock Woo Outfitters".into(),
        currency: "USD".into(),
        consumer_key: WOO_KEY.into(),
        consumer_secret: WOO_SECRET.into(),
        catalog: generated_catalog(3, 1, 41),
    })
    .await
    .expect("the WooCommerce sandbox starts");
    let tiktok_config = TikTokConfig {
        shops: us_shop(),
        review: ReviewPolicy { delay: Duration::from_millis(100), ..ReviewPolicy::default() },
        ..TikTokConfig::default()
    };
    let (app_key, app_secret) = (tiktok_config.app_key.clone(), tiktok_config.app_secret.clone());
    let tiktok = TikTokSandbox::start(tiktok_config).await.expect("the TikTok sandbox starts");
    let app = crossdock_e2e::start_app(database_url).await;
    let org = app.db.create_org("Crossdock Woo Outfitters").await.expect("org created");
    let store_settings = ConnectionSettings::default()
        .setting("base-url", woo.base_url())
        .secret("consumer-key", WOO_KEY)
        .secret("consumer-secret", WOO_SECRET)
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
    connections::add_channel(&app, org, &shop.name, "tiktok-shop", channel_settings)
        .await
        .expect("channel added");
    sync_all(&app, org, false).await;
    let (mug, cup) = two_skus(&tiktok, &shop.cipher);

    let order = tiktok.place_order(&shop.cipher, &[(&mug, 2), (&cup, 1)]);
    sync_all(&app, org, true).await;
    let woo_order = woo
        .orders()
        .into_iter()
        .find(|o| {
            o["meta_data"].as_array().is_some_and(|meta| {
                meta.iter().any(|m| m["value"].as_str().is_some_and(|v| v.ends_with(&format!(":{order}"))))
            })
        })
        .expect("the order is in WooCommerce");
    let woo_id = woo_order["id"].as_u64().expect("an order id");
    let cup_line = woo_order["line_items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["sku"] == cup.as_str())
        .and_then(|l| l["id"].as_u64())
        .expect("the cup's line");

    // The cup first, in an item that names its line; then the rest in an item that names none
    // (the Shipment Tracking extension's own items cover the whole order).
    let cup_item = json!({ "tracking_provider": "ups", "custom_tracking_provider": "", "tracking_number": "1Z999AA10100000009",
                           "date_shipped": "1767225600", "tracking_id": "woo-track-cup",
                           "crossdock_lines": [[cup_line.to_string(), 1]] });
    woo.set_order_meta(woo_id, "_wc_shipment_tracking_items", json!([cup_item])).expect("tracking saved");
    sync_all(&app, org, true).await;
    sync_all(&app, org, true).await;
    assert_eq!(tiktok.order_status(&shop.cipher, &order), Some(OrderStatus::PartiallyShipping));
    let packages = shipped_packages(&tiktok, &shop.cipher, &order);
    assert_eq!(packages.len(), 1, "{packages:#?}");
    assert_eq!(packages[0].line_item_ids, units_of(&tiktok, &shop.cipher, &order, &cup));
    assert_eq!(packages[0].shipping_provider_id.as_deref(), Some(UPS));

    let rest_item = json!({ "tracking_provider": "usps", "custom_tracking_provider": "", "tracking_number": "9400111899223300000009",
                            "date_shipped": "1767312000", "tracking_id": "woo-track-rest" });
    woo.set_order_meta(woo_id, "_wc_shipment_tracking_items", json!([cup_item, rest_item]))
        .expect("tracking saved");
    woo.set_order_status(woo_id, "completed").expect("completed");
    for _ in 0..3 {
        sync_all(&app, org, true).await;
    }
    assert_eq!(tiktok.order_status(&shop.cipher, &order), Some(OrderStatus::AwaitingCollection));
    let packages = shipped_packages(&tiktok, &shop.cipher, &order);
    assert_eq!(packages.len(), 2, "{packages:#?}");
    let rest = packages
        .iter()
        .find(|p| p.tracking_number.as_deref() == Some("9400111899223300000009"))
        .expect("the rest");
    assert_eq!(set(&rest.line_item_ids), set(&units_of(&tiktok, &shop.cipher, &order, &mug)));
    assert_eq!(rest.shipping_provider_id.as_deref(), Some(USPS));
    assert_eq!(ship_calls(&tiktok, &shop.cipher), 2, "each tracking item sent once");
    app.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_woocommerce_tracking_items_become_two_packages_sqlite() {
    two_tracking_items_from_woocommerce(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_woocommerce_tracking_items_become_two_packages_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    two_tracking_items_from_woocommerce(&url).await;
}
