//! Connection secrets at rest, on real SQLite and PostgreSQL: the database never holds a
//! token in plaintext (after connecting, after upgrading an older database), a wrong key is
//! refused with a message naming the connection, a rotated secret is what the next load
//! returns, and a sealed value copied to another connection does not open.

use crossdock::connectors::{ConnectionSettings, SecretSink};
use crossdock::db::Db;
use crossdock::db::secrets::{DbSecretSink, SecretOwner};
use crossdock::model::OrgId;
use crossdock::secrets::{KEY_ENV, KeyOrigin, SecretKey};
use crossdock_e2e::{active_products, fresh_postgres_url, fresh_sqlite_url, init_tracing, world};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig};
use sqlx::Row;

fn config_key(name: &str) -> SecretKey {
    SecretKey::generate(KeyOrigin::Config(format!("env:{name}"))).expect("random")
}

/// Every settings and secret column as the database holds it.
async fn stored_text(db: &Db) -> String {
    let mut text = String::new();
    for sql in [
        "SELECT settings AS t FROM stores",
        "SELECT settings AS t FROM channels",
        "SELECT value_encrypted AS t FROM connection_secrets",
        "SELECT COALESCE(given_encrypted, '') AS t FROM connection_secrets",
    ] {
        for row in sqlx::query(sql).fetch_all(db.pool()).await.expect("raw rows") {
            text.push_str(&row.try_get::<String, _>("t").expect("text"));
            text.push('\n');
        }
    }
    text
}

/// The bytes of a SQLite database file and its write-ahead log.
fn sqlite_bytes(url: &str) -> Vec<u8> {
    let path = url.strip_prefix("sqlite:").expect("a sqlite URL");
    let mut bytes = std::fs::read(path).expect("the database file");
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn no_plaintext_after_connecting(url: &str) {
    let world = world(url, active_products(1), vec![ShopSpec::new("US", "US", "USD")]).await;
    let app_secret = TikTokConfig::default().app_secret;
    let tokens = [world.tiktok.access_token(), app_secret, crossdock::demo::WEBHOOK_SECRET.to_string()];
    let stored = stored_text(&world.app.db).await;
    for token in &tokens {
        assert!(!stored.contains(token.as_str()), "a secret is stored in plaintext:\n{stored}");
    }
    assert!(stored.contains("v1:"), "the secrets are stored sealed");
    if url.starts_with("sqlite:") {
        let bytes = sqlite_bytes(url);
        for token in &tokens {
            assert!(!contains(&bytes, token), "the database file holds a secret in plaintext");
        }
    }
    // Callers read the secrets as before.
    let store = world.app.db.store_of(world.org).await.expect("db").expect("a store");
    assert_eq!(store.settings.secrets["webhook-secret"], crossdock::demo::WEBHOOK_SECRET);
    let channels = world.app.db.channels(world.org).await.expect("db");
    assert_eq!(channels[0].settings.secrets["access-token"], world.tiktok.access_token());
    let one = world.app.db.channel(channels[0].id).await.expect("db");
    assert_eq!(one.settings, channels[0].settings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_stores_no_secret_in_plaintext_on_sqlite() {
    init_tracing();
    no_plaintext_after_connecting(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_stores_no_secret_in_plaintext_on_postgres() {
    init_tracing();
    let Some(url) = fresh_postgres_url().await else { return };
    no_plaintext_after_connecting(&url).await;
}

const OLD_TOKENS: [&str; 3] = ["old-shopify-token-4f1c", "old-tiktok-token-9a2e", "old-app-secret-77d0"];

/// Writes connections the way versions before 0004 did: secrets inside the settings JSON.
async fn write_old_connections(db: &Db) -> OrgId {
    let org = db.create_org("Upgraded").await.expect("org");
    let store = serde_json::json!({
        "settings": { "base-url": "http://shop.invalid" },
        "secrets": { "access-token": OLD_TOKENS[0] },
    });
    sqlx::query(
        "INSERT INTO stores (org_id, name, plugin_id, settings, created_at) VALUES ($1, 'Shop', 'shopify', $2, 0)",
    )
    .bind(org.0)
    .bind(store.to_string())
    .execute(db.pool())
    .await
    .expect("old store row");
    for name in ["UK", "US"] {
        let channel = serde_json::json!({
            "settings": { "shop-cipher": format!("cipher-{name}") },
            "secrets": { "access-token": OLD_TOKENS[1], "app-secret": OLD_TOKENS[2] },
            "allowed-hosts": ["open-api.tiktokglobalshop.com"],
        });
        sqlx::query(
            "INSERT INTO channels (org_id, name, plugin_id, settings, created_at) \
             VALUES ($1, $2, 'tiktok-shop', $3, 0)",
        )
        .bind(org.0)
        .bind(name)
        .bind(channel.to_string())
        .execute(db.pool())
        .await
        .expect("old channel row");
    }
    org
}

async fn upgrade_leaves_no_plaintext(url: &str) {
    let key = config_key("UPGRADE_KEY");
    let db = Db::connect_with_key(url, Some(key.clone())).await.expect("connects");
    let org = write_old_connections(&db).await;
    assert!(stored_text(&db).await.contains(OLD_TOKENS[1]), "the old rows hold plaintext");
    db.close().await;
    if url.starts_with("sqlite:") {
        assert!(contains(&sqlite_bytes(url), OLD_TOKENS[1]), "the old file holds plaintext");
    }

    let db = Db::connect_with_key(url, Some(key.clone())).await.expect("the upgrade step runs");
    let stored = stored_text(&db).await;
    for token in OLD_TOKENS {
        assert!(!stored.contains(token), "plaintext left after the upgrade:\n{stored}");
    }
    let store = db.store_of(org).await.expect("db").expect("a store");
    assert_eq!(store.settings.secrets["access-token"], OLD_TOKENS[0]);
    assert_eq!(store.settings.settings["base-url"], "http://shop.invalid");
    let channels = db.channels(org).await.expect("db");
    assert_eq!(channels.len(), 2);
    for channel in &channels {
        assert_eq!(channel.settings.secrets["access-token"], OLD_TOKENS[1]);
        assert_eq!(channel.settings.secrets["app-secret"], OLD_TOKENS[2]);
        assert_eq!(channel.settings.allowed_hosts, Some(vec!["open-api.tiktokglobalshop.com".to_string()]));
    }
    db.close().await;
    if url.starts_with("sqlite:") {
        let bytes = sqlite_bytes(url);
        for token in OLD_TOKENS {
            assert!(!contains(&bytes, token), "the upgraded file still holds `{token}` somewhere");
        }
    }
    // The step ran once: a second start finds nothing to move and reads the same secrets.
    let db = Db::connect_with_key(url, Some(key)).await.expect("starts again");
    let again = db.channels(org).await.expect("db");
    assert_eq!(again[0].settings.secrets["access-token"], OLD_TOKENS[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_sqlite_database_holds_no_plaintext_secret() {
    upgrade_leaves_no_plaintext(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_postgres_database_holds_no_plaintext_secret() {
    let Some(url) = fresh_postgres_url().await else { return };
    upgrade_leaves_no_plaintext(&url).await;
}

async fn connect_one_store(db: &Db) -> (OrgId, crossdock::model::StoreId) {
    let org = db.create_org("Keys").await.expect("org");
    let settings = ConnectionSettings::default().secret("access-token", "shop-token-31");
    let store = db.connect_store(org, "Shop", "shopify", &settings, &usd()).await.expect("store");
    (org, store)
}

async fn a_wrong_key_is_refused(url: &str) {
    let db = Db::connect_with_key(url, Some(config_key("RIGHT_KEY"))).await.expect("connects");
    let (_, store) = connect_one_store(&db).await;
    db.close().await;
    let error = Db::connect_with_key(url, Some(config_key("OTHER_KEY"))).await.expect_err("refused");
    assert_eq!(
        error.to_string(),
        format!(
            "cannot decrypt the secrets of store {store}: wrong key? (the key in use came from \
             secret-key = \"env:OTHER_KEY\" in the configuration)"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_naming_the_connection_on_sqlite() {
    a_wrong_key_is_refused(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_naming_the_connection_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_wrong_key_is_refused(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_key_file_is_named_and_no_new_one_takes_its_place() {
    if std::env::var_os(KEY_ENV).is_some() {
        eprintln!("skipped: {KEY_ENV} is set, so no key file is used");
        return;
    }
    let url = fresh_sqlite_url();
    let key_file = format!("{}.key", url.strip_prefix("sqlite:").expect("sqlite"));
    let db = Db::connect(&url).await.expect("connects, making the key file");
    let (org, store) = connect_one_store(&db).await;
    db.close().await;
    let original = std::fs::read(&key_file).expect("the key file was made");
    std::fs::remove_file(&key_file).expect("lose it");

    let error = Db::connect(&url).await.expect_err("refused");
    let message = error.to_string();
    assert!(message.starts_with(&format!("cannot decrypt the secrets of store {store}")), "{message}");
    assert!(message.contains("restore the original key file"), "{message}");
    assert!(!std::path::Path::new(&key_file).exists(), "the useless new key file is gone again");

    std::fs::write(&key_file, original).expect("restore it");
    let db = Db::connect(&url).await.expect("the restored key opens the secrets");
    let row = db.store_of(org).await.expect("db").expect("a store");
    assert_eq!(row.settings.secrets["access-token"], "shop-token-31");
}

async fn a_kept_secret_is_loaded_next(url: &str) {
    let key = config_key("KEEP_KEY");
    let db = Db::connect_with_key(url, Some(key.clone())).await.expect("connects");
    let org = db.create_org("Rotation").await.expect("org");
    let settings = ConnectionSettings::default()
        .setting("shop-cipher", "C1")
        .secret("access-token", "first-token-1")
        .secret("refresh-token", "refresh-1");
    let channel = db.add_channel(org, &new_channel("UK"), &settings).await.expect("channel");
    let sink = DbSecretSink::new(db.clone(), SecretOwner::Channel(channel));
    sink.keep("access-token", "rotated-token-2").await.expect("kept");

    let row = db.channel(channel).await.expect("db");
    assert_eq!(row.settings.secrets["access-token"], "rotated-token-2");
    assert_eq!(row.settings.secrets["refresh-token"], "refresh-1", "other secrets stay");
    assert_eq!(db.channels(org).await.expect("db")[0].settings, row.settings);
    assert!(!stored_text(&db).await.contains("rotated-token-2"), "the kept secret is sealed too");
    db.close().await;

    let db = Db::connect_with_key(url, Some(key)).await.expect("the next process");
    let row = db.channel(channel).await.expect("db");
    assert_eq!(row.settings.secrets["access-token"], "rotated-token-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_secret_is_what_the_next_load_returns_on_sqlite() {
    a_kept_secret_is_loaded_next(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_secret_is_what_the_next_load_returns_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_kept_secret_is_loaded_next(&url).await;
}

async fn a_copied_secret_does_not_open(url: &str) {
    let db = Db::connect_with_key(url, Some(config_key("COPY_KEY"))).await.expect("connects");
    let org = db.create_org("Copies").await.expect("org");
    let channel = |token: &str| {
        ConnectionSettings::default().secret("access-token", token).secret("app-secret", "app-secret-5")
    };
    let a = db.add_channel(org, &new_channel("A"), &channel("token-of-a")).await.expect("a");
    let b = db.add_channel(org, &new_channel("B"), &channel("token-of-b")).await.expect("b");
    let sealed_of_a: String = sqlx::query(
        "SELECT value_encrypted FROM connection_secrets WHERE channel_id = $1 AND name = 'access-token'",
    )
    .bind(a.0)
    .fetch_one(db.pool())
    .await
    .expect("a's token")
    .try_get("value_encrypted")
    .expect("text");

    // Into another connection: B would call with A's token.
    sqlx::query(
        "UPDATE connection_secrets SET value_encrypted = $1 WHERE channel_id = $2 AND name = 'access-token'",
    )
    .bind(&sealed_of_a)
    .bind(b.0)
    .execute(db.pool())
    .await
    .expect("copied");
    let error = db.channel(b).await.expect_err("does not open");
    assert!(error.to_string().starts_with(&format!("cannot decrypt the secrets of channel {b}")), "{error}");
    assert!(db.channels(org).await.is_err(), "the organization's channels cannot be read with it either");
    assert_eq!(db.channel(a).await.expect("a is intact").settings.secrets["access-token"], "token-of-a");

    // Into another name of the same connection.
    sqlx::query(
        "UPDATE connection_secrets SET value_encrypted = $1 WHERE channel_id = $2 AND name = 'app-secret'",
    )
    .bind(&sealed_of_a)
    .bind(a.0)
    .execute(db.pool())
    .await
    .expect("copied");
    let error = db.channel(a).await.expect_err("does not open under another name");
    assert!(error.to_string().contains(&format!("channel {a}")), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_copied_to_another_connection_does_not_open_on_sqlite() {
    a_copied_secret_does_not_open(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_copied_to_another_connection_does_not_open_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    a_copied_secret_does_not_open(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_channel_deletes_its_secrets() {
    let db = Db::connect_with_key(&fresh_sqlite_url(), Some(config_key("DELETE_KEY"))).await.expect("db");
    let org = db.create_org("Deletes").await.expect("org");
    let settings = ConnectionSettings::default().secret("access-token", "t");
    let channel = db.add_channel(org, &new_channel("Gone"), &settings).await.expect("channel");
    db.delete_channel(channel).await.expect("deleted");
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM connection_secrets")
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    assert_eq!(left, 0);
}

/// A configuration file for `database_url` with `extra` lines, in a fresh directory.
fn config_file(database_url: &str, extra: &str) -> std::path::PathBuf {
    static DIRS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = DIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("crossdock-rotate-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("crossdock.toml");
    let text = format!(
        "database-url = \"{database_url}\"\norganization = \"Rotate\"\n{extra}\n\
         [store]\nname = \"Shop\"\nplugin = \"shopify\"\n"
    );
    std::fs::write(&path, text).expect("config");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_key_file_seals_every_secret_with_the_new_key() {
    if std::env::var_os(KEY_ENV).is_some() {
        eprintln!("skipped: {KEY_ENV} is set, so no key file is used");
        return;
    }
    let url = fresh_sqlite_url();
    let key_file = format!("{}.key", url.strip_prefix("sqlite:").expect("sqlite"));
    let db = Db::connect(&url).await.expect("connects, making the key file");
    let (org, _) = connect_one_store(&db).await;
    db.close().await;
    let old = std::fs::read_to_string(&key_file).expect("the key file");
    let old = SecretKey::from_base64(&old, KeyOrigin::Config("the old key".into())).expect("a key");

    let rotation =
        crossdock::secrets::rotation::rotate_secret_key(&config_file(&url, ""), None).await.expect("rotated");
    assert_eq!(rotation.secrets, 1, "the store's one secret");
    assert!(!std::path::Path::new(&format!("{key_file}.new")).exists());

    let db = Db::connect(&url).await.expect("the new key file opens the secrets");
    let store = db.store_of(org).await.expect("db").expect("a store");
    assert_eq!(store.settings.secrets["access-token"], "shop-token-31");
    db.close().await;
    let error = Db::connect_with_key(&url, Some(old)).await.expect_err("the old key opens nothing");
    assert!(error.to_string().contains("wrong key?"), "{error}");
}

async fn rotating_a_configured_key(url: &str) {
    let path = config_file(url, "secret-key = \"file:old.key\"");
    let dir = path.parent().expect("dir");
    // The keys as an operator writes them: base64 of 32 bytes.
    std::fs::write(dir.join("old.key"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").expect("old");
    std::fs::write(dir.join("new.key"), "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=").expect("new");
    let old = crossdock::config::read_secret_key(&path, "file:old.key").expect("key");
    let db = Db::connect_with_key(url, Some(old.clone())).await.expect("connects");
    let (org, _) = connect_one_store(&db).await;
    db.close().await;

    let missing =
        crossdock::secrets::rotation::rotate_secret_key(&path, None).await.expect_err("needs a new key");
    assert!(missing.to_string().contains("--new-key"), "{missing}");
    crossdock::secrets::rotation::rotate_secret_key(&path, Some("file:new.key")).await.expect("rotated");

    let new = crossdock::config::read_secret_key(&path, "file:new.key").expect("key");
    let db = Db::connect_with_key(url, Some(new)).await.expect("the new key opens the secrets");
    assert_eq!(
        db.store_of(org).await.expect("db").expect("a store").settings.secrets["access-token"],
        "shop-token-31"
    );
    db.close().await;
    assert!(Db::connect_with_key(url, Some(old)).await.is_err(), "the old key opens nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_configured_key_on_sqlite() {
    rotating_a_configured_key(&fresh_sqlite_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_a_configured_key_on_postgres() {
    let Some(url) = fresh_postgres_url().await else { return };
    rotating_a_configured_key(&url).await;
}

fn usd() -> crossdock::model::Currency {
    crossdock::model::Currency::new("USD").expect("a currency")
}

/// A channel as connecting one records it (no rules needed here).
fn new_channel(name: &str) -> crossdock::db::orgs::NewChannel<'_> {
    static GBP: std::sync::LazyLock<crossdock::model::Currency> =
        std::sync::LazyLock::new(|| crossdock::model::Currency::new("GBP").expect("a currency"));
    crossdock::db::orgs::NewChannel {
        name,
        plugin_id: "tiktok-shop",
        currency: &GBP,
        region: None,
        rules: &[],
    }
}
