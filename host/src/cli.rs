//! The command line: `demo`, `serve`, `migrate`, `account`, `token`, `plugin` and `rules`.

use crate::app::App;
use crate::connectors::plugin_text::clean;
use crate::connectors::{Contract, Plugin, PluginRuntime, builtin};
use crate::rules::{RuleEngine, RuleKind};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "crossdock", version, about = "Sync one eCommerce store with many TikTok Shops")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sandbox Shopify + two sandbox TikTok Shops, synced end to end on SQLite.
    #[cfg(feature = "demo")]
    Demo {
        /// Exit once everything is synced instead of serving.
        #[arg(long)]
        once: bool,
        /// Database for the demo (a fresh file is made when it is the default).
        #[arg(long, default_value = "sqlite:crossdock-demo.db")]
        database_url: String,
        /// GBP per USD for the UK shop.
        #[arg(long, default_value = "0.79")]
        gbp_rate: rust_decimal::Decimal,
        /// How long the sandbox TikTok review takes, in milliseconds.
        #[arg(long, default_value_t = 2000)]
        review_delay_ms: u64,
        /// Jobs run at once.
        #[arg(long, default_value_t = 8)]
        workers: usize,
        /// Where the API listens while the demo serves (not with --once).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// The sandbox Shopify, WooCommerce and TikTok Shop platforms as one process, with their
    /// control APIs, until Ctrl-C; writes connection files for `plugin check`.
    #[cfg(feature = "demo")]
    Sandbox {
        #[arg(long, default_value_t = 7001)]
        shopify_port: u16,
        #[arg(long, default_value_t = 7002)]
        woocommerce_port: u16,
        #[arg(long, default_value_t = 7003)]
        tiktok_port: u16,
        /// `demo` (70 products), `empty`, or `generated:PRODUCTS[xVARIANTS]`.
        #[arg(long, default_value = "demo")]
        catalog: crate::sandboxes::CatalogChoice,
        /// The stores' currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// TikTok shops as NAME:REGION:CURRENCY, repeatable (default one US and one UK shop).
        #[arg(long = "shop")]
        shops: Vec<String>,
        /// Where to write the connection files (`shopify.toml`, `woocommerce.toml`,
        /// `tiktok-shop.toml`, secrets beside them).
        #[arg(long, default_value = "sandbox-connections")]
        config_dir: PathBuf,
    },
    /// Sync continuously as the configuration file describes.
    Serve {
        #[arg(long, short, default_value = "crossdock.toml")]
        config: PathBuf,
    },
    /// Create or upgrade the database schema.
    Migrate {
        #[arg(long, env = "CROSSDOCK_DATABASE_URL", default_value = "sqlite:crossdock.db")]
        database_url: String,
    },
    /// Seal every stored connection secret with a new key (stop every `serve` first).
    RotateSecretKey {
        #[arg(long, short, default_value = "crossdock.toml")]
        config: PathBuf,
        /// The new key, `env:NAME` or `file:PATH` (base64 of 32 bytes); a database that keeps
        /// its key in a key file gets a new random one there when this is left out.
        #[arg(long)]
        new_key: Option<String>,
    },
    /// Accounts that log in to the admin pages and the API.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// API tokens for programs, each acting for one organization.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Connector plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Merchant rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account that owns the configuration's organization; the password is read
    /// from stdin, or generated and printed once.
    Create {
        #[arg(long, short, default_value = "crossdock.toml")]
        config: PathBuf,
        #[arg(long)]
        email: String,
        /// Read the password from the first line of stdin instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for the configuration's organization and print it (once: only
    /// its hash is kept).
    Create {
        #[arg(long, short, default_value = "crossdock.toml")]
        config: PathBuf,
        /// What the token is for (shown in `GET /api/tokens`).
        #[arg(long)]
        name: String,
        /// The account the token belongs to (default: the organization's first account).
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// The built-in plugins, and with `--config` the files `serve` would install (its
    /// `[plugins]` directory and connections' own files), each with origin and hash.
    List {
        /// A serve configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Manifest, contract, imports, exports, limits and hash of a component file or built-in id.
    Inspect { plugin: String },
    /// Run the conformance suite of contract calls against a live endpoint (a sandbox or a
    /// real shop) and report each operation as passed or failed, with the reason.
    Check {
        /// A component file or a built-in id.
        plugin: String,
        /// The connection: `settings`, `secrets` (`env:NAME` or `file:PATH`), `allowed-hosts`.
        #[arg(long)]
        config: PathBuf,
        /// A live listing of the shop (channel plugins, contract 0.2.0): the kit changes its
        /// first SKU's price and stock and puts them back, deactivates and activates it, and
        /// reads it back after each step. Without it the kit only reads.
        #[arg(long)]
        listing: Option<String>,
        /// A network (CIDR) the plugin may reach although it is loopback or private, e.g.
        /// `127.0.0.0/8` for the sandboxes of `crossdock sandbox`; repeatable. Without it only
        /// public addresses are reachable, as under `serve`'s default `[plugins.egress]`.
        #[arg(long = "allow-network", value_name = "CIDR")]
        allow_networks: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Compile a rule and report errors with line and column.
    Check {
        file: PathBuf,
        #[arg(long, value_enum)]
        kind: KindArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    Product,
    Price,
    Category,
    Order,
}

impl From<KindArg> for RuleKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Product => RuleKind::Product,
            KindArg::Price => RuleKind::Price,
            KindArg::Category => RuleKind::Category,
            KindArg::Order => RuleKind::Order,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "demo")]
        Command::Demo { once, database_url, gbp_rate, review_delay_ms, workers, listen } => {
            use crate::demo::{self, DemoOptions};
            if database_url == "sqlite:crossdock-demo.db" {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("crossdock-demo.db{suffix}"));
                }
            }
            demo::run(DemoOptions {
                database_url,
                once,
                gbp_rate,
                review_delay: std::time::Duration::from_millis(review_delay_ms),
                workers,
                listen,
            })
            .await
        }
        #[cfg(feature = "demo")]
        Command::Sandbox {
            shopify_port,
            woocommerce_port,
            tiktok_port,
            catalog,
            currency,
            shops,
            config_dir,
        } => {
            let shops = if shops.is_empty() {
                crate::demo::demo_shops()
            } else {
                shops.iter().map(|s| parse_shop(s)).collect::<anyhow::Result<_>>()?
            };
            let options = crate::sandboxes::SandboxOptions {
                shopify_port,
                woocommerce_port,
                tiktok_port,
                catalog,
                currency,
                shops,
                config_dir: Some(config_dir),
            };
            let running = crate::sandboxes::start(&options).await?;
            print!("{}", crate::sandboxes::describe(&running));
            println!("Ctrl-C stops the sandboxes.");
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
        Command::Serve { config } => crate::serve::serve(&config).await,
        Command::Migrate { database_url } => {
            App::start(&database_url).await?;
            println!("database at {database_url} is up to date");
            Ok(())
        }
        Command::RotateSecretKey { config, new_key } => {
            let rotation = crate::secrets::rotation::rotate_secret_key(&config, new_key.as_deref()).await?;
            println!("sealed {} connection secrets with the new key", rotation.secrets);
            match rotation.key_file {
                Some(path) => println!("the new key is in {}: back it up", path.display()),
                None => println!(
                    "start serve with the new key now: point secret-key (or CROSSDOCK_SECRET_KEY) at it"
                ),
            }
            Ok(())
        }
        Command::Account { command: AccountCommand::Create { config, email, password_stdin } } => {
            let (db, org, organization) = organization_db(&config).await?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (crate::auth::password::generate_password(), true)
            };
            let account = crate::auth::account::create_owner(&db, org, &email, &password).await?;
            println!(
                "account {account} ({}) owns organization `{organization}`",
                email.trim().to_lowercase()
            );
            if generated {
                println!("password (shown once): {password}");
            }
            db.close().await;
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { config, name, email } } => {
            let (db, org, organization) = organization_db(&config).await?;
            let account = match email {
                Some(email) => {
                    let email = crate::auth::normalize_email(&email).map_err(anyhow::Error::msg)?;
                    let row = db.account_by_email(&email).await?.ok_or_else(|| {
                        anyhow::anyhow!("no account has email {email}: create it with `crossdock account create`")
                    })?;
                    if !db.memberships(row.id).await?.iter().any(|m| m.organization == org) {
                        anyhow::bail!("account {email} is not a member of organization `{organization}`");
                    }
                    row.id
                }
                None => db.first_member(org).await?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "organization `{organization}` has no account yet: create one with `crossdock account create`"
                    )
                })?,
            };
            let token = crate::auth::token::create_api_token(&db, account, org, &name).await?;
            println!(
                "API token {} `{}` for organization `{organization}` (shown once, keep it safe):",
                token.id, token.name
            );
            println!("{}", token.token);
            println!(
                "send it as `Authorization: Bearer <token>`; revoke it with DELETE /api/tokens/{}",
                token.id
            );
            db.close().await;
            Ok(())
        }
        Command::Plugin { command: PluginCommand::List { config } } => {
            let (runtime, registry) = match &config {
                Some(path) => {
                    let serve = crate::config::ServeConfig::load(path)?;
                    let runtime = PluginRuntime::with_policy(
                        serve.plugins.limits.clone(),
                        serve.plugins.health.clone(),
                    )
                    .map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let registry = crate::connectors::PluginRegistry::with_builtins(&runtime)?;
                    crate::plugin_files::install_plugins(&runtime, &registry, &serve, path)?;
                    (runtime, registry)
                }
                None => {
                    let runtime = PluginRuntime::new().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let registry = crate::connectors::PluginRegistry::with_builtins(&runtime)?;
                    (runtime, registry)
                }
            };
            drop(runtime);
            for plugin in registry.list() {
                let m = &plugin.manifest;
                println!(
                    "{:<14} {:<8} {:<8} contract {}  {}  {}",
                    m.id,
                    m.kind.as_str(),
                    m.version,
                    plugin.contract(),
                    plugin.hash,
                    plugin.origin
                );
            }
            Ok(())
        }
        Command::Plugin { command: PluginCommand::Inspect { plugin } } => inspect(&plugin),
        Command::Plugin { command: PluginCommand::Check { plugin, config, listing, allow_networks } } => {
            let settings = crate::config::ConnectionFile::load(&config)?;
            let egress =
                crate::connectors::EgressConfig { allow_networks }.policy().map_err(anyhow::Error::msg)?;
            let runtime = PluginRuntime::new().map_err(|e| anyhow::anyhow!("{e:#}"))?.with_egress(egress)?;
            let loaded = std::sync::Arc::new(Plugin::load(&runtime, &plugin_bytes(&plugin)?, &plugin)?);
            let options = crate::connectors::conformance::CheckOptions { listing_id: listing };
            let results =
                crate::connectors::conformance::check_with(&runtime, loaded, settings, &options).await?;
            let failed = results.iter().filter(|r| !r.passed).count();
            for r in &results {
                let mark = if r.passed { "pass" } else { "FAIL" };
                // What a plugin returned is shown as one clean line: it cannot fake a verdict.
                let (check, detail) = (clean(&r.check), clean(&r.detail));
                println!("{mark}  {:<20} {check:<55} {:>6} ms  {detail}", r.operation, r.millis);
            }
            println!("{} passed, {failed} failed", results.len() - failed);
            if failed > 0 {
                anyhow::bail!("{failed} conformance checks failed");
            }
            Ok(())
        }
        Command::Rules { command: RulesCommand::Check { file, kind } } => {
            let source = std::fs::read_to_string(&file)?;
            let engine = RuleEngine::default();
            let label = file.display().to_string();
            crate::rules::check(&engine, RuleKind::from(kind), &label, &source)?;
            println!("{label}: compiles as a {} rule", RuleKind::from(kind).as_str());
            Ok(())
        }
    }
}

/// The database and organization a configuration file names (the organization is created
/// when `serve` has not run yet).
async fn organization_db(
    config: &std::path::Path,
) -> anyhow::Result<(crate::db::Db, crate::model::OrgId, String)> {
    let loaded = crate::config::ServeConfig::load(config)?;
    let key = loaded.secret_key(config)?;
    let db = crate::db::Db::connect_with_key(&loaded.database_url, key).await?;
    let org = match db.org_by_name(&loaded.organization).await? {
        Some(org) => org,
        None => db.create_org(&loaded.organization).await?,
    };
    Ok((db, org, loaded.organization))
}

/// `NAME:REGION:CURRENCY` (`Outdoor UK:GB:GBP`).
#[cfg(feature = "demo")]
fn parse_shop(text: &str) -> anyhow::Result<crossdock_sandbox::tiktok::ShopSpec> {
    match text.split(':').collect::<Vec<_>>()[..] {
        [name, region, currency] if !name.is_empty() => {
            Ok(crossdock_sandbox::tiktok::ShopSpec::new(name, region, currency))
        }
        _ => anyhow::bail!("shop `{text}`: expected NAME:REGION:CURRENCY, e.g. `Outdoor UK:GB:GBP`"),
    }
}

/// The bytes of a built-in plugin by id, or of a component file.
fn plugin_bytes(plugin: &str) -> anyhow::Result<Vec<u8>> {
    match builtin::all().into_iter().find(|(id, _)| *id == plugin) {
        Some((_, bytes)) => Ok(bytes.to_vec()),
        None => std::fs::read(plugin)
            .map_err(|e| anyhow::anyhow!("{plugin}: not a built-in id, and reading it as a file: {e}")),
    }
}

/// The manifest's rate limits in a line: the per-connection cap and the per-API limits.
fn pacing(limits: &crate::connectors::manifest::Limits) -> String {
    let mut parts = Vec::new();
    if let Some(rate) = limits.requests_per_second {
        parts.push(format!("{rate}/s per connection"));
    }
    for api in &limits.api {
        parts.push(format!("{} {} {}/s", api.method.as_deref().unwrap_or("*"), api.path, api.per_second));
    }
    if let Some(rate) = limits.per_api_per_second {
        parts.push(format!("{rate}/s for each other API"));
    }
    if parts.is_empty() {
        return "none".into();
    }
    format!(
        "{} (per-API limits paced to {} %)",
        parts.join("; "),
        (crate::connectors::rate_limit::PACE_SHARE * 100.0).round()
    )
}

fn inspect(plugin: &str) -> anyhow::Result<()> {
    let bytes = plugin_bytes(plugin)?;
    let runtime = PluginRuntime::new().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let loaded = Plugin::load(&runtime, &bytes, plugin)?;
    let m = &loaded.manifest;
    println!("id:         {}", m.id);
    println!("name:       {}", m.name);
    println!("version:    {}", m.version);
    println!("kind:       {}", m.kind.as_str());
    let contract = loaded.contract();
    let current = if contract == Contract::CURRENT { " (current)" } else { "" };
    println!("contract:   crossdock:connector@{}{current}", m.contract);
    let missing = match m.kind {
        crate::connectors::PluginKind::Channel => contract.missing_channel_operations(),
        crate::connectors::PluginKind::Store => contract.missing_store_operations(),
    };
    if !missing.is_empty() {
        let scope =
            if contract.supports_orders() { "some operations are" } else { "catalog only: orders are" };
        println!(
            "            built for {contract}: {scope} not available; rebuild against {} for them",
            Contract::CURRENT
        );
        for operation in missing {
            println!("            - no {operation}");
        }
    }
    println!("hash:       {}", loaded.hash);
    println!(
        "origin:     {}",
        if builtin::all().iter().any(|(id, _)| *id == plugin) { "built-in" } else { plugin }
    );
    println!("size:       {} bytes", bytes.len());
    let shape = loaded.shape;
    println!(
        "shape:      {} core modules, {} core instances, {} memories, {} tables",
        shape.core_modules, shape.core_instances, shape.memories, shape.tables
    );
    println!("hosts:      {}", m.allowed_hosts.join(", "));
    println!(
        "secrets:    {}",
        if m.secrets.is_empty() { "(none declared)".to_string() } else { m.secrets.join(", ") }
    );
    println!(
        "limits:     memory {} MiB, cpu {} ms, timeout {} ms (asked; the default policy allows {})",
        m.limits.memory_bytes() / (1024 * 1024),
        m.limits.cpu().as_millis(),
        m.limits.timeout().as_millis(),
        match runtime.policy().lowered(&m.limits) {
            lowered if lowered.is_empty() => "all of it".to_string(),
            lowered => lowered.join(", "),
        }
    );
    println!("pacing:     {}", pacing(&m.limits));
    match &m.authorization {
        Some(spec) => {
            println!("authorize:  through the platform ({})", spec.url);
            if !spec.inputs.is_empty() {
                let inputs: Vec<&str> = spec.inputs.keys().map(String::as_str).collect();
                println!("            the merchant gives: {}", inputs.join(", "));
            }
        }
        None => println!("authorize:  no (connected with typed credentials)"),
    }
    let component = wasmtime::component::Component::new(runtime.engine(), &bytes)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let ty = component.component_type();
    println!("imports:");
    for (name, _) in ty.imports(runtime.engine()) {
        println!("  {name}");
    }
    println!("exports:");
    for (name, _) in ty.exports(runtime.engine()) {
        println!("  {name}");
    }
    Ok(())
}
