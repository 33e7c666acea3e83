//! `crossdock serve` as a real child process, first run: with no account it prints a
//! one-time setup link that creates the first account; every API route needs credentials;
//! with `listen-webhooks` the public webhook receivers answer on their own address (their
//! signature checked, no credentials asked) and nowhere else, and that address serves
//! nothing of the API.

use crossdock_sandbox::catalog::generated_catalog;
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("bound").port()
}

fn write_config(
    dir: &Path,
    shopify: &ShopifySandbox,
    tiktok: &TikTokSandbox,
    listen: u16,
    hooks: u16,
) -> PathBuf {
    std::fs::write(dir.join("shopify-token"), "shpat_first_run\n").expect("secret");
    std::fs::write(dir.join("shopify-webhook"), "whsec_first_run\n").expect("secret");
    std::fs::write(dir.join("tts-secret"), TikTokConfig::default().app_secret).expect("secret");
    std::fs::write(dir.join("tts-token"), tiktok.access_token()).expect("secret");
    let shop = &tiktok.shops()[0];
    let config = format!(
        r#"database-url = "sqlite:{db}"
organization = "First Run Org"
listen = "127.0.0.1:{listen}"
listen-webhooks = "127.0.0.1:{hooks}"
poll-interval-secs = 3600
drift-check-secs = 86400

# The sandboxes listen on this machine.
[plugins.egress]
allow-networks = ["127.0.0.0/8"]

[store]
name = "First run shop"
plugin = "shopify"
settings = {{ base-url = "{shopify}" }}
secrets = {{ access-token = "file:shopify-token", webhook-secret = "file:shopify-webhook" }}

[[channels]]
name = "US"
plugin = "tiktok-shop"
settings = {{ base-url = "{tiktok}", app-key = "{app_key}", shop-cipher = "{cipher}", category-id = "600001" }}
secrets = {{ app-secret = "file:tts-secret", access-token = "file:tts-token" }}
"#,
        db = dir.join("crossdock.db").display(),
        shopify = shopify.base_url(),
        tiktok = tiktok.base_url(),
        app_key = TikTokConfig::default().app_key,
        cipher = shop.cipher,
    );
    let path = dir.join("crossdock.toml");
    std::fs::write(&path, config).expect("the config is written");
    path
}

/// Waits for the setup secret `serve` prints, or fails with its log.
async fn setup_secret(log: &Path, child: &mut Killed) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text.find("/api/setup/") {
            let rest = &text[at + "/api/setup/".len()..];
            return rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("serve exited ({status}) before printing a setup link:\n{text}");
        }
        assert!(Instant::now() < deadline, "serve printed no setup link:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_prints_a_setup_link_and_webhooks_listen_apart_from_the_api() {
    let dir = std::env::temp_dir().join(format!("crossdock-first-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp dir is writable");
    let shopify = ShopifySandbox::start(ShopifyConfig {
        shop_name: "First run shop".into(),
        currency: "USD".into(),
        access_token: "shpat_first_run".into(),
        catalog: generated_catalog(2, 1, 7),
    })
    .await
    .expect("the Shopify sandbox starts");
    let tiktok = TikTokSandbox::start(TikTokConfig {
        shops: vec![ShopSpec::new("US", "US", "USD")],
        ..TikTokConfig::default()
    })
    .await
    .expect("the TikTok sandbox starts");
    let (listen, hooks) = (free_port(), free_port());
    let config = write_config(&dir, &shopify, &tiktok, listen, hooks);
    let log = dir.join("serve.log");
    let out = std::fs::File::create(&log).expect("the log is writable");
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_crossdock"))
            .args(["serve", "--config"])
            .arg(&config)
            .env_remove("CROSSDOCK_DATABASE_URL")
            .env_remove("CROSSDOCK_SECRET_KEY")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("the log handle clones"))
            .stderr(out)
            .spawn()
            .expect("the crossdock binary starts"),
    );
    let secret = setup_secret(&log, &mut child).await;
    let (api, receivers) = (format!("http://127.0.0.1:{listen}"), format!("http://127.0.0.1:{hooks}"));
    let client = reqwest::Client::new();

    let anonymous = client.get(format!("{api}/api/failures")).send().await.expect("the API answers");
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED, "no credentials, no API");

    let setup = client
        .post(format!("{api}/api/setup/{secret}"))
        .json(&serde_json::json!({ "email": "owner@first.run", "password": "first run password" }))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(setup.status(), reqwest::StatusCode::OK);
    let cookie =
        setup.headers().get("set-cookie").expect("a session cookie").to_str().expect("text").to_string();
    let pair = cookie.split(';').next().expect("name=value").to_string();
    let me: serde_json::Value = client
        .get(format!("{api}/api/me"))
        .header("cookie", &pair)
        .send()
        .await
        .expect("the API answers")
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "owner@first.run");
    assert_eq!(me["organizations"][0]["name"], "First Run Org");
    assert_eq!(me["organizations"][0]["role"], "owner");
    let again = client
        .post(format!("{api}/api/setup/{secret}"))
        .json(&serde_json::json!({ "email": "someone@else.run", "password": "another password" }))
        .send()
        .await
        .expect("the API answers");
    assert_eq!(again.status(), reqwest::StatusCode::NOT_FOUND, "the link works once");

    // The receivers: on their own address, without credentials; a forged delivery is refused
    // by its signature, not for want of a token.
    let org = me["organization"].as_i64().expect("an organization id");
    let forged = client
        .post(format!("{receivers}/webhooks/store/{org}"))
        .header("X-Shopify-Topic", "inventory_levels/update")
        .header("X-Shopify-Hmac-Sha256", "Zm9yZ2Vk")
        .body(r#"{"inventory_item_id": 1, "available": 1000}"#)
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    let text = forged.text().await.expect("body");
    assert!(!text.contains("Authorization: Bearer"), "refused for its signature: {text}");
    let on_api = client.post(format!("{api}/webhooks/store/{org}")).body("{}").send().await.expect("answers");
    assert_eq!(on_api.status(), reqwest::StatusCode::NOT_FOUND, "the API address serves no webhook");
    let api_on_receivers =
        client.get(format!("{receivers}/api/me")).header("cookie", &pair).send().await.expect("answers");
    assert_eq!(
        api_on_receivers.status(),
        reqwest::StatusCode::NOT_FOUND,
        "the webhook address serves no API"
    );
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
