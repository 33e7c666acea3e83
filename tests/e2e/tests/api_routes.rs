//! Every route of docs/api.md over HTTP against the real API, each checked by what it does
//! (what the shops hold, what later reads return), not only by its status; and every route
//! that takes an id answers 404 for an id that does not exist.
//!
//! Route                                                  | covered by
//! ------------------------------------------------------ | --------------------------------------------
//! GET    /api/orgs/{org}/onboarding                      | channel_routes…, auto_link_and_store_routes…
//! GET    /api/orgs/{org}/channels                        | channel_routes…, auto_link_and_store_routes…
//! PUT    /api/channels/{id}/exchange-rate                | channel_routes…, invalid_input…
//! PUT    /api/channels/{id}/options                      | channel_routes…, invalid_input…
//! PUT    /api/orgs/{org}/auto-link                       | auto_link_and_store_routes…
//! DELETE /api/channels/{id}                              | channel_routes…
//! DELETE /api/orgs/{org}/store                           | auto_link_and_store_routes…
//! GET    /api/channels/{id}/products                     | product_center_routes…
//! PUT    /api/channels/{id}/selection                    | product_center_routes…
//! PUT    /api/channels/{id}/products/{product}/category  | product_center_routes…
//! PUT    /api/channels/{id}/templates                    | product_center_routes…, invalid_input…
//! GET    /api/channels/{id}/templates                    | product_center_routes…
//! GET    /api/channels/{id}/link-issues                  | product_center_routes…
//! GET    /api/channels/{id}/drift                        | product_center_routes…
//! PUT    /api/channels/{id}/rules/{kind}                 | rule_routes…, invalid_input…, robustness.rs
//! GET    /healthz, /readyz                               | robustness.rs (a_stalled_job_is_reported…)
//! POST   /api/channels/{id}/rules/{kind}/dry-run         | rule_routes…
//! GET    /api/failures                                   | the_failure_list_and_the_retry_button…
//! POST   /api/jobs/{id}/retry                            | the_failure_list_and_the_retry_button…
//! POST   /webhooks/store/{org}                           | a_signed_store_webhook…
//! (all of the above with unknown ids)                    | every_route_that_takes_an_id_answers_404…

use crossdock::catalog::import::import_catalog;
use crossdock::db::jobs::JobState;
use crossdock::demo::WEBHOOK_SECRET;
use crossdock::dispatch::{QueueSettings, run_due};
use crossdock::rules::RuleKind;
use crossdock_e2e::{
    WebhookRecorder, active_products, api_call, api_ok, fast_settings, fresh_sqlite_url, init_tracing,
    listing_with_sku, listings_with_sku, product_with_sku, run_queue, serve_api, sku_on_shop, sync, world,
};
use crossdock_sandbox::catalog::{CatalogProduct, ProductStatus, demo_catalog};
use crossdock_sandbox::chaos::Chaos;
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimals are valid")
}

/// A JSON decimal, which the API writes as a string.
fn dec_of(value: &Value) -> Decimal {
    value.as_str().map(dec).or_else(|| value.as_f64().map(|f| dec(&f.to_string()))).expect("a decimal")
}

fn one_shop() -> Vec<ShopSpec> {
    vec![ShopSpec::new("US", "US", "USD")]
}

/// The channel with this id in a `GET /api/orgs/{org}/channels` answer.
fn channel_view(channels: &Value, id: i64) -> Value {
    channels.as_array().expect("a list").iter().find(|c| c["id"] == id).cloned().unwrap_or(Value::Null)
}

fn step<'a>(onboarding: &'a Value, name: &str) -> &'a Value {
    onboarding["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("a step `{name}` in {onboarding}"))
}

fn allocated(stock: i64, buffer: i64, share: i64, total_shares: i64) -> i64 {
    (stock - buffer).max(0) * share / total_shares
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_routes_show_and_change_what_each_shop_holds() {
    init_tracing();
    let catalog = active_products(2);
    let shops = vec![ShopSpec::new("US", "US", "USD"), ShopSpec::new("UK", "GB", "GBP")];
    let world = world(&fresh_sqlite_url(), catalog.clone(), shops).await;
    let (us, uk) = (world.channels[0].clone(), world.channels[1].clone());
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channels_url = format!("{base}/api/orgs/{}/channels", world.org);
    let onboarding_url = format!("{base}/api/orgs/{}/onboarding", world.org);

    let channels = api_ok(Method::GET, &channels_url, None).await;
    assert_eq!(channels.as_array().map(Vec::len), Some(2), "{channels}");
    let uk_view = channel_view(&channels, uk.id.0);
    assert_eq!((&uk_view["currency"], &uk_view["region"]), (&json!("GBP"), &json!("GB")));
    assert!(uk_view["blocked"].as_str().is_some_and(|b| b.contains("exchange rate")), "{uk_view}");
    assert_eq!(channel_view(&channels, us.id.0)["blocked"], Value::Null);
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    assert_eq!(onboarding["complete"], false);
    assert_eq!(step(&onboarding, "connect the store")["done"], true);
    assert_eq!(step(&onboarding, "connect a TikTok Shop")["done"], true);
    assert_eq!(step(&onboarding, "prices for UK")["done"], false);

    let rate = api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{}/exchange-rate", uk.id),
        Some(json!({ "rate": "0.80" })),
    )
    .await;
    assert_eq!(dec_of(&rate["rate"]), dec("0.80"));
    let us_options =
        json!({ "sync_content": false, "auto_select": true, "stock_buffer": 1, "stock_share": 3 });
    let saved =
        api_ok(Method::PUT, &format!("{base}/api/channels/{}/options", us.id), Some(us_options.clone()))
            .await;
    assert_eq!(saved, us_options);
    let channels = api_ok(Method::GET, &channels_url, None).await;
    let uk_view = channel_view(&channels, uk.id.0);
    assert_eq!((dec_of(&uk_view["exchange_rate"]), &uk_view["blocked"]), (dec("0.80"), &Value::Null));
    assert_eq!(channel_view(&channels, us.id.0)["options"], us_options);

    sync(&world).await;
    let onboarding = api_ok(Method::GET, &onboarding_url, None).await;
    assert_eq!(onboarding["complete"], true, "{onboarding}");
    let channels = api_ok(Method::GET, &channels_url, None).await;
    for channel in [&us, &uk] {
        assert_eq!(channel_view(&channels, channel.id.0)["listings"], json!({ "active": 2 }), "{channels}");
    }
    for variant in catalog.iter().flat_map(|p| &p.variants) {
        let (usd, stock) = (variant.price, variant.inventory_quantity);
        let on_us = sku_on_shop(&world, &us.shop.cipher, &variant.sku);
        let on_uk = sku_on_shop(&world, &uk.shop.cipher, &variant.sku);
        assert_eq!(i64::from(on_us.quantity), allocated(stock, 1, 3, 4), "{} on US", variant.sku);
        assert_eq!(i64::from(on_uk.quantity), allocated(stock, 0, 1, 4), "{} on UK", variant.sku);
        assert_eq!(on_uk.price.amount, (usd * dec("0.80")).round_dp(2), "{} on UK", variant.sku);
    }

    // Deleting a channel forgets it here; its shop keeps its listings, and the rest of the
    // stock goes to the channel that is left.
    let deleted = api_ok(Method::DELETE, &format!("{base}/api/channels/{}", uk.id), None).await;
    assert_eq!(deleted["deleted"], uk.id.0);
    let channels = api_ok(Method::GET, &channels_url, None).await;
    assert_eq!(channels.as_array().map(Vec::len), Some(1), "{channels}");
    assert_eq!(world.app.db.listings_of(uk.id).await.expect("reads").len(), 0, "its listings are forgotten");
    assert_eq!(world.tiktok.products(&uk.shop.cipher).len(), 2, "nothing is deleted on TikTok");
    run_queue(&world).await;
    for variant in catalog.iter().flat_map(|p| &p.variants) {
        let on_us = sku_on_shop(&world, &us.shop.cipher, &variant.sku);
        assert_eq!(
            i64::from(on_us.quantity),
            allocated(variant.inventory_quantity, 1, 3, 3),
            "{}",
            variant.sku
        );
    }
    let (again, _) = api_call(Method::DELETE, &format!("{base}/api/channels/{}", uk.id), None).await;
    assert_eq!(again, StatusCode::NOT_FOUND, "a deleted channel is unknown");
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

fn material() -> Value {
    json!([{ "attribute_id": "100198", "option_ids": ["1000058"] }])
}

/// The product center row of `product`.
fn row(rows: &Value, product: i64) -> Value {
    rows.as_array()
        .expect("a list")
        .iter()
        .find(|r| r["product_id"] == product)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_center_routes_select_map_and_report_on_each_product() {
    init_tracing();
    let catalog = one_of_each_type(&["Tents", "Sleeping Bags", "Backpacks"]);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let channel = world.channels[0].clone();
    let cipher = channel.shop.cipher.clone();
    let options = crossdock::db::orgs::ChannelOptions {
        sync_content: true,
        auto_select: true,
        stock_buffer: 0,
        stock_share: 1,
    };
    world.app.db.set_channel_options(channel.id, options).await.expect("options");
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{}", api.base_url(), channel.id);
    let [tent, bag, pack] = [0, 1, 2].map(|i| catalog[i].variants[0].sku.clone());
    let (tent_id, bag_id, pack_id) = (
        product_with_sku(&world, &tent).await.0,
        product_with_sku(&world, &bag).await.0,
        product_with_sku(&world, &pack).await.0,
    );

    let rows = api_ok(Method::GET, &format!("{base}/products"), None).await;
    assert_eq!(rows.as_array().map(Vec::len), Some(3), "{rows}");
    for (id, sku) in [(tent_id, &tent), (bag_id, &bag), (pack_id, &pack)] {
        let r = row(&rows, id);
        assert_eq!(r["state"], "active", "{r}");
        assert_eq!(r["channel_product_id"], listing_with_sku(&world, &cipher, sku).id.as_str(), "{r}");
        assert!(r["explanation"].as_str().is_some_and(|e| e.contains("channel default")), "{r}");
    }

    let answer = api_ok(
        Method::PUT,
        &format!("{base}/selection"),
        Some(json!({ "product_ids": [pack_id], "selected": false })),
    )
    .await;
    assert_eq!(answer, json!({ "products": 1, "selected": false, "queued": 1 }));
    run_queue(&world).await;
    assert_eq!(listing_with_sku(&world, &cipher, &pack).status, "SELLER_DEACTIVATED");
    let rows = api_ok(Method::GET, &format!("{base}/products"), None).await;
    assert_eq!(
        (&row(&rows, pack_id)["state"], &row(&rows, pack_id)["reason"]),
        (&json!("not_selected"), &json!("not selected for this channel"))
    );

    let template = json!({
        "match_field": "product_type",
        "match_value": "Tents",
        "category_id": "600002",
        "attributes": material(),
    });
    let saved = api_ok(Method::PUT, &format!("{base}/templates"), Some(template)).await;
    let listed = api_ok(Method::GET, &format!("{base}/templates"), None).await;
    assert_eq!(saved, listed, "the saved templates are the ones listed");
    let templates = listed.as_array().expect("a list");
    assert_eq!(templates.len(), 1, "{listed}");
    assert_eq!(
        (&templates[0]["match_value"], &templates[0]["category_id"], &templates[0]["priority"]),
        (&json!("Tents"), &json!("600002"), &json!(100))
    );
    let by_hand = json!({ "category_id": "600002", "attributes": material() });
    let echoed =
        api_ok(Method::PUT, &format!("{base}/products/{bag_id}/category"), Some(by_hand.clone())).await;
    assert_eq!(
        (&echoed["category_id"], &echoed["attributes"][0]["option_ids"]),
        (&json!("600002"), &json!(["1000058"]))
    );
    run_queue(&world).await;
    assert_eq!(listing_with_sku(&world, &cipher, &tent).category_id, "600002", "placed by the template");
    assert_eq!(listing_with_sku(&world, &cipher, &bag).category_id, "600002", "placed by hand");
    let rows = api_ok(Method::GET, &format!("{base}/products"), None).await;
    let explains =
        |id: i64, what: &str| row(&rows, id)["explanation"].as_str().is_some_and(|e| e.contains(what));
    assert!(explains(tent_id, "template product_type=Tents"), "{rows}");
    assert!(explains(bag_id, "mapped by hand"), "{rows}");

    // A store product whose SKU the shop sells twice is held; the issue names it.
    let issues = api_ok(Method::GET, &format!("{base}/link-issues"), None).await;
    assert_eq!(issues, json!([]), "no issue yet");
    world.tiktok.seed_product(&cipher, "Twin A", &["CD-TWIN-1"]);
    world.tiktok.seed_product(&cipher, "Twin B", &["CD-TWIN-1"]);
    let mut twin = catalog[0].clone();
    twin.handle = "twin".into();
    twin.title = "Twin".into();
    twin.variants.truncate(1);
    twin.variants[0].sku = "CD-TWIN-1".into();
    world.shopify.add_product(twin);
    sync(&world).await;
    let twin_id = product_with_sku(&world, "CD-TWIN-1").await.0;
    let issues = api_ok(Method::GET, &format!("{base}/link-issues"), None).await;
    let issues = issues.as_array().expect("a list");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(
        (&issues[0]["product_id"], &issues[0]["sku"], &issues[0]["kind"]),
        (&json!(twin_id), &json!("CD-TWIN-1"), &json!("ambiguous_on_channel"))
    );
    let rows = api_ok(Method::GET, &format!("{base}/products"), None).await;
    assert_eq!(row(&rows, twin_id)["state"], "held", "{rows}");

    // Drift: nothing corrected yet; what the drift check records is listed, newest first.
    let drift = api_ok(Method::GET, &format!("{base}/drift"), None).await;
    assert_eq!(drift, json!([]));
    let db = &world.app.db;
    let tent_product = crossdock::model::ProductId(tent_id);
    db.record_drift(channel.id, tent_product, "price", "first correction").await.expect("recorded");
    db.record_drift(channel.id, tent_product, "stock", "second correction").await.expect("recorded");
    let drift = api_ok(Method::GET, &format!("{base}/drift"), None).await;
    let kinds: Vec<&str> =
        drift.as_array().expect("a list").iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["stock", "price"], "{drift}");
    assert_eq!(drift[0]["product_id"], tent_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_routes_save_versions_that_reach_the_shop_and_dry_runs_that_send_nothing() {
    init_tracing();
    let catalog = active_products(3);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let channel = world.channels[0].clone();
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{}/rules", api.base_url(), channel.id);
    let markup = json!({ "source": "(price * rate * 1.10).round(2)" });

    let calls = world.tiktok.request_count();
    let report = api_ok(Method::POST, &format!("{base}/price/dry-run"), Some(markup.clone())).await;
    assert_eq!((&report["products"], &report["unchanged"]), (&json!(3), &json!(0)), "{report}");
    assert_eq!(report["changes"].as_array().map(Vec::len), Some(3), "{report}");
    assert_eq!(world.tiktok.request_count(), calls, "a dry run sends nothing");
    run_queue(&world).await;
    assert_eq!(world.tiktok.request_count(), calls, "and saves nothing that would");

    let saved = api_ok(Method::PUT, &format!("{base}/price"), Some(markup)).await;
    assert_eq!((&saved["kind"], &saved["version"]), (&json!("price"), &json!(2)), "{saved}");
    run_queue(&world).await;
    for variant in catalog.iter().flat_map(|p| &p.variants) {
        let held = sku_on_shop(&world, &channel.shop.cipher, &variant.sku);
        assert_eq!(held.price.amount, (variant.price * dec("1.10")).round_dp(2), "{}", variant.sku);
    }
    let dry_again = json!({ "source": "(price * rate * 1.10).round(2)" });
    let report = api_ok(Method::POST, &format!("{base}/price/dry-run"), Some(dry_again)).await;
    assert_eq!((&report["unchanged"], &report["changes"]), (&json!(3), &json!([])), "{report}");

    let skip_all = json!({ "source": "skip(\"closed for the season\")" });
    let saved = api_ok(Method::PUT, &format!("{base}/product"), Some(skip_all)).await;
    assert_eq!((&saved["kind"], &saved["version"]), (&json!("product"), &json!(2)), "{saved}");
    run_queue(&world).await;
    for product in &catalog {
        let listing = listing_with_sku(&world, &channel.shop.cipher, &product.variants[0].sku);
        assert_eq!(listing.status, "SELLER_DEACTIVATED", "{} is skipped by the new version", product.title);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failure_list_and_the_retry_button_bring_back_a_job_that_gave_up() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let cipher = world.channels[0].shop.cipher.clone();
    let engine = world.engine(fast_settings()).await.expect("engine");
    import_catalog(&engine, &|_| {}).await.expect("imports");
    // TikTok fails every call and the queue gives up after one attempt.
    world.tiktok.set_chaos(Chaos { error_rate: 1.0, ..Chaos::default() });
    let queue = QueueSettings { max_attempts: 1, ..QueueSettings::default() };
    run_due(engine, &queue, &|| {}).await.expect("the attempt runs");
    world.tiktok.set_chaos(Chaos::default());
    let api = serve_api(&world).await;
    let base = api.base_url();

    let failures = api_ok(Method::GET, &format!("{base}/api/failures"), None).await;
    let failures = failures.as_array().expect("a list").clone();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let product = product_with_sku(&world, &catalog[0].variants[0].sku).await;
    let failure = &failures[0];
    assert_eq!(
        (&failure["kind"], &failure["state"], &failure["channel"], &failure["product"], &failure["attempts"]),
        (
            &json!("push_listing"),
            &json!("dead"),
            &json!(world.channels[0].id.0),
            &json!(product.0),
            &json!(1)
        )
    );
    assert!(
        failure["reason"].as_str().is_some_and(|r| r.contains("tiktok-shop")),
        "names the plugin: {failure}"
    );
    let job = failure["job"].as_i64().expect("a job id");

    let retried = api_ok(Method::POST, &format!("{base}/api/jobs/{job}/retry"), None).await;
    assert_eq!(retried, json!({ "job": job, "queued": true }));
    let counts = world.app.db.job_counts().await.expect("counts");
    assert_eq!(counts.get(&JobState::Queued).copied(), Some(1), "queued again: {counts:?}");
    let (twice, _) = api_call(Method::POST, &format!("{base}/api/jobs/{job}/retry"), None).await;
    assert_eq!(twice, StatusCode::CONFLICT, "a job that is not failed has nothing to retry");
    run_queue(&world).await;
    assert_eq!(listing_with_sku(&world, &cipher, &catalog[0].variants[0].sku).status, "ACTIVATE");
    assert_eq!(api_ok(Method::GET, &format!("{base}/api/failures"), None).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_store_webhook_is_handled_and_a_forged_one_is_refused() {
    init_tracing();
    let catalog = active_products(1);
    let world = world(&fresh_sqlite_url(), catalog.clone(), one_shop()).await;
    let cipher = world.channels[0].shop.cipher.clone();
    sync(&world).await;
    let api = serve_api(&world).await;
    let receiver = format!("{}/webhooks/store/{}", api.base_url(), world.org);
    let recorder = WebhookRecorder::start().await;
    world.shopify.subscribe_webhooks(&recorder.address(), WEBHOOK_SECRET);
    let sku = catalog[0].variants[0].sku.clone();
    assert!(world.shopify.set_variant_stock(&sku, 6));
    world.shopify.wait_for_webhooks().await;
    let delivery = recorder.deliveries().pop().expect("a delivery");

    let mut forged = delivery.clone();
    forged.body = br#"{"inventory_item_id": 1, "available": 1000}"#.to_vec();
    let refused = forged.replay(&receiver).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let counts = world.app.db.job_counts().await.expect("counts");
    assert_eq!(counts.get(&JobState::Queued), None, "a forged delivery queues nothing");

    let handled = delivery.replay(&receiver).await;
    assert_eq!(handled.status(), StatusCode::OK);
    let outcome: Value = handled.json().await.expect("json");
    assert_eq!(
        outcome,
        json!({ "topic": "inventory_levels/update", "duplicate": false, "products": 1, "queued": 1, "orders": 0 })
    );
    run_queue(&world).await;
    assert_eq!(sku_on_shop(&world, &cipher, &sku).quantity, 6, "the webhook's stock is live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_link_and_store_routes_switch_linking_and_disconnect_the_store() {
    init_tracing();
    let catalog = active_products(2);
    let world = world(&fresh_sqlite_url(), catalog[..1].to_vec(), one_shop()).await;
    let channel = world.channels[0].clone();
    let cipher = channel.shop.cipher.clone();
    let api = serve_api(&world).await;
    let base = api.base_url();
    let skus = |p: &CatalogProduct| p.variants.iter().map(|v| v.sku.clone()).collect::<Vec<_>>();
    let as_strs = |v: &[String]| v.iter().map(String::as_str).collect::<Vec<_>>().join(",");
    let (first, second) = (skus(&catalog[0]), skus(&catalog[1]));
    world.tiktok.seed_product(
        &cipher,
        "Sold before Crossdock",
        &first.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    world.tiktok.seed_product(
        &cipher,
        "Sold before too",
        &second.iter().map(String::as_str).collect::<Vec<_>>(),
    );

    // Off: the product is listed anew beside the listing the shop already had.
    let off = api_ok(
        Method::PUT,
        &format!("{base}/api/orgs/{}/auto-link", world.org),
        Some(json!({ "on": false })),
    )
    .await;
    assert_eq!(off, json!({ "auto_link": false }));
    sync(&world).await;
    assert_eq!(listings_with_sku(&world, &cipher, &first[0]).len(), 2, "not linked: {}", as_strs(&first));

    // On again: the next new product adopts the listing the shop has.
    let on =
        api_ok(Method::PUT, &format!("{base}/api/orgs/{}/auto-link", world.org), Some(json!({ "on": true })))
            .await;
    assert_eq!(on, json!({ "auto_link": true }));
    world.shopify.add_product(catalog[1].clone());
    sync(&world).await;
    let linked = listing_with_sku(&world, &cipher, &second[0]);
    assert_eq!(linked.title, "Sold before too", "linked to the listing the shop had: {}", as_strs(&second));

    let store_url = format!("{base}/api/orgs/{}/store", world.org);
    let gone = api_ok(Method::DELETE, &store_url, None).await;
    assert_eq!(gone, json!({ "organization": world.org.0, "store": null }));
    let onboarding = api_ok(Method::GET, &format!("{base}/api/orgs/{}/onboarding", world.org), None).await;
    assert_eq!(step(&onboarding, "connect the store")["done"], false, "{onboarding}");
    assert_eq!(
        world.app.db.listings_of(channel.id).await.expect("reads").len(),
        0,
        "its catalog is forgotten"
    );
    let (again, _) = api_call(Method::DELETE, &store_url, None).await;
    assert_eq!(again, StatusCode::NOT_FOUND, "no store is left to disconnect");
    // The channels stay, and are listed while the next store is connected.
    let channels = api_ok(Method::GET, &format!("{base}/api/orgs/{}/channels", world.org), None).await;
    assert_eq!(channel_view(&channels, channel.id.0)["name"], "US", "{channels}");
}

/// Every route that takes an id, each with an id that does not exist (and a valid body, so
/// that only the id can be wrong): 404, as docs/api.md says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_that_takes_an_id_answers_404_for_an_unknown_one() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let channel = world.channels[0].id.0;
    let product = product_with_sku(&world, &active_products(1)[0].variants[0].sku).await.0;
    let unknown = 999_999;
    let options = json!({ "sync_content": false, "auto_select": true, "stock_buffer": 0, "stock_share": 1 });
    let template = json!({ "match_field": "product_type", "match_value": "Tents", "category_id": "600001" });
    let category = json!({ "category_id": "600001", "attributes": [] });
    let rule = json!({ "source": "(price * rate).round(2)" });
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/orgs/{unknown}/onboarding"), None),
        (Method::GET, format!("/api/orgs/{unknown}/channels"), None),
        (Method::PUT, format!("/api/orgs/{unknown}/auto-link"), Some(json!({ "on": false }))),
        (Method::DELETE, format!("/api/orgs/{unknown}/store"), None),
        (Method::PUT, format!("/api/channels/{unknown}/exchange-rate"), Some(json!({ "rate": "0.8" }))),
        (Method::PUT, format!("/api/channels/{unknown}/options"), Some(options)),
        (Method::DELETE, format!("/api/channels/{unknown}"), None),
        (Method::GET, format!("/api/channels/{unknown}/products"), None),
        (
            Method::PUT,
            format!("/api/channels/{unknown}/selection"),
            Some(json!({ "product_ids": [product], "selected": false })),
        ),
        (
            Method::PUT,
            format!("/api/channels/{channel}/selection"),
            Some(json!({ "product_ids": [unknown], "selected": false })),
        ),
        (Method::PUT, format!("/api/channels/{unknown}/products/{product}/category"), Some(category.clone())),
        (Method::PUT, format!("/api/channels/{channel}/products/{unknown}/category"), Some(category)),
        (Method::PUT, format!("/api/channels/{unknown}/templates"), Some(template)),
        (Method::GET, format!("/api/channels/{unknown}/templates"), None),
        (Method::GET, format!("/api/channels/{unknown}/link-issues"), None),
        (Method::GET, format!("/api/channels/{unknown}/drift"), None),
        (Method::PUT, format!("/api/channels/{unknown}/rules/price"), Some(rule.clone())),
        (Method::PUT, format!("/api/channels/{channel}/rules/shipping"), Some(rule.clone())),
        (Method::POST, format!("/api/channels/{unknown}/rules/price/dry-run"), Some(rule)),
        (Method::POST, format!("/api/jobs/{unknown}/retry"), None),
        (Method::POST, format!("/webhooks/store/{unknown}"), Some(json!({ "id": 1 }))),
    ];
    let mut wrong = Vec::new();
    for (method, path, body) in routes {
        let (status, answer) = api_call(method.clone(), &format!("{base}{path}"), body).await;
        if status != StatusCode::NOT_FOUND {
            wrong.push(format!("{method} {path} answered {status} {answer}"));
        }
    }
    assert!(wrong.is_empty(), "routes that do not answer 404 for an unknown id:\n{}", wrong.join("\n"));
}

/// Input the API cannot use is refused with 422 and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_refused_with_422_and_changes_nothing() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(1), one_shop()).await;
    let channel = world.channels[0].id;
    let api = serve_api(&world).await;
    let base = format!("{}/api/channels/{channel}", api.base_url());
    let before = world.app.db.channel(channel).await.expect("reads");
    let rule_before =
        world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads").map(|r| r.version);
    let negative = json!({ "sync_content": true, "auto_select": true, "stock_buffer": -1, "stock_share": 1 });
    let cases: Vec<(&str, String, Value, &str)> = vec![
        ("a negative stock buffer", format!("{base}/options"), negative, "stock_buffer: -1 is out of range"),
        (
            "a zero exchange rate",
            format!("{base}/exchange-rate"),
            json!({ "rate": "0" }),
            "rate: 0 is out of range",
        ),
        (
            "a rule that does not compile",
            format!("{base}/rules/price"),
            json!({ "source": "price *" }),
            "line 1",
        ),
        (
            "a template on an unknown field",
            format!("{base}/templates"),
            json!({ "match_field": "colour", "match_value": "Red", "category_id": "600001" }),
            "",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, url, body, says) in cases {
        let (status, answer) = api_call(Method::PUT, &url, Some(body)).await;
        let text = answer.to_string();
        if status != StatusCode::UNPROCESSABLE_ENTITY || !text.contains(says) {
            wrong.push(format!("{what}: {status} {text}"));
        }
    }
    assert!(wrong.is_empty(), "input refused otherwise than with 422 and a reason:\n{}", wrong.join("\n"));
    let after = world.app.db.channel(channel).await.expect("reads");
    assert_eq!(
        (after.options, after.exchange_rate),
        (before.options, before.exchange_rate),
        "nothing changed"
    );
    let rule_after =
        world.app.db.active_rule(channel, RuleKind::Price).await.expect("reads").map(|r| r.version);
    assert_eq!(rule_after, rule_before, "no new rule version");
    assert_eq!(world.app.db.templates(channel).await.expect("reads"), Vec::new());
}
