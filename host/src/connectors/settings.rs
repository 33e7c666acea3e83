//! One connection's settings and secrets, as the operator configured them (the host
//! allow-list they resolve to with the plugin's manifest is in `egress`).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names_secrets_without_their_values() {
        let s = ConnectionSettings::default().setting("shop-cipher", "C1").secret("access-token", "tok-123");
        let shown = format!("{s:?}");
        assert!(shown.contains("access-token") && shown.contains("C1"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
    }
}
