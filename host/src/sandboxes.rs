//! `crossdock sandbox`: the sandbox Shopify store, WooCommerce store and TikTok Shop seller as
//! one standalone process, for plugin authors developing against them and for tests and
//! benchmarks that drive them from outside over their control APIs (`/_sandbox/...`). It
//! writes one connection file per connector, ready for `crossdock plugin check` or a
//! `serve` configuration, with the secrets in files beside them.

use crossdock_sandbox::catalog::{CatalogProduct, demo_catalog, generated_catalog};
use crossdock_sandbox::shopify::{ShopifyConfig, ShopifySandbox};
use crossdock_sandbox::tiktok::{ShopSpec, TikTokConfig, TikTokSandbox};
use crossdock_sandbox::woocommerce::{WooConfig, WooSandbox};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The Shopify Admin API access token the sandbox store accepts.
pub const SHOPIFY_TOKEN: &str = "shpat_sandbox_token";
/// The secret sandbox webhooks are checked with (Shopify signs with the app's secret).
pub const SHOPIFY_WEBHOOK_SECRET: &str = "sandbox-webhook-secret";
/// The WooCommerce REST API key pair.
pub const WOO_KEY: &str = "ck_sandbox_key";
pub const WOO_SECRET: &str = "cs_sandbox_secret";

/// What to start.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Ports on 127.0.0.1; 0 picks a free one.
    pub shopify_port: u16,
    pub woocommerce_port: u16,
    pub tiktok_port: u16,
    /// Both stores start with this catalog.
    pub catalog: CatalogChoice,
    /// Store currency (both stores).
    pub currency: String,
    /// TikTok shops of the one seller.
    pub shops: Vec<ShopSpec>,
    /// Where the connection files go; none writes none.
    pub config_dir: Option<PathBuf>,
}

/// Which catalog the stores start with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogChoice {
    /// The project's demo catalog (70 products).
    Demo,
    /// `products` generated products with `variants` variants each.
    Generated { products: usize, variants: usize },
    /// Empty: seed it over the control API.
    Empty,
}

impl std::str::FromStr for CatalogChoice {
    type Err = String;

    /// `demo`, `empty` or `generated:PRODUCTS[xVARIANTS]` (`generated:1000x3`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "demo" => Ok(CatalogChoice::Demo),
            "empty" => Ok(CatalogChoice::Empty),
            _ => {
                let size = s.strip_prefix("generated:").ok_or_else(|| {
                    format!("catalog `{s}`: expected demo, empty or generated:PRODUCTS[xVARIANTS]")
                })?;
                let (products, variants) = size.split_once('x').unwrap_or((size, "1"));
                let number = |n: &str| {
                    n.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("catalog `{s}`: `{n}` is not a positive number"))
                };
                Ok(CatalogChoice::Generated { products: number(products)?, variants: number(variants)? })
            }
        }
    }
}

impl CatalogChoice {
    fn products(&self) -> Vec<CatalogProduct> {
        match self {
            CatalogChoice::Demo => demo_catalog(),
            CatalogChoice::Generated { products, variants } => generated_catalog(*products, *variants, 42),
            CatalogChoice::Empty => Vec::new(),
        }
    }
}

/// The three sandboxes, running until dropped.
#[derive(Debug)]
pub struct RunningSandboxes {
    pub shopify: ShopifySandbox,
    pub woocommerce: WooSandbox,
    pub tiktok: TikTokSandbox,
    /// The connection files written, by connector id.
    pub config_files: Vec<(&'static str, PathBuf)>,
}

/// Starts the sandboxes and writes the connection files.
pub async fn start(options: &SandboxOptions) -> anyhow::Result<RunningSandboxes> {
    let catalog = options.catalog.products();
    let shopify = ShopifySandbox::start_on(
        ShopifyConfig {
            shop_name: "Sandbox Outfitters".into(),
            currency: options.currency.clone(),
            access_token: SHOPIFY_TOKEN.into(),
            catalog: catalog.clone(),
        },
        options.shopify_port,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!("the Shopify sandbox cannot listen on port {}: {e}", options.shopify_port)
    })?;
    let woocommerce = WooSandbox::start_on(
        WooConfig {
            store_name: "Sandbox Outfitters".into(),
            currency: options.currency.clone(),
            consumer_key: WOO_KEY.into(),
            consumer_secret: WOO_SECRET.into(),
            catalog,
        },
        options.woocommerce_port,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!("the WooCommerce sandbox cannot listen on port {}: {e}", options.woocommerce_port)
    })?;
    let tiktok = TikTokSandbox::start_on(
        TikTokConfig { shops: options.shops.clone(), ..TikTokConfig::default() },
        options.tiktok_port,
    )
    .await
    .map_err(|e| anyhow::anyhow!("the TikTok sandbox cannot start on port {}: {e}", options.tiktok_port))?;
    let mut running = RunningSandboxes { shopify, woocommerce, tiktok, config_files: Vec::new() };
    if let Some(dir) = &options.config_dir {
        running.config_files = write_configs(&running, dir)?;
    }
    Ok(running)
}

/// One connection file per connector (the first TikTok shop for `tiktok-shop.toml`, one
/// `tiktok-shop-N.toml` per further shop); secrets go to `secrets/` beside them.
fn write_configs(running: &RunningSandboxes, dir: &Path) -> anyhow::Result<Vec<(&'static str, PathBuf)>> {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets)
        .map_err(|e| anyhow::anyhow!("creating {} for the connection files: {e}", secrets.display()))?;
    let write = |name: &str, text: &str| -> anyhow::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        Ok(path)
    };
    let secret = |name: &str, value: &str| -> anyhow::Result<String> {
        let path = secrets.join(name);
        std::fs::write(&path, value).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        Ok(format!("file:secrets/{name}"))
    };
    let mut files = Vec::new();
    let shopify = format!(
        "# The sandbox Shopify store (crossdock sandbox).\nsettings = {{ base-url = \"{}\" }}\nsecrets = {{ access-token = \"{}\", webhook-secret = \"{}\" }}\n",
        running.shopify.base_url(),
        secret("shopify-access-token", SHOPIFY_TOKEN)?,
        secret("shopify-webhook-secret", SHOPIFY_WEBHOOK_SECRET)?,
    );
    files.push(("shopify", write("shopify.toml", &shopify)?));
    let woo = format!(
        "# The sandbox WooCommerce store (crossdock sandbox).\nsettings = {{ base-url = \"{}\" }}\nsecrets = {{ consumer-key = \"{}\", consumer-secret = \"{}\", webhook-secret = \"{}\" }}\n",
        running.woocommerce.base_url(),
        secret("woocommerce-consumer-key", WOO_KEY)?,
        secret("woocommerce-consumer-secret", WOO_SECRET)?,
        secret("woocommerce-webhook-secret", SHOPIFY_WEBHOOK_SECRET)?,
    );
    files.push(("woocommerce", write("woocommerce.toml", &woo)?));
    let defaults = TikTokConfig::default();
    let app_secret = secret("tiktok-app-secret", &defaults.app_secret)?;
    let token = secret("tiktok-access-token", &running.tiktok.access_token())?;
    for (i, shop) in running.tiktok.shops().iter().enumerate() {
        let mut text = String::new();
        let _ =
            writeln!(text, "# Sandbox TikTok shop \"{}\" ({}, {}).", shop.name, shop.region, shop.currency);
        let _ = writeln!(
            text,
            "settings = {{ base-url = \"{}\", app-key = \"{}\", shop-cipher = \"{}\" }}",
            running.tiktok.base_url(),
            defaults.app_key,
            shop.cipher
        );
        let _ = writeln!(text, "secrets = {{ app-secret = \"{app_secret}\", access-token = \"{token}\" }}");
        let name =
            if i == 0 { "tiktok-shop.toml".to_string() } else { format!("tiktok-shop-{}.toml", i + 1) };
        files.push(("tiktok-shop", write(&name, &text)?));
    }
    Ok(files)
}

/// What `crossdock sandbox` prints: where everything is and how to drive it.
pub fn describe(running: &RunningSandboxes) -> String {
    let mut out = String::new();
    let tiktok = TikTokConfig::default();
    let _ = writeln!(out, "Shopify      {}/admin/api/2026-01/graphql.json", running.shopify.base_url());
    let _ = writeln!(out, "             X-Shopify-Access-Token: {SHOPIFY_TOKEN}");
    let _ = writeln!(out, "WooCommerce  {}/wp-json/wc/v3", running.woocommerce.base_url());
    let _ = writeln!(out, "             consumer key {WOO_KEY}, secret {WOO_SECRET}");
    let _ = writeln!(
        out,
        "TikTok Shop  {}  app key {}, app secret {}",
        running.tiktok.base_url(),
        tiktok.app_key,
        tiktok.app_secret
    );
    let _ = writeln!(out, "             access token {}", running.tiktok.access_token());
    for shop in running.tiktok.shops() {
        let _ = writeln!(
            out,
            "             shop \"{}\" {} {} cipher {}",
            shop.name, shop.region, shop.currency, shop.cipher
        );
    }
    let _ = writeln!(out, "Control      GET|PUT <base>/_sandbox/chaos on each; see docs/sandbox.md");
    for (plugin, path) in &running.config_files {
        let _ = writeln!(
            out,
            "Check        crossdock plugin check {plugin} --config {} --allow-network 127.0.0.0/8",
            path.display()
        );
    }
    out
}
