//! The connector files an operator installs for `serve`: every `*.wasm` in the `[plugins]`
//! directory, and any connection whose `plugin` is a file path. A connection may pin its
//! plugin to a content hash (`plugin-sha256 = "sha256:…"`, or `plugin = "id@sha256:…"`); a
//! plugin whose bytes hash to anything else refuses to start, naming both hashes. Installing
//! never replaces a plugin (a built-in, another file) unless its id is in `override`.

use crate::config::{ConnectionConfig, ServeConfig};
use crate::connectors::registry::load_file;
use crate::connectors::{ConnectorError, Plugin, PluginRegistry, PluginRuntime};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the installed plugins cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0}")]
    Plugin(#[from] ConnectorError),
    #[error("{path}: reading the plugins directory: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("connection `{connection}`: {message}")]
    Connection { connection: String, message: String },
}

/// Where a connection's plugin comes from, and the hash it is pinned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    pub source: PluginSource,
    /// `sha256:<hex>`, lowercase.
    pub pin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A plugin id: built in or installed from the plugins directory.
    Id(String),
    /// A component file, relative to the config file.
    File(PathBuf),
}

impl PluginRef {
    /// Reads a connection's `plugin` and `plugin-sha256`.
    pub fn of(connection: &ConnectionConfig) -> Result<Self, String> {
        let (name, inline_pin) = match connection.plugin.rsplit_once("@sha256:") {
            Some((name, hex)) => (name, Some(format!("sha256:{hex}"))),
            None => (connection.plugin.as_str(), None),
        };
        let pin = match (inline_pin, &connection.plugin_sha256) {
            (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => {
                return Err(format!("`plugin` pins {a} but `plugin-sha256` pins {b}; keep one"));
            }
            (a, b) => a.or_else(|| b.clone()).map(|pin| pin.to_ascii_lowercase()),
        };
        if let Some(pin) = &pin {
            let hex = pin.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "the pin {pin:?} is not `sha256:` and 64 hex digits (as `crossdock plugin inspect` prints it)"
                ));
            }
        }
        if name.is_empty() {
            return Err("`plugin` is empty; name a plugin id or a .wasm file".into());
        }
        let source = if name.ends_with(".wasm") {
            PluginSource::File(PathBuf::from(name))
        } else {
            PluginSource::Id(name.to_string())
        };
        Ok(PluginRef { source, pin })
    }
}

/// Installs the plugins directory's files and the connections' own files into the app's
/// registry, checks every connection's pin, and returns the configuration with each
/// connection's `plugin` as the plugin id it resolved to.
pub fn install_plugins(
    runtime: &PluginRuntime,
    registry: &PluginRegistry,
    config: &ServeConfig,
    path: &Path,
) -> Result<ServeConfig, InstallError> {
    let base = path.parent().unwrap_or(Path::new("."));
    if let Some(dir) = &config.plugins.dir {
        let dir = base.join(dir);
        let entries =
            std::fs::read_dir(&dir).map_err(|source| InstallError::Dir { path: dir.clone(), source })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
            .collect();
        files.sort();
        for file in files {
            install(registry, config, load_file(runtime, &file)?)?;
        }
    }
    let mut resolved = config.clone();
    let connections =
        resolved.store.iter_mut().chain(resolved.channels.iter_mut().map(|c| &mut c.connection));
    for connection in connections {
        let fail =
            |message: String| InstallError::Connection { connection: connection.name.clone(), message };
        let reference = PluginRef::of(connection).map_err(fail)?;
        let plugin = match &reference.source {
            PluginSource::Id(id) => match registry.get(id) {
                Some(plugin) => plugin,
                // Not installed: connecting names it (`no plugin … is installed`).
                None if reference.pin.is_none() => {
                    connection.plugin = id.clone();
                    continue;
                }
                None => return Err(fail(format!("plugin `{id}` is pinned but not installed"))),
            },
            PluginSource::File(file) => {
                let loaded = load_file(runtime, &base.join(file))?;
                match registry.get(loaded.id()) {
                    // The same file again (another connection, or also in the directory).
                    Some(same) if same.hash == loaded.hash => same,
                    _ => install(registry, config, loaded)?,
                }
            }
        };
        if let Some(pin) = &reference.pin
            && *pin != plugin.hash
        {
            return Err(fail(format!(
                "plugin `{}` is pinned to {pin}, but {} hashes to {}; install the pinned file, or pin \
                 the new one (plugin-sha256 = \"{}\") if you trust it",
                plugin.id(),
                plugin.origin,
                plugin.hash,
                plugin.hash
            )));
        }
        connection.plugin = plugin.id().to_string();
        connection.plugin_sha256 = None;
    }
    Ok(resolved)
}

/// Registers one installed plugin: a new id, or one the operator lets it replace.
fn install(
    registry: &PluginRegistry,
    config: &ServeConfig,
    plugin: Plugin,
) -> Result<Arc<Plugin>, InstallError> {
    let plugin = if config.plugins.override_ids.iter().any(|id| id == plugin.id()) {
        registry.replace(plugin)
    } else {
        registry.add(plugin)?
    };
    tracing::info!(plugin = %plugin.id(), origin = %plugin.origin, hash = %plugin.hash, "plugin installed");
    Ok(plugin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(plugin: &str, sha: Option<&str>) -> ConnectionConfig {
        ConnectionConfig {
            name: "shop".into(),
            plugin: plugin.into(),
            plugin_sha256: sha.map(str::to_string),
            settings: Default::default(),
            secrets: Default::default(),
            allowed_hosts: None,
        }
    }

    #[test]
    fn a_plugin_reference_names_an_id_or_a_file_and_its_pin() {
        let hex = "ab".repeat(32);
        let r = PluginRef::of(&connection(&format!("my-conn@sha256:{hex}"), None)).expect("valid");
        assert_eq!(r.source, PluginSource::Id("my-conn".into()));
        assert_eq!(r.pin, Some(format!("sha256:{hex}")));
        let r =
            PluginRef::of(&connection("plugins.d/x.wasm", Some(&format!("SHA256:{}", hex.to_uppercase()))))
                .expect("valid");
        assert_eq!(r.source, PluginSource::File("plugins.d/x.wasm".into()));
        assert_eq!(r.pin, Some(format!("sha256:{hex}")), "pins compare lowercase");
        assert_eq!(PluginRef::of(&connection("shopify", None)).expect("valid").pin, None);

        let short = PluginRef::of(&connection("x@sha256:abc", None)).expect_err("too short");
        assert!(short.contains("64 hex digits"), "{short}");
        let both = PluginRef::of(&connection(
            &format!("x@sha256:{hex}"),
            Some(&format!("sha256:{}", "cd".repeat(32))),
        ))
        .expect_err("two pins");
        assert!(both.contains("keep one"), "{both}");
    }
}
