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
    let app = crossdock::App::start(&loaded.database_url).await.expect("app");
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
