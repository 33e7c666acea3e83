//! The plugins this process can run, by id: the built-in connectors plus any component
//! installed from a file. Each is compiled once and shared by every connection using it.
//! An id names one plugin: installing another under a taken id is refused, naming both
//! origins, unless the operator replaces it on purpose (`replace`).

use super::builtin;
use super::error::{ConnectorError, ErrorKind};
use super::plugin::Plugin;
use super::runtime::PluginRuntime;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// Loaded plugins by id. Cheap to clone.
#[derive(Clone, Default)]
pub struct PluginRegistry {
    plugins: Arc<RwLock<BTreeMap<String, Arc<Plugin>>>>,
}

impl std::fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list().iter().map(|p| p.id().to_string())).finish()
    }
}

impl PluginRegistry {
    /// A registry holding the built-in connectors.
    pub fn with_builtins(runtime: &PluginRuntime) -> Result<Self, ConnectorError> {
        let registry = PluginRegistry::default();
        for (name, bytes) in builtin::all() {
            registry.add(Plugin::load(runtime, bytes, &format!("built-in {name}"))?)?;
        }
        Ok(registry)
    }

    /// Loads a component file and registers it under its manifest id; an id already taken
    /// is refused (see `add`).
    pub fn install_file(&self, runtime: &PluginRuntime, path: &Path) -> Result<Arc<Plugin>, ConnectorError> {
        self.add(load_file(runtime, path)?)
    }

    /// Registers a plugin under its manifest id. An id already taken (a built-in, another
    /// file) is refused with both origins named: replacing a plugin is only ever done on
    /// purpose, with `replace`.
    pub fn add(&self, plugin: Plugin) -> Result<Arc<Plugin>, ConnectorError> {
        let mut plugins = self.plugins.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(taken) = plugins.get(plugin.id()) {
            return Err(ConnectorError::new(
                plugin.id(),
                "install",
                ErrorKind::Load(format!(
                    "{} ({}) has the id of the plugin already installed from {} ({}); give it another \
                     id, or let it replace that one on purpose (`override = [\"{}\"]` under [plugins] \
                     in the serve config)",
                    plugin.origin,
                    plugin.hash,
                    taken.origin,
                    taken.hash,
                    plugin.id()
                )),
            ));
        }
        let plugin = Arc::new(plugin);
        plugins.insert(plugin.id().to_string(), plugin.clone());
        Ok(plugin)
    }

    /// Registers a plugin in place of the one with the same id, if any: the operator's
    /// explicit choice (a patched build of a built-in connector).
    pub fn replace(&self, plugin: Plugin) -> Arc<Plugin> {
        let plugin = Arc::new(plugin);
        let replaced = self
            .plugins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(plugin.id().to_string(), plugin.clone());
        if let Some(old) = replaced {
            tracing::warn!(
                plugin = %plugin.id(),
                from = %old.origin,
                old_hash = %old.hash,
                to = %plugin.origin,
                new_hash = %plugin.hash,
                "plugin replaced on purpose"
            );
        }
        plugin
    }

    pub fn get(&self, id: &str) -> Option<Arc<Plugin>> {
        self.plugins.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(id).cloned()
    }

    pub fn list(&self) -> Vec<Arc<Plugin>> {
        self.plugins.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }
}

/// Reads and loads a component file (not yet registered).
pub fn load_file(runtime: &PluginRuntime, path: &Path) -> Result<Plugin, ConnectorError> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        ConnectorError::new(&origin, "load", ErrorKind::Load(format!("reading the file: {e}")))
    })?;
    Plugin::load(runtime, &bytes, &origin)
}
