//! `crossdock serve`'s configuration file on the real path: applying it connects the store
//! and channels through the plugins, sets rates, options, templates and rules, and applying
//! it again changes nothing.

use crossdock::config::ServeConfig;
use crossdock::rules::RuleKind;
use crossdock_e2e::{active_products, fresh_sqlite_url};
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_the_config_connects_everything_once() {
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Config shop".into(),
        currency: "USD".into(),
        access_token: "tok".into(),
        catalog: active_products(3),
    })
    .await
    .expect("shopify");
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("UK", "GB", "GBP")],
        ..Default::default()
    })
    .await
    .expect("tiktok");
    let shop = tiktok.shops()[0].clone();
    let dir = std::env::temp_dir().join(format!("crossdock-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).expect("temp dir");
    std::fs::write(dir.join("secrets/shopify"), "tok\n").expect("secret");
    std::fs::write(dir.join("secrets/tts-secret"), "sandbox-app-secret").expect("secret");
    std::fs::write(dir.join("secrets/tts-token"), tiktok.access_token()).expect("secret");
    std::fs::write(dir.join("price.rhai"), "(price * rate).round(2)").expect("rule");
    let database_url = fresh_sqlite_url();
    let config = format!(
        r#"
database-url = "{database_url}"
organization = "Config Org"
listen = "127.0.0.1:0"

# The sandboxes listen on this machine.
[plugins.egress]
allow-networks = ["127.0.0.0/8"]

[store]
name = "Config shop"
plugin = "shopify"
settings = {{ base-url = "{shopify}" }}
secrets = {{ access-token = "file:secrets/shopify" }}

[[channels]]
name = "UK"
plugin = "tiktok-shop"
exchange-rate = "0.79"
price-rule = "price.rhai"
stock-buffer = 2
settings = {{ base-url = "{tiktok}", app-key = "sandbox-app-key", shop-cipher = "{cipher}", category-id = "600001" }}
secrets = {{ app-secret = "file:secrets/tts-secret", access-token = "file:secrets/tts-token" }}

[[channels.templates]]
match-field = "tag"
match-value = "kitchen"
category-id = "600002"
attributes = [{{ attribute_id = "100198", custom_values = ["Steel"] }}]
"#,
        shopify = shopify.base_url(),
        tiktok = tiktok.base_url(),
        cipher = shop.cipher,
    );
    let path = dir.join("crossdock.toml");
    std::fs::write(&path, config).expect("config");

    let loaded = ServeConfig::load(&path).expect("the config is valid");
    let egress = loaded.plugins.egress.policy().expect("a valid egress policy");
    let app =
        crossdock::App::start(&loaded.database_url).await.expect("app").with_egress(egress).expect("egress");
    let org = crossdock::serve::apply_config(&app, &loaded, &path).await.expect("applied");
    let again = crossdock::serve::apply_config(&app, &loaded, &path).await.expect("applied twice");
    assert_eq!(org, again);

    let store = app.db.store_of(org).await.expect("db").expect("a store");
    assert_eq!(store.currency.as_ref().map(|c| c.as_str()), Some("USD"));
    let channels = app.db.channels(org).await.expect("db");
    assert_eq!(channels.len(), 1, "applying twice adds no second channel");
    let uk = &channels[0];
    assert_eq!(uk.currency.as_ref().map(|c| c.as_str()), Some("GBP"));
    assert_eq!(uk.exchange_rate.map(|r| r.to_string()).as_deref(), Some("0.79"));
    assert_eq!(uk.options.stock_buffer, 2);
    let price = app.db.active_rule(uk.id, RuleKind::Price).await.expect("db").expect("a price rule");
    assert_eq!(price.version, 2, "the file's rule replaced the default once, not twice");
    let templates = app.db.templates(uk.id).await.expect("db");
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].attributes[0].custom_values, vec!["Steel".to_string()]);

    std::fs::write(
        dir.join("crossdock.toml"),
        "organization = \"x\"\nbogus = 1\n[store]\nname=\"a\"\nplugin=\"b\"\n",
    )
    .expect("config");
    let error = ServeConfig::load(&path).expect_err("unknown keys are refused");
    assert!(error.to_string().contains("bogus"), "{error}");
}

/// A key of 32 bytes in base64, for the configuration's `secret-key`.
const TEST_SECRET_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A new access token from the sandbox's auth host, as reconnecting the shop would give;
/// the earlier token stops working.
async fn reauthorize(tiktok: &TikTokSandbox) -> String {
    let url = format!(
        "{}/api/v2/token/get?app_key=sandbox-app-key&app_secret=sandbox-app-secret&auth_code={}\
         &grant_type=authorized_code",
        tiktok.base_url(),
        tiktok.authorization_code()
    );
    let answer: serde_json::Value =
        reqwest::get(url).await.expect("the auth host answers").json().await.expect("json");
    answer["data"]["access_token"].as_str().expect("a new token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reapplying_the_config_with_new_credentials_updates_the_stored_ones() {
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "Reconnect shop".into(),
        currency: "USD".into(),
        access_token: "tok".into(),
        catalog: active_products(1),
    })
    .await
    .expect("shopify");
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("UK", "GB", "GBP"), ShopSpec::new("UK Outlet", "GB", "GBP")],
        ..Default::default()
    })
    .await
    .expect("tiktok");
    let (first_shop, second_shop) = (tiktok.shops()[0].clone(), tiktok.shops()[1].clone());
    let dir = std::env::temp_dir().join(format!("crossdock-reconnect-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).expect("temp dir");
    std::fs::write(dir.join("secrets/key"), TEST_SECRET_KEY).expect("key");
    std::fs::write(dir.join("secrets/shopify"), "tok").expect("secret");
    std::fs::write(dir.join("secrets/tts-secret"), "sandbox-app-secret").expect("secret");
    std::fs::write(dir.join("secrets/tts-token"), tiktok.access_token()).expect("secret");
    let database_url = fresh_sqlite_url();
    let path = dir.join("crossdock.toml");
    let write_config = |cipher: &str| {
        let config = format!(
            r#"
database-url = "{database_url}"
organization = "Reconnect Org"
secret-key = "file:secrets/key"

[plugins.egress]
allow-networks = ["127.0.0.0/8"]

[store]
name = "Reconnect shop"
plugin = "shopify"
settings = {{ base-url = "{shopify}" }}
secrets = {{ access-token = "file:secrets/shopify" }}

[[channels]]
name = "UK"
plugin = "tiktok-shop"
exchange-rate = "0.79"
settings = {{ base-url = "{tiktok}", app-key = "sandbox-app-key", shop-cipher = "{cipher}", category-id = "600001" }}
secrets = {{ app-secret = "file:secrets/tts-secret", access-token = "file:secrets/tts-token" }}
"#,
            shopify = shopify.base_url(),
            tiktok = tiktok.base_url(),
        );
        std::fs::write(&path, config).expect("config");
        ServeConfig::load(&path).expect("the config is valid")
    };

    let config = write_config(&first_shop.cipher);
    let key = config.secret_key(&path).expect("the key file is read");
    let egress = config.plugins.egress.policy().expect("a valid egress policy");
    let app = crossdock::App::start_with_key(&config.database_url, key)
        .await
        .expect("app")
        .with_egress(egress)
        .expect("egress");
    let org = crossdock::serve::apply_config(&app, &config, &path).await.expect("applied");
    let uk = app.db.channels(org).await.expect("db")[0].clone();
    assert_eq!(uk.settings.settings["shop-cipher"], first_shop.cipher);

    // The seller reconnects: a new token (the old one stops working) and another shop.
    let new_token = reauthorize(&tiktok).await;
    std::fs::write(dir.join("secrets/tts-token"), &new_token).expect("secret");
    let config = write_config(&second_shop.cipher);
    // Re-applying checks the new credentials with the platform (the old token would fail).
    crossdock::serve::apply_config(&app, &config, &path).await.expect("re-applied");
    let channels = app.db.channels(org).await.expect("db");
    assert_eq!(channels.len(), 1, "the same channel, updated");
    assert_eq!(channels[0].id, uk.id);
    assert_eq!(channels[0].settings.settings["shop-cipher"], second_shop.cipher);
    assert_eq!(channels[0].settings.secrets["access-token"], new_token);

    // Applying the same configuration again asks the platform nothing and changes nothing.
    let calls = tiktok.request_count();
    crossdock::serve::apply_config(&app, &config, &path).await.expect("applied again");
    assert_eq!(tiktok.request_count(), calls, "unchanged credentials are not checked again");

    // A token the connector rotated survives a restart with the unchanged configuration.
    let sink = crossdock::connections::secret_sink_for_channel(&app, uk.id);
    sink.keep("access-token", "rotated-by-the-connector").await.expect("kept");
    crossdock::serve::apply_config(&app, &config, &path).await.expect("applied again");
    let channel = app.db.channel(uk.id).await.expect("db");
    assert_eq!(channel.settings.secrets["access-token"], "rotated-by-the-connector");
}
