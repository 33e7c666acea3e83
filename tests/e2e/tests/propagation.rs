//! Every kind of input change reaches listings that are already live on a TikTok Shop: a
//! price rule version, an exchange rate, a stock buffer, a stock share (a new channel's share
//! included), a category template, a hand mapping, the merchant's selection, and the store
//! product's own fate (draft, archived, deleted without a webhook, re-created, a variant
//! removed). Channel-wide and API changes reach the shops by working the queue alone; store
//! changes by the next catalog read. What did not change costs no channel call.

use crossdock::catalog::import::import_catalog;
use crossdock::connections::{add_channel, connect_store, set_exchange_rate};
use crossdock::connectors::ConnectionSettings;
use crossdock::db::listings::ListingState;
use crossdock::db::orgs::ChannelOptions;
use crossdock::demo::{SandboxWorld, WorldChannel};
use crossdock::dispatch::{QueueSettings, run_until_idle};
use crossdock::engine::SyncEngine;
use crossdock::rules::{DEFAULT_PRODUCT_RULE, RuleKind};
use crossdock_e2e::{
    active_products, api_ok, fast_settings, fresh_postgres_url, fresh_sqlite_url, init_tracing,
    listing_with_sku, product_with_sku, run_queue, serve_api, sku_on_shop, start_app, sync, tiktok_settings,
    world,
};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus, demo_catalog, generated_catalog};
use crossdock_sandbox::tiktok::{ReviewPolicy, ShopSpec, TikTokConfig, TikTokSandbox};
use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;
use std::str::FromStr;
use std::time::Duration;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimals are valid")
}

fn options(sync_content: bool, stock_buffer: i64, stock_share: i64) -> ChannelOptions {
    ChannelOptions { sync_content, auto_select: true, stock_buffer, stock_share }
}

/// Asserts the price and stock the shop holds for every SKU of `catalog`, from the store's.
fn assert_offers(
    world: &SandboxWorld,
    channel: &WorldChannel,
    catalog: &[CatalogProduct],
    price: impl Fn(Decimal) -> Decimal,
    stock: impl Fn(i64) -> i64,
    after: &str,
) {
    for variant in catalog.iter().flat_map(|p| &p.variants) {
        let held = sku_on_shop(world, &channel.shop.cipher, &variant.sku);
        assert_eq!(
            (held.price.amount, i64::from(held.quantity)),
            (price(variant.price), stock(variant.inventory_quantity)),
            "price and stock of {} on {} after {after}",
            variant.sku,
            channel.shop.name
        );
    }
}

/// What `StockPolicy` offers: the share of what is left after the buffer, rounded down.
fn allocated(stock: i64, buffer: i64, share: i64, total_shares: i64) -> i64 {
    (stock - buffer).max(0) * share / total_shares
}

async fn offer_inputs_reach_live_listings(database_url: &str) {
    let catalog = active_products(3);
    let shops = vec![ShopSpec::new("UK", "GB", "GBP"), ShopSpec::new("US", "US", "USD")];
    let world = world(database_url, catalog.clone(), shops).await;
    let uk = world.channels[0].clone();
    let us_shop = world.channels[1].shop.clone();
    let db = &world.app.db;
    // The US shop joins later, to take its share of the stock from live UK listings.
    db.delete_channel(world.channels[1].id).await.expect("the US channel is removed");
    set_exchange_rate(&world.app, uk.id, dec("0.79")).await.expect("rate saved");
    sync(&world).await;
    assert_offers(&world, &uk, &catalog, |usd| (usd * dec("0.79")).round_dp(2), |s| s, "the first sync");

    // Nothing changed: working the queue again calls no channel, nor does a new price rule
    // version that prices everything as before.
    let calls = world.tiktok.request_count();
    run_queue(&world).await;
    let reworded = "// the same prices, written otherwise\n(rate * price).round(2)";
    db.save_rule(uk.id, RuleKind::Price, reworded).await.expect("rule saved");
    run_queue(&world).await;
    assert_eq!(world.tiktok.request_count(), calls, "no channel call while no offer changed");

    db.save_rule(uk.id, RuleKind::Price, "(price * rate * 1.10).round(2)").await.expect("rule saved");
    run_queue(&world).await;
    let marked_up = |rate: &str| {
        let rate = dec(rate);
        move |usd: Decimal| (usd * rate * dec("1.10")).round_dp(2)
    };
    assert_offers(&world, &uk, &catalog, marked_up("0.79"), |s| s, "a new price rule version");

    set_exchange_rate(&world.app, uk.id, dec("0.85")).await.expect("rate saved");
    run_queue(&world).await;
    assert_offers(&world, &uk, &catalog, marked_up("0.85"), |s| s, "a new exchange rate");

    // A channel's share is 1 unless set; alone, it offers everything above its buffer.
    db.set_channel_options(uk.id, options(false, 2, 1)).await.expect("options saved");
    run_queue(&world).await;
    let uk_stock = |total| move |s| allocated(s, 2, 1, total);
    assert_offers(&world, &uk, &catalog, marked_up("0.85"), uk_stock(1), "a stock buffer of 2");

    // A new channel takes an equal share: the live UK listings offer half of what they did.
    let settings = tiktok_settings(&world, &us_shop);
    let us_id = add_channel(&world.app, world.org, "US", "tiktok-shop", settings).await.expect("added");
    let us = WorldChannel { id: us_id, shop: us_shop };
    run_queue(&world).await;
    assert_offers(&world, &uk, &catalog, marked_up("0.85"), uk_stock(2), "a second channel joined");
    assert_offers(&world, &us, &catalog, |usd| usd, |s| allocated(s, 0, 1, 2), "it joined");

    db.set_channel_options(us.id, options(false, 0, 3)).await.expect("options saved");
    run_queue(&world).await;
    assert_offers(&world, &uk, &catalog, marked_up("0.85"), uk_stock(4), "the US share grew to 3 in 4");
    assert_offers(&world, &us, &catalog, |usd| usd, |s| allocated(s, 0, 3, 4), "its share grew");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_rules_rates_stock_buffers_and_shares_reach_live_listings_on_sqlite() {
    init_tracing();
    offer_inputs_reach_live_listings(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_rules_rates_stock_buffers_and_shares_reach_live_listings_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    offer_inputs_reach_live_listings(&url).await;
}

/// One active product of each of these product types.
fn one_of_each_type(types: &[&str]) -> Vec<CatalogProduct> {
    types
        .iter()
        .map(|t| {
            demo_catalog()
                .into_iter()
                .find(|p| p.product_type == *t && p.status == ProductStatus::Active)
                .unwrap_or_else(|| panic!("the demo catalog has an active product of type {t}"))
        })
        .collect()
}

/// Material, which category 600002 requires.
fn material() -> serde_json::Value {
    json!([{ "attribute_id": "100198", "option_ids": ["1000058"] }])
}

/// A category template putting products of `product_type` in category 600002.
fn template(product_type: &str) -> serde_json::Value {
    json!({
        "match_field": "product_type",
        "match_value": product_type,
        "category_id": "600002",
        "attributes": material(),
    })
}

async fn category_changes_reach_live_listings(database_url: &str) {
    let catalog = one_of_each_type(&["Tents", "Sleeping Bags", "Backpacks"]);
    let world = world(database_url, catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    let db = &world.app.db;
    db.set_channel_options(channel.id, options(true, 0, 1)).await.expect("options saved");
    sync(&world).await;
    let [tent, bag, pack] = [0, 1, 2].map(|i| catalog[i].variants[0].sku.clone());
    let category_of = |sku: &str| listing_with_sku(&world, &channel.shop.cipher, sku).category_id;
    for sku in [&tent, &bag, &pack] {
        assert_eq!(category_of(sku), "600001", "{sku} starts in the channel's default category");
    }
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{}", api.base_url(), channel.id);

    api_ok(Method::PUT, &format!("{base}/templates"), Some(template("Tents"))).await;
    run_queue(&world).await;
    let moved = listing_with_sku(&world, &channel.shop.cipher, &tent);
    assert_eq!(moved.category_id, "600002", "a new template moves the live tent");
    assert!(moved.product_attributes.iter().any(|a| a.id == "100198"), "with the template's Material");
    assert_eq!(moved.status, "ACTIVATE", "the edit passed review");
    assert_eq!((category_of(&bag), category_of(&pack)), ("600001".into(), "600001".into()), "the rest stay");

    let bag_id = product_with_sku(&world, &bag).await;
    let hand = json!({ "category_id": "600002", "attributes": material() });
    api_ok(Method::PUT, &format!("{base}/products/{}/category", bag_id.0), Some(hand)).await;
    run_queue(&world).await;
    assert_eq!(category_of(&bag), "600002", "a hand mapping moves the live bag");

    let tent_id = product_with_sku(&world, &tent).await;
    let hand = json!({ "category_id": "600001", "attributes": [] });
    api_ok(Method::PUT, &format!("{base}/products/{}/category", tent_id.0), Some(hand)).await;
    run_queue(&world).await;
    assert_eq!(category_of(&tent), "600001", "a hand mapping wins over the template");

    // A category is content: while the channel does not keep content in step, the shop keeps
    // the category it has, and nothing is sent; once it does, the category follows.
    db.set_channel_options(channel.id, options(false, 0, 1)).await.expect("options saved");
    api_ok(Method::PUT, &format!("{base}/templates"), Some(template("Backpacks"))).await;
    let calls = world.tiktok.request_count();
    run_queue(&world).await;
    assert_eq!(category_of(&pack), "600001", "content sync is off: the pack stays where it is");
    assert_eq!(world.tiktok.request_count(), calls, "no channel call for a change that waits");
    db.set_channel_options(channel.id, options(true, 0, 1)).await.expect("options saved");
    run_queue(&world).await;
    assert_eq!(category_of(&pack), "600002", "content sync is on again: the pack moves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_templates_and_hand_mappings_reach_live_listings_that_keep_content_in_step_on_sqlite() {
    init_tracing();
    category_changes_reach_live_listings(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn category_templates_and_hand_mappings_reach_live_listings_that_keep_content_in_step_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    category_changes_reach_live_listings(&url).await;
}

/// The product center says which category produced the listing; while content sync holds a
/// new category back, that is still the category the shop has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_content_sync_holds_a_new_category_back_the_product_center_names_the_category_the_shop_has() {
    init_tracing();
    let catalog = one_of_each_type(&["Backpacks"]);
    let world = world(&fresh_sqlite_url(), catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{}", api.base_url(), channel.id);
    api_ok(Method::PUT, &format!("{base}/templates"), Some(template("Backpacks"))).await;
    run_queue(&world).await;
    let sku = &catalog[0].variants[0].sku;
    assert_eq!(listing_with_sku(&world, &channel.shop.cipher, sku).category_id, "600001");
    let rows = api_ok(Method::GET, &format!("{base}/products"), None).await;
    let explanation = rows[0]["explanation"].as_str().expect("an explanation").to_string();
    assert!(
        explanation.contains("category 600001") && !explanation.contains("600002"),
        "the shop holds category 600001, yet the product center says: {explanation}"
    );
}

/// The product rule for a shop that does not want the product titled `title`.
fn rule_skipping(title: &str) -> String {
    format!(
        "if product.status != \"active\" {{ return skip(\"not active in the store\"); }}\n\
         if product.title == {title:?} {{ return skip(\"not for this shop\"); }}\nkeep()"
    )
}

/// Takes five of the world's six products off the channel, one way each, and checks the
/// shop deactivated each: deselected in the product center, skipped by a new product rule
/// version, turned draft, archived, and deleted in the store without a webhook.
async fn withdraw_five(world: &SandboxWorld, catalog: &[CatalogProduct]) {
    let channel = world.channels[0].clone();
    let db = &world.app.db;
    let status = |i: usize| listing_with_sku(world, &channel.shop.cipher, &catalog[i].variants[0].sku).status;
    let api = serve_api(world).await;
    let first = product_with_sku(world, &catalog[0].variants[0].sku).await;
    let url = format!("{}/api/channels/{}/selection", api.base_url(), channel.id);
    let answer =
        api_ok(Method::PUT, &url, Some(json!({ "product_ids": [first.0], "selected": false }))).await;
    assert_eq!(answer["queued"], 1, "deselecting reconciles at once: {answer}");
    run_queue(world).await;
    assert_eq!(status(0), "SELLER_DEACTIVATED", "deselected in the product center");

    db.save_rule(channel.id, RuleKind::Product, &rule_skipping(&catalog[4].title)).await.expect("saved");
    run_queue(world).await;
    assert_eq!(status(4), "SELLER_DEACTIVATED", "skipped by the new product rule version");

    // No webhook is subscribed: the next catalog read notices each of these.
    assert!(world.shopify.set_product_status(&catalog[1].handle, ProductStatus::Draft));
    assert!(world.shopify.set_product_status(&catalog[2].handle, ProductStatus::Archived));
    assert!(world.shopify.delete_product(&catalog[3].handle));
    let report = sync(world).await;
    assert_eq!(report.deleted, 1, "the catalog read noticed the deletion");
    assert_eq!(status(1), "SELLER_DEACTIVATED", "turned draft in the store");
    assert_eq!(status(2), "SELLER_DEACTIVATED", "archived in the store");
    assert_eq!(status(3), "SELLER_DEACTIVATED", "deleted in the store");
    assert_eq!(status(5), "ACTIVATE", "the untouched product stays on sale");
}

async fn withdrawn_products_are_deactivated(database_url: &str) {
    let catalog = active_products(6);
    let world = world(database_url, catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    sync(&world).await;
    let mut ids = Vec::new();
    for product in &catalog {
        ids.push(product_with_sku(&world, &product.variants[0].sku).await);
    }
    withdraw_five(&world, &catalog).await;

    let expected = [
        (ListingState::NotSelected, "not selected for this channel"),
        (ListingState::Skipped, "not active in the store"),
        (ListingState::Inactive, "archived in the store"),
        (ListingState::Inactive, "deleted in the store"),
        (ListingState::Skipped, "not for this shop"),
    ];
    for (id, (state, reason)) in ids.iter().zip(expected) {
        let listing = world.app.db.listing(*id, channel.id).await.expect("reads").expect("a listing");
        assert_eq!((listing.state, listing.reason.as_deref()), (state, Some(reason)), "product {id}");
        assert!(listing.deactivated, "product {id} is recorded as deactivated on the channel");
    }
    // Once off the shop, nothing more is sent for them.
    let calls = world.tiktok.request_count();
    sync(&world).await;
    assert_eq!(world.tiktok.request_count(), calls, "a sync with nothing new calls no channel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deselected_skipped_draft_archived_and_deleted_products_are_deactivated_on_the_shop_on_sqlite() {
    init_tracing();
    withdrawn_products_are_deactivated(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deselected_skipped_draft_archived_and_deleted_products_are_deactivated_on_the_shop_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    withdrawn_products_are_deactivated(&url).await;
}

/// Each withdrawn product comes back: selected again, no longer skipped, active again in the
/// store, re-created in the store with the same SKUs (the Shopify sandbox cannot undelete).
async fn products_that_come_back_are_reactivated(database_url: &str) {
    let catalog = active_products(6);
    let world = world(database_url, catalog.clone(), vec![ShopSpec::new("US", "US", "USD")]).await;
    let channel = world.channels[0].clone();
    sync(&world).await;
    let first = product_with_sku(&world, &catalog[0].variants[0].sku).await;
    withdraw_five(&world, &catalog).await;

    let api = serve_api(&world).await;
    let url = format!("{}/api/channels/{}/selection", api.base_url(), channel.id);
    api_ok(Method::PUT, &url, Some(json!({ "product_ids": [first.0], "selected": true }))).await;
    world.app.db.save_rule(channel.id, RuleKind::Product, DEFAULT_PRODUCT_RULE).await.expect("saved");
    assert!(world.shopify.set_product_status(&catalog[1].handle, ProductStatus::Active));
    assert!(world.shopify.set_product_status(&catalog[2].handle, ProductStatus::Active));
    world.shopify.add_product(catalog[3].clone());
    sync(&world).await;
    let failures: Vec<String> =
        world.app.db.failed_jobs().await.expect("reads").into_iter().map(|f| f.error).collect();
    for product in &catalog {
        let listing = listing_with_sku(&world, &channel.shop.cipher, &product.variants[0].sku);
        assert_eq!(
            listing.status, "ACTIVATE",
            "{} is back on sale, in its one listing; failed jobs: {failures:?}",
            product.title
        );
    }
    let counts = world.app.db.listing_counts(channel.id).await.expect("counts");
    assert_eq!(counts.get(&ListingState::Active).copied(), Some(6), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reselected_unskipped_reactivated_and_recreated_products_are_back_on_sale_on_sqlite() {
    init_tracing();
    products_that_come_back_are_reactivated(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reselected_unskipped_reactivated_and_recreated_products_are_back_on_sale_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    products_that_come_back_are_reactivated(&url).await;
}

const WOO_KEY: &str = "ck_e2e_consumer_key";
const WOO_SECRET: &str = "cs_e2e_consumer_secret";

/// Removing one variation of a live product: WooCommerce, because the Shopify sandbox has no
/// way to remove a variant.
async fn a_removed_variant_is_offered_at_zero(database_url: &str) {
    let catalog = generated_catalog(1, 3, 41);
    let woo = WooSandbox::start(WooConfig {
        store_name: "Crossdock Woo Outfitters".into(),
        currency: "USD".into(),
        consumer_key: WOO_KEY.into(),
        consumer_secret: WOO_SECRET.into(),
        catalog: catalog.clone(),
    })
    .await
    .expect("the WooCommerce sandbox starts");
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("US", "US", "USD")],
        review: ReviewPolicy { delay: Duration::from_millis(150), ..ReviewPolicy::default() },
        ..TikTokConfig::default()
    })
    .await
    .expect("the TikTok sandbox starts");
    let app = start_app(database_url).await;
    let org = app.db.create_org("Woo").await.expect("org created");
    let store = ConnectionSettings::default()
        .setting("base-url", woo.base_url())
        .secret("consumer-key", WOO_KEY)
        .secret("consumer-secret", WOO_SECRET)
        .secret("webhook-secret", "woo-webhook-secret");
    connect_store(&app, org, "Woo", "woocommerce", store).await.expect("store connected");
    let shop = tiktok.shops().remove(0);
    let defaults = TikTokConfig::default();
    let settings = ConnectionSettings::default()
        .setting("base-url", tiktok.base_url())
        .setting("app-key", defaults.app_key)
        .setting("shop-cipher", shop.cipher.clone())
        .setting("category-id", "600001")
        .secret("app-secret", defaults.app_secret)
        .secret("access-token", tiktok.access_token());
    add_channel(&app, org, "US", "tiktok-shop", settings).await.expect("channel added");
    let sync_woo = || async {
        let engine = SyncEngine::load(&app, org, fast_settings()).await.expect("the engine loads");
        import_catalog(&engine, &|_| {}).await.expect("the catalog imports");
        run_until_idle(&engine, &QueueSettings::default(), &|| {}).await.expect("the queue drains");
    };
    sync_woo().await;
    let variants = &catalog[0].variants;
    let quantity = |sku: &str| {
        let listed = tiktok.products(&shop.cipher);
        assert_eq!(listed.len(), 1, "one listing: {listed:#?}");
        listed[0].skus.iter().find(|s| s.seller_sku == sku).map(|s| i64::from(s.quantity))
    };
    let removed = &variants[1];
    assert!(removed.inventory_quantity > 0, "the removed variant had stock to take away");
    assert_eq!(quantity(&removed.sku), Some(removed.inventory_quantity));

    // The merchant removes the variation through WooCommerce's REST API.
    let product = woo.product_id(&catalog[0].handle).expect("the product is in the store");
    let auth = format!("consumer_key={WOO_KEY}&consumer_secret={WOO_SECRET}");
    let base = format!("{}/wp-json/wc/v3/products/{product}/variations", woo.base_url());
    let listed: serde_json::Value =
        reqwest::get(format!("{base}?{auth}")).await.expect("answers").json().await.expect("json");
    let variation = listed
        .as_array()
        .expect("a list of variations")
        .iter()
        .find(|v| v["sku"] == removed.sku.as_str())
        .and_then(|v| v["id"].as_u64())
        .expect("the variation is listed");
    let deleted = reqwest::Client::new()
        .post(format!("{base}/batch?{auth}"))
        .json(&json!({ "delete": [variation] }))
        .send()
        .await
        .expect("answers");
    assert!(deleted.status().is_success(), "{:?}", deleted.text().await);

    sync_woo().await;
    assert_eq!(quantity(&removed.sku), Some(0), "the removed variant's SKU is offered at 0");
    for kept in [&variants[0], &variants[2]] {
        assert_eq!(quantity(&kept.sku), Some(kept.inventory_quantity), "{} keeps its stock", kept.sku);
    }
    assert_eq!(tiktok.products(&shop.cipher)[0].status, "ACTIVATE", "still on sale");
    app.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variant_removed_in_the_store_is_offered_at_zero_on_the_shop_on_sqlite() {
    init_tracing();
    a_removed_variant_is_offered_at_zero(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variant_removed_in_the_store_is_offered_at_zero_on_the_shop_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    a_removed_variant_is_offered_at_zero(&url).await;
}
