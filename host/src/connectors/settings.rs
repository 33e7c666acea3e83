//! One connection's settings and secrets, and the host allow-list they resolve to together
//! with the plugin's manifest.

use super::manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the operator configured for one connection (a store or a channel). `Debug` names
/// the secrets but never shows their values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConnectionSettings {
    /// Plain settings the plugin reads with `config.get` (`base-url`, `shop-cipher`…).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secrets the plugin reads with `config.secret` (`access-token`…).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// When set, the operator's own allow-list: the plugin may reach only hosts that are in
    /// both this list and its manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hosts: Option<Vec<String>>,
}

impl std::fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secrets: BTreeMap<&str, &str> = self.secrets.keys().map(|k| (k.as_str(), "<redacted>")).collect();
        f.debug_struct("ConnectionSettings")
            .field("settings", &self.settings)
            .field("secrets", &secrets)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish()
    }
}

impl ConnectionSettings {
    pub fn setting(mut self, key: &str, value: impl Into<String>) -> Self {
        self.settings.insert(key.to_string(), value.into());
        self
    }
    pub fn secret(mut self, key: &str, value: impl Into<String>) -> Self {
        self.secrets.insert(key.to_string(), value.into());
        self
    }
}

/// Host patterns a connection may reach: exact names or `*.suffix` wildcards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowList {
    patterns: Vec<String>,
}

impl HostAllowList {
    /// The manifest's hosts, with `${base-url}` resolved to the host (and port) of the
    /// connection's `base-url`, narrowed by the operator's list when there is one.
    pub fn resolve(manifest: &Manifest, settings: &ConnectionSettings) -> Self {
        let base_host = settings.settings.get("base-url").and_then(|u| authority_of(u));
        let declared: Vec<String> = manifest
            .allowed_hosts
            .iter()
            .filter_map(|h| if h == "${base-url}" { base_host.clone() } else { Some(h.to_ascii_lowercase()) })
            .collect();
        let patterns = match &settings.allowed_hosts {
            Some(operator) => declared
                .into_iter()
                .filter(|d| operator.iter().any(|o| o.eq_ignore_ascii_case(d) || matches(o, d)))
                .collect(),
            None => declared,
        };
        HostAllowList { patterns }
    }

    /// Whether `authority` (`host` or `host:port`) may be called.
    pub fn allows(&self, authority: &str) -> bool {
        let authority = authority.to_ascii_lowercase();
        let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(&authority);
        self.patterns.iter().any(|p| matches(p, &authority) || matches(p, host))
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

fn matches(pattern: &str, candidate: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            candidate.len() > suffix.len() + 1
                && candidate.ends_with(suffix)
                && candidate.as_bytes()[candidate.len() - suffix.len() - 1] == b'.'
        }
        None => pattern == candidate,
    }
}

/// `host[:port]` of an absolute URL, lower-cased.
pub fn authority_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map(|(_, a)| a).unwrap_or(authority);
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::manifest::{Limits, PluginKind};

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
        }
    }

    #[test]
    fn base_url_placeholder_allows_exactly_the_configured_host_and_port() {
        let s = ConnectionSettings::default().setting("base-url", "http://127.0.0.1:8123/api");
        let list = HostAllowList::resolve(&manifest(&["${base-url}"]), &s);
        assert!(list.allows("127.0.0.1:8123"));
        assert!(!list.allows("127.0.0.1:9999"));
        assert!(!list.allows("example.com"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let list = HostAllowList::resolve(&manifest(&["*.myshopify.com"]), &Default::default());
        assert!(list.allows("demo.myshopify.com"));
        assert!(list.allows("demo.myshopify.com:443"));
        assert!(!list.allows("myshopify.com"));
        assert!(!list.allows("evilmyshopify.com"));
    }

    #[test]
    fn operator_list_narrows_the_manifest() {
        let s =
            ConnectionSettings { allowed_hosts: Some(vec!["a.example.com".into()]), ..Default::default() };
        let list = HostAllowList::resolve(&manifest(&["a.example.com", "b.example.com"]), &s);
        assert!(list.allows("a.example.com"));
        assert!(!list.allows("b.example.com"));
    }

    #[test]
    fn debug_names_secrets_without_their_values() {
        let s = ConnectionSettings::default().setting("shop-cipher", "C1").secret("access-token", "tok-123");
        let shown = format!("{s:?}");
        assert!(shown.contains("access-token") && shown.contains("C1"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
    }

    #[test]
    fn authority_is_taken_from_urls() {
        assert_eq!(authority_of("https://X.com/a?b").as_deref(), Some("x.com"));
        assert_eq!(authority_of("http://u:p@h:1/").as_deref(), Some("h:1"));
        assert_eq!(authority_of("nonsense"), None);
    }
}
