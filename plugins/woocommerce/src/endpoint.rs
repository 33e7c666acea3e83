//! Where a connection's REST API lives and how requests authenticate (reference §2): HTTP
//! Basic with the consumer key and secret, which WooCommerce honours only over HTTPS (a local
//! `http://` site is allowed for development and the sandbox), or the `consumer_key` /
//! `consumer_secret` query parameters for hosts that strip the `Authorization` header.
//! Plain HTTP to a remote site would need OAuth 1.0a signing, which this connector does not
//! do, so such a `base-url` is refused up front.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crossdock_plugin_sdk::types::ConnectorError;

/// How the key pair travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Basic,
    Query,
}

impl AuthMode {
    /// The `auth` setting: `basic` (default) or `query`.
    pub fn parse(setting: Option<&str>) -> Result<AuthMode, ConnectorError> {
        match setting.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(AuthMode::Basic),
            Some(s) if s.eq_ignore_ascii_case("basic") => Ok(AuthMode::Basic),
            Some(s) if s.eq_ignore_ascii_case("query") => Ok(AuthMode::Query),
            Some(other) => Err(ConnectorError::Fatal(format!(
                "connection setting `auth` must be `basic` or `query`, not `{other}`"
            ))),
        }
    }
}

/// One store's API root and key pair.
#[derive(Debug, Clone)]
pub struct Site {
    /// `https://shop.example.com`, without a trailing slash.
    pub base_url: String,
    key: String,
    secret: String,
    mode: AuthMode,
}

impl Site {
    pub fn new(base_url: &str, key: String, secret: String, mode: AuthMode) -> Result<Site, ConnectorError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        let host = authority(&base_url).ok_or_else(|| {
            ConnectorError::Fatal(format!(
                "connection setting `base-url` must be the site's URL, such as https://shop.example.com, not `{base_url}`"
            ))
        })?;
        if base_url.starts_with("http://") && !is_loopback(&host) {
            return Err(ConnectorError::Fatal(format!(
                "WooCommerce accepts API keys over plain HTTP only with OAuth 1.0a signing; use https:// for `{base_url}`"
            )));
        }
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(ConnectorError::Fatal(format!(
                "connection setting `base-url` must start with https://, not `{base_url}`"
            )));
        }
        if key.trim().is_empty() || secret.trim().is_empty() {
            return Err(ConnectorError::Unauthorized("the consumer key or secret is empty".into()));
        }
        Ok(Site { base_url, key, secret, mode })
    }

    /// `{base}/wp-json/wc/v3{path}?{params}`, with the key pair in the query in `Query` mode.
    pub fn url(&self, path: &str, params: &[(&str, String)]) -> String {
        let mut url = format!("{}/wp-json/wc/v3{path}", self.base_url);
        let mut pairs: Vec<String> =
            params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        if self.mode == AuthMode::Query {
            pairs.push(format!("consumer_key={}", encode(&self.key)));
            pairs.push(format!("consumer_secret={}", encode(&self.secret)));
        }
        if !pairs.is_empty() {
            url.push('?');
            url.push_str(&pairs.join("&"));
        }
        url
    }

    /// The WordPress index, which names the site; it needs no key.
    pub fn index_url(&self) -> String {
        format!("{}/wp-json/", self.base_url)
    }

    /// The `Authorization` header value in `Basic` mode.
    pub fn authorization(&self) -> Option<String> {
        (self.mode == AuthMode::Basic)
            .then(|| format!("Basic {}", BASE64.encode(format!("{}:{}", self.key, self.secret))))
    }

    /// `host[:port]`, the store account's id.
    pub fn account_id(&self) -> String {
        authority(&self.base_url).unwrap_or_else(|| self.base_url.clone())
    }
}

/// `host[:port]` of a URL, lower case.
fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority)
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// Percent-encodes a query component.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(url: &str, mode: AuthMode) -> Result<Site, ConnectorError> {
        Site::new(url, "ck_1".into(), "cs_2".into(), mode)
    }

    #[test]
    fn basic_auth_goes_in_a_header() {
        let site = site("https://shop.example.com/", AuthMode::Basic).expect("valid");
        assert_eq!(
            site.url("/products", &[("page", "2".into())]),
            "https://shop.example.com/wp-json/wc/v3/products?page=2"
        );
        assert_eq!(site.authorization().as_deref(), Some("Basic Y2tfMTpjc18y"));
        assert_eq!(site.account_id(), "shop.example.com");
    }

    #[test]
    fn query_auth_goes_in_the_url() {
        let site = site("https://shop.example.com", AuthMode::Query).expect("valid");
        assert_eq!(
            site.url("/products", &[]),
            "https://shop.example.com/wp-json/wc/v3/products?consumer_key=ck_1&consumer_secret=cs_2"
        );
        assert_eq!(site.authorization(), None);
    }

    #[test]
    fn plain_http_is_refused_unless_local() {
        assert!(site("http://127.0.0.1:8080", AuthMode::Basic).is_ok());
        assert!(site("http://localhost", AuthMode::Basic).is_ok());
        assert!(matches!(site("http://shop.example.com", AuthMode::Basic), Err(ConnectorError::Fatal(_))));
        assert!(matches!(site("shop.example.com", AuthMode::Basic), Err(ConnectorError::Fatal(_))));
    }

    #[test]
    fn auth_modes_parse() {
        assert_eq!(AuthMode::parse(None).expect("default"), AuthMode::Basic);
        assert_eq!(AuthMode::parse(Some("Query")).expect("valid"), AuthMode::Query);
        assert!(AuthMode::parse(Some("oauth")).is_err());
    }
}
