//! A plugin's manifest: who it is, which contract and world it targets, which hosts it may
//! call and the limits it asks for. It travels inside the component, in the
//! `crossdock-manifest` custom section, so one `.wasm` file is the whole plugin.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Name of the custom section that holds the manifest (TOML).
pub const SECTION: &str = "crossdock-manifest";

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// The merchant's eCommerce store (source of truth).
    Store,
    /// A sales channel (a TikTok Shop store).
    Channel,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Store => "store",
            PluginKind::Channel => "channel",
        }
    }
}

/// Resource limits a plugin asks for; the host clamps them to its own ceilings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Linear memory cap per call, MiB.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// CPU time the plugin may spend running wasm per call, ms.
    #[serde(default = "default_cpu_ms")]
    pub cpu_ms: u64,
    /// Wall-clock limit per call including HTTP waits, ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// HTTP requests per second one connection may make, all APIs together (a cap of the
    /// platform's, or of the plugin's own); unset means no such cap. Paced exactly: bursts of
    /// up to one second's worth.
    #[serde(default)]
    pub requests_per_second: Option<u32>,
    /// The platform's limit for each API of one connection that no `[[limits.api]]` entry
    /// names, requests per second; unset means APIs are not paced one by one. See
    /// `rate_limit` for what counts as one API.
    #[serde(default)]
    pub per_api_per_second: Option<u32>,
    /// The platform's limits for named APIs (`[[limits.api]]`), first match wins.
    #[serde(default)]
    pub api: Vec<ApiLimit>,
}

/// The platform's limit for one API (`[[limits.api]]` in the manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ApiLimit {
    /// HTTP method (`POST`); unset matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// URL path, `*` standing for exactly one segment:
    /// `/product/202309/products/*/inventory/update`.
    pub path: String,
    /// Requests per second the platform allows on this API for one connection.
    pub per_second: u32,
}

fn default_memory_mb() -> u64 {
    64
}
fn default_cpu_ms() -> u64 {
    2_000
}
fn default_timeout_ms() -> u64 {
    30_000
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mb: default_memory_mb(),
            cpu_ms: default_cpu_ms(),
            timeout_ms: default_timeout_ms(),
            requests_per_second: None,
            per_api_per_second: None,
            api: Vec::new(),
        }
    }
}

/// Ceilings no manifest can exceed.
pub const MAX_MEMORY_MB: u64 = 256;
pub const MAX_CPU_MS: u64 = 30_000;
pub const MAX_TIMEOUT_MS: u64 = 300_000;
/// The highest request rate a manifest can declare, per connection or per API.
pub const MAX_PER_SECOND: u32 = 10_000;
/// The most `[[limits.api]]` entries a manifest can have.
pub const MAX_API_LIMITS: usize = 64;

impl Limits {
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb.min(MAX_MEMORY_MB) * 1024 * 1024
    }
    pub fn cpu(&self) -> Duration {
        Duration::from_millis(self.cpu_ms.clamp(1, MAX_CPU_MS))
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.clamp(1, MAX_TIMEOUT_MS))
    }

    /// Whether the rate limits make sense: rates within 1..=`MAX_PER_SECOND`, API paths that
    /// start with `/`, known methods, at most `MAX_API_LIMITS` entries.
    pub fn check_rates(&self) -> Result<(), String> {
        let rate = |what: &str, value: u32| {
            if (1..=MAX_PER_SECOND).contains(&value) {
                Ok(())
            } else {
                Err(format!("{what} is {value}; it must be between 1 and {MAX_PER_SECOND}"))
            }
        };
        if let Some(value) = self.requests_per_second {
            rate("limits.requests-per-second", value)?;
        }
        if let Some(value) = self.per_api_per_second {
            rate("limits.per-api-per-second", value)?;
        }
        if self.api.len() > MAX_API_LIMITS {
            return Err(format!("{} [[limits.api]] entries; at most {MAX_API_LIMITS}", self.api.len()));
        }
        for (i, api) in self.api.iter().enumerate() {
            let at = format!("limits.api[{i}]");
            rate(&format!("{at}.per-second"), api.per_second)?;
            if !api.path.starts_with('/') || api.path.contains(['?', '#']) {
                return Err(format!("{at}.path {:?} must be a URL path starting with `/`", api.path));
            }
            if let Some(method) = &api.method
                && !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.to_ascii_uppercase().as_str())
            {
                return Err(format!("{at}.method {method:?} is not GET, POST, PUT, PATCH or DELETE"));
            }
        }
        Ok(())
    }
}

/// The manifest as written by the plugin author (`crossdock.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Stable id, e.g. `tiktok-shop`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// The `crossdock:connector` contract version it was built against.
    pub contract: String,
    pub kind: PluginKind,
    /// Hosts the plugin may call: exact names, `*.suffix` wildcards, or `${base-url}` for
    /// the host of the connection's `base-url` setting.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Secrets the plugin reads or rotates, by name (`access-token`, `refresh-token`). A
    /// plugin may `set-secret` only these and the secrets its connection already has.
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub limits: Limits,
    /// How a merchant connects through the platform's own authorization (an OAuth-style
    /// redirect); absent when the plugin is connected with credentials the merchant types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<super::authorization::AuthorizationSpec>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not a WebAssembly component: {0}")]
    NotWasm(String),
    #[error("has no `{SECTION}` custom section; build it with the guest SDK's `manifest!` macro")]
    Missing,
    #[error("manifest is not valid TOML: {0}")]
    Toml(String),
}

impl Manifest {
    /// Reads the manifest from a component's custom section (searching nested modules too).
    pub fn from_component(bytes: &[u8]) -> Result<Self, ManifestError> {
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| ManifestError::NotWasm(e.to_string()))?;
            if let wasmparser::Payload::CustomSection(section) = payload
                && section.name() == SECTION
            {
                let text =
                    std::str::from_utf8(section.data()).map_err(|e| ManifestError::Toml(e.to_string()))?;
                return toml::from_str(text).map_err(|e| ManifestError::Toml(e.to_string()));
            }
        }
        Err(ManifestError::Missing)
    }
}

/// `sha256:<hex>` of the component bytes: the plugin's identity.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped_to_host_ceilings() {
        let l = Limits { memory_mb: 100_000, cpu_ms: 0, timeout_ms: u64::MAX, ..Limits::default() };
        assert_eq!(l.memory_bytes(), MAX_MEMORY_MB * 1024 * 1024);
        assert_eq!(l.cpu(), Duration::from_millis(1));
        assert_eq!(l.timeout(), Duration::from_millis(MAX_TIMEOUT_MS));
    }

    #[test]
    fn per_api_limits_are_read_from_the_manifest_and_checked() {
        let text = r#"
            id = "t"
            name = "T"
            version = "1"
            contract = "0.2.0"
            kind = "channel"
            secrets = ["access-token"]

            [limits]
            per-api-per-second = 50

            [[limits.api]]
            method = "POST"
            path = "/product/202309/products/*/inventory/update"
            per-second = 50
        "#;
        let m: Manifest = toml::from_str(text).expect("parses");
        assert_eq!(m.secrets, ["access-token"]);
        assert_eq!(m.limits.per_api_per_second, Some(50));
        assert_eq!(m.limits.api[0].method.as_deref(), Some("POST"));
        assert_eq!(m.limits.api[0].per_second, 50);
        assert_eq!(m.limits.requests_per_second, None);
        assert!(m.limits.check_rates().is_ok());

        let mut bad = m.limits.clone();
        bad.api[0].per_second = 0;
        assert!(bad.check_rates().is_err_and(|e| e.contains("limits.api[0].per-second")));
        let mut bad = m.limits.clone();
        bad.api[0].path = "product/x".into();
        assert!(bad.check_rates().is_err_and(|e| e.contains("starting with `/`")));
        let mut bad = m.limits;
        bad.requests_per_second = Some(MAX_PER_SECOND + 1);
        assert!(bad.check_rates().is_err());
    }
}
