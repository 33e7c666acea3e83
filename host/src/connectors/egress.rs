//! Where a plugin's HTTP requests may go. A URL is parsed once, by the parser that sends it
//! (`reqwest::Url`), and that parsed URL is what is checked: scheme, host and port against the
//! connection's allow-list (the manifest's hosts, narrowed by the operator's), no user name or
//! password. The address is checked too: IP literals directly, names by the resolver the
//! plugin HTTP client uses (`CheckedResolver`), which hands the connection only addresses the
//! process's `EgressPolicy` allows, so what was checked is what is connected to. Loopback,
//! private, link-local (cloud metadata), multicast and other special ranges are refused
//! unless the operator allows a network explicitly.

use super::manifest::Manifest;
use super::settings::ConnectionSettings;
use ipnet::IpNet;
use reqwest::Url;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The operator's egress settings (`[plugins.egress]` in the serve configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EgressConfig {
    /// Networks (CIDR, `127.0.0.0/8`, `10.1.2.3/32`, `::1/128`) plugins may reach although
    /// they are loopback, private, link-local or otherwise special. Empty by default: only
    /// public addresses are reachable.
    #[serde(default)]
    pub allow_networks: Vec<String>,
}

impl EgressConfig {
    /// The policy these settings describe; an entry that is not a CIDR network is an error
    /// naming it.
    pub fn policy(&self) -> Result<EgressPolicy, String> {
        let networks = self
            .allow_networks
            .iter()
            .map(|text| {
                text.trim()
                    .parse::<IpNet>()
                    .or_else(|_| text.trim().parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!(
                            "plugins.egress.allow-networks: {text:?} is not a network; write it as CIDR, \
                             e.g. \"127.0.0.0/8\" or \"10.0.0.5/32\""
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EgressPolicy::allowing(networks))
    }
}

/// Which addresses a plugin may connect to, process-wide. The default refuses every special
/// range (see `special_range`); the operator can allow networks explicitly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allow_networks: Vec<IpNet>,
}

impl EgressPolicy {
    /// Special ranges refused except `networks`.
    pub fn allowing(networks: impl IntoIterator<Item = IpNet>) -> Self {
        EgressPolicy { allow_networks: networks.into_iter().map(|n| n.trunc()).collect() }
    }

    /// Loopback allowed (`127.0.0.0/8`, `::1`): for the sandboxes of `crossdock demo`,
    /// `crossdock sandbox` and the tests, which listen on this machine.
    pub fn local_sandboxes() -> Self {
        Self::allowing([
            "127.0.0.0/8".parse().expect("a valid network"),
            "::1/128".parse().expect("a valid network"),
        ])
    }

    /// The networks the operator allowed.
    pub fn allowed_networks(&self) -> &[IpNet] {
        &self.allow_networks
    }

    /// Whether a plugin may connect to `ip`: yes for ordinary public addresses and for the
    /// allowed networks; otherwise the reason, naming the address and its range.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let ip = canonical(ip);
        let Some(range) = special_range(ip) else {
            return Ok(());
        };
        if self.allow_networks.iter().any(|n| n.contains(&ip)) {
            return Ok(());
        }
        Err(format!(
            "{ip} is a {range} address, which plugins may not reach unless the operator allows its \
             network ([plugins.egress] allow-networks)"
        ))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is checked as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The special range `ip` falls in, if any: everything that is not an ordinary public
/// unicast address.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    const V4: &[(&str, &str)] = &[
        ("0.0.0.0/8", "unspecified (\"this network\")"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved or broadcast"),
    ];
    const V6: &[(&str, &str)] = &[
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::/96", "IPv4-compatible (deprecated)"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignment"),
        ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    ];
    let table = if ip.is_ipv4() { V4 } else { V6 };
    table.iter().find_map(|(net, name)| {
        let net: IpNet = net.parse().expect("the table holds valid networks");
        net.contains(&ip).then_some(*name)
    })
}

/// URL schemes a plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn of(name: &str) -> Option<Self> {
        match name {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The host part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternHost {
    /// Exactly this host (a name as the URL parser normalizes it, or an IP address).
    Exact(url::Host<String>),
    /// Any name ending in `.suffix` (one or more labels before it).
    Subdomains(String),
}

/// One allowed origin: `[scheme://]host[:port]` or `[scheme://]*.suffix[:port]`. Without a
/// scheme it means https; without a port, the scheme's default port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    scheme: Scheme,
    host: PatternHost,
    port: u16,
}

impl HostPattern {
    /// Parses and checks a pattern; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("host pattern {text:?} {why}");
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("is empty"));
        }
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => (
                Scheme::of(&scheme.to_ascii_lowercase())
                    .ok_or_else(|| bad("has a scheme other than http:// or https://"))?,
                rest,
            ),
            None => (Scheme::Https, trimmed),
        };
        if rest.contains(['/', '\\', '@', '?', '#', ' ']) || rest.is_empty() {
            return Err(bad("must be only a host and an optional port (no path, user or query)"));
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        if rest.contains('*') {
            return Err(bad("may use `*` only as its whole first label (`*.example.com`)"));
        }
        let url = Url::parse(&format!("{}://{rest}/", scheme.as_str()))
            .map_err(|e| bad(&format!("is not a valid host: {e}")))?;
        let host = url.host().ok_or_else(|| bad("names no host"))?.to_owned();
        let port = url.port_or_known_default().ok_or_else(|| bad("has no port"))?;
        let host = match host {
            url::Host::Domain(name) => {
                if name.ends_with('.') || name.starts_with('.') || name.contains("..") {
                    return Err(bad("has an empty label or a trailing dot"));
                }
                if wildcard {
                    if !name.contains('.') {
                        return Err(bad(
                            "is a wildcard over a single label (`*.com`); name at least two labels after `*.`",
                        ));
                    }
                    // The URL parser reads names whose last label is numeric as IPv4 (`*.1`).
                    PatternHost::Subdomains(name)
                } else {
                    PatternHost::Exact(url::Host::Domain(name))
                }
            }
            ip if wildcard => {
                return Err(bad(&format!("is a wildcard over an IP address ({ip}); list addresses exactly")));
            }
            ip => PatternHost::Exact(ip),
        };
        Ok(HostPattern { scheme, host, port })
    }

    /// The pattern a connection's `base-url` stands for: exactly its scheme, host and port.
    fn of_base_url(base_url: &str) -> Result<Self, String> {
        let url = Url::parse(base_url)
            .map_err(|e| format!("the base-url setting {base_url:?} is not a URL: {e}"))?;
        let scheme = Scheme::of(url.scheme())
            .ok_or_else(|| format!("the base-url setting {base_url:?} is not an http:// or https:// URL"))?;
        let host = url.host().ok_or_else(|| format!("the base-url setting {base_url:?} names no host"))?;
        let port = url.port_or_known_default().unwrap_or(443);
        Ok(HostPattern { scheme, host: PatternHost::Exact(host.to_owned()), port })
    }

    fn matches(&self, scheme: Scheme, host: &url::Host<&str>, port: u16) -> bool {
        self.scheme == scheme
            && self.port == port
            && match (&self.host, host) {
                (PatternHost::Exact(exact), host) => *exact == host.to_owned(),
                (PatternHost::Subdomains(suffix), url::Host::Domain(name)) => {
                    name.len() > suffix.len() + 1
                        && name.ends_with(suffix.as_str())
                        && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
                        && !name.ends_with('.')
                }
                (PatternHost::Subdomains(_), _) => false,
            }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        match &self.host {
            PatternHost::Exact(host) => write!(f, "{host}")?,
            PatternHost::Subdomains(suffix) => write!(f, "*.{suffix}")?,
        }
        write!(f, ":{}", self.port)
    }
}

/// Checks every host pattern of a manifest (`${base-url}` stands for the connection's
/// base URL and is checked when a connection is made).
pub fn check_manifest_hosts(manifest: &Manifest) -> Result<(), String> {
    for host in &manifest.allowed_hosts {
        if host != BASE_URL {
            HostPattern::parse(host).map_err(|e| format!("its manifest's allowed-hosts: {e}"))?;
        }
    }
    Ok(())
}

const BASE_URL: &str = "${base-url}";

/// The origins one connection may reach: in the manifest's list (`${base-url}` resolved to
/// the connection's `base-url`) and, when the operator gave one, in the operator's too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowList {
    declared: Vec<HostPattern>,
    operator: Option<Vec<HostPattern>>,
    /// Patterns that could not be used, with why; named when a request is refused.
    problems: Vec<String>,
}

impl HostAllowList {
    /// The manifest's hosts and the operator's list for one connection. A pattern that
    /// cannot be parsed allows nothing and is named in the refusals.
    pub fn resolve(manifest: &Manifest, settings: &ConnectionSettings) -> Self {
        let mut problems = Vec::new();
        let mut declared = Vec::new();
        for host in &manifest.allowed_hosts {
            let parsed = if host == BASE_URL {
                match settings.settings.get("base-url") {
                    Some(base) => HostPattern::of_base_url(base),
                    None => continue,
                }
            } else {
                HostPattern::parse(host)
            };
            match parsed {
                Ok(pattern) => declared.push(pattern),
                Err(problem) => problems.push(format!("manifest: {problem}")),
            }
        }
        let operator = settings.allowed_hosts.as_ref().map(|hosts| {
            hosts
                .iter()
                .filter_map(|h| {
                    HostPattern::parse(h)
                        .map_err(|p| problems.push(format!("operator's allowed-hosts: {p}")))
                        .ok()
                })
                .collect()
        });
        HostAllowList { declared, operator, problems }
    }

    /// An allow-list of exactly these patterns (no operator list); for tests and tools.
    pub fn of_patterns(patterns: &[&str]) -> Result<Self, String> {
        let declared = patterns.iter().map(|p| HostPattern::parse(p)).collect::<Result<_, _>>()?;
        Ok(HostAllowList { declared, operator: None, problems: Vec::new() })
    }

    /// Parses `url` and checks it against this list and the policy's address rules (for an
    /// IP literal; names are checked when resolved). Returns the parsed URL to send, or why
    /// not.
    pub fn check(&self, policy: &EgressPolicy, url: &str) -> Result<Url, Refusal> {
        let parsed = Url::parse(url).map_err(|e| Refusal::InvalidUrl(format!("{e} in {}", shown(url))))?;
        let scheme = Scheme::of(parsed.scheme()).ok_or_else(|| {
            Refusal::Denied(format!(
                "the scheme `{}:` is not allowed; plugins may use only http:// and https://",
                parsed.scheme()
            ))
        })?;
        let host = parsed.host().ok_or_else(|| Refusal::InvalidUrl(format!("no host in {}", shown(url))))?;
        let port = parsed.port_or_known_default().ok_or_else(|| Refusal::InvalidUrl("no port".into()))?;
        let origin = match parsed.port() {
            Some(port) => format!("{}://{host}:{port}", scheme.as_str()),
            None => format!("{}://{host}", scheme.as_str()),
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refusal::Denied(format!(
                "{origin} is not allowed: the URL carries a user name or password, which plugins may not \
                 send (put credentials in a header)"
            )));
        }
        let in_manifest = self.declared.iter().any(|p| p.matches(scheme, &host, port));
        let by_operator =
            self.operator.as_ref().is_none_or(|list| list.iter().any(|p| p.matches(scheme, &host, port)));
        if !in_manifest || !by_operator {
            let list = |patterns: &[HostPattern]| {
                if patterns.is_empty() {
                    "none".to_string()
                } else {
                    patterns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                }
            };
            let mut why = if !in_manifest {
                format!("it is not in the plugin's allowed hosts ({})", list(&self.declared))
            } else {
                format!(
                    "the operator's allowed-hosts for this connection do not include it ({})",
                    list(self.operator.as_deref().unwrap_or_default())
                )
            };
            if !self.problems.is_empty() {
                why.push_str(&format!("; unusable patterns: {}", self.problems.join("; ")));
            }
            return Err(Refusal::Denied(format!("{origin} is not allowed: {why}")));
        }
        let ip = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        if let Some(ip) = ip {
            policy.check_ip(ip).map_err(|why| Refusal::Denied(format!("{origin} is not allowed: {why}")))?;
        }
        Ok(parsed)
    }
}

/// Why a request may not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Against the allow-list or the address policy; the text names the origin and the rule.
    Denied(String),
    /// Not a URL the host can send.
    InvalidUrl(String),
}

/// Headers the host sets itself or that control the connection; a plugin may not send them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Refuses a header a plugin may not set (`Host`, hop-by-hop headers, `Content-Length`).
pub fn check_header(name: &str) -> Result<(), String> {
    let lower = name.trim().to_ascii_lowercase();
    if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
        return Err(format!(
            "the header `{}` is set by the host (it controls the connection or names its target); a plugin \
             may not send it",
            name.chars().take(64).collect::<String>()
        ));
    }
    Ok(())
}

/// A URL as it may appear in a message: without user name, password, query or fragment,
/// which may hold secrets.
pub fn shown(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => {
            let cut = url.find(['?', '#', '@']).unwrap_or(url.len());
            let mut text: String = url[..cut].chars().take(200).collect();
            if cut < url.len() {
                text.push('…');
            }
            text
        }
    }
}

/// The resolver of the plugin HTTP client: resolves a name and keeps only the addresses the
/// policy allows, so the connection goes to a checked address with no second lookup. A name
/// with none left fails with `EgressRefused`.
#[derive(Debug)]
pub(crate) struct CheckedResolver {
    pub policy: Arc<EgressPolicy>,
}

/// A name resolved only to addresses the egress policy refuses.
#[derive(Debug)]
pub(crate) struct EgressRefused(pub String);

impl std::fmt::Display for EgressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EgressRefused {}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let name = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let mut refusals = Vec::new();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match policy.check_ip(addr.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refusals.push(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                refusals.dedup();
                let why = if refusals.is_empty() { "no addresses".to_string() } else { refusals.join("; ") };
                return Err(Box::new(EgressRefused(format!("{name} resolves to {why}")))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client plugin requests go through: no redirects, no proxy (the address checked
/// must be the one connected to), names resolved by `CheckedResolver`.
pub(crate) fn client(policy: Arc<EgressPolicy>) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(CheckedResolver { policy }))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::manifest::{Limits, PluginKind};
    use proptest::prelude::*;

    fn manifest(hosts: &[&str]) -> Manifest {
        Manifest {
            id: "p".into(),
            name: "P".into(),
            version: "1".into(),
            contract: "0.1.0".into(),
            kind: PluginKind::Channel,
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            secrets: Vec::new(),
            limits: Limits::default(),
            authorization: None,
        }
    }

    fn list(hosts: &[&str], base_url: Option<&str>) -> HostAllowList {
        let mut settings = ConnectionSettings::default();
        if let Some(base) = base_url {
            settings = settings.setting("base-url", base);
        }
        HostAllowList::resolve(&manifest(hosts), &settings)
    }

    fn denied(list: &HostAllowList, policy: &EgressPolicy, url: &str) -> String {
        match list.check(policy, url) {
            Err(Refusal::Denied(why)) => why,
            other => panic!("{url} should be denied, got {other:?}"),
        }
    }

    #[test]
    fn base_url_placeholder_allows_exactly_its_scheme_host_and_port() {
        let list = list(&["${base-url}"], Some("http://127.0.0.1:8123/api"));
        let local = EgressPolicy::local_sandboxes();
        let url = list.check(&local, "http://127.0.0.1:8123/api/x?y=1").expect("allowed");
        assert_eq!(url.port(), Some(8123));
        assert!(denied(&list, &local, "http://127.0.0.1:9999/").contains("http://127.0.0.1:9999"));
        denied(&list, &local, "https://127.0.0.1:8123/");
        denied(&list, &local, "http://example.com:8123/");
    }

    #[test]
    fn the_backslash_and_scheme_relative_bypasses_reach_only_the_host_they_are_checked_against() {
        let list = list(&["${base-url}"], Some("http://127.0.0.1:8000"));
        let local = EgressPolicy::local_sandboxes();
        for url in [
            "http://127.0.0.1:9999\\@127.0.0.1:8000/x",
            "http:\\\\127.0.0.1:9999/y?://127.0.0.1:8000/",
            "http:127.0.0.1:9999/z?://127.0.0.1:8000/",
        ] {
            let why = denied(&list, &local, url);
            assert!(
                why.contains("127.0.0.1:9999") && why.contains("not in the plugin's allowed hosts"),
                "{why}"
            );
        }
        let why = denied(&list, &local, "http://127.0.0.1:9999@127.0.0.1:8000/x");
        assert!(why.contains("user name or password"), "{why}");
    }

    #[test]
    fn wildcards_match_subdomains_on_the_default_https_port_only() {
        let list = list(&["*.myshopify.com"], None);
        let policy = EgressPolicy::default();
        list.check(&policy, "https://demo.myshopify.com/admin").expect("allowed");
        list.check(&policy, "https://a.b.myshopify.com:443/").expect("allowed");
        denied(&list, &policy, "https://myshopify.com/");
        denied(&list, &policy, "https://evilmyshopify.com/");
        denied(&list, &policy, "http://demo.myshopify.com/");
        denied(&list, &policy, "https://demo.myshopify.com:8443/");
        denied(&list, &policy, "https://demo.myshopify.com./");
        let why = denied(&list, &policy, "http://evil.com\\.myshopify.com/");
        assert!(why.starts_with("http://evil.com is not allowed"), "{why}");
    }

    #[test]
    fn the_operator_list_narrows_the_manifest_and_never_widens_it() {
        let settings = ConnectionSettings {
            allowed_hosts: Some(vec!["demo.myshopify.com".into(), "c.example.com".into()]),
            ..Default::default()
        };
        let list = HostAllowList::resolve(&manifest(&["*.myshopify.com", "b.example.com"]), &settings);
        let policy = EgressPolicy::default();
        list.check(&policy, "https://demo.myshopify.com/").expect("in both lists");
        let why = denied(&list, &policy, "https://other.myshopify.com/");
        assert!(why.contains("operator's allowed-hosts"), "{why}");
        denied(&list, &policy, "https://b.example.com/");
        denied(&list, &policy, "https://c.example.com/");
    }

    #[test]
    fn special_addresses_are_refused_unless_the_operator_allows_their_network() {
        let list = HostAllowList::of_patterns(&[
            "http://169.254.169.254",
            "http://10.0.0.8",
            "http://127.0.0.1:8000",
            "http://[::1]:8000",
            "http://100.64.1.1",
            "http://224.0.0.1",
            "http://0.0.0.0",
            "https://93.184.216.34",
        ])
        .expect("patterns");
        let policy = EgressPolicy::default();
        for (url, range) in [
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://10.0.0.8/", "private"),
            ("http://127.0.0.1:8000/", "loopback"),
            ("http://[::1]:8000/", "loopback"),
            ("http://100.64.1.1/", "carrier-grade NAT"),
            ("http://224.0.0.1/", "multicast"),
            ("http://0.0.0.0/", "unspecified"),
        ] {
            let why = denied(&list, &policy, url);
            assert!(why.contains(range) && why.contains("allow-networks"), "{url}: {why}");
        }
        list.check(&policy, "https://93.184.216.34/").expect("a public address is fine");
        list.check(&EgressPolicy::local_sandboxes(), "http://127.0.0.1:8000/").expect("allowed loopback");
        list.check(&EgressPolicy::local_sandboxes(), "http://[::1]:8000/").expect("allowed loopback");
        denied(&list, &EgressPolicy::local_sandboxes(), "http://10.0.0.8/");
    }

    #[test]
    fn ipv4_written_as_ipv6_or_as_a_number_is_checked_as_ipv4() {
        let policy = EgressPolicy::default();
        assert!(policy.check_ip("::ffff:127.0.0.1".parse().expect("ip")).is_err());
        assert!(policy.check_ip("::ffff:169.254.169.254".parse().expect("ip")).is_err());
        let list = HostAllowList::of_patterns(&["http://127.0.0.1"]).expect("pattern");
        // The URL parser reads 2130706433 as 127.0.0.1; the address rule still applies.
        let why = denied(&list, &policy, "http://2130706433/");
        assert!(why.contains("loopback"), "{why}");
    }

    #[test]
    fn manifest_patterns_over_ip_addresses_or_empty_labels_are_refused_at_load() {
        for bad in
            ["*.1", "*.254", "*.", "*", "example.com.", "*.com", "a.*.com", "ftp://x.com", "x.com/path"]
        {
            let error = check_manifest_hosts(&manifest(&[bad])).expect_err(bad);
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
        check_manifest_hosts(&manifest(&[
            "*.myshopify.com",
            "api.example.com:8443",
            "http://x.example.com",
            "${base-url}",
        ]))
        .expect("fine patterns");
    }

    #[test]
    fn reserved_headers_are_refused_and_others_pass() {
        for name in [
            "Host",
            "content-length",
            "Transfer-Encoding",
            "Connection",
            "Proxy-Authorization",
            "TE",
            "Upgrade",
        ] {
            assert!(check_header(name).is_err(), "{name}");
        }
        check_header("Authorization").expect("fine");
        check_header("x-tts-access-token").expect("fine");
    }

    #[test]
    fn urls_in_messages_lose_their_query_and_credentials() {
        let shown = shown("https://user:pw@auth.example.com/token?app_secret=S3CRET&refresh_token=R#frag");
        assert_eq!(shown, "https://auth.example.com/token");
        assert!(!super::shown("not a url?secret=S").contains('S'));
    }

    #[test]
    fn allow_networks_must_be_networks() {
        let config = EgressConfig { allow_networks: vec!["127.0.0.0/8".into(), "10.0.0.5".into()] };
        let policy = config.policy().expect("valid");
        assert!(policy.check_ip("10.0.0.5".parse().expect("ip")).is_ok());
        assert!(policy.check_ip("10.0.0.6".parse().expect("ip")).is_err());
        let error =
            EgressConfig { allow_networks: vec!["localhost".into()] }.policy().expect_err("not a network");
        assert!(error.contains("\"localhost\"") && error.contains("CIDR"), "{error}");
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver() {
        use reqwest::dns::Resolve;
        let resolver = CheckedResolver { policy: Arc::new(EgressPolicy::default()) };
        let error = match resolver.resolve("localhost".parse().expect("a name")).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(error) => error,
        };
        assert!(error.downcast_ref::<EgressRefused>().is_some(), "{error}");
        assert!(
            error.to_string().contains("localhost resolves to") && error.to_string().contains("loopback")
        );
        let allowed = CheckedResolver { policy: Arc::new(EgressPolicy::local_sandboxes()) };
        let addrs: Vec<SocketAddr> = match allowed.resolve("localhost".parse().expect("a name")).await {
            Ok(addrs) => addrs.collect(),
            Err(error) => panic!("{error}"),
        };
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Whatever a plugin writes, a URL the check lets through targets a listed origin:
        /// re-parsed, its host is exactly `api.example.com` or under `shop.example.net`, on
        /// the listed scheme and port, with no user info.
        #[test]
        fn no_string_reaches_a_host_outside_the_list(
            prefix in prop::sample::select(vec!["https://", "http://", "https:", "http:\\\\", "https:/\\", "HTTPS://", "", "//"]),
            anchor in prop::sample::select(vec!["api.example.com", "x.shop.example.net", "127.0.0.1", "evil.com", "api.example.com.evil.com", "169.254.169.254"]),
            separator in prop::sample::select(vec!["", "/", "?", "#", ":443/", ":8000/", "@", "\\", ".", "%2e", ":"]),
            middle in "[a-z0-9.:@\\\\/%?#\\[\\]*-]{0,40}",
            tail in prop::sample::select(vec!["", "api.example.com", "evil.com", "/x?y=1", "@evil.com/"]),
            order in any::<bool>(),
        ) {
            let list = HostAllowList::of_patterns(&["api.example.com", "*.shop.example.net", "http://127.0.0.1:8000"]).expect("patterns");
            let policy = EgressPolicy::default();
            let url = if order {
                format!("{prefix}{middle}{separator}{anchor}{tail}")
            } else {
                format!("{prefix}{anchor}{separator}{middle}{tail}")
            };
            if let Ok(parsed) = list.check(&policy, &url) {
                let again = Url::parse(parsed.as_str()).expect("a sent URL re-parses");
                prop_assert_eq!(again.scheme(), "https");
                prop_assert_eq!(again.port_or_known_default(), Some(443));
                prop_assert!(again.username().is_empty() && again.password().is_none());
                let host = again.host_str().unwrap_or_default().to_string();
                prop_assert!(host == "api.example.com" || host.ends_with(".shop.example.net"), "{} -> {}", url, host);
            }
        }
    }

    /// The property above is not vacuous: strings of its shape do get through.
    #[test]
    fn urls_of_the_property_shape_can_pass() {
        let list = HostAllowList::of_patterns(&["api.example.com", "*.shop.example.net"]).expect("patterns");
        for url in [
            "https://api.example.com/a@b",
            "HTTPS://x.shop.example.net?@evil.com/",
            "https:api.example.com:443/",
        ] {
            list.check(&EgressPolicy::default(), url).unwrap_or_else(|e| panic!("{url}: {e:?}"));
        }
    }
}
