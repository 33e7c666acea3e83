//! Loading a plugin: read and check its manifest, refuse a contract version this host does
//! not speak with a message naming both, check that the component really exports that
//! version, compile it once and resolve its imports once (`InstancePre`) with that version's
//! linker, so each call only instantiates.

use super::bindings::{v0_1, v0_2, v0_3};
use super::call::CallState;
use super::contract::Contract;
use super::error::{ConnectorError, ErrorKind};
use super::manifest::{self, Manifest, PluginKind};
use super::policy::{Shape, Slots};
use super::runtime::PluginRuntime;
use wasmtime::component::Component;

/// A compiled plugin, ready to instantiate per call.
pub struct Plugin {
    pub manifest: Manifest,
    /// `sha256:<hex>` of the component bytes.
    pub hash: String,
    /// Where it came from: `built-in`, or the file it was installed from.
    pub origin: String,
    /// Its parts (core modules, instances, memories, tables), counted before compiling.
    pub shape: Shape,
    /// The pool slots one instance takes (memories and tables as wasmtime counts them).
    pub(crate) slots: Slots,
    /// The contract version it was built for (its manifest and exports agree).
    contract: Contract,
    pub(crate) pre: Pre,
}

/// A store plugin's instance template, per contract version.
#[derive(Clone)]
pub(crate) enum StorePre {
    V0_1(v0_1::store_world::StorePre<CallState>),
    V0_2(v0_2::store_world::StorePre<CallState>),
    V0_3(v0_3::store_world::StorePre<CallState>),
}

/// A channel plugin's instance template, per contract version.
#[derive(Clone)]
pub(crate) enum ChannelPre {
    V0_1(v0_1::channel_world::ChannelPre<CallState>),
    V0_2(v0_2::channel_world::ChannelPre<CallState>),
    V0_3(v0_3::channel_world::ChannelPre<CallState>),
}

pub(crate) enum Pre {
    Store(StorePre),
    Channel(ChannelPre),
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .field("contract", &self.contract)
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
        let contract = Contract::of(&manifest.contract).ok_or_else(|| {
            fail(
                &id,
                format!(
                    "it was built for connector contract {}, but this host speaks {}; rebuild the plugin \
                     against crossdock:connector@{} or upgrade Crossdock",
                    manifest.contract,
                    Contract::spoken(),
                    Contract::CURRENT
                ),
            )
        })?;
        manifest.limits.check_rates().map_err(|m| fail(&id, format!("its manifest's limits: {m}")))?;
        super::egress::check_manifest_hosts(&manifest).map_err(|m| fail(&id, m))?;
        if let Some(spec) = &manifest.authorization {
            spec.check().map_err(|m| fail(&id, format!("its manifest's {m}")))?;
        }
        // Counted and checked before compiling: the compiler is not where an oversized
        // component should be found out (257 core modules aborted it in a debug build).
        let shape = Shape::of(bytes).map_err(|m| fail(&id, m))?;
        shape.check(runtime.policy()).map_err(|m| fail(&id, format!("{origin}: {m}")))?;
        let component = Component::new(runtime.engine(), bytes).map_err(|e| fail(&id, format!("{e:#}")))?;
        check_exports(runtime, &component, &manifest, contract).map_err(|m| fail(&id, m))?;
        let mut slots = shape.slots();
        if let Some(needed) = component.resources_required() {
            slots.memories = needed.num_memories;
            slots.tables = needed.num_tables;
        }
        let linker = runtime.linker(manifest.kind, contract);
        let pre = linker
            .instantiate_pre(&component)
            .and_then(|pre| {
                Ok(match (manifest.kind, contract) {
                    (PluginKind::Store, Contract::V0_1) => {
                        Pre::Store(StorePre::V0_1(v0_1::store_world::StorePre::new(pre)?))
                    }
                    (PluginKind::Store, Contract::V0_2) => {
                        Pre::Store(StorePre::V0_2(v0_2::store_world::StorePre::new(pre)?))
                    }
                    (PluginKind::Store, Contract::V0_3) => {
                        Pre::Store(StorePre::V0_3(v0_3::store_world::StorePre::new(pre)?))
                    }
                    (PluginKind::Channel, Contract::V0_1) => {
                        Pre::Channel(ChannelPre::V0_1(v0_1::channel_world::ChannelPre::new(pre)?))
                    }
                    (PluginKind::Channel, Contract::V0_2) => {
                        Pre::Channel(ChannelPre::V0_2(v0_2::channel_world::ChannelPre::new(pre)?))
                    }
                    (PluginKind::Channel, Contract::V0_3) => {
                        Pre::Channel(ChannelPre::V0_3(v0_3::channel_world::ChannelPre::new(pre)?))
                    }
                })
            })
            .map_err(|e| {
                fail(
                    &id,
                    format!(
                        "its imports or exports do not fit the {} world of contract {contract}: {e:#}",
                        manifest.kind.as_str()
                    ),
                )
            })?;
        tracing::info!(plugin = %id, version = %manifest.version, %contract, %hash, "plugin loaded");
        Ok(Plugin { manifest, hash, origin: origin.to_string(), shape, slots, contract, pre })
    }

    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    /// The contract version it speaks (`0.2.0`).
    pub fn contract(&self) -> Contract {
        self.contract
    }
}

/// The component's exports must be the world's interface at the version its manifest names;
/// the manifest alone is not trusted for that.
fn check_exports(
    runtime: &PluginRuntime,
    component: &Component,
    manifest: &Manifest,
    contract: Contract,
) -> Result<(), String> {
    let wanted = match manifest.kind {
        PluginKind::Store => "crossdock:connector/store-catalog",
        PluginKind::Channel => "crossdock:connector/channel-listings",
    };
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(runtime.engine()).map(|(name, _)| name.to_string()).collect();
    for name in &exports {
        if let Some(version) = name.strip_prefix(wanted).and_then(|rest| rest.strip_prefix('@')) {
            return match Contract::of(version) {
                Some(exported) if exported == contract => Ok(()),
                Some(exported) => Err(format!(
                    "its manifest says contract {}, but it exports {name} (contract {exported})",
                    manifest.contract
                )),
                None => Err(format!(
                    "it exports {name}, built for connector contract {version}, but this host speaks {}",
                    Contract::spoken()
                )),
            };
        }
    }
    Err(format!(
        "its manifest says kind `{}` but it does not export {wanted} (exports: {})",
        manifest.kind.as_str(),
        if exports.is_empty() { "none".to_string() } else { exports.join(", ") }
    ))
}
