//! Loading a plugin: read and check its manifest, refuse another contract version with a
//! message naming both, compile the component once and resolve its imports once
//! (`InstancePre`), so each call only instantiates.

use super::CONTRACT_VERSION;
use super::bindings::{channel_world, store_world};
use super::call::CallState;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::{self, Manifest, PluginKind};
use super::runtime::PluginRuntime;
use wasmtime::component::Component;

/// A compiled plugin, ready to instantiate per call.
pub struct Plugin {
    pub manifest: Manifest,
    /// `sha256:<hex>` of the component bytes.
    pub hash: String,
    pub(crate) pre: Pre,
}

pub(crate) enum Pre {
    Store(store_world::StorePre<CallState>),
    Channel(channel_world::ChannelPre<CallState>),
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Checks and compiles a component. `origin` names it in errors (a path or `built-in`).
    pub fn load(runtime: &PluginRuntime, bytes: &[u8], origin: &str) -> Result<Self, ConnectorError> {
        let hash = manifest::content_hash(bytes);
        let fail =
            |plugin: &str, message: String| ConnectorError::new(plugin, "load", ErrorKind::Load(message));
        let manifest = Manifest::from_component(bytes).map_err(|e| fail(origin, e.to_string()))?;
        let id = manifest.id.clone();
        if !manifest.contract_compatible(CONTRACT_VERSION) {
            return Err(fail(
                &id,
                format!(
                    "it was built for connector contract {}, but this host speaks {CONTRACT_VERSION}; \
                     rebuild the plugin against crossdock:connector@{CONTRACT_VERSION} or upgrade Crossdock",
                    manifest.contract
                ),
            ));
        }
        let component = Component::new(runtime.engine(), bytes).map_err(|e| fail(&id, format!("{e:#}")))?;
        check_exports(runtime, &component, &manifest).map_err(|m| fail(&id, m))?;
        let pre = match manifest.kind {
            PluginKind::Store => runtime
                .store_linker()
                .instantiate_pre(&component)
                .and_then(store_world::StorePre::new)
                .map(Pre::Store),
            PluginKind::Channel => runtime
                .channel_linker()
                .instantiate_pre(&component)
                .and_then(channel_world::ChannelPre::new)
                .map(Pre::Channel),
        }
        .map_err(|e| {
            fail(
                &id,
                format!("its imports or exports do not fit the {} world: {e:#}", manifest.kind.as_str()),
            )
        })?;
        tracing::info!(plugin = %id, version = %manifest.version, %hash, "plugin loaded");
        Ok(Plugin { manifest, hash, pre })
    }

    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }
}

/// The component's exports must be the world's interface at a version this host speaks;
/// the manifest alone is not trusted for that.
fn check_exports(runtime: &PluginRuntime, component: &Component, manifest: &Manifest) -> Result<(), String> {
    let wanted = match manifest.kind {
        PluginKind::Store => "crossdock:connector/store-catalog",
        PluginKind::Channel => "crossdock:connector/channel-listings",
    };
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(runtime.engine()).map(|(name, _)| name.to_string()).collect();
    for name in &exports {
        if let Some(version) = name.strip_prefix(wanted).and_then(|rest| rest.strip_prefix('@')) {
            let exported = Manifest { contract: version.to_string(), ..manifest.clone() };
            if exported.contract_compatible(CONTRACT_VERSION) {
                return Ok(());
            }
            return Err(format!(
                "it exports {name}, built for connector contract {version}, but this host speaks {CONTRACT_VERSION}"
            ));
        }
    }
    Err(format!(
        "its manifest says kind `{}` but it does not export {wanted} (exports: {})",
        manifest.kind.as_str(),
        if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
    ))
}
