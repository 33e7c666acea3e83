//! The routes the admin pages connect and inspect with: the organization with its store,
//! connecting the store and adding a TikTok shop (checked with the platform before anything
//! is stored; secrets never answered back), the installed connectors, and a rule's versions.

use crossdock_e2e::{
    active_products, api_call, api_ok, fresh_sqlite_url, init_tracing, serve_api, shopify_settings, sync,
    tiktok_settings, world,
};
use crossdock_sandbox::tiktok::ShopSpec;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn body(name: &str, plugin: &str, settings: &crossdock::connectors::ConnectionSettings) -> Value {
    json!({ "name": name, "plugin": plugin, "settings": settings.settings, "secrets": settings.secrets })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_and_inspecting_through_the_api() {
    init_tracing();
    let world = world(&fresh_sqlite_url(), active_products(2), vec![ShopSpec::new("US", "US", "USD")]).await;
    sync(&world).await;
    let api = serve_api(&world).await;
    let base = api.base_url();
    let org = world.org.0;

    // The organization and its store: settings shown, secrets named but never their values.
    let organization = api_ok(Method::GET, &format!("{base}/api/orgs/{org}"), None).await;
    assert_eq!(organization["id"], org);
    assert_eq!(organization["store"]["plugin"], "shopify");
    assert_eq!(organization["store"]["currency"], "USD");
    assert_eq!(organization["store"]["settings"]["base-url"], world.shopify.base_url());
    let secrets: Vec<&str> = organization["store"]["secrets"]
        .as_array()
        .expect("names")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(secrets.contains(&"access-token"), "{organization}");
    assert!(!organization.to_string().contains(crossdock_e2e::SHOPIFY_TOKEN), "no secret value answered");

    // A second store is refused: one store per organization.
    let (status, answer) = api_call(
        Method::PUT,
        &format!("{base}/api/orgs/{org}/store"),
        Some(body("Another", "shopify", &shopify_settings(&world.shopify.base_url()))),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    // The shop is removed, then added again through the API: the platform is asked first, so
    // a wrong token stores nothing and says why.
    let channel = world.channels[0].id.0;
    api_ok(Method::DELETE, &format!("{base}/api/channels/{channel}"), None).await;
    let shop = world.channels[0].shop.clone();
    let good = tiktok_settings(&world, &shop);
    let bad = good.clone().secret("access-token", "expired-token");
    let (status, refused) = api_call(
        Method::POST,
        &format!("{base}/api/orgs/{org}/channels"),
        Some(body("US", "tiktok-shop", &bad)),
    )
    .await;
    assert!(status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE, "{status} {refused}");
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()), "{refused}");
    assert!(world.app.db.channels(world.org).await.expect("reads").is_empty(), "nothing stored");
    let (status, unknown) = api_call(
        Method::POST,
        &format!("{base}/api/orgs/{org}/channels"),
        Some(body("US", "no-such-plugin", &good)),
    )
    .await;
    assert!(status.is_client_error(), "{status} {unknown}");
    let added = api_ok(
        Method::POST,
        &format!("{base}/api/orgs/{org}/channels"),
        Some(body("US again", "tiktok-shop", &good)),
    )
    .await;
    let new_channel = added["channel"].as_i64().expect("the new channel's id");
    let channels = api_ok(Method::GET, &format!("{base}/api/orgs/{org}/channels"), None).await;
    let listed = channels.as_array().expect("a list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], new_channel);
    assert_eq!(listed[0]["currency"], "USD", "the currency came from the platform");

    // The installed connectors.
    let installed = api_ok(Method::GET, &format!("{base}/api/plugins"), None).await;
    let ids: Vec<&str> =
        installed.as_array().expect("a list").iter().filter_map(|p| p["manifest"]["id"].as_str()).collect();
    for id in ["shopify", "tiktok-shop", "woocommerce"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    assert!(installed[0]["hash"].as_str().is_some_and(|h| h.starts_with("sha256:")));

    // A rule's versions: saving adds one and makes it active; the history keeps the older.
    let versions = format!("{base}/api/channels/{new_channel}/rules/price/versions");
    let before = api_ok(Method::GET, &versions, None).await;
    assert_eq!(before["versions"].as_array().map(Vec::len), Some(1), "{before}");
    let first = before["active"]["source"].as_str().expect("the default rule").to_string();
    api_ok(
        Method::PUT,
        &format!("{base}/api/channels/{new_channel}/rules/price"),
        Some(json!({ "source": "(price * rate * 1.1).round(2)" })),
    )
    .await;
    let after = api_ok(Method::GET, &versions, None).await;
    assert_eq!(after["versions"].as_array().map(Vec::len), Some(2), "{after}");
    assert_eq!(after["active"]["version"], 2);
    assert_eq!(after["versions"][1]["source"], first.as_str());
    assert_eq!(after["versions"][1]["active"], false);
    let (status, _) =
        api_call(Method::GET, &format!("{base}/api/channels/{new_channel}/rules/nope/versions"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
