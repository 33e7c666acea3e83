//! A plugin's manifest: who it is, which contract and world it targets, which hosts it may
//! call and the limits it asks for. It travels inside the component, in the
//! `crossdock-manifest` custom section, so one `.wasm` file is the whole plugin.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Name of the custom section that holds the manifest (TOML).
pub const SECTION: &str = "crossdock-manifest";

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// HTTP requests per second one connection may make (the platform's limit, with some
    /// headroom); unset means the platform throttles by other means.
    #[serde(default)]
    pub requests_per_second: Option<u32>,
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
        }
    }
}

/// Ceilings no manifest can exceed.
pub const MAX_MEMORY_MB: u64 = 256;
pub const MAX_CPU_MS: u64 = 30_000;
pub const MAX_TIMEOUT_MS: u64 = 300_000;

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
}

/// The manifest as written by the plugin author (`crossdock.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub limits: Limits,
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

    /// Whether this host can run a plugin built for `self.contract`: within 0.x the minor
    /// version must match, as semver prescribes for pre-1.0 versions.
    pub fn contract_compatible(&self, host_contract: &str) -> bool {
        fn major_minor(v: &str) -> Option<(u64, u64)> {
            let mut parts = v.trim().split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next()?.parse().ok()?;
            Some((major, minor))
        }
        match (major_minor(&self.contract), major_minor(host_contract)) {
            (Some((0, a)), Some((0, b))) => a == b,
            (Some((a, _)), Some((b, _))) => a == b,
            _ => false,
        }
    }
}

/// `sha256:<hex>` of the component bytes: the plugin's identity.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(contract: &str) -> Manifest {
        Manifest {
            id: "x".into(),
            name: "X".into(),
            version: "1.0.0".into(),
            contract: contract.into(),
            kind: PluginKind::Store,
            allowed_hosts: vec![],
            limits: Limits::default(),
        }
    }

    #[test]
    fn contract_versions_follow_semver_for_zero_major() {
        assert!(manifest("0.1.0").contract_compatible("0.1.3"));
        assert!(!manifest("0.2.0").contract_compatible("0.1.0"));
        assert!(!manifest("1.0.0").contract_compatible("0.1.0"));
        assert!(manifest("1.4.0").contract_compatible("1.0.0"));
        assert!(!manifest("garbage").contract_compatible("0.1.0"));
    }

    #[test]
    fn limits_are_clamped_to_host_ceilings() {
        let l = Limits { memory_mb: 100_000, cpu_ms: 0, timeout_ms: u64::MAX, requests_per_second: None };
        assert_eq!(l.memory_bytes(), MAX_MEMORY_MB * 1024 * 1024);
        assert_eq!(l.cpu(), Duration::from_millis(1));
        assert_eq!(l.timeout(), Duration::from_millis(MAX_TIMEOUT_MS));
    }
}
