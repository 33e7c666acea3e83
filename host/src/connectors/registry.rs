//! The plugins this process can run, by id: the built-in connectors plus any component
//! installed from a file. Each is compiled once and shared by every connection using it.

use super::builtin;
use super::error::ConnectorError;
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
            registry.add(Plugin::load(runtime, bytes, &format!("built-in {name}"))?);
        }
        Ok(registry)
    }

    /// Loads a component file and registers it under its manifest id (replacing an older
    /// plugin with the same id).
    pub fn install_file(&self, runtime: &PluginRuntime, path: &Path) -> Result<Arc<Plugin>, ConnectorError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            ConnectorError::new(&origin, "load", super::ErrorKind::Load(format!("reading the file: {e}")))
        })?;
        Ok(self.add(Plugin::load(runtime, &bytes, &origin)?))
    }

    pub fn add(&self, plugin: Plugin) -> Arc<Plugin> {
        let plugin = Arc::new(plugin);
        self.plugins
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(plugin.id().to_string(), plugin.clone());
        plugin
    }

    pub fn get(&self, id: &str) -> Option<Arc<Plugin>> {
        self.plugins.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(id).cloned()
    }

    pub fn list(&self) -> Vec<Arc<Plugin>> {
        self.plugins.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }
}
